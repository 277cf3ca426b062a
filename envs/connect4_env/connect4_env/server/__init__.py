"""Server side of the Connect Four environment."""

from .environment import Connect4Environment

__all__ = ["Connect4Environment"]
