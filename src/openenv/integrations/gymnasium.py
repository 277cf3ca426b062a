"""Any OpenEnv client as a ``gymnasium.Env``, and many as a Gymnasium vector env.

Example::

    from gym_env import GymEnv
    from openenv.integrations.gymnasium import to_gymnasium, to_gymnasium_vector

    env = to_gymnasium(GymEnv(base_url="http://localhost:8000"), env_id="CartPole-v1")
    obs, info = env.reset(seed=42)                  # exactly gymnasium.make("CartPole-v1")'s
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

    envs = to_gymnasium_vector(lambda: GymEnv(base_url=url), 8, env_id="CartPole-v1")
    obs, infos = envs.reset(seed=0)                 # obs.shape == (8, 4); one session each

Keyword arguments of :func:`to_gymnasium` other than its own are the server's reset
options, sent with every reset (Gymnasium's ``reset(options={...})`` adds to them
for one reset). ``reset(seed=s)`` sends ``seed=s``; ``reset()`` sends no seed.

**Where the spaces come from.** A server with a ``spaces`` MCP tool that returns
``{"observation_space": ..., "action_space": ..., "observation_field": "obs",
"action_field": "action"}`` (descriptions as in
:mod:`openenv.integrations.gym_spaces`) gets exactly those spaces: ``gym_env`` and
``atari_env`` have one. The tool is called with the reset options it takes as
arguments. Observations are then decoded from ``observation_field``, actions
encoded into ``action_field``; ``terminated``/``truncated`` are read from the
observation's fields of those names; ``info`` from its ``info`` field and the
fields the tool lists as ``"info_fields"`` (atari_env: lives, frame numbers). If it also
returns ``"frame_field"`` and ``"render_option"``, ``render_mode="rgb_array"``
works: every reset asks for frames and ``render()`` returns the last one.

**Any other server** gets spaces made from its pydantic schemas (the client's
action and observation types, or ``GET /schema`` for a generic client), field by
field:

==========================================  ==================================================
JSON schema of a field                      space (and value)
==========================================  ==================================================
``boolean``                                 ``Discrete(2)`` (0/1)
``enum`` / ``Literal[...]``                 ``Discrete(len)`` (the index of the value)
``integer`` with minimum and maximum        ``Discrete(max - min + 1, start=min)``
other ``integer``                           ``Box((), int64)`` within the bounds given
``number``                                  ``Box((), float64)`` within the bounds given
``string``                                  :class:`AnyText` (any string; samples up to
                                            ``max_text_length`` printable characters)
list of numbers/integers/booleans of fixed  ``Box((n,))`` of ``float64``/``int64``/``int8``
length (``min_length == max_length``)
nested model whose fields all map           ``Dict`` of them
==========================================  ==================================================

The observation is a ``Dict`` of the fields that map (without ``done``, ``reward``,
``metadata``, and ``terminated``/``truncated``, which become the flags); fields
that do not (``Optional[...]``, free-form dicts, variable lists) go to ``info``
unchanged, and so does the observation's ``metadata`` (``info["metadata"]``).
The action space is the space of the action's only field, or a ``Dict`` of its
fields; optional fields that do not map are left out (the
server's default applies), and a required one raises
:class:`NotGymnasiumCompatible`, saying which. Pass ``observation_space`` and
``action_space`` (with ``encode_action`` / ``decode_observation``) to map things
yourself. ``terminated`` is ``done`` unless the observation has a ``terminated``
field; ``truncated`` is ``False`` unless it has a ``truncated`` one. A ``None``
reward is ``0.0``.

Errors from the server (an action outside the space, an unknown ``env_id``) are
raised as :class:`openenv.EnvServerError`; the session goes on.
"""

from __future__ import annotations

import inspect
import math
import string
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from typing import Any

try:
    import gymnasium as gym
    import numpy as np
    from gymnasium import spaces
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"openenv.integrations.gymnasium needs gymnasium and numpy ({exc}); "
        "pip install 'openenv[gymnasium]'"
    ) from exc
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate
from pydantic import BaseModel

from ..types import Action, Observation
from .gym_spaces import decode_png, decode_value, encode_value, space_from_description

__all__ = [
    "AnyText",
    "NotGymnasiumCompatible",
    "OpenEnvGymnasiumEnv",
    "OpenEnvVectorEnv",
    "to_gymnasium",
    "to_gymnasium_vector",
]

DEFAULT_MAX_TEXT_LENGTH = 1024
_BESIDE = ("done", "reward", "metadata")
_FLAGS = ("terminated", "truncated")


class NotGymnasiumCompatible(TypeError):
    """The environment's types have no generic Gymnasium mapping; the message says why."""


class AnyText(spaces.Text):
    """A ``Text`` space that contains every string.

    ``sample()`` draws up to ``max_length`` printable ASCII characters; ``contains``
    accepts any ``str``, of any length and characters, since that is what a
    ``str`` field of an OpenEnv model may hold.
    """

    def __init__(self, max_length: int = DEFAULT_MAX_TEXT_LENGTH, **kwargs: Any) -> None:
        kwargs.setdefault("min_length", 0)
        kwargs.setdefault("charset", string.printable)
        super().__init__(max_length, **kwargs)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str)

    def __repr__(self) -> str:
        return f"AnyText(max_length={self.max_length})"


# -- codecs: OpenEnv observations/actions <-> Gymnasium values --------------------------------


def _get(observation: Any, name: str, default: Any = None) -> Any:
    if isinstance(observation, Mapping):
        return observation.get(name, default)
    return getattr(observation, name, default)


class _Codec:
    observation_space: spaces.Space[Any]
    action_space: spaces.Space[Any]
    frame_field: str | None = None
    render_option: str | None = None
    render_fps: float | None = None

    def observation(self, observation: Any) -> tuple[Any, dict[str, Any]]:
        raise NotImplementedError

    def action(self, action: Any) -> dict[str, Any]:
        raise NotImplementedError

    def flags(self, observation: Any, done: bool) -> tuple[bool, bool]:
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


_Converter = Callable[[Any], Any]


def _identity(x: Any) -> Any:
    return x


class _Field:
    """One model field mapped to a space: ``to_gym`` for observations, ``to_wire`` for actions."""

    def __init__(self, space: spaces.Space[Any], to_gym: _Converter, to_wire: _Converter) -> None:
        self.space, self.to_gym, self.to_wire = space, to_gym, to_wire


class _Unmappable(Exception):
    pass


def _deref(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    for _ in range(32):
        if "$ref" in schema:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            schema = {**defs.get(name, {}), **{k: v for k, v in schema.items() if k != "$ref"}}
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            schema = {**schema["allOf"][0], **rest}
        else:
            return schema
    raise _Unmappable("references nested too deeply")


def _int_bounds(schema: Mapping[str, Any]) -> tuple[int | None, int | None]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if "exclusiveMinimum" in schema:
        low = math.floor(schema["exclusiveMinimum"]) + 1
    if "exclusiveMaximum" in schema:
        high = math.ceil(schema["exclusiveMaximum"]) - 1
    return (None if low is None else math.ceil(low), None if high is None else math.floor(high))


def _float_bounds(schema: Mapping[str, Any]) -> tuple[float, float]:
    low = schema.get("minimum", schema.get("exclusiveMinimum", -np.inf))
    high = schema.get("maximum", schema.get("exclusiveMaximum", np.inf))
    return float(low), float(high)


def _map_field(
    schema: Mapping[str, Any], defs: Mapping[str, Any], max_text: int, depth: int = 0
) -> _Field:
    if depth > 16:
        raise _Unmappable("nested too deeply")
    schema = _deref(schema, defs)
    if "enum" in schema or "const" in schema:
        choices = list(schema["enum"]) if "enum" in schema else [schema["const"]]
        return _Field(
            spaces.Discrete(len(choices)),
            lambda v: np.int64(choices.index(v)),
            lambda i: choices[int(i)],
        )
    kind = schema.get("type")
    if kind == "boolean":
        return _Field(spaces.Discrete(2), lambda v: np.int64(bool(v)), lambda i: bool(int(i)))
    if kind == "integer":
        low, high = _int_bounds(schema)
        if low is not None and high is not None and 0 < high - low + 1 <= 2**31:
            return _Field(spaces.Discrete(high - low + 1, start=low), np.int64, int)
        info = np.iinfo(np.int64)
        box = spaces.Box(
            low=info.min if low is None else low,
            high=info.max if high is None else high,
            shape=(),
            dtype=np.int64,
        )
        return _Field(box, lambda v: np.asarray(v, dtype=np.int64), lambda a: int(np.asarray(a)))
    if kind == "number":
        low, high = _float_bounds(schema)
        box = spaces.Box(low=low, high=high, shape=(), dtype=np.float64)
        return _Field(
            box, lambda v: np.asarray(v, dtype=np.float64), lambda a: float(np.asarray(a))
        )
    if kind == "string":
        longest = int(schema.get("maxLength", max_text))
        text = AnyText(max_length=max(1, min(longest, max_text)))
        return _Field(text, str, str)
    if kind == "array":
        items = _deref(schema.get("items") or {}, defs)
        n = schema.get("minItems")
        if n is None or n != schema.get("maxItems"):
            raise _Unmappable("a list of variable length")
        item_kind = items.get("type")
        if item_kind == "number":
            low, high = _float_bounds(items)
            box = spaces.Box(low=low, high=high, shape=(n,), dtype=np.float64)
        elif item_kind == "integer":
            ilow, ihigh = _int_bounds(items)
            info = np.iinfo(np.int64)
            box = spaces.Box(
                low=info.min if ilow is None else ilow,
                high=info.max if ihigh is None else ihigh,
                shape=(n,),
                dtype=np.int64,
            )
        elif item_kind == "boolean":
            box = spaces.Box(low=0, high=1, shape=(n,), dtype=np.int8)
        else:
            raise _Unmappable(f"a list of {item_kind or 'mixed'} items")
        dtype = box.dtype
        to_wire: _Converter = (
            (lambda a: [bool(v) for v in np.asarray(a)])
            if item_kind == "boolean"
            else (lambda a: np.asarray(a).tolist())
        )
        return _Field(box, lambda v: np.asarray(v, dtype=dtype), to_wire)
    if kind == "object" and "properties" in schema:
        fields = {
            name: _map_field(sub, defs, max_text, depth + 1)
            for name, sub in schema["properties"].items()
        }
        return _Field(
            spaces.Dict(OrderedDict((k, f.space) for k, f in fields.items())),
            lambda v: {k: f.to_gym(_get(v, k)) for k, f in fields.items()},
            lambda d: {k: f.to_wire(d[k]) for k, f in fields.items()},
        )
    if "anyOf" in schema or "oneOf" in schema:
        raise _Unmappable("a union (Optional[...] or X | Y)")
    raise _Unmappable(f"type {kind or 'any'}")


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


class _CustomCodec(_Codec):
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


# -- the adapter ----------------------------------------------------------------------------


class OpenEnvGymnasiumEnv(gym.Env[Any, Any]):
    """One OpenEnv session as a ``gymnasium.Env``; made by :func:`to_gymnasium`.

    ``client`` is a sync OpenEnv client (``EnvClient`` or ``GenericEnvClient``);
    ``close()`` closes it.
    """

    def __init__(
        self,
        client: Any,
        reset_options: Mapping[str, Any] | None = None,
        *,
        render_mode: str | None = None,
        observation_space: spaces.Space[Any] | None = None,
        action_space: spaces.Space[Any] | None = None,
        decode_observation: Callable[[Any], Any] | None = None,
        encode_action: Callable[[Any], dict[str, Any]] | None = None,
        max_text_length: int = DEFAULT_MAX_TEXT_LENGTH,
    ) -> None:
        if inspect.iscoroutinefunction(getattr(client, "step", None)):
            raise TypeError(
                "to_gymnasium takes a sync client (e.g. GymEnv, GenericEnvClient), not an async "
                "one; for many sessions at once use to_gymnasium_vector"
            )
        self.client = client
        self.reset_options = dict(reset_options or {})
        codec: _Codec
        if (observation_space is None) != (action_space is None):
            raise ValueError("pass both observation_space and action_space, or neither")
        if observation_space is not None and action_space is not None:
            codec = _CustomCodec(observation_space, action_space, decode_observation, encode_action)
        else:
            described = _spaces_tool(client, self.reset_options)
            if described is not None:
                codec = _SpacesCodec(described)
            else:
                codec = _SchemaCodec(*_schemas(client), max_text=max_text_length)
        self._codec = codec
        self.observation_space = codec.observation_space
        self.action_space = codec.action_space
        renders = codec.frame_field is not None and codec.render_option is not None
        self.metadata = {"render_modes": ["rgb_array"] if renders else []}
        if renders and codec.render_fps:
            self.metadata["render_fps"] = codec.render_fps
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode {render_mode!r} is not offered by this environment "
                f"(render modes: {self.metadata['render_modes'] or 'none'})"
            )
        self.render_mode = render_mode
        action_type = getattr(client, "action_type", None)
        self._action_model = (
            action_type
            if isinstance(action_type, type)
            and issubclass(action_type, BaseModel)
            and action_type is not Action
            else None
        )
        self._frame: np.ndarray | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode: the reset options, ``options`` on top, and ``seed`` if given."""
        super().reset(seed=seed)
        sent = {**self.reset_options, **(options or {})}
        if seed is not None:
            sent["seed"] = seed
        if self.render_mode == "rgb_array" and self._codec.render_option:
            sent[self._codec.render_option] = True
        result = self.client.reset(**sent)
        obs, info = self._decode(result)
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Send ``action``; decode what comes back."""
        payload = self._codec.action(action)
        sent = self._action_model.model_validate(payload) if self._action_model else payload
        result = self.client.step(sent)
        obs, info = self._decode(result)
        terminated, truncated = self._codec.flags(result.observation, result.done)
        return obs, float(result.reward or 0.0), terminated, truncated, info

    def render(self) -> np.ndarray | None:  # type: ignore[override]
        """The last frame (``render_mode="rgb_array"``), a ``uint8`` array ``(H, W, 3)``."""
        if self.render_mode != "rgb_array":
            return None
        return None if self._frame is None else self._frame.copy()

    def close(self) -> None:
        """Close the session (the client)."""
        self.client.close()
        super().close()

    def _decode(self, result: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self._codec.observation(result.observation)
        if result.metadata and "metadata" not in info:
            info["metadata"] = deepcopy(result.metadata)
        self._keep_frame(result.observation)
        return obs, info

    def _keep_frame(self, observation: Any) -> None:
        if self.render_mode == "rgb_array" and self._codec.frame_field:
            frame = _get(observation, self._codec.frame_field)
            self._frame = decode_png(frame) if isinstance(frame, str) else None


def to_gymnasium(
    client: Any,
    *,
    render_mode: str | None = None,
    observation_space: spaces.Space[Any] | None = None,
    action_space: spaces.Space[Any] | None = None,
    decode_observation: Callable[[Any], Any] | None = None,
    encode_action: Callable[[Any], dict[str, Any]] | None = None,
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH,
    **reset_options: Any,
) -> OpenEnvGymnasiumEnv:
    """``client``'s session as a ``gymnasium.Env``; ``reset_options`` go with every reset.

    See the module docstring for where the spaces come from. ``observation_space``
    and ``action_space`` override them: then ``decode_observation(observation)``
    turns the client's observation into a value of ``observation_space`` and
    ``encode_action(action)`` an action into the action's fields (a dict).

    Example::

        env = to_gymnasium(GymEnv(base_url=url), env_id="CartPole-v1")
        gymnasium.utils.env_checker.check_env(env)
    """
    return OpenEnvGymnasiumEnv(
        client,
        reset_options,
        render_mode=render_mode,
        observation_space=observation_space,
        action_space=action_space,
        decode_observation=decode_observation,
        encode_action=encode_action,
        max_text_length=max_text_length,
    )


# -- vector --------------------------------------------------------------------------------


def _autoreset_mode(mode: str | AutoresetMode) -> AutoresetMode:
    """``AutoresetMode.SAME_STEP``, ``"SameStep"`` or ``"same_step"``."""
    if isinstance(mode, AutoresetMode):
        return mode
    for member in AutoresetMode:
        if mode in (member.value, member.name, member.name.lower()):
            return member
    names = ", ".join(m.name.lower() for m in AutoresetMode)
    raise ValueError(f"unknown autoreset_mode {mode!r}; expected one of {names}")


class OpenEnvVectorEnv(VectorEnv[Any, Any, Any]):
    """Many OpenEnv sessions as one Gymnasium vector env; made by :func:`to_gymnasium_vector`.

    Every ``reset``/``step`` calls all sessions at once (a thread per session), so a
    step costs about one round trip, not ``n``. Autoreset follows
    ``gymnasium.vector.SyncVectorEnv`` (``next_step`` by default, ``same_step``,
    ``disabled`` with ``reset(options={"reset_mask": mask})``).
    """

    def __init__(
        self,
        envs: Sequence[OpenEnvGymnasiumEnv],
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        copy: bool = True,
    ) -> None:
        if not envs:
            raise ValueError("a vector env needs at least one session")
        self.envs = list(envs)
        self.num_envs = len(self.envs)
        self.copy = copy
        self.autoreset_mode = _autoreset_mode(autoreset_mode)
        first = self.envs[0]
        for env in self.envs[1:]:
            if env.observation_space != first.observation_space:
                raise ValueError("the sessions' observation spaces differ; use one env_id")
            if env.action_space != first.action_space:
                raise ValueError("the sessions' action spaces differ; use one env_id")
        self.metadata = {**first.metadata, "autoreset_mode": self.autoreset_mode}
        self.render_mode = first.render_mode
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._pool = ThreadPoolExecutor(self.num_envs, thread_name_prefix="openenv-vector")
        self._env_obs: list[Any] = [None] * self.num_envs
        self._observations = create_empty_array(
            self.single_observation_space, n=self.num_envs, fn=np.zeros
        )
        self._rewards = np.zeros((self.num_envs,), dtype=np.float64)
        self._terminations = np.zeros((self.num_envs,), dtype=np.bool_)
        self._truncations = np.zeros((self.num_envs,), dtype=np.bool_)
        self._autoreset_envs = np.zeros((self.num_envs,), dtype=np.bool_)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every session (or those in ``options["reset_mask"]``); seeds as SyncVectorEnv."""
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"{len(seeds)} seeds for {self.num_envs} sessions")
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if mask is None:
            mask = np.ones((self.num_envs,), dtype=np.bool_)
        elif not (isinstance(mask, np.ndarray) and mask.shape == (self.num_envs,)):
            raise ValueError(
                f"options['reset_mask'] must be a bool array of shape ({self.num_envs},)"
            )
        chosen = [i for i in range(self.num_envs) if mask[i]]
        results = list(
            self._pool.map(
                lambda i: self.envs[i].reset(seed=seeds[i], options=options or None), chosen
            )
        )
        infos: dict[str, Any] = {}
        for i, (obs, info) in zip(chosen, results, strict=True):
            self._env_obs[i] = obs
            self._terminations[i] = self._truncations[i] = self._autoreset_envs[i] = False
            infos = self._add_info(infos, info, i)
        self._observations = concatenate(
            self.single_observation_space, self._env_obs, self._observations
        )
        return (deepcopy(self._observations) if self.copy else self._observations), infos

    def _one_step(self, i: int, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any], Any]:
        env = self.envs[i]
        if self.autoreset_mode == AutoresetMode.NEXT_STEP and self._autoreset_envs[i]:
            obs, info = env.reset()
            return obs, 0.0, False, False, info, None
        if self.autoreset_mode == AutoresetMode.DISABLED and self._autoreset_envs[i]:
            raise RuntimeError(f"session {i} is done: reset it (autoreset_mode='disabled')")
        obs, reward, terminated, truncated, info = env.step(action)
        final = None
        if self.autoreset_mode == AutoresetMode.SAME_STEP and (terminated or truncated):
            final = {"final_obs": obs, "final_info": info}
            obs, info = env.reset()
        return obs, reward, terminated, truncated, info, final

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every session at once (autoreset as the mode says)."""
        actions = list(iterate(self.action_space, actions))
        results = list(self._pool.map(self._one_step, range(self.num_envs), actions))
        infos: dict[str, Any] = {}
        for i, (obs, reward, terminated, truncated, info, final) in enumerate(results):
            self._env_obs[i] = obs
            self._rewards[i] = reward
            self._terminations[i] = terminated
            self._truncations[i] = truncated
            if final is not None:
                infos = self._add_info(infos, final, i)
            infos = self._add_info(infos, info, i)
        self._observations = concatenate(
            self.single_observation_space, self._env_obs, self._observations
        )
        self._autoreset_envs = np.logical_or(self._terminations, self._truncations)
        return (
            deepcopy(self._observations) if self.copy else self._observations,
            np.copy(self._rewards),
            np.copy(self._terminations),
            np.copy(self._truncations),
            infos,
        )

    def render(self) -> tuple[Any, ...] | None:
        """Every session's last frame."""
        return tuple(env.render() for env in self.envs)

    def close_extras(self, **kwargs: Any) -> None:
        """Close every session."""
        try:
            list(self._pool.map(lambda env: env.close(), self.envs))
        finally:
            self._pool.shutdown(wait=False)


def to_gymnasium_vector(
    clients: Sequence[Any] | Callable[[], Any],
    n: int | None = None,
    *,
    autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
    render_mode: str | None = None,
    **reset_options: Any,
) -> OpenEnvVectorEnv:
    """``n`` sessions as a Gymnasium vector env (``gymnasium.vector.VectorEnv``).

    ``clients`` is a list of sync clients (one session each), or a factory called
    ``n`` times. ``reset_options`` go with every reset of every session.

    Example::

        envs = to_gymnasium_vector(lambda: GymEnv(base_url=url), 8, env_id="CartPole-v1")
        obs, infos = envs.reset(seed=0)        # sessions seeded 0, 1, ..., 7
        obs, rewards, terminations, truncations, infos = envs.step(envs.action_space.sample())
    """
    if callable(clients) and not isinstance(clients, Sequence):
        if n is None or n < 1:
            raise ValueError("with a client factory, n (the number of sessions) is needed")
        made = [clients() for _ in range(n)]
    else:
        made = list(clients)
        if n is not None and n != len(made):
            raise ValueError(f"n={n} but {len(made)} clients")
    try:
        envs = [to_gymnasium(c, render_mode=render_mode, **reset_options) for c in made]
        return OpenEnvVectorEnv(envs, autoreset_mode=autoreset_mode)
    except BaseException:
        for client in made:
            client.close()
        raise
