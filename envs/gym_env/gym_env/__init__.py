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

from .client import AsyncGymEnv, GymEnv
from .models import GymAction, GymObservation, GymState

__all__ = ["AsyncGymEnv", "GymAction", "GymEnv", "GymObservation", "GymState"]
