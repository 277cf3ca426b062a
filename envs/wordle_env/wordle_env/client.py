"""Clients of the Wordle environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import WordleAction, WordleObservation, WordleState


class WordleEnv(EnvClient[WordleAction, WordleObservation, WordleState]):
    """Sync client: ``WordleEnv(base_url="http://localhost:8000").reset(seed=1)``."""


class AsyncWordleEnv(AsyncEnvClient[WordleAction, WordleObservation, WordleState]):
    """Async client: ``await AsyncWordleEnv(base_url=...).reset(seed=1)``."""
