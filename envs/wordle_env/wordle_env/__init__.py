"""Wordle for OpenEnv: guess a five-letter word from free text, with dense reward signals.

Example::

    from wordle_env import WordleAction, WordleEnv

    with WordleEnv(base_url="http://localhost:8000") as env:
        result = env.reset(seed=7)
        print(result.observation.prompt)
        result = env.step(WordleAction(message="I think it's [crane]"))
        print(result.observation.feedback, result.reward)   # e.g. XYGXX 0.15
"""

from .client import AsyncWordleEnv, WordleEnv
from .models import WordleAction, WordleObservation, WordleState

__all__ = ["AsyncWordleEnv", "WordleAction", "WordleEnv", "WordleObservation", "WordleState"]
