"""Server side of the Connect Four environment."""

from .board import Board, best_move
from .environment import Connect4Environment

__all__ = ["Board", "Connect4Environment", "best_move"]
