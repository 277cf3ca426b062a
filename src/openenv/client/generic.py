"""Clients for any server, with plain dicts instead of typed models.

Example::

    with GenericEnvClient(base_url="http://localhost:8000") as env:
        result = env.reset(seed=1)
        result = env.step({"message": "hi"})
        print(result.observation["echoed_message"])
"""

from __future__ import annotations

from typing import Any

from .aio import AsyncEnvClient
from .sync import EnvClient


class GenericEnvClient(EnvClient[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """Sync client whose actions, observations and state are plain dicts."""

    action_type = None
    observation_type = None
    state_type = None


class AsyncGenericEnvClient(AsyncEnvClient[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """Async client whose actions, observations and state are plain dicts."""

    action_type = None
    observation_type = None
    state_type = None
