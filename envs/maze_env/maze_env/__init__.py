"""Seeded random mazes for OpenEnv: full or partial view, a step cost, a reward at the exit.

Example::

    from maze_env import MazeAction, MazeEnv

    with MazeEnv(base_url="http://localhost:8000") as env:
        result = env.reset(seed=3, width=5, height=5)
        print(result.observation.rendering)           # the maze; A = you, E = the exit
        result = env.step(MazeAction(move="down"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import MazeAction, MazeObservation, MazeState

if TYPE_CHECKING:
    from .client import AsyncMazeEnv, MazeEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncMazeEnv", "MazeEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'maze_env' has no attribute {name!r}")


__all__ = ["AsyncMazeEnv", "MazeAction", "MazeEnv", "MazeObservation", "MazeState"]
