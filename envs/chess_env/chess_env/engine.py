"""A small chess engine with levels, deterministic for a given seed.

Outside ``server/`` because both sides use it: the server plays it as the opponent,
and agents (:mod:`chess_env.agents`) may search with it; it hides nothing.

| level | plays |
|---|---|
| 0 | a random legal move |
| 1 | greedy: a mate in one, else the capture (or promotion) winning the most material, |
|   | else a random move |
| 2 | alpha-beta search 2 plies deep; evaluation = material + mobility |
| 3 | the same, 3 plies deep |

Evaluation (centipawns, from the side to move): material (P 100, N 320, B 330, R 500,
Q 900) plus 4 per pseudo-legal move more than the other side has. Searches stop
expanding after ``max_nodes`` nodes (positions beyond the budget get the static
evaluation), which bounds a move's time; node counts, and so moves, do not depend on
the machine. Ties are broken by a seeded shuffle of the root moves.

Example::

    engine = Engine(level=2, seed=1)
    move = engine.choose(chess.Board())       # a chess.Move
"""

from __future__ import annotations

import random

import chess

PIECE_VALUES = {
    chess.PAWN: 100,
    chess.KNIGHT: 320,
    chess.BISHOP: 330,
    chess.ROOK: 500,
    chess.QUEEN: 900,
    chess.KING: 0,
}
MOBILITY_WEIGHT = 4
MATE = 100_000
DEPTHS = {2: 2, 3: 3}
LEVELS = (0, 1, 2, 3)


def material(board: chess.Board, color: chess.Color) -> int:
    """Material of ``color`` minus the other side's, in centipawns."""
    total = 0
    for piece, value in PIECE_VALUES.items():
        if value:
            total += value * (
                chess.popcount(board.pieces_mask(piece, color))
                - chess.popcount(board.pieces_mask(piece, not color))
            )
    return total


def evaluate(board: chess.Board) -> int:
    """Static evaluation from the side to move: material plus mobility."""
    side = board.turn
    mine = board.pseudo_legal_moves.count()
    board.turn = not side
    theirs = board.pseudo_legal_moves.count()
    board.turn = side
    return material(board, side) + MOBILITY_WEIGHT * (mine - theirs)


def capture_gain(board: chess.Board, move: chess.Move) -> int:
    """Material won at once by ``move``: the captured piece and any promotion."""
    gain = 0
    if board.is_en_passant(move):
        gain += PIECE_VALUES[chess.PAWN]
    else:
        victim = board.piece_type_at(move.to_square)
        if victim is not None:
            gain += PIECE_VALUES[victim]
    if move.promotion:
        gain += PIECE_VALUES[move.promotion] - PIECE_VALUES[chess.PAWN]
    return gain


def _order_key(board: chess.Board, move: chess.Move) -> int:
    # Most valuable victim first, least valuable attacker first among equals.
    gain = capture_gain(board, move)
    if not gain:
        return 0
    attacker = board.piece_type_at(move.from_square) or chess.PAWN
    return -(10 * gain - PIECE_VALUES[attacker] // 10)


class Engine:
    """The built-in opponent; ``choose(board)`` returns its move for the side to move."""

    def __init__(self, level: int, seed: int, max_nodes: int = 20_000) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {level}")
        self.level = level
        self.rng = random.Random(seed)
        self.max_nodes = max_nodes
        self.nodes = 0

    def choose(self, board: chess.Board) -> chess.Move:
        moves = list(board.legal_moves)
        if not moves:
            raise ValueError("no legal move: the game is over")
        self.rng.shuffle(moves)
        if self.level == 0:
            return moves[0]
        if self.level == 1:
            return self._greedy(board, moves)
        return self._search(board, moves, DEPTHS[self.level])

    def _greedy(self, board: chess.Board, moves: list[chess.Move]) -> chess.Move:
        for move in moves:
            board.push(move)
            mate = board.is_checkmate()
            board.pop()
            if mate:
                return move
        return max(moves, key=lambda m: capture_gain(board, m))  # first of equals: shuffled

    def _search(self, board: chess.Board, moves: list[chess.Move], depth: int) -> chess.Move:
        self.nodes = 0
        moves.sort(key=lambda m: _order_key(board, m))  # stable: the shuffle breaks ties
        best, alpha, beta = moves[0], -MATE * 2, MATE * 2
        for move in moves:
            board.push(move)
            score = -self._negamax(board, depth - 1, -beta, -alpha)
            board.pop()
            if score > alpha:
                best, alpha = move, score
        return best

    def _negamax(self, board: chess.Board, depth: int, alpha: int, beta: int) -> int:
        self.nodes += 1
        moves = list(board.legal_moves)
        if not moves:
            return -(MATE + depth) if board.is_check() else 0  # sooner mates score higher
        if board.is_insufficient_material() or board.halfmove_clock >= 100:
            return 0
        if depth <= 0 or self.nodes >= self.max_nodes:
            return evaluate(board)
        moves.sort(key=lambda m: _order_key(board, m))
        for move in moves:
            board.push(move)
            score = -self._negamax(board, depth - 1, -beta, -alpha)
            board.pop()
            if score >= beta:
                return score
            alpha = max(alpha, score)
        return alpha
