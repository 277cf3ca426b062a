"""Server side of atari_env."""

from .environment import AtariEnvironment

__all__ = ["AtariEnvironment"]
