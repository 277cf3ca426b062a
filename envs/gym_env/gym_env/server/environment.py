"""gym_env: any registered Gymnasium environment, one per session, as an OpenEnv environment.

``reset(env_id="CartPole-v1", seed=42)`` makes (or reuses) ``gymnasium.make(env_id)``
and resets it; ``step(GymAction(action=...))`` steps it. Observations, actions and
spaces travel as JSON (:mod:`openenv.integrations.gym_spaces`).

Seeding follows Gymnasium exactly: ``reset(seed=s)`` is ``env.reset(seed=s)``, and a
reset without a seed continues the environment's random stream (the first one of a
session is seeded with a fresh random seed, kept in ``state.seed``). So a session
replays, observation for observation, what an in-process ``gymnasium.make(env_id)``
given the same calls does.

Which environment ``reset()`` makes without ``env_id``, which modules are imported
to register more ids, and which ids clients may make, come from ``openenv.yaml``
(``default_env_id``, ``imports``, ``allow`` under ``settings:``) or the environment variables
``OPENENV_GYM_ENV_ID``, ``OPENENV_GYM_IMPORTS`` (comma-separated) and
``OPENENV_GYM_ALLOW`` (comma-separated glob patterns).

Example::

    env = GymEnvironment()
    obs = env.reset(env_id="CartPole-v1", seed=0)
    obs = env.step(GymAction(action=1))
    print(obs.obs, obs.reward, obs.terminated)   # [0.02, 0.19, ...] 1.0 False
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import gymnasium as gym
import yaml
from pydantic import Field

from openenv import Environment, tool
from openenv.integrations.gym_spaces import (
    ArrayEncoding,
    check_action,
    describe_space,
    encode_png,
    encode_value,
    to_jsonable,
)

from ..models import GymAction, GymObservation, GymState

# Headless: pygame (how classic-control and toy-text envs draw) needs no display or sound card.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

DEFAULT_ENV_ID = "CartPole-v1"
INLINE_STEP_S = float(os.environ.get("OPENENV_GYM_INLINE_STEP_S", "0.001"))
"""A step that took less than this runs the next one on the server's event loop (no
thread hop); a slower one sends the next to a thread. 0: always a thread. Resets run
in a thread after the episode's end (and the first one), inline otherwise."""
POPULAR_IDS = (
    "CartPole-v1",
    "MountainCar-v0",
    "MountainCarContinuous-v0",
    "Acrobot-v1",
    "Pendulum-v1",
    "FrozenLake-v1",
    "Taxi-v4",
    "Blackjack-v1",
    "CliffWalking-v1",
)


@dataclass(frozen=True)
class Settings:
    """gym_env's server-wide settings (see the module docstring)."""

    default_env_id: str = DEFAULT_ENV_ID
    imports: tuple[str, ...] = ()
    allow: tuple[str, ...] = ("*",)

    def allows(self, env_id: str) -> bool:
        return any(fnmatch.fnmatchcase(env_id, pattern) for pattern in self.allow)


def _listed(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v) for v in value)


@cache
def settings() -> Settings:
    """Settings from ``openenv.yaml`` (next to the package), then the environment variables.

    Imports the configured modules once, so that their ids are registered.
    """
    values: dict[str, Any] = {}
    package = Path(__file__).resolve().parent.parent
    for folder in (package, package.parent):
        settings_file = folder / "openenv.yaml"
        if settings_file.is_file():
            values = yaml.safe_load(settings_file.read_text(encoding="utf-8")) or {}
            values = values.get("settings") or {}  # an environment's own settings go there
            break
    found = Settings(
        default_env_id=str(
            os.environ.get("OPENENV_GYM_ENV_ID") or values.get("default_env_id") or DEFAULT_ENV_ID
        ),
        imports=_listed(os.environ.get("OPENENV_GYM_IMPORTS", values.get("imports"))),
        allow=_listed(os.environ.get("OPENENV_GYM_ALLOW", values.get("allow"))) or ("*",),
    )
    for module in found.imports:
        importlib.import_module(module)
    return found


def known_ids() -> list[str]:
    """Every registered id the settings allow."""
    allowed = settings()
    return sorted(env_id for env_id in gym.registry if allowed.allows(env_id))


def check_env_id(env_id: str) -> None:
    """Raise a clear :class:`ValueError` for an id that is not registered or not allowed."""
    if ":" in env_id:
        raise ValueError(
            f"env_id {env_id!r}: 'module:id' ids would import a module; list the module "
            "in OPENENV_GYM_IMPORTS (or openenv.yaml's imports) and pass the bare id"
        )
    allowed = settings()
    if env_id in gym.registry and allowed.allows(env_id):
        return
    ids = known_ids()
    if env_id in gym.registry:
        raise ValueError(f"env_id {env_id!r} is not allowed on this server (allow: "
                         f"{', '.join(allowed.allow)})")  # fmt: skip
    close = difflib.get_close_matches(env_id, ids, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    examples = [i for i in POPULAR_IDS if i in ids] or ids[:8]
    raise ValueError(
        f"unknown Gymnasium environment {env_id!r}; {hint}known ids include "
        f"{', '.join(examples)} ({len(ids)} registered; the list_env_ids tool lists them)"
    )


@dataclass(frozen=True)
class MakeConfig:
    """What ``gym.make`` was called with; an episode with the same config reuses the env."""

    env_id: str
    render: bool = False
    max_episode_steps: int | None = None
    make_kwargs: tuple[tuple[str, Any], ...] = field(default=())

    def make(self) -> gym.Env[Any, Any]:
        check_env_id(self.env_id)
        kwargs = dict(self.make_kwargs)
        if "render_mode" in kwargs:
            raise ValueError("make_kwargs cannot set render_mode; reset with render=True")
        if self.render:
            kwargs["render_mode"] = "rgb_array"
        if self.max_episode_steps is not None:
            kwargs["max_episode_steps"] = self.max_episode_steps
        try:
            return gym.make(self.env_id, disable_env_checker=True, **kwargs)
        except gym.error.DependencyNotInstalled as exc:
            raise ValueError(f"{self.env_id} needs a package this server lacks: {exc}") from None
        except TypeError as exc:
            raise ValueError(f"gym.make({self.env_id!r}, ...) refused the options: {exc}") from None
        except gym.error.Error as exc:  # e.g. a deprecated version
            raise ValueError(f"gym.make({self.env_id!r}) failed: {exc}") from None


def _frozen(kwargs: dict[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((kwargs or {}).items(), key=lambda kv: kv[0]))


class GymEnvironment(Environment[GymAction, GymObservation, GymState]):
    """Any registered Gymnasium environment; the id is chosen at reset."""

    runs_inline = True
    """Whether the next call runs on the server's event loop (no thread hop): set per
    instance after each step (``INLINE_STEP_S``; the base class reads it at each call).
    The first step of an episode, and the reset after its end, run in a thread."""

    def __init__(self) -> None:
        super().__init__()
        settings()  # imports the configured modules now, not in the first reset
        self.env: gym.Env[Any, Any] | None = None
        self.config: MakeConfig | None = None
        self.arrays: ArrayEncoding = "auto"
        self._lock = threading.Lock()  # close() waits for a step still running in a thread
        self.runs_inline = False  # the first reset: in a thread

    # -- the hooks -------------------------------------------------------------------

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        env_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None,
        render: bool = False,
        max_episode_steps: Annotated[int, Field(ge=1)] | None = None,
        make_kwargs: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        array_encoding: ArrayEncoding = "auto",
        spaces: bool = True,
    ) -> GymObservation:
        """Make (or reuse) ``gymnasium.make(env_id, **make_kwargs)`` and reset it.

        Options not given take their defaults, not the last episode's. The env is
        reused when ``env_id``, ``render``, ``max_episode_steps`` and ``make_kwargs``
        are those of the last episode; otherwise it is made anew. ``options`` go to
        Gymnasium's ``reset(options=...)``; ``array_encoding`` chooses how arrays
        travel (``auto``: lists up to 256 elements, else base64); ``spaces=False``
        leaves the space descriptions out of the first observation.
        """
        with self._lock:
            return self._start(
                seed, env_id, render, max_episode_steps, make_kwargs, options, array_encoding,
                spaces,
            )  # fmt: skip

    def _start(
        self,
        seed: int | None,
        env_id: str | None,
        render: bool,
        max_episode_steps: int | None,
        make_kwargs: dict[str, Any] | None,
        options: dict[str, Any] | None,
        array_encoding: ArrayEncoding,
        spaces: bool,
    ) -> GymObservation:
        config = MakeConfig(
            env_id or settings().default_env_id, render, max_episode_steps, _frozen(make_kwargs)
        )
        self.runs_inline = False  # the first step of an episode: in a thread
        if self.env is None or config != self.config:
            env = config.make()  # before closing the old one: a bad id leaves the env as it was
            self._close_env()
            self.env, self.config = env, config
            if seed is None:  # a fresh env: seed it, so that the episode can be replayed
                seed = secrets.randbits(63)
                self.rng.seed(seed)
        self.seed = seed  # None: Gymnasium continues its random stream
        assert self.env is not None
        obs, info = self.env.reset(seed=seed, options=options)
        self.arrays = array_encoding
        self.state.env_id = config.env_id
        self.state.seed = seed
        observation = GymObservation(
            obs=encode_value(self.env.observation_space, obs, arrays=self.arrays),
            info=to_jsonable(info),
            frame=self._frame(),
            env_id=config.env_id,
        )
        if spaces:
            observation.observation_space = describe_space(self.env.observation_space)
            observation.action_space = describe_space(self.env.action_space)
        return observation

    def _step(self, action: GymAction, timeout_s: float | None = None) -> GymObservation:
        """Step the Gymnasium env; quick steps send the next one to the event loop."""
        started = time.perf_counter()
        with self._lock:
            try:
                return self._play(action)
            finally:
                quick = time.perf_counter() - started < INLINE_STEP_S
                rendering = self.config is not None and self.config.render
                ended = self.state.terminated or self.state.truncated  # then a reset comes
                self.runs_inline = quick and not rendering and not ended

    def _play(self, action: GymAction) -> GymObservation:
        if self.env is None:
            raise ValueError("no environment: call reset first")  # closed
        value = check_action(self.env.action_space, action.action)
        obs, reward, terminated, truncated, info = self.env.step(value)
        self.state.terminated, self.state.truncated = bool(terminated), bool(truncated)
        reward = float(reward)
        self.state.episode_return += reward
        return GymObservation(
            obs=encode_value(self.env.observation_space, obs, arrays=self.arrays),
            reward=reward,
            done=self.state.terminated or self.state.truncated,
            terminated=self.state.terminated,
            truncated=self.state.truncated,
            info=to_jsonable(info) if info else {},
            frame=self._frame(),
        )

    def close(self) -> None:
        with self._lock:
            self._close_env()

    # -- tools -----------------------------------------------------------------------

    @tool
    def spaces(
        self,
        env_id: str | None = None,
        max_episode_steps: int | None = None,
        make_kwargs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Descriptions of the observation and action spaces.

        Of this session's environment, or, given ``env_id`` (and the same
        ``make_kwargs`` as reset takes), of that one. ``observation_field`` and
        ``action_field`` name where the values travel (``obs``, ``action``).
        """
        wanted = (env_id or settings().default_env_id, max_episode_steps, _frozen(make_kwargs))
        current = self.config
        made = None
        if (
            self.env is not None
            and current is not None
            and (
                env_id is None
                or wanted == (current.env_id, current.max_episode_steps, current.make_kwargs)
            )
        ):
            env, described = self.env, current.env_id
        else:
            env = made = MakeConfig(wanted[0], False, wanted[1], wanted[2]).make()
            described = wanted[0]
        try:
            render_modes = list(env.metadata.get("render_modes", []))
            described_spaces = {
                "env_id": described,
                "observation_space": describe_space(env.observation_space),
                "action_space": describe_space(env.action_space),
                "observation_field": "obs",
                "action_field": "action",
                "render_modes": render_modes,
            }
            if "rgb_array" in render_modes:  # reset(render=True) puts PNG frames in `frame`
                described_spaces |= {"frame_field": "frame", "render_option": "render"}
                if env.metadata.get("render_fps"):
                    described_spaces["render_fps"] = env.metadata["render_fps"]
            return described_spaces
        finally:
            if made is not None:
                made.close()

    @tool
    def list_env_ids(self, contains: str = "") -> list[str]:
        """Registered Gymnasium ids this server serves (those containing ``contains``)."""
        needle = contains.lower()
        return [env_id for env_id in known_ids() if needle in env_id.lower()]

    # -- helpers ---------------------------------------------------------------------

    def _frame(self) -> str | None:
        if self.config is None or not self.config.render or self.env is None:
            return None
        frame = self.env.render()
        return None if frame is None else encode_png(frame)

    def _close_env(self) -> None:
        env, self.env, self.config = self.env, None, None
        if env is not None:
            env.close()
