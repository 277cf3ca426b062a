"""Codecs: a client's observations and actions as values of Gymnasium spaces.

A codec holds the two spaces of an adapted environment and translates across
them: an OpenEnv observation into a value of ``observation_space`` and an
``info`` dict, a value of ``action_space`` into the fields of an OpenEnv action,
and the observation's flags into ``terminated``/``truncated``. There is one
codec for each place the spaces can come from:

* :class:`_SpacesCodec` — the server's ``spaces`` tool (exact spaces; values
  travel as :mod:`openenv.integrations.gym_spaces` JSON);
* :class:`_SchemaCodec` — the action's and observation's JSON schemas, field by
  field (:mod:`.schema`);
* :class:`_CustomCodec` — spaces and converters the caller passes.

:func:`_spaces_tool` and :func:`_schemas` ask a client for what the first two need.

Example (what :class:`~.env.OpenEnvGymnasiumEnv` does with one)::

    codec = _SchemaCodec(*_schemas(client), max_text=1024)
    obs, info = codec.observation(result.observation)   # a value of codec.observation_space
    client.step(codec.action(codec.action_space.sample()))
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from copy import deepcopy
from typing import Any

from gymnasium import spaces
from pydantic import BaseModel

from ...errors import NotGymnasiumCompatible
from ...types import Action, Observation
from ..gym_spaces import decode_value, encode_value, space_from_description
from .schema import _Field, _get, _map_field, _Unmappable

_BESIDE = ("done", "reward", "metadata")
"""Fields of every OpenEnv observation, returned beside the Gymnasium observation."""
_FLAGS = ("terminated", "truncated")
"""Observation fields that become Gymnasium's flags, not part of the observation."""


class _Codec:
    """The two spaces of an adapted environment, and the translation across them."""

    observation_space: spaces.Space[Any]
    action_space: spaces.Space[Any]
    frame_field: str | None = None
    render_option: str | None = None
    render_fps: float | None = None

    def observation(self, observation: Any) -> tuple[Any, dict[str, Any]]:
        """An OpenEnv observation as a value of ``observation_space``, and its ``info``."""
        raise NotImplementedError

    def action(self, action: Any) -> dict[str, Any]:
        """A value of ``action_space`` as the fields of an OpenEnv action."""
        raise NotImplementedError

    def flags(self, observation: Any, done: bool) -> tuple[bool, bool]:
        """``(terminated, truncated)``: the observation's own flags, else ``(done, False)``."""
        terminated = _get(observation, "terminated")
        truncated = _get(observation, "truncated")
        if isinstance(terminated, bool) or isinstance(truncated, bool):
            return bool(terminated), bool(truncated)
        return bool(done), False


class _SpacesCodec(_Codec):
    """For servers with a ``spaces`` tool (gym_env, atari_env): exact spaces."""

    def __init__(self, described: Mapping[str, Any]) -> None:
        try:
            self.observation_space = space_from_description(described["observation_space"])
            self.action_space = space_from_description(described["action_space"])
        except (KeyError, ValueError, TypeError) as exc:
            raise NotGymnasiumCompatible(
                f"the server's spaces tool answered something else than space descriptions: {exc}"
            ) from None
        self.observation_field = str(described.get("observation_field", "obs"))
        self.action_field = str(described.get("action_field", "action"))
        self.frame_field = described.get("frame_field")
        self.render_option = described.get("render_option")
        self.render_fps = described.get("render_fps")
        self.info_fields = [str(f) for f in described.get("info_fields") or ()]

    def observation(self, observation: Any) -> tuple[Any, dict[str, Any]]:
        obs = decode_value(self.observation_space, _get(observation, self.observation_field))
        info = _get(observation, "info")
        info = deepcopy(dict(info)) if isinstance(info, Mapping) else {}
        for name in self.info_fields:
            info[name] = deepcopy(_get(observation, name))
        return obs, info

    def action(self, action: Any) -> dict[str, Any]:
        return {self.action_field: encode_value(self.action_space, action)}


class _SchemaCodec(_Codec):
    """For any other server: spaces from the action and observation JSON schemas."""

    def __init__(
        self, action_schema: Mapping[str, Any], observation_schema: Mapping[str, Any], max_text: int
    ) -> None:
        self.obs_fields: dict[str, _Field] = {}
        self.info_fields: list[str] = []
        defs = observation_schema.get("$defs", {})
        for name, schema in observation_schema.get("properties", {}).items():
            if name in _BESIDE or name in _FLAGS:
                continue
            try:
                self.obs_fields[name] = _map_field(schema, defs, max_text)
            except _Unmappable:
                self.info_fields.append(name)
        if not self.obs_fields:
            raise NotGymnasiumCompatible(
                f"no field of {observation_schema.get('title', 'the observation')} maps to a "
                f"Gymnasium space (fields: {', '.join(self.info_fields) or 'none'}); pass "
                "observation_space= and decode_observation= to to_gymnasium"
            )
        self.observation_space = spaces.Dict(
            OrderedDict((k, f.space) for k, f in self.obs_fields.items())
        )
        self.act_fields: dict[str, _Field] = {}
        defs = action_schema.get("$defs", {})
        required = set(action_schema.get("required", []))
        problems = []
        for name, schema in action_schema.get("properties", {}).items():
            if name == "metadata":
                continue
            try:
                self.act_fields[name] = _map_field(schema, defs, max_text)
            except _Unmappable as why:
                if name in required:
                    problems.append(f"{name} ({why})")
        title = action_schema.get("title", "the action")
        if problems or not self.act_fields:
            what = ", ".join(problems) if problems else "it has no fields"
            raise NotGymnasiumCompatible(
                f"{title} has no Gymnasium action space: {what}; pass action_space= "
                "and encode_action= to to_gymnasium"
            )
        if len(self.act_fields) == 1:
            ((self.only, field),) = self.act_fields.items()
            self.action_space = field.space
        else:
            self.only = None
            self.action_space = spaces.Dict(
                OrderedDict((k, f.space) for k, f in self.act_fields.items())
            )

    def observation(self, observation: Any) -> tuple[Any, dict[str, Any]]:
        obs = {k: f.to_gym(_get(observation, k)) for k, f in self.obs_fields.items()}
        return obs, {k: deepcopy(_get(observation, k)) for k in self.info_fields}

    def action(self, action: Any) -> dict[str, Any]:
        if self.only is not None:
            return {self.only: self.act_fields[self.only].to_wire(action)}
        return {k: f.to_wire(action[k]) for k, f in self.act_fields.items()}


def _identity(x: Any) -> Any:
    return x


class _CustomCodec(_Codec):
    """For spaces the caller passes, with their converters (by default: none needed)."""

    def __init__(
        self,
        observation_space: spaces.Space[Any],
        action_space: spaces.Space[Any],
        decode_observation: Callable[[Any], Any] | None,
        encode_action: Callable[[Any], dict[str, Any]] | None,
    ) -> None:
        self.observation_space, self.action_space = observation_space, action_space
        self._decode = decode_observation or _identity
        self._encode = encode_action or (lambda a: {"action": a})

    def observation(self, observation: Any) -> tuple[Any, dict[str, Any]]:
        return self._decode(observation), {}

    def action(self, action: Any) -> dict[str, Any]:
        return self._encode(action)


def _schemas(client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The action's and the observation's JSON schemas: from the client's types, if typed."""
    action_type = getattr(client, "action_type", None)
    observation_type = getattr(client, "observation_type", None)
    typed = [
        t
        for t in (action_type, observation_type)
        if isinstance(t, type) and issubclass(t, BaseModel)
    ]
    if len(typed) == 2 and action_type is not Action and observation_type is not Observation:
        return action_type.model_json_schema(), observation_type.model_json_schema()  # type: ignore[union-attr]
    import httpx

    options = client.options
    response = httpx.get(
        options.base_url.rstrip("/") + "/schema",
        headers=options.headers,
        timeout=options.connect_timeout_s,
    )
    response.raise_for_status()
    schema = response.json()
    return schema["action"], schema["observation"]


def _spaces_tool(client: Any, reset_options: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the server's ``spaces`` tool answers for ``reset_options``; None without one."""
    tools = {t.get("name"): t for t in client.list_tools()}
    tool = tools.get("spaces")
    if tool is None:
        return None
    params = (tool.get("inputSchema") or {}).get("properties") or {}
    arguments = {k: v for k, v in reset_options.items() if k in params}
    described = client.call_tool("spaces", **arguments)
    if not isinstance(described, Mapping) or not {"observation_space", "action_space"} <= set(
        described
    ):
        return None
    return dict(described)
