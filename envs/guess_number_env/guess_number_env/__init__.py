"""Guess the number for OpenEnv: find a secret from higher/lower hints, guesses read from text.

Example::

    from guess_number_env import GuessNumberAction, GuessNumberEnv

    with GuessNumberEnv(base_url="http://localhost:8000") as env:
        result = env.reset(seed=7)                        # a secret in 1..100
        result = env.step(GuessNumberAction(message="I'll start at [50]"))
        print(result.observation.hint, result.observation.lower_bound)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import GuessNumberAction, GuessNumberObservation, GuessNumberState

if TYPE_CHECKING:
    from .client import AsyncGuessNumberEnv, GuessNumberEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncGuessNumberEnv", "GuessNumberEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'guess_number_env' has no attribute {name!r}")


__all__ = [
    "AsyncGuessNumberEnv",
    "GuessNumberAction",
    "GuessNumberEnv",
    "GuessNumberObservation",
    "GuessNumberState",
]
