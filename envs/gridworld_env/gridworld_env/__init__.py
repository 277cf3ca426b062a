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

from .client import AsyncGridWorldEnv, GridWorldEnv
from .models import GridWorldAction, GridWorldObservation, GridWorldState

__all__ = [
    "AsyncGridWorldEnv",
    "GridWorldAction",
    "GridWorldEnv",
    "GridWorldObservation",
    "GridWorldState",
]
