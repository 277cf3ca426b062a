"""Reference agents of the coding environment (see :mod:`openenv.agents`).

A task is one problem of ``tasks.yaml``. The known-good agent submits the task's
reference solution (reward 1.0: every hidden test passes); doing nothing submits an
empty file (no test passes). The solutions are hidden from the agent's sandbox, so
this module reads them from the server package (:mod:`coding_env.server.tasks`):
a validator and the demo run beside the server, never inside an episode.
"""

from __future__ import annotations

from typing import Any

from openenv.agents import NET_MARKER, ReferenceAgents, Task

from .models import CodeAction


def tasks() -> list[Task]:
    from .server.tasks import TASKS

    return [Task(task_id, {"task_id": task_id, "seed": 0}) for task_id in TASKS.ids()]


def solution(task_id: str) -> Any:
    from .server.tasks import TASKS

    return TASKS[task_id]


def play_good(session: Any, first: Any, task: Task, wrong: bool = False) -> Any:
    """Submit the task's reference solution (``wrong=True``: its known-wrong one)."""
    reference = solution(first.observation.task_id)
    code = reference.wrong_solution if wrong else reference.solution
    return session.step(CodeAction(code=code, submit=True))


def network_probe(host: str, port: int) -> CodeAction:
    """Python that tries to connect to ``host:port`` and prints the marker if it could."""
    head, tail = NET_MARKER[:8], NET_MARKER[8:]
    return CodeAction(
        code=(
            "import socket\n"
            "try:\n"
            f"    socket.create_connection(({host!r}, {port}), timeout=3).close()\n"
            f"    print({head!r} + {tail!r})\n"
            "except OSError as exc:\n"
            "    print('refused:', exc)\n"
        )
    )


def secrets(task: Task, final: Any) -> list[str]:
    """The reference solution's source (the hidden tests' answers live in the grader)."""
    return [solution(task.reset["task_id"]).solution.strip()]


AGENTS = ReferenceAgents(
    tasks=tasks,
    good=play_good,
    noop=CodeAction(code="", submit=True),
    secrets=secrets,
    network_probe=network_probe,
)
