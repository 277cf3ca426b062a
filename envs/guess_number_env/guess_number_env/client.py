"""Clients of the guess-the-number environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import GuessNumberAction, GuessNumberObservation, GuessNumberState


class GuessNumberEnv(EnvClient[GuessNumberAction, GuessNumberObservation, GuessNumberState]):
    """Sync client: ``GuessNumberEnv(base_url="http://localhost:8000").reset(seed=1)``."""


class AsyncGuessNumberEnv(
    AsyncEnvClient[GuessNumberAction, GuessNumberObservation, GuessNumberState]
):
    """Async client: ``await AsyncGuessNumberEnv(base_url=...).reset(seed=1)``."""
