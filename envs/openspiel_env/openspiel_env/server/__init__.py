"""Server side of the OpenSpiel environment."""

from .environment import GAMES, OpenSpielEnvironment

__all__ = ["GAMES", "OpenSpielEnvironment"]
