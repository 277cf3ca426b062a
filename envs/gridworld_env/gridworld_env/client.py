"""Clients of the grid world."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import GridWorldAction, GridWorldObservation, GridWorldState


class GridWorldEnv(EnvClient[GridWorldAction, GridWorldObservation, GridWorldState]):
    """Sync client.

    Example::

        with GridWorldEnv(base_url="http://localhost:8000") as env:
            result = env.reset(layout="open", seed=1)
            result = env.step(GridWorldAction(move="right"))
            print(result.observation.rendering, result.reward)
    """


class AsyncGridWorldEnv(AsyncEnvClient[GridWorldAction, GridWorldObservation, GridWorldState]):
    """Async client: ``await AsyncGridWorldEnv(base_url=...).reset(slip=0.1)``."""
