"""Wordle for OpenEnv: guess a five-letter word from free text, with dense reward signals.

Example::

    from wordle_env import WordleAction, WordleEnv

    with WordleEnv(base_url="http://localhost:8000") as env:
        result = env.reset(seed=7)
        print(result.observation.prompt)
        result = env.step(WordleAction(message="I think it's [crane]"))
        print(result.observation.feedback, result.reward)   # e.g. XYGXX 0.15
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import WordleAction, WordleObservation, WordleState

if TYPE_CHECKING:
    from .client import AsyncWordleEnv, WordleEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncWordleEnv", "WordleEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'wordle_env' has no attribute {name!r}")


__all__ = ["AsyncWordleEnv", "WordleAction", "WordleEnv", "WordleObservation", "WordleState"]
