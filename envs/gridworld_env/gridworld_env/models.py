"""The grid world's action, observation and state."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from openenv import Action, Observation, State

Move = Literal["up", "down", "left", "right"]


class GridWorldAction(Action):
    """One move: ``up``, ``down``, ``left`` or ``right``."""

    move: Move = Field(description="The direction to move.")


class GridWorldObservation(Observation):
    """Where the agent is, on the map, after its move."""

    position: list[int] = Field(default_factory=list, description="[row, column], 0 at the top.")
    goal: list[int] = Field(default_factory=list, description="[row, column] of the goal.")
    grid: list[str] = Field(
        default_factory=list,
        description="The map, one string a row: '#' wall, '.' floor, 'G' goal, 'A' the agent.",
    )
    rendering: str = Field(default="", description="The same rows, joined by newlines.")
    moved: str | None = Field(
        default=None, description="The direction actually taken (differs when it slipped)."
    )
    slipped: bool = Field(default=False, description="Whether the move slipped sideways.")
    bumped: bool = Field(default=False, description="Whether a wall or the edge stopped it.")
    steps: int = Field(default=0, description="Steps taken this episode.")
    max_steps: int = Field(default=0, description="The episode ends (truncated) after these.")
    truncated: bool = Field(default=False, description="Ended by max_steps, not at the goal.")


class GridWorldState(State):
    """Episode bookkeeping: the layout and its settings."""

    layout: str = "four_rooms"
    slip: float = 0.0
    shaping: float = 0.0
    total_reward: float = 0.0
