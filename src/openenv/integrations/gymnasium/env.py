"""One OpenEnv session as a ``gymnasium.Env``: :func:`to_gymnasium`.

The environment picks its codec (:mod:`.codecs`) once, when it is made: the
caller's spaces if given, else the server's ``spaces`` tool, else the pydantic
schemas. ``reset`` and ``step`` are then one request each; the package docstring
says what goes out and what comes back.

Example::

    env = to_gymnasium(GymEnv(base_url=url), env_id="CartPole-v1")
    obs, info = env.reset(seed=42)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from copy import deepcopy
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pydantic import BaseModel

from ...types import Action
from ..gym_spaces import decode_png
from .codecs import _Codec, _CustomCodec, _SchemaCodec, _schemas, _spaces_tool, _SpacesCodec
from .schema import DEFAULT_MAX_TEXT_LENGTH, _get


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
        return self.decode_reset(self.client.reset(**self.reset_request(seed, options)))

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Send ``action``; decode what comes back."""
        return self.decode_step(self.client.step(self.step_request(action)))

    # What goes out and what comes back, apart from the I/O: the vector env sends
    # through an EnvPool and decodes with these.

    def reset_request(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The reset options sent for ``reset(seed=seed, options=options)``."""
        sent = {**self.reset_options, **(options or {})}
        if seed is not None:
            sent["seed"] = seed
        if self.render_mode == "rgb_array" and self._codec.render_option:
            sent[self._codec.render_option] = True
        return sent

    def decode_reset(self, result: Any) -> tuple[Any, dict[str, Any]]:
        """``(obs, info)`` from a reset's :class:`~openenv.StepResult`."""
        return self._decode(result)

    def step_request(self, action: Any) -> Any:
        """The client action sent for the space's ``action``."""
        payload = self._codec.action(action)
        return self._action_model.model_validate(payload) if self._action_model else payload

    def decode_step(self, result: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """``(obs, reward, terminated, truncated, info)`` from a step's result."""
        obs, info = self._decode(result)
        terminated, truncated = self.decode_flags(result)
        return obs, float(result.reward or 0.0), terminated, truncated, info

    def decode_flags(self, result: Any) -> tuple[bool, bool]:
        """``(terminated, truncated)`` of a step's result."""
        return self._codec.flags(result.observation, result.done)

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
