"""A Connect Four board on bitboards, and a small negamax search for the lookahead opponent.

Outside ``server/`` because both sides use it: the server's opponent searches with it,
and agents (:mod:`connect4_env.agents`) rebuild the observed board and search the same way.

Bit ``column * 7 + row`` (row 0 at the bottom) is a cell; each column has a spare top
bit, so four-in-a-row tests are four shifts and masks.

Example::

    board = Board()
    board.play(3)
    best_move(board, depth=4, rng=random.Random(1))   # a column
"""

from __future__ import annotations

import random

ROWS, COLUMNS = 6, 7
HEIGHT = ROWS + 1
ORDER = (3, 2, 4, 1, 5, 0, 6)  # centre first: better pruning, better play
WIN = 1_000_000


def _windows() -> list[int]:
    windows = []
    for c in range(COLUMNS):
        for r in range(ROWS):
            for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
                cells = [(c + i * dc, r + i * dr) for i in range(4)]
                if all(0 <= cc < COLUMNS and 0 <= rr < ROWS for cc, rr in cells):
                    windows.append(sum(1 << (cc * HEIGHT + rr) for cc, rr in cells))
    return windows


WINDOWS = _windows()  # the 69 lines of four
WINDOW_SCORE = (0, 1, 4, 16)


def four_in_a_row(discs: int) -> bool:
    """Whether the discs of one player hold a line of four."""
    for shift in (1, HEIGHT, HEIGHT - 1, HEIGHT + 1):  # vertical, horizontal, two diagonals
        pairs = discs & (discs >> shift)
        if pairs & (pairs >> (2 * shift)):
            return True
    return False


class Board:
    """Position of both players; ``play(column)`` drops the mover's disc."""

    __slots__ = ("discs", "mask", "moves")

    def __init__(self) -> None:
        self.discs = [0, 0]  # per player: 0 moves first
        self.mask = 0
        self.moves = 0

    @classmethod
    def from_rows(cls, rows: list[list[int]]) -> Board:
        """The board of an observation (rows top first; 1 = the agent's, who is to move)."""
        board = cls()
        cells = [(r, c, v) for r, row in enumerate(rows) for c, v in enumerate(row) if v]
        board.moves = len(cells)
        me = board.to_move
        for r, c, v in cells:
            bit = 1 << (c * HEIGHT + ROWS - 1 - r)
            board.discs[me if v == 1 else 1 - me] |= bit
            board.mask |= bit
        return board

    def copy(self) -> Board:
        other = Board()
        other.discs, other.mask, other.moves = list(self.discs), self.mask, self.moves
        return other

    @property
    def to_move(self) -> int:
        return self.moves % 2

    def can_play(self, column: int) -> bool:
        return 0 <= column < COLUMNS and not self.mask & (1 << (column * HEIGHT + ROWS - 1))

    def legal(self) -> list[int]:
        return [c for c in range(COLUMNS) if self.can_play(c)]

    def play(self, column: int) -> None:
        if not self.can_play(column):
            raise ValueError(f"column {column} is full" if 0 <= column < COLUMNS else "no column")
        new = (self.mask + (1 << (column * HEIGHT))) & ~self.mask  # the lowest empty cell
        self.discs[self.to_move] |= new
        self.mask |= new
        self.moves += 1

    def winner(self) -> int | None:
        """The player with four in a row, if any."""
        for player in (0, 1):
            if four_in_a_row(self.discs[player]):
                return player
        return None

    def full(self) -> bool:
        return self.moves == ROWS * COLUMNS

    def cell(self, row_from_top: int, column: int) -> int | None:
        """The player whose disc is there, or None."""
        bit = 1 << (column * HEIGHT + ROWS - 1 - row_from_top)
        for player in (0, 1):
            if self.discs[player] & bit:
                return player
        return None

    def wins_with(self, column: int) -> bool:
        """Whether the mover wins by playing ``column``."""
        if not self.can_play(column):
            return False
        new = (self.mask + (1 << (column * HEIGHT))) & ~self.mask
        return four_in_a_row(self.discs[self.to_move] | new)


def evaluate(board: Board) -> int:
    """Heuristic for the player to move: open lines of two and three count, squared-ish."""
    me, them = board.discs[board.to_move], board.discs[1 - board.to_move]
    score = 0
    for window in WINDOWS:
        mine, theirs = me & window, them & window
        if mine and not theirs:
            score += WINDOW_SCORE[mine.bit_count() if mine.bit_count() < 4 else 3]
        elif theirs and not mine:
            score -= WINDOW_SCORE[theirs.bit_count() if theirs.bit_count() < 4 else 3]
    return score


def negamax(board: Board, depth: int, alpha: int, beta: int) -> int:
    """Value of ``board`` for the player to move, searching ``depth`` plies."""
    legal = [c for c in ORDER if board.can_play(c)]
    if not legal:
        return 0
    for column in legal:
        if board.wins_with(column):
            return WIN + depth  # sooner wins score higher
    if depth <= 0:
        return evaluate(board)
    for column in legal:
        child = board.copy()
        child.play(column)
        score = -negamax(child, depth - 1, -beta, -alpha)
        if score >= beta:
            return score
        alpha = max(alpha, score)
    return alpha


def best_move(board: Board, depth: int, rng: random.Random) -> int:
    """The lookahead opponent's column: the best by ``depth``-ply negamax, ties by ``rng``.

    Depth 1 takes a win at once; depth 2 also blocks the other's immediate win; more
    looks further (and uses the open-lines heuristic at the horizon).
    """
    legal = board.legal()
    if not legal:
        raise ValueError("no legal column: the board is full")
    for column in legal:
        if board.wins_with(column):
            return column
    order = list(legal)
    rng.shuffle(order)  # ties go to the first in a seeded shuffle
    best, best_score = order[0], -WIN * 2
    for column in order:
        child = board.copy()
        child.play(column)
        score = -negamax(child, depth - 1, -WIN * 2, -best_score)
        if score > best_score:
            best, best_score = column, score
    return best
