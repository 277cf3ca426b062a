"""The maze's action, observation and state."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from openenv import Action, Observation, State

Move = Literal["up", "down", "left", "right"]


class MazeAction(Action):
    """One move: ``up``, ``down``, ``left`` or ``right``."""

    move: Move = Field(description="The direction to move.")


class MazeObservation(Observation):
    """What the agent sees after its move: the maze, or the window around it."""

    view: list[str] = Field(
        default_factory=list,
        description="Rows of the maze ('full') or of the window around the agent "
        "('partial'): '#' wall, '.' floor, 'E' exit, 'A' the agent.",
    )
    rendering: str = Field(default="", description="The same rows, joined by newlines.")
    position: list[int] = Field(
        default_factory=list, description="[row, column] of the agent in the maze's grid."
    )
    exit: list[int] | None = Field(
        default=None, description="[row, column] of the exit (full view only)."
    )
    bumped: bool = Field(default=False, description="Whether a wall stopped the move.")
    steps: int = Field(default=0, description="Steps taken this episode.")
    max_steps: int = Field(default=0, description="The episode ends (truncated) after these.")
    truncated: bool = Field(default=False, description="Ended by max_steps, not at the exit.")


class MazeState(State):
    """Episode bookkeeping: the maze's size and view."""

    width: int = 8
    height: int = 8
    observation: str = "full"
    shortest_path: int = Field(default=0, description="Steps from the start to the exit.")
    total_reward: float = 0.0
