"""Hangman for OpenEnv: find a word letter by letter from free text, with dense rewards.

Example::

    from hangman_env import HangmanAction, HangmanEnv

    with HangmanEnv(base_url="http://localhost:8000") as env:
        result = env.reset(seed=7)
        print(result.observation.prompt)
        result = env.step(HangmanAction(message="Is there an [e]?"))
        print(result.observation.pattern, result.observation.lives_left, result.reward)
"""

from .client import AsyncHangmanEnv, HangmanEnv
from .models import HangmanAction, HangmanObservation, HangmanState

__all__ = [
    "AsyncHangmanEnv",
    "HangmanAction",
    "HangmanEnv",
    "HangmanObservation",
    "HangmanState",
]
