"""atari_env: Atari 2600 games through the Arcade Learning Environment (``ale-py``).

One emulator per session (``ale_py.env.AtariEnv``, what ``gymnasium.make("ALE/Pong-v5")``
wraps). The game is chosen at reset: ``reset(game="Pong")``, ``"space_invaders"``,
or a Gymnasium id (``"ALE/Pong-v5"``, ``"PongNoFrameskip-v4"``, whose settings are
then the defaults). Without a game id's settings the defaults are v5's: frameskip
4, sticky actions with probability 0.25, the minimal action set, at most 108,000
frames per episode.

Observations (``obs_type``): ``rgb`` (210x160x3), ``grayscale`` (210x160) or ``ram``
(128 bytes); ``resize=(h, w)`` scales the screen (bilinear, Pillow). A screen travels
as a PNG (``frame_format="png"``: lossless, ~2 KB, the server spends ~0.25 ms
compressing) or as raw bytes (``"array"``: 134 KB of base64 for RGB, no
compression). Seeding follows Gymnasium: ``reset(seed=s)`` is ``env.reset(seed=s)``
(sticky actions included), an unseeded reset continues the random stream.

Example::

    env = AtariEnvironment()
    obs = env.reset(game="Breakout", seed=0)
    print(obs.action_meanings)             # ['NOOP', 'FIRE', 'RIGHT', 'LEFT']
    obs = env.step(AtariAction(action=1))  # FIRE
    print(obs.reward, obs.lives)           # 0.0 5
"""

from __future__ import annotations

import difflib
import re
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

import ale_py
import gymnasium as gym
import numpy as np
from ale_py.env import AtariEnv as ALEEnv
from gymnasium import spaces
from pydantic import Field

from openenv import Environment, tool
from openenv.integrations.gym_spaces import describe_space, encode_array, encode_png

from ..models import AtariAction, AtariObservation, AtariState

gym.register_envs(ale_py)

ObsType = Literal["rgb", "grayscale", "ram"]
FrameFormat = Literal["png", "array"]
V5_DEFAULTS: dict[str, Any] = {
    "frameskip": 4,
    "repeat_action_probability": 0.25,
    "full_action_space": False,
    "max_num_frames_per_episode": 108_000,
}
POPULAR = ("Breakout", "Pong", "SpaceInvaders", "Seaquest", "MsPacman", "Enduro", "Qbert")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@cache
def games() -> dict[str, tuple[str, str]]:
    """``{key: (display name, ROM id)}`` for every game with an ``ALE/<Name>-v5`` id."""
    found = {}
    for env_id, spec in gym.registry.items():
        match = re.fullmatch(r"ALE/(\w+)-v5", env_id)
        if match and isinstance(spec.kwargs.get("game"), str):
            found[_key(match.group(1))] = (match.group(1), spec.kwargs["game"])
    return dict(sorted(found.items()))


def resolve_game(game: str) -> tuple[str, str, dict[str, Any]]:
    """``(display name, ROM id, defaults)`` of a game name or a Gymnasium Atari id."""
    if game in gym.registry and isinstance(gym.registry[game].kwargs.get("game"), str):
        spec = gym.registry[game]
        rom = spec.kwargs["game"]
        display = next((d for d, r in games().values() if r == rom), rom)
        defaults = {k: spec.kwargs[k] for k in V5_DEFAULTS if k in spec.kwargs}
        if spec.max_episode_steps:
            defaults["max_episode_steps"] = spec.max_episode_steps
        return display, rom, {**V5_DEFAULTS, "frameskip": 1, **defaults}
    known = games()
    found = known.get(_key(game))
    if found is None:
        names = [display for display, _ in known.values()]
        close = difflib.get_close_matches(game, names, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ValueError(
            f"unknown Atari game {game!r}; {hint}known games include {', '.join(POPULAR)} "
            f"({len(names)} in all; the list_games tool lists them), or pass a Gymnasium id "
            "such as 'ALE/Pong-v5'"
        )
    return found[0], found[1], dict(V5_DEFAULTS)


@dataclass(frozen=True)
class EmulatorConfig:
    """What the emulator was made with; an episode with the same config reuses it."""

    rom: str
    obs_type: str
    frameskip: int
    repeat_action_probability: float
    full_action_space: bool
    max_num_frames_per_episode: int | None
    mode: int | None
    difficulty: int | None

    def make(self) -> ALEEnv:
        try:
            return ALEEnv(
                game=self.rom,
                obs_type=self.obs_type,  # type: ignore[arg-type]
                frameskip=self.frameskip,
                repeat_action_probability=self.repeat_action_probability,
                full_action_space=self.full_action_space,
                max_num_frames_per_episode=self.max_num_frames_per_episode,
                mode=self.mode,
                difficulty=self.difficulty,
            )
        except (gym.error.Error, RuntimeError) as exc:  # e.g. a mode the game does not have
            raise ValueError(f"{self.rom}: {exc}{_modes_hint(self.rom)}") from None


class AtariEnvironment(Environment[AtariAction, AtariObservation, AtariState]):
    """Atari 2600 games (ALE); the game is chosen at reset."""

    def __init__(self) -> None:
        super().__init__()
        self.env: ALEEnv | None = None
        self.config: EmulatorConfig | None = None
        self.game = ""
        self.meanings: list[str] = []
        self.resize: tuple[int, int] | None = None
        self.frame_format: FrameFormat = "png"
        self.render = False
        self.observation_space: spaces.Box | None = None

    # -- the hooks -------------------------------------------------------------------

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        game: Annotated[str, Field(min_length=1, max_length=100)] = "Pong",
        obs_type: ObsType = "rgb",
        frameskip: Annotated[int, Field(ge=1, le=64)] | None = None,
        repeat_action_probability: Annotated[float, Field(ge=0.0, le=1.0)] | None = None,
        full_action_space: bool | None = None,
        mode: Annotated[int, Field(ge=0)] | None = None,
        difficulty: Annotated[int, Field(ge=0)] | None = None,
        resize: tuple[Annotated[int, Field(ge=8, le=1024)], Annotated[int, Field(ge=8, le=1024)]]
        | None = None,
        frame_format: FrameFormat = "png",
        render: bool = False,
        max_episode_steps: Annotated[int, Field(ge=1)] | None = None,
        spaces: bool = True,
    ) -> AtariObservation:
        """Start a game: make (or reuse) its emulator and reset it.

        ``frameskip``, ``repeat_action_probability`` and ``full_action_space`` default
        to the game id's settings (v5's for a bare name). ``resize=(height, width)``
        scales rgb/grayscale screens. ``render=True`` adds the RGB screen as a PNG in
        ``frame`` (useful with ``obs_type="ram"``). ``max_episode_steps`` truncates
        the episode after that many steps. ``spaces=False`` leaves the space
        descriptions out of the first observation.
        """
        display, rom, defaults = resolve_game(game)
        if resize is not None and obs_type == "ram":
            raise ValueError("resize applies to screens; obs_type='ram' has none")
        config = EmulatorConfig(
            rom=rom,
            obs_type=obs_type,
            frameskip=frameskip if frameskip is not None else defaults["frameskip"],
            repeat_action_probability=(
                repeat_action_probability
                if repeat_action_probability is not None
                else defaults["repeat_action_probability"]
            ),
            full_action_space=(
                full_action_space
                if full_action_space is not None
                else defaults["full_action_space"]
            ),
            max_num_frames_per_episode=defaults["max_num_frames_per_episode"],
            mode=mode,
            difficulty=difficulty,
        )
        if self.env is None or config != self.config:
            env = config.make()  # before closing the old one: a bad option leaves it as it was
            self._close_env()
            self.env, self.config = env, config
            if seed is None:  # a fresh emulator: seed it, so that the episode can be replayed
                seed = secrets.randbits(63)
                self.rng.seed(seed)
        assert self.env is not None
        self.seed = seed  # what the emulator got (None: its random stream goes on)
        self.game = display
        self.meanings = list(self.env.get_action_meanings())
        self.resize = resize
        self.frame_format = frame_format
        self.render = render
        # the base class ends the episode at that step (truncated)
        self.max_steps = max_episode_steps or defaults.get("max_episode_steps")
        self.observation_space = self._observation_space(self.env.observation_space)
        screen, info = self.env.reset(seed=seed)
        self.state.game, self.state.seed = display, seed
        self.state.lives = int(info.get("lives", 0))
        observation = self._observation(screen, info)
        observation.game = display
        observation.action_meanings = list(self.meanings)
        if spaces:
            observation.observation_space = describe_space(self.observation_space)
            observation.action_space = describe_space(self.env.action_space)
        return observation

    def _step(self, action: AtariAction, timeout_s: float | None = None) -> AtariObservation:
        assert self.env is not None  # reset made it
        if not 0 <= action.action < len(self.meanings):
            listed = ", ".join(f"{i} {m}" for i, m in enumerate(self.meanings))
            raise ValueError(
                f"action {action.action} is not one of {self.game}'s {len(self.meanings)} "
                f"actions: {listed}"
            )
        screen, reward, terminated, truncated, info = self.env.step(action.action)
        observation = self._observation(screen, info)
        observation.reward = float(reward)
        observation.terminated = bool(terminated)
        observation.truncated = bool(truncated) or self.at_step_limit
        # done at game over or ALE's frame cap; at max_steps the base class sets it
        observation.done = observation.terminated or bool(truncated)
        state = self.state
        state.episode_return += observation.reward
        state.lives, state.terminated, state.truncated = (
            observation.lives,
            observation.terminated,
            observation.truncated,
        )
        return observation

    def close(self) -> None:
        self._close_env()

    # -- tools -----------------------------------------------------------------------

    @tool
    def spaces(
        self,
        game: str | None = None,
        obs_type: ObsType = "rgb",
        resize: tuple[int, int] | None = None,
        full_action_space: bool | None = None,
    ) -> dict[str, Any]:
        """Descriptions of the observation and action spaces.

        Of this session's game (no arguments), or of ``game`` with those options.
        """
        if game is None and self.env is not None and self.observation_space is not None:
            observation_space, action_space = self.observation_space, self.env.action_space
            display, meanings = self.game, self.meanings
        else:
            display, rom, defaults = resolve_game(game or "Pong")
            if full_action_space is None:
                full_action_space = defaults["full_action_space"]
            n = len(_meanings(rom, full_action_space))
            screen = {
                "rgb": spaces.Box(0, 255, (210, 160, 3), np.uint8),
                "grayscale": spaces.Box(0, 255, (210, 160), np.uint8),
                "ram": spaces.Box(0, 255, (128,), np.uint8),
            }[obs_type]
            observation_space = _resized(screen, resize)
            action_space = spaces.Discrete(n)
            meanings = _meanings(rom, full_action_space)
        return {
            "game": display,
            "observation_space": describe_space(observation_space),
            "action_space": describe_space(action_space),
            "action_meanings": list(meanings),
            "observation_field": "obs",
            "action_field": "action",
            "info_fields": ["lives", "episode_frame_number", "frame_number"],
            "frame_field": "frame",
            "render_option": "render",
        }

    @tool
    def list_games(self) -> list[str]:
        """Every game: pass one to reset as ``game``."""
        return [display for display, _ in games().values()]

    @tool
    def action_meanings(
        self, game: str | None = None, full_action_space: bool = False
    ) -> list[str]:
        """The meaning of each action index, of this session's game or of ``game``."""
        if game is None and self.env is not None:
            return list(self.meanings)
        _, rom, _ = resolve_game(game or "Pong")
        return _meanings(rom, full_action_space)

    # -- helpers ---------------------------------------------------------------------

    def _observation_space(self, screen: spaces.Box) -> spaces.Box:
        return _resized(screen, self.resize)

    def _observation(self, screen: np.ndarray, info: dict[str, Any]) -> AtariObservation:
        assert self.env is not None and self.config is not None
        if self.config.obs_type == "ram":
            obs: Any = screen.tolist()
        else:
            if self.resize is not None:
                screen = _resize(screen, self.resize)
            obs = (
                {"png": encode_png(screen)} if self.frame_format == "png" else encode_array(screen)
            )
        frame = encode_png(self.env.ale.getScreenRGB()) if self.render else None
        return AtariObservation(
            obs=obs,
            lives=int(info.get("lives", 0)),
            episode_frame_number=int(info.get("episode_frame_number", 0)),
            frame_number=int(info.get("frame_number", 0)),
            frame=frame,
        )

    def _close_env(self) -> None:
        env, self.env, self.config = self.env, None, None
        if env is not None:
            env.close()


@cache
def _meanings_cached(rom: str, full_action_space: bool) -> tuple[str, ...]:
    env = ALEEnv(game=rom, full_action_space=full_action_space)
    try:
        return tuple(env.get_action_meanings())
    finally:
        env.close()


def _modes_hint(rom: str) -> str:
    try:
        env = ALEEnv(game=rom)
    except Exception:
        return ""
    try:
        modes = [int(m) for m in env.ale.getAvailableModes()]
        difficulties = [int(d) for d in env.ale.getAvailableDifficulties()]
    finally:
        env.close()
    return f" (its modes: {modes}; its difficulties: {difficulties})"


def _meanings(rom: str, full_action_space: bool) -> list[str]:
    return list(_meanings_cached(rom, full_action_space))


def _resized(screen: spaces.Box, resize: tuple[int, int] | None) -> spaces.Box:
    if resize is None:
        return screen
    shape = (resize[0], resize[1], *screen.shape[2:])
    return spaces.Box(0, 255, shape, np.uint8)


def _resize(screen: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    height, width = size
    return np.asarray(Image.fromarray(screen).resize((width, height), Image.Resampling.BILINEAR))
