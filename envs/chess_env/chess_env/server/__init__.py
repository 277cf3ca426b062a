"""Server side of the chess environment."""

from .engine import Engine
from .environment import ChessEnvironment

__all__ = ["ChessEnvironment", "Engine"]
