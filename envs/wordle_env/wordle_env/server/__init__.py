"""Server side of the Wordle environment."""

from .environment import WordleEnvironment

__all__ = ["WordleEnvironment"]
