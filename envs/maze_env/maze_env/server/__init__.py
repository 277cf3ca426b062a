"""Server side of the maze environment."""

from .environment import MazeEnvironment, generate_maze

__all__ = ["MazeEnvironment", "generate_maze"]
