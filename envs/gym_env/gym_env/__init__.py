"""gym_env: any registered Gymnasium environment, served as an OpenEnv environment.

Example::

    from gym_env import GymEnv

    with GymEnv(base_url="http://localhost:8000") as env:
        result = env.reset(env_id="CartPole-v1", seed=42)
        while not result.done:
            result = env.step(1)                     # always push right
        print(env.state().episode_return)

As a ``gymnasium.Env``: ``openenv.integrations.gymnasium.to_gymnasium(GymEnv(...),
env_id="CartPole-v1")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import GymAction, GymObservation, GymState

if TYPE_CHECKING:
    from .client import AsyncGymEnv, GymEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncGymEnv", "GymEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'gym_env' has no attribute {name!r}")


__all__ = ["AsyncGymEnv", "GymAction", "GymEnv", "GymObservation", "GymState"]
