"""Chess against the built-in engine (:mod:`.engine`), with python-chess keeping the rules.

::

    env = ChessEnvironment()
    obs = env.reset(seed=1, level=1, color="white")
    obs = env.step(ChessAction(move="e4"))     # the engine replies at once
    obs.board, obs.fen, obs.legal_moves, obs.last_move_san

* **Moves**: UCI (``e2e4``, ``e7e8q``) or SAN (``e4``, ``exd5``, ``O-O``, ``e8=Q``).
* **Illegal or unparseable moves** raise ``ValueError`` (over the wire: an error frame);
  the position is left as it was and the session goes on. A move after the end raises
  ``EpisodeOver`` (an ``EPISODE_OVER`` error frame): reset to play another game.
* **Reward**: 0 on every step until the game ends, then +1 (agent won), -1 (lost) or 0
  (draw).
* **The end**: checkmate, stalemate, insufficient material; and draws by the fifty-move
  rule (100 half-moves without a capture or a pawn move) and threefold repetition (the
  position on the board for the third time), which end the game at once, as if claimed;
  or ``max_plies`` half-moves in all (a draw, ``termination="max_plies"``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import chess
from pydantic import Field

from openenv import Environment, derive_seed

from ..engine import Engine
from ..models import ChessAction, ChessObservation, ChessState

COLORS = {"white": chess.WHITE, "black": chess.BLACK}


def render(board: chess.Board) -> str:
    """The board as ASCII, white at the bottom, ranks and files labelled."""
    rows = str(board).splitlines()
    lines = [f"{8 - i} {row}" for i, row in enumerate(rows)]
    return "\n".join([*lines, "  a b c d e f g h"])


def parse_move(board: chess.Board, text: str) -> chess.Move:
    """The legal move that ``text`` (UCI or SAN) names; ``ValueError`` if none."""
    text = text.strip()
    try:
        move = chess.Move.from_uci(text)
    except ValueError:
        move = None
    if move is not None and move in board.legal_moves:
        return move
    try:
        move = board.parse_san(text)
    except ValueError:
        move = None
    if move and move in board.legal_moves:  # parse_san takes "--" and "0000" as null moves
        return move
    legal = " ".join(m.uci() for m in board.legal_moves)
    raise ValueError(f"illegal move {text!r} in {board.fen()}; legal moves (UCI): {legal}")


class ChessEnvironment(Environment[ChessAction, ChessObservation, ChessState]):
    """One game of chess per episode; the agent plays ``color``, the engine the other side.

    Reset options: ``level`` (0-3), ``color`` (``white``, ``black`` or ``random``, drawn
    from the seed), ``fen`` (a start position), ``max_plies``.
    """

    runs_inline = True
    """Levels 0-1 answer in microseconds: their steps run on the server's event loop.
    The searching levels (2-3) run in a thread: ``_reset`` sets this per episode (the
    base class reads it at each call), and the reset after a game ends, whose options
    are not known yet, runs in a thread too."""

    def __init__(self) -> None:
        super().__init__()
        self.runs_inline = False  # the first reset: in a thread
        self.board = chess.Board()
        self.engine = Engine(level=1, seed=0)
        self.agent_color: chess.Color = chess.WHITE
        self.max_plies = 400
        self._last: tuple[str, str] | None = None
        self._over: tuple[str, str] | None = None  # (result, termination)

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        level: Annotated[int, Field(ge=0, le=3)] = 1,
        color: Literal["white", "black", "random"] = "white",
        fen: Annotated[str, Field(max_length=100)] | None = None,
        max_plies: Annotated[int, Field(ge=1, le=2000)] = 400,
    ) -> ChessObservation:
        """Set up the board; when the engine has the move, it plays first."""
        try:
            board = chess.Board(fen) if fen else chess.Board()
        except ValueError as exc:
            raise ValueError(f"bad fen {fen!r}: {exc}") from None
        if fen and not board.is_valid():
            raise ValueError(f"fen {fen!r} is not a legal position ({board.status()!r})")
        assert self.seed is not None
        if color == "random":
            color = self.rng.choice(["white", "black"])
        self.board, self.agent_color, self.max_plies = board, COLORS[color], max_plies
        self.engine = Engine(level, derive_seed(self.seed, "engine"))
        self._last, self._over = None, None
        self._state = ChessState(
            episode_id=self.state.episode_id, agent_color=color, level=level, fen=board.fen()
        )
        self._settle()
        if self._over is None and board.turn != self.agent_color:
            self._engine_moves()
        observation = self._observe()
        if observation.done:
            observation.reward = self._outcome_reward()
        self.runs_inline = level < 2 and not observation.done
        return observation

    def _step(self, action: ChessAction, timeout_s: float | None = None) -> ChessObservation:
        """Play the agent's move, then the engine's reply (unless the game is over)."""
        move = parse_move(self.board, action.move)
        self.board.push(move)
        self._settle()
        if self._over is None:
            self._engine_moves()
        observation = self._observe()
        observation.reward = self._outcome_reward() if observation.done else 0.0
        if observation.done:
            self.runs_inline = False  # the next reset may start a searching level
        return observation

    # -- internals -----------------------------------------------------------------------

    def _engine_moves(self) -> None:
        move = self.engine.choose(self.board)
        san = self.board.san(move)
        self.board.push(move)
        self._last = (move.uci(), san)
        self._settle()

    def _settle(self) -> None:
        """Note the end of the game, if it has come."""
        board = self.board
        outcome = board.outcome()  # mate, stalemate, material, 75 moves, fivefold
        if outcome is not None:
            self._over = (outcome.result(), outcome.termination.name.lower())
        elif board.halfmove_clock >= 100:
            self._over = ("1/2-1/2", "fifty_moves")
        elif board.is_repetition(3):  # cheaper than outcome(claim_draw=True), same rule here
            self._over = ("1/2-1/2", "threefold_repetition")
        elif len(self.board.move_stack) >= self.max_plies:
            self._over = ("1/2-1/2", "max_plies")
        self.state.fen = self.board.fen()
        self.state.result = self._over[0] if self._over else None

    def _outcome_reward(self) -> float:
        assert self._over is not None
        result = self._over[0]
        if result == "1/2-1/2":
            return 0.0
        white_won = result == "1-0"
        return 1.0 if white_won == (self.agent_color == chess.WHITE) else -1.0

    def _observe(self) -> ChessObservation:
        board, over = self.board, self._over
        moves = [] if over else list(board.legal_moves)
        return ChessObservation(
            fen=board.fen(),
            board=render(board),
            legal_moves=[m.uci() for m in moves],
            legal_moves_san=[board.san(m) for m in moves],
            turn="white" if board.turn == chess.WHITE else "black",
            agent_color="white" if self.agent_color == chess.WHITE else "black",
            last_move=self._last[0] if self._last else None,
            last_move_san=self._last[1] if self._last else None,
            in_check=board.is_check(),
            ply=len(board.move_stack),
            result=over[0] if over else None,
            termination=over[1] if over else None,
            done=over is not None,
        )
