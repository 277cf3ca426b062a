"""Guess the number for OpenEnv: find a secret from higher/lower hints, guesses read from text.

Example::

    from guess_number_env import GuessNumberAction, GuessNumberEnv

    with GuessNumberEnv(base_url="http://localhost:8000") as env:
        result = env.reset(seed=7)                        # a secret in 1..100
        result = env.step(GuessNumberAction(message="I'll start at [50]"))
        print(result.observation.hint, result.observation.lower_bound)
"""

from .client import AsyncGuessNumberEnv, GuessNumberEnv
from .models import GuessNumberAction, GuessNumberObservation, GuessNumberState

__all__ = [
    "AsyncGuessNumberEnv",
    "GuessNumberAction",
    "GuessNumberEnv",
    "GuessNumberObservation",
    "GuessNumberState",
]
