"""The typed vocabulary every environment speaks: actions, observations, state.

Every environment defines its own subclasses of :class:`Action` and
:class:`Observation` (and optionally :class:`State`); the server validates what
arrives on the wire against them and the client parses what comes back into them.

Example::

    from openenv import Action, Observation

    class MoveAction(Action):
        direction: Literal["left", "right"]

    class GridObservation(Observation):
        position: int

    obs = GridObservation(position=3, reward=1.0)
    assert obs.done is False
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

Reward = float | int | bool | None
"""A reward is a number, or ``None`` when the step has nothing to score."""


class Action(BaseModel):
    """What the agent does. Subclass it with the fields of your action.

    Unknown fields are rejected, so a typo in a field name is an error, not a no-op.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form extras.")


class Observation(BaseModel):
    """What the agent sees after ``reset`` or ``step``.

    ``reward``, ``done`` and ``metadata`` travel beside the observation on the
    wire; every other field is the observation payload.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    done: bool = Field(default=False, description="Whether the episode has ended.")
    reward: Reward = Field(default=None, description="Reward for the last action.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form extras.")


NONDETERMINISTIC: dict[str, Any] = {"nondeterministic": True}
"""Marks an observation field whose value depends on the machine, not the episode (a
timing, a path): ``Field(0.0, json_schema_extra=NONDETERMINISTIC)``. It shows in
``/schema``, and the determinism checks (:mod:`openenv.testing`, ``openenv validate``)
leave the field out; everything else must repeat exactly under the same seed."""


def nondeterministic_fields(schema: dict[str, Any]) -> set[str]:
    """The fields a JSON schema marks :data:`NONDETERMINISTIC` (what determinism checks
    and replays leave out)."""
    return {
        name
        for name, prop in schema.get("properties", {}).items()
        if isinstance(prop, dict) and prop.get("nondeterministic")
    }


class State(BaseModel):
    """Episode bookkeeping: its id and how many steps it has taken.

    Environments may add fields (extra fields are allowed), e.g. the current task.
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    episode_id: str | None = Field(default=None, description="Id of the current episode.")
    step_count: int = Field(default=0, ge=0, description="Steps taken in this episode.")


ObsT = TypeVar("ObsT")


class StepResult(BaseModel, Generic[ObsT]):
    """What a client gets back from ``reset`` and ``step``.

    Example::

        result = client.step(EchoAction(message="hi"))
        if result.done:
            print("episode over, last reward", result.reward)
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    observation: ObsT
    reward: Reward = None
    done: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)

    def __init__(
        self,
        observation: ObsT,
        reward: Reward = None,
        done: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        # Positional arguments too, as OpenEnv 0.10's dataclass takes them.
        super().__init__(observation=observation, reward=reward, done=done, metadata=metadata)

    @field_validator("metadata", mode="before")
    @classmethod
    def _no_metadata_is_empty(cls, value: Any) -> Any:
        # OpenEnv 0.10 clients build results with metadata=payload.get("metadata").
        return {} if value is None else value


class EnvironmentMetadata(BaseModel):
    """Describes an environment; served at ``GET /metadata``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    readme_content: str | None = None
    version: str | None = None
    author: str | None = None
    documentation_url: str | None = None
