"""Coding environment for OpenEnv: real Python in a sandbox, rewarded by hidden tests.

Example::

    from coding_env import CodeAction, CodingEnv

    client = CodingEnv(base_url="http://localhost:8000")
    result = client.reset(task_id="fizzbuzz")
    print(result.observation.prompt)
    result = client.step(CodeAction(code="x = 21 * 2\\nx"))
    print(result.observation.stdout)  # 42
    result = client.step(CodeAction(code=solution, submit=True))
    print(result.reward)  # fraction of hidden tests passed
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import CodeAction, CodeObservation, CodeState

if TYPE_CHECKING:
    from .client import AsyncCodingEnv, CodingEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncCodingEnv", "CodingEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'coding_env' has no attribute {name!r}")


__all__ = ["AsyncCodingEnv", "CodeAction", "CodeObservation", "CodeState", "CodingEnv"]
