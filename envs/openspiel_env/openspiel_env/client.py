"""Clients of the OpenSpiel environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import OpenSpielAction, OpenSpielObservation, OpenSpielState


class OpenSpielEnv(EnvClient[OpenSpielAction, OpenSpielObservation, OpenSpielState]):
    """Sync client.

    Example::

        with OpenSpielEnv(base_url="http://localhost:8000") as env:
            result = env.reset(game="tic_tac_toe", opponent="random", seed=3)
            result = env.step(OpenSpielAction(action_id=4))
            print(result.observation.rendering)
    """


class AsyncOpenSpielEnv(AsyncEnvClient[OpenSpielAction, OpenSpielObservation, OpenSpielState]):
    """Async client: ``await AsyncOpenSpielEnv(base_url=...).reset(game="kuhn_poker")``."""
