"""OpenApp for OpenEnv: web apps in a real browser, tasks with ground-truth rewards.

Example (the slides' quick start, against ``openenv serve openapp_env``)::

    from openapp_env import OpenAppAction, OpenAppEnv

    client = OpenAppEnv(base_url="http://localhost:8000")
    result = client.reset()
    result = client.step(OpenAppAction(action_type="goto", url="/calendar"))
    result = client.step(OpenAppAction(action_type="click", bid="add-event"))
    result = client.step(OpenAppAction(action_type="fill", bid="title", text="Meeting"))
    print(result.observation.screenshot)  # base64 PNG
    print(result.reward)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import OpenAppAction, OpenAppObservation, OpenAppState

if TYPE_CHECKING:
    from .client import AsyncOpenAppEnv, OpenAppEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncOpenAppEnv", "OpenAppEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'openapp_env' has no attribute {name!r}")


__all__ = ["AsyncOpenAppEnv", "OpenAppAction", "OpenAppEnv", "OpenAppObservation", "OpenAppState"]
