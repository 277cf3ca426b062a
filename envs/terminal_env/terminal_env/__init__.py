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

from .client import AsyncTerminalEnv, TerminalEnv
from .models import TerminalAction, TerminalObservation, TerminalState

__all__ = [
    "AsyncTerminalEnv",
    "TerminalAction",
    "TerminalEnv",
    "TerminalObservation",
    "TerminalState",
]
