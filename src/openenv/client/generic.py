"""Clients for any server, with plain dicts instead of typed models.

Example::

    with GenericEnvClient(base_url="http://localhost:8000") as env:
        result = env.reset(seed=1)
        result = env.step({"message": "hi"})
        print(result.observation["echoed_message"])
"""

from __future__ import annotations

import functools
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


@functools.cache
def client_for(env_class: type, base: type[Any] = EnvClient) -> type[Any]:
    """A client class (``base``: our sync one by default) typed with ``env_class``'s types.

    For code that has the environment class but no client of its package
    (``openenv validate``, ``openenv eval``)::

        client = client_for(EchoEnvironment)(base_url=url)
    """
    return type(
        f"{env_class.__name__}Client",
        (base,),
        {
            "action_type": env_class.action_type,
            "observation_type": env_class.observation_type,
            "state_type": env_class.state_type,
            "__module__": __name__,
        },
    )
