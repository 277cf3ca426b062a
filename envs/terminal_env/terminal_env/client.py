"""Clients of the terminal environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import TerminalAction, TerminalObservation, TerminalState


class TerminalEnv(EnvClient[TerminalAction, TerminalObservation, TerminalState]):
    """Sync client: ``TerminalEnv(base_url="http://localhost:8000").reset(task_id=...)``."""


class AsyncTerminalEnv(AsyncEnvClient[TerminalAction, TerminalObservation, TerminalState]):
    """Async client: ``await AsyncTerminalEnv(base_url=...).reset()``."""
