"""Chess's action, observation and state."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from openenv import Action, Observation, State


class ChessAction(Action):
    """The agent's move, in UCI (``e2e4``, ``e7e8q``) or SAN (``e4``, ``Nf3``, ``O-O``)."""

    # Legal in turn from the start whatever the engine replies (nearly always): examples
    # for tools and checkers (`openenv validate`), which cannot guess a legal move.
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"move": m} for m in ("e2e4", "d2d4", "g1f3", "b1c3")]}
    )

    move: str = Field(min_length=1, max_length=16, description="A move in UCI or SAN.")


class ChessObservation(Observation):
    """The position after the agent's move and the engine's reply."""

    fen: str = Field(default="", description="The position in FEN.")
    board: str = Field(default="", description="ASCII board, white at the bottom, with files.")
    legal_moves: list[str] = Field(
        default_factory=list, description="The agent's legal moves in UCI (empty when over)."
    )
    legal_moves_san: list[str] = Field(
        default_factory=list, description="The same moves in SAN, in the same order."
    )
    turn: str = Field(default="white", description='Who is to move: "white" or "black".')
    agent_color: str = Field(default="white", description="The agent's colour.")
    last_move: str | None = Field(default=None, description="The engine's last move (UCI).")
    last_move_san: str | None = Field(default=None, description="The same move in SAN.")
    in_check: bool = Field(default=False, description="Whether the side to move is in check.")
    ply: int = Field(default=0, description="Half-moves played in the game so far.")
    result: str | None = Field(
        default=None, description='"1-0", "0-1" or "1/2-1/2" when the game is over.'
    )
    termination: str | None = Field(
        default=None,
        description='Why it ended: "checkmate", "stalemate", "insufficient_material", '
        '"fifty_moves", "threefold_repetition", "max_plies", ...',
    )


class ChessState(State):
    """Episode bookkeeping: colours, the engine's level, the position."""

    agent_color: str = "white"
    level: int = 1
    fen: str = ""
    result: str | None = None
