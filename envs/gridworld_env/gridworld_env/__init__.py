"""A small grid world for OpenEnv: walls, a goal, optional slip and reward shaping.

Example::

    from gridworld_env import GridWorldAction, GridWorldEnv

    with GridWorldEnv(base_url="http://localhost:8000") as env:
        result = env.reset(layout="open", seed=1)
        while not result.done:
            result = env.step(GridWorldAction(move="right" if result.observation.position[1] < 4
                                              else "down"))
        print(result.reward)   # 1.0 - 0.01 on the last step
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import GridWorldAction, GridWorldObservation, GridWorldState

if TYPE_CHECKING:
    from .client import AsyncGridWorldEnv, GridWorldEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncGridWorldEnv", "GridWorldEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'gridworld_env' has no attribute {name!r}")


__all__ = [
    "AsyncGridWorldEnv",
    "GridWorldAction",
    "GridWorldEnv",
    "GridWorldObservation",
    "GridWorldState",
]
