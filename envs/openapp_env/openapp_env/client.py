"""Clients of the OpenApp environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import OpenAppAction, OpenAppObservation, OpenAppState


class OpenAppEnv(EnvClient[OpenAppAction, OpenAppObservation, OpenAppState]):
    """Sync client: ``OpenAppEnv(base_url="http://localhost:8000").reset(task_id=...)``."""


class AsyncOpenAppEnv(AsyncEnvClient[OpenAppAction, OpenAppObservation, OpenAppState]):
    """Async client: ``await AsyncOpenAppEnv(base_url=...).reset()``."""
