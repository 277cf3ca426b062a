"""Server side of gym_env."""

from .environment import GymEnvironment

__all__ = ["GymEnvironment"]
