"""Connect Four for OpenEnv.

Example::

    from connect4_env import Connect4Action, Connect4Env

    with Connect4Env(base_url="http://localhost:8000") as env:
        result = env.reset(opponent="random", seed=1)
        while not result.done:
            result = env.step(Connect4Action(column=result.observation.legal_columns[0]))
        print(result.observation.winner, result.reward)
"""

from .client import AsyncConnect4Env, Connect4Env
from .models import Connect4Action, Connect4Observation, Connect4State

__all__ = [
    "AsyncConnect4Env",
    "Connect4Action",
    "Connect4Env",
    "Connect4Observation",
    "Connect4State",
]
