"""Clients of the Hangman environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import HangmanAction, HangmanObservation, HangmanState


class HangmanEnv(EnvClient[HangmanAction, HangmanObservation, HangmanState]):
    """Sync client: ``HangmanEnv(base_url="http://localhost:8000").reset(seed=1)``."""


class AsyncHangmanEnv(AsyncEnvClient[HangmanAction, HangmanObservation, HangmanState]):
    """Async client: ``await AsyncHangmanEnv(base_url=...).reset(seed=1)``."""
