"""Connect Four (6 rows, 7 columns) against a random or a lookahead opponent.

::

    env = Connect4Environment()
    obs = env.reset(seed=1, opponent="lookahead", depth=4)
    obs = env.step(Connect4Action(column=3))   # the opponent replies at once
    obs.board, obs.legal_columns, obs.rendering

* **Actions**: a column, 0-6. A full column raises ``ValueError`` (over the wire: an
  error frame; the board is left as it was); a column outside 0-6 is refused by the
  action's schema. A step after the end raises ``EpisodeOver`` (``EPISODE_OVER``).
* **Opponents**: ``random`` (a uniformly random legal column) or ``lookahead`` (a
  ``depth``-ply negamax: depth 1 takes wins, 2 also blocks, more plans ahead, with an
  open-lines heuristic at the horizon), ties broken by a seeded shuffle.
* **Reward**: 0 until the game ends; then +1 (the agent connected four), -1 (the
  opponent did) or 0 (a full board).
"""

from __future__ import annotations

import random
from typing import Annotated, Literal

from pydantic import Field

from openenv import Environment, derive_seed

from ..board import COLUMNS, ROWS, Board, best_move
from ..models import Connect4Action, Connect4Observation, Connect4State

PIECES = ("X", "O")


class Connect4Environment(Environment[Connect4Action, Connect4Observation, Connect4State]):
    """One game per episode; the agent is ``agent_player`` (0 = X, moves first; 1 = O).

    Reset options: ``opponent`` (``random`` or ``lookahead``), ``depth`` (1-6, the
    lookahead's plies), ``agent_player``.
    """

    runs_inline = True
    """Shallow opponents answer in microseconds: their steps run on the server's event
    loop. Deep lookahead (depth 5-6) runs in a thread: ``_reset`` sets this per episode
    (the base class reads it at each call), and the reset after a game ends, whose
    options are not known yet, runs in a thread too."""

    def __init__(self) -> None:
        super().__init__()
        self.runs_inline = False  # the first reset: in a thread
        self.board = Board()
        self.agent = 0
        self.opponent = "lookahead"
        self.depth = 4
        self.opponent_rng = random.Random(0)
        self._last: int | None = None

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        opponent: Literal["random", "lookahead"] = "lookahead",
        depth: Annotated[int, Field(ge=1, le=6)] = 4,
        agent_player: Annotated[int, Field(ge=0, le=1)] = 0,
    ) -> Connect4Observation:
        """An empty board; when the agent is O, the opponent drops the first disc."""
        assert self.seed is not None
        self.board, self.agent, self._last = Board(), agent_player, None
        self.opponent, self.depth = opponent, depth
        self.opponent_rng = random.Random(derive_seed(self.seed, "opponent"))
        self._state = Connect4State(
            episode_id=self.state.episode_id,
            agent_player=agent_player,
            opponent=opponent,
            depth=depth,
        )
        if agent_player == 1:
            self._opponent_moves()
        self.runs_inline = not (opponent == "lookahead" and depth >= 5)
        return self._observe()

    def _step(self, action: Connect4Action, timeout_s: float | None = None) -> Connect4Observation:
        """Drop the agent's disc; the opponent replies unless the game is over."""
        board = self.board
        if not board.can_play(action.column):
            raise ValueError(f"column {action.column} is full; legal columns: {board.legal()}")
        board.play(action.column)
        self.state.history.append(action.column)
        if self._result() is None:
            self._opponent_moves()
        observation = self._observe()
        result = observation.winner
        observation.reward = {"agent": 1.0, "opponent": -1.0}.get(result or "", 0.0)
        if observation.done:
            self.runs_inline = False  # the next reset may start a deep lookahead
        return observation

    # -- internals -----------------------------------------------------------------------

    def _opponent_moves(self) -> None:
        board = self.board
        if self.opponent == "random":
            column = self.opponent_rng.choice(board.legal())
        else:
            column = best_move(board, self.depth, self.opponent_rng)
        board.play(column)
        self.state.history.append(column)
        self._last = column

    def _result(self) -> str | None:
        winner = self.board.winner()
        if winner is not None:
            return "agent" if winner == self.agent else "opponent"
        return "draw" if self.board.full() else None

    def _observe(self) -> Connect4Observation:
        board, me = self.board, self.agent
        cells = [
            [0 if (p := board.cell(r, c)) is None else 1 if p == me else 2 for c in range(COLUMNS)]
            for r in range(ROWS)
        ]
        rows = [
            " ".join("." if (p := board.cell(r, c)) is None else PIECES[p] for c in range(COLUMNS))
            for r in range(ROWS)
        ]
        result = self._result()
        return Connect4Observation(
            board=cells,
            rendering="\n".join([*rows, " ".join(str(c) for c in range(COLUMNS))]),
            legal_columns=[] if result else board.legal(),
            agent_piece=PIECES[me],
            opponent_last_column=self._last,
            winner=result,
            moves=board.moves,
            done=result is not None,
        )
