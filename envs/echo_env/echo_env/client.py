"""Clients of the echo environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient, State

from .models import EchoAction, EchoObservation


class EchoEnv(EnvClient[EchoAction, EchoObservation, State]):
    """Sync client: ``EchoEnv(base_url="http://localhost:8000").reset()``."""


class AsyncEchoEnv(AsyncEnvClient[EchoAction, EchoObservation, State]):
    """Async client: ``await AsyncEchoEnv(base_url=...).reset()``."""
