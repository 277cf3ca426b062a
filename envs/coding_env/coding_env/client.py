"""Clients of the coding environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import CodeAction, CodeObservation, CodeState


class CodingEnv(EnvClient[CodeAction, CodeObservation, CodeState]):
    """Sync client: ``CodingEnv(base_url="http://localhost:8000").reset(task_id="fizzbuzz")``."""


class AsyncCodingEnv(AsyncEnvClient[CodeAction, CodeObservation, CodeState]):
    """Async client: ``await AsyncCodingEnv(base_url=...).reset()``."""
