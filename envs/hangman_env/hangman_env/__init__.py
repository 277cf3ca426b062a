"""Hangman for OpenEnv: find a word letter by letter from free text, with dense rewards.

Example::

    from hangman_env import HangmanAction, HangmanEnv

    with HangmanEnv(base_url="http://localhost:8000") as env:
        result = env.reset(seed=7)
        print(result.observation.prompt)
        result = env.step(HangmanAction(message="Is there an [e]?"))
        print(result.observation.pattern, result.observation.lives_left, result.reward)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import HangmanAction, HangmanObservation, HangmanState

if TYPE_CHECKING:
    from .client import AsyncHangmanEnv, HangmanEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncHangmanEnv", "HangmanEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'hangman_env' has no attribute {name!r}")


__all__ = [
    "AsyncHangmanEnv",
    "HangmanAction",
    "HangmanEnv",
    "HangmanObservation",
    "HangmanState",
]
