"""Seeded random mazes for OpenEnv: full or partial view, a step cost, a reward at the exit.

Example::

    from maze_env import MazeAction, MazeEnv

    with MazeEnv(base_url="http://localhost:8000") as env:
        result = env.reset(seed=3, width=5, height=5)
        print(result.observation.rendering)           # the maze; A = you, E = the exit
        result = env.step(MazeAction(move="down"))
"""

from .client import AsyncMazeEnv, MazeEnv
from .models import MazeAction, MazeObservation, MazeState

__all__ = ["AsyncMazeEnv", "MazeAction", "MazeEnv", "MazeObservation", "MazeState"]
