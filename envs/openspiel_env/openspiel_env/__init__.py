"""OpenSpiel games for OpenEnv.

Example::

    from openspiel_env import OpenSpielAction, OpenSpielEnv

    with OpenSpielEnv(base_url="http://localhost:8000") as env:
        result = env.reset(game="blackjack", seed=1)
        while not result.done:
            result = env.step(OpenSpielAction(action_str="Stand"))
        print(result.reward)   # +1, 0 or -1
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import OpenSpielAction, OpenSpielObservation, OpenSpielState

if TYPE_CHECKING:
    from .client import AsyncOpenSpielEnv, OpenSpielEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncOpenSpielEnv", "OpenSpielEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'openspiel_env' has no attribute {name!r}")


__all__ = [
    "AsyncOpenSpielEnv",
    "OpenSpielAction",
    "OpenSpielEnv",
    "OpenSpielObservation",
    "OpenSpielState",
]
