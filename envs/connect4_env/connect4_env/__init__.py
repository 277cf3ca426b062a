"""Connect Four for OpenEnv.

Example::

    from connect4_env import Connect4Action, Connect4Env

    with Connect4Env(base_url="http://localhost:8000") as env:
        result = env.reset(opponent="random", seed=1)
        while not result.done:
            result = env.step(Connect4Action(column=result.observation.legal_columns[0]))
        print(result.observation.winner, result.reward)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import Connect4Action, Connect4Observation, Connect4State

if TYPE_CHECKING:
    from .client import AsyncConnect4Env, Connect4Env


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncConnect4Env", "Connect4Env"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'connect4_env' has no attribute {name!r}")


__all__ = [
    "AsyncConnect4Env",
    "Connect4Action",
    "Connect4Env",
    "Connect4Observation",
    "Connect4State",
]
