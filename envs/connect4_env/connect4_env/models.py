"""Connect Four's action, observation and state."""

from __future__ import annotations

from pydantic import Field

from openenv import Action, Observation, State

ROWS, COLUMNS = 6, 7


class Connect4Action(Action):
    """Drop a disc into a column, 0 (left) to 6 (right)."""

    column: int = Field(ge=0, le=COLUMNS - 1, description="The column, 0-6.")


class Connect4Observation(Observation):
    """The board from the agent's side, after its move and the opponent's reply."""

    board: list[list[int]] = Field(
        default_factory=list,
        description="6 rows, top first, of 7 cells: 0 empty, 1 the agent's disc, 2 the opponent's.",
    )
    rendering: str = Field(default="", description="The board as text, X and O, columns below.")
    legal_columns: list[int] = Field(
        default_factory=list, description="Columns with room for a disc (empty when done)."
    )
    agent_piece: str = Field(default="X", description='"X" (moves first) or "O".')
    opponent_last_column: int | None = Field(
        default=None, description="Where the opponent dropped its last disc."
    )
    winner: str | None = Field(
        default=None, description='"agent", "opponent" or "draw" once the game is over.'
    )
    moves: int = Field(default=0, description="Discs on the board.")


class Connect4State(State):
    """Episode bookkeeping: who plays what, and the moves so far."""

    agent_player: int = 0
    opponent: str = "lookahead"
    depth: int = 4
    history: list[int] = Field(default_factory=list, description="Columns played, in order.")
