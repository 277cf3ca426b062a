"""Server side of the guess-the-number environment."""

from .environment import GuessNumberEnvironment

__all__ = ["GuessNumberEnvironment"]
