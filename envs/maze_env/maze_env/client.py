"""Clients of the maze environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import MazeAction, MazeObservation, MazeState


class MazeEnv(EnvClient[MazeAction, MazeObservation, MazeState]):
    """Sync client.

    Example::

        with MazeEnv(base_url="http://localhost:8000") as env:
            result = env.reset(seed=3, width=6, height=6)
            print(result.observation.rendering)
            result = env.step(MazeAction(move="right"))
    """


class AsyncMazeEnv(AsyncEnvClient[MazeAction, MazeObservation, MazeState]):
    """Async client: ``await AsyncMazeEnv(base_url=...).reset(observation="partial")``."""
