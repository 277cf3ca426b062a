"""Echo environment for OpenEnv.

Example::

    from echo_env import EchoAction, EchoEnv

    client = EchoEnv(base_url="http://localhost:8000")
    result = client.reset()
    result = client.step(EchoAction(message="hi"))
    print(result.observation.echoed_message, result.reward)  # hi 0.2
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import EchoAction, EchoObservation

if TYPE_CHECKING:
    from .client import AsyncEchoEnv, EchoEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncEchoEnv", "EchoEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'echo_env' has no attribute {name!r}")


__all__ = ["AsyncEchoEnv", "EchoAction", "EchoEnv", "EchoObservation"]
