"""say_word: one turn, one word to say; the reward counts the letters in place."""

from .environment import SayAction, SayObservation, SayWordClient, SayWordEnvironment

__all__ = ["SayAction", "SayObservation", "SayWordClient", "SayWordEnvironment"]
