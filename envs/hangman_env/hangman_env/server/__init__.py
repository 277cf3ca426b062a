"""Server side of the Hangman environment."""

from .environment import HangmanEnvironment

__all__ = ["HangmanEnvironment"]
