"""Server side of the chess environment."""

from .environment import ChessEnvironment

__all__ = ["ChessEnvironment"]
