"""atari_env: Atari 2600 games (the Arcade Learning Environment) for OpenEnv.

Example::

    from atari_env import AtariAction, AtariEnv

    with AtariEnv(base_url="http://localhost:8000") as env:
        result = env.reset(game="Breakout", seed=0)
        result = env.step(AtariAction(action=1))     # FIRE
        print(result.reward, result.observation.lives)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import AtariAction, AtariObservation, AtariState

if TYPE_CHECKING:
    from .client import AsyncAtariEnv, AtariEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncAtariEnv", "AtariEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'atari_env' has no attribute {name!r}")


__all__ = ["AsyncAtariEnv", "AtariAction", "AtariEnv", "AtariObservation", "AtariState"]
