"""Terminal environment for OpenEnv: bash in a sandboxed workspace, tasks with verifiers.

Example::

    from terminal_env import TerminalAction, TerminalEnv

    client = TerminalEnv(base_url="http://localhost:8000")
    result = client.reset(task_id="git_two_commits")
    print(result.observation.prompt)
    result = client.step(TerminalAction(command="git init -q && ls -a"))
    print(result.observation.stdout, result.observation.cwd)
    result = client.step(TerminalAction(evaluate=True))
    print(result.reward)  # 1.0 when the verifier passes
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import TerminalAction, TerminalObservation, TerminalState

if TYPE_CHECKING:
    from .client import AsyncTerminalEnv, TerminalEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker and each verifier process import this package too.
    if name in ("AsyncTerminalEnv", "TerminalEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'terminal_env' has no attribute {name!r}")


__all__ = [
    "AsyncTerminalEnv",
    "TerminalAction",
    "TerminalEnv",
    "TerminalObservation",
    "TerminalState",
]
