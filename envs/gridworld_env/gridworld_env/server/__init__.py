"""Server side of the grid world."""

from .environment import LAYOUTS, GridWorldEnvironment, distances

__all__ = ["LAYOUTS", "GridWorldEnvironment", "distances"]
