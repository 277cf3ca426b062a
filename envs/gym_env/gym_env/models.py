"""gym_env's action, observation and state: a Gymnasium step as JSON.

Values are encoded by :mod:`openenv.integrations.gym_spaces`: a ``Discrete`` value is
an integer, a small array a nested list, a large one ``{"dtype", "shape", "b64"}``,
a ``Dict`` value an object, a ``Tuple`` value a list.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from openenv import Action, Observation, State


class GymAction(Action):
    """An element of the environment's action space, as JSON.

    ``GymAction(action=1)`` for ``Discrete(2)``; ``GymAction(action=[0.5, -1.0])`` for a
    ``Box`` of shape ``(2,)``. An action outside the space is refused with a
    ``ValueError`` (an ``EXECUTION_ERROR`` frame); the episode goes on.
    """

    # Examples for tools and checkers (`openenv validate`): CartPole's, the default env.
    model_config = ConfigDict(json_schema_extra={"examples": [{"action": 0}, {"action": 1}]})

    action: Any = Field(description="The action, encoded for the action space.")


class GymObservation(Observation):
    """What ``env.reset()`` / ``env.step()`` returned, as JSON.

    ``done`` is ``terminated or truncated``; ``reward`` is the step's reward
    (``None`` after reset).
    """

    obs: Any = Field(None, description="The observation, encoded for the observation space.")
    terminated: bool = Field(False, description="The episode reached a terminal state.")
    truncated: bool = Field(False, description="The episode was cut short (e.g. a time limit).")
    info: dict[str, Any] = Field(default_factory=dict, description="Gymnasium's info, JSON-safe.")
    frame: str | None = Field(
        None, description="The rendered frame, base64 PNG (reset with render=True)."
    )
    env_id: str | None = Field(None, description="The Gymnasium id (on reset).")
    observation_space: dict[str, Any] | None = Field(
        None, description="The observation space's description (on reset)."
    )
    action_space: dict[str, Any] | None = Field(
        None, description="The action space's description (on reset)."
    )


class GymState(State):
    """Episode bookkeeping."""

    env_id: str | None = None
    seed: int | None = Field(
        None, description="This episode's seed; None: it continued the last one's random stream."
    )
    terminated: bool = False
    truncated: bool = False
    episode_return: float = Field(0.0, description="Sum of the rewards of this episode.")
