"""Server side of the echo environment."""

from .environment import EchoEnvironment

__all__ = ["EchoEnvironment"]
