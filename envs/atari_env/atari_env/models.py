"""atari_env's action, observation and state."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, Strict

from openenv import Action, Observation, State


class AtariAction(Action):
    """The index of an action in the game's action set (``action_meanings`` on reset).

    With the minimal set (the default) Breakout has 4: 0 NOOP, 1 FIRE, 2 RIGHT,
    3 LEFT; with ``full_action_space=True`` every game has the 18 of the joystick.
    An index outside the set is refused with a ``ValueError`` (an
    ``EXECUTION_ERROR`` frame); the episode goes on.
    """

    action: Annotated[int, Strict()] = Field(description="Index into the game's action set.")


class AtariObservation(Observation):
    """The screen (or RAM) after the step, and the game's counters.

    ``obs`` is ``{"png": base64}`` (``frame_format="png"``, the default),
    ``{"dtype": "uint8", "shape": [...], "b64": base64}`` (``frame_format="array"``),
    or, for ``obs_type="ram"``, a list of the 128 RAM bytes. Decode any of them with
    ``AtariEnv.decode`` or :func:`openenv.integrations.gym_spaces.decode_value`.
    """

    obs: Any = Field(None, description="The observation: PNG, array object, or RAM list.")
    lives: int = Field(0, description="Lives left.")
    terminated: bool = Field(False, description="Game over.")
    truncated: bool = Field(False, description="Cut short: max_episode_steps or the frame cap.")
    episode_frame_number: int = Field(0, description="Emulator frames in this episode.")
    frame_number: int = Field(0, description="Emulator frames since the ROM was loaded.")
    frame: str | None = Field(None, description="The RGB screen, base64 PNG (render=True).")
    game: str | None = Field(None, description="The game, e.g. 'Breakout' (on reset).")
    action_meanings: list[str] | None = Field(
        None, description="The action set: the meaning of each index (on reset)."
    )
    observation_space: dict[str, Any] | None = Field(
        None, description="The observation space's description (on reset)."
    )
    action_space: dict[str, Any] | None = Field(
        None, description="The action space's description (on reset)."
    )


class AtariState(State):
    """Episode bookkeeping."""

    game: str | None = None
    seed: int | None = Field(
        None, description="This episode's seed; None: it continued the last one's random stream."
    )
    lives: int = 0
    terminated: bool = False
    truncated: bool = False
    episode_return: float = Field(0.0, description="Sum of the rewards of this episode.")
