"""OpenSpiel games for OpenEnv.

Example::

    from openspiel_env import OpenSpielAction, OpenSpielEnv

    with OpenSpielEnv(base_url="http://localhost:8000") as env:
        result = env.reset(game="blackjack", seed=1)
        while not result.done:
            result = env.step(OpenSpielAction(action_str="Stand"))
        print(result.reward)   # +1, 0 or -1
"""

from .client import AsyncOpenSpielEnv, OpenSpielEnv
from .models import OpenSpielAction, OpenSpielObservation, OpenSpielState

__all__ = [
    "AsyncOpenSpielEnv",
    "OpenSpielAction",
    "OpenSpielEnv",
    "OpenSpielObservation",
    "OpenSpielState",
]
