"""Reference agents of the terminal environment (see :mod:`openenv.agents`).

A task is one of :data:`terminal_env.server.tasks.TASKS`. The known-good agent runs
the task's reference solution (a bash script that solves it for any seed by
inspecting the workspace), then asks for the verdict (reward 1.0); doing nothing
asks for the verdict at once (0). The solutions are hidden from the agent's sandbox,
so this module reads them from the server package: a validator and the demo run
beside the server, never inside an episode.
"""

from __future__ import annotations

from typing import Any

from openenv.agents import NET_MARKER, ReferenceAgents, Task

from .models import TerminalAction


def tasks() -> list[Task]:
    from .server.tasks import TASKS

    return [Task(task_id, {"task_id": task_id, "seed": 0}) for task_id in TASKS.ids()]


def solution(task_id: str) -> str:
    from .server.tasks import TASKS

    return str(TASKS[task_id].solution)


def play_good(session: Any, first: Any, task: Task, look: bool = False) -> Any:
    """Run the task's known solution, then evaluate (``look``: ``ls -la`` first)."""
    if look:
        session.step(TerminalAction(command="ls -la"))
    session.step(TerminalAction(command=solution(first.observation.task_id)))
    return session.step(TerminalAction(evaluate=True))


def network_probe(host: str, port: int) -> TerminalAction:
    """Bash that tries ``host:port`` over /dev/tcp and prints the marker if it connected."""
    head, tail = NET_MARKER[:8], NET_MARKER[8:]
    return TerminalAction(
        command=f'(exec 3<>/dev/tcp/{host}/{port}) 2>/dev/null && echo {head}"{tail}" '
        "|| echo refused",
        timeout_s=10,
    )


def secrets(task: Task, final: Any) -> list[str]:
    """The reference solution script (the verifier lives in the grader)."""
    return [solution(task.reset["task_id"]).strip()]


AGENTS = ReferenceAgents(
    tasks=tasks,
    good=play_good,
    noop=TerminalAction(evaluate=True),
    secrets=secrets,
    network_probe=network_probe,
)
