"""Reference agents of the OpenApp environment (see :mod:`openenv.agents`).

A task is one of the apps' tasks, its data seeded. The known-good agent plays the
task's scripted solution through browser actions only (reward 1.0); doing nothing
(``noop``) earns 0. The scripted solutions and the seeded data they need are the
grader's, so this module reads them from the server package
(:mod:`openapp_env.server.environment`): a validator and the demo run beside the
server, never inside an episode.
"""

from __future__ import annotations

from typing import Any

from openenv.agents import ReferenceAgents, Task

from .models import OpenAppAction


def tasks() -> list[Task]:
    from .server.environment import TASKS

    return [Task(task_id, {"task_id": task_id, "seed": 0}) for task_id in TASKS.ids()]


def solution_actions(task_id: str, seed: int) -> list[str]:
    """The task's scripted solution for ``seed``, as BrowserGym action strings."""
    from .server.environment import TASKS, prepare

    task = TASKS[task_id]
    db, params = prepare(task, seed)
    db.close()
    return list(task.solution(params))


def play_good(session: Any, first: Any, task: Task, on_step: Any = None) -> Any:
    """The task's scripted solution, one browser action a step."""
    result = first
    seed = int(task.reset.get("seed", 0))
    for text in solution_actions(first.observation.task_id, seed):
        result = session.step(OpenAppAction(action=text))
        if on_step is not None:
            on_step(text, result)
    return result


def chromium_missing() -> str | None:
    """Why OpenApp cannot drive a browser here (``None``: it can)."""
    try:
        from .server.browser import BrowserUnavailable, chromium_path
    except ImportError as exc:
        return f"openapp_env's browser support is not importable ({exc})"
    try:
        chromium_path()
    except BrowserUnavailable as exc:
        return str(exc)
    return None


AGENTS = ReferenceAgents(
    tasks=tasks,
    good=play_good,
    noop=OpenAppAction(action_type="noop"),
    missing=chromium_missing,
    max_steps=20,
)
