"""OpenEnv 0.10's ``GenericEnvClient`` and ``GenericAction``: plain dicts, any server.

Example::

    async with GenericEnvClient(base_url="http://localhost:8000") as env:
        result = await env.reset()
        result = await env.step(GenericAction(message="hi"))
        print(result.observation["echoed_message"])
"""

from __future__ import annotations

from typing import Any

from .env_client import EnvClient


class GenericAction(dict[str, Any]):
    """An action as a dict: ``GenericAction(message="hi") == {"message": "hi"}``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)


class GenericEnvClient(EnvClient[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """A client whose actions, observations and state are plain dicts (no schema check)."""

    action_type = None
    observation_type = None
    state_type = None


__all__ = ["GenericAction", "GenericEnvClient"]
