"""Clients of the Connect Four environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import Connect4Action, Connect4Observation, Connect4State


class Connect4Env(EnvClient[Connect4Action, Connect4Observation, Connect4State]):
    """Sync client.

    Example::

        with Connect4Env(base_url="http://localhost:8000") as env:
            result = env.reset(opponent="lookahead", depth=2, seed=1)
            result = env.step(Connect4Action(column=3))
            print(result.observation.rendering)
    """


class AsyncConnect4Env(AsyncEnvClient[Connect4Action, Connect4Observation, Connect4State]):
    """Async client: ``await AsyncConnect4Env(base_url=...).reset(opponent="random")``."""
