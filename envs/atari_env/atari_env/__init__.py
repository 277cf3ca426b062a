"""atari_env: Atari 2600 games (the Arcade Learning Environment) for OpenEnv.

Example::

    from atari_env import AtariAction, AtariEnv

    with AtariEnv(base_url="http://localhost:8000") as env:
        result = env.reset(game="Breakout", seed=0)
        result = env.step(AtariAction(action=1))     # FIRE
        print(result.reward, result.observation.lives)
"""

from .client import AsyncAtariEnv, AtariEnv
from .models import AtariAction, AtariObservation, AtariState

__all__ = ["AsyncAtariEnv", "AtariAction", "AtariEnv", "AtariObservation", "AtariState"]
