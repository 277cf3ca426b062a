"""What a task is: :class:`Task`, and the :func:`task` decorator that defines one from a class."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

Params = dict[str, Any]


@dataclass(frozen=True)
class Task:
    """One task; ``setup``, ``check`` and ``solution`` are never shown to the agent."""

    id: str  # snake_case, unique
    app: str  # calendar | todo | messages | notes | shop | multi
    title: str
    start_url: str  # where the browser starts
    setup: Callable[[sqlite3.Connection, random.Random], Params]
    goal: Callable[[Params], str]
    check: Callable[[sqlite3.Connection, Params], float]
    solution: Callable[[Params], list[str]]
    difficulty: str = "easy"  # easy | medium | hard


def task(id: str, app: str, title: str, start_url: str, difficulty: str) -> Callable[[type], type]:
    """Define a task from a class holding ``setup``, ``goal``, ``check``, ``solution`` as
    static methods (a namespace, never instantiated).

    The class keeps its :class:`Task` in ``TASK``, where :func:`collect` finds it.
    """

    def define(spec: type) -> type:
        spec.TASK = Task(  # type: ignore[attr-defined]
            id=id,
            app=app,
            title=title,
            start_url=start_url,
            setup=spec.setup,  # type: ignore[attr-defined]
            goal=spec.goal,  # type: ignore[attr-defined]
            check=spec.check,  # type: ignore[attr-defined]
            solution=spec.solution,  # type: ignore[attr-defined]
            difficulty=difficulty,
        )
        return spec

    return define


def collect(*modules: ModuleType) -> dict[str, Task]:
    """The tasks defined in ``modules``, by id: module by module, each in definition order.

    Only classes defined in a module count, not ones it imports, so a task is never
    listed twice; a task id used twice is a :class:`ValueError`.
    """
    found: dict[str, Task] = {}
    for module in modules:
        for value in vars(module).values():  # a module's names in the order they were bound
            defined = getattr(value, "TASK", None)
            if (
                not isinstance(defined, Task)
                or getattr(value, "__module__", None) != module.__name__
            ):
                continue
            if defined.id in found:
                raise ValueError(f"duplicate task id {defined.id}")
            found[defined.id] = defined
    return found
