"""Task sets: the problems an environment poses, loaded from a YAML file in its package.

Environments with tasks (coding, terminal, web apps) choose one at ``reset`` the
same way, here: ``task_id`` names one; otherwise a ``seed`` picks one,
deterministically; with neither (or ``free=True``) there is no task.

Example::

    class Puzzle(BaseModel):
        id: str
        prompt: str

    PUZZLES = TaskSet(Puzzle, Path(__file__).parent / "puzzles.yaml")
    task = PUZZLES.choose(task_id=None, seed=7)  # the same task for seed 7, always
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel

from .environment import derive_seed

TaskT = TypeVar("TaskT", bound=BaseModel)


class TaskSet(Generic[TaskT]):
    """The tasks of ``path`` (a YAML list of mappings), validated as ``model``.

    Loaded on first use. Every task needs a unique ``id``. Tasks written in code
    (with checkers as functions) use :meth:`of` instead.
    """

    def __init__(self, model: type[TaskT], path: Path) -> None:
        self.model = model
        self.path = Path(path)

    @classmethod
    def of(cls, tasks: Iterable[Any], id_of: Callable[[Any], str] = lambda t: t.id) -> TaskSet[Any]:
        """A task set of objects made in code (tasks with checkers written as functions)."""
        task_set: TaskSet[Any] = cls.__new__(cls)
        task_set.model, task_set.path = object, Path("<code>")  # type: ignore[assignment]
        by_id: dict[str, Any] = {}
        for task in tasks:
            if id_of(task) in by_id:
                raise ValueError(f"task id {id_of(task)!r} appears twice")
            by_id[id_of(task)] = task
        task_set.__dict__["tasks"] = by_id  # fills the cached property
        return task_set

    @functools.cached_property
    def tasks(self) -> dict[str, TaskT]:
        """Every task by id, in file order."""
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when there: ~10x faster
        with open(self.path, encoding="utf-8") as f:
            raw = yaml.load(f, Loader=loader) or []
        tasks: dict[str, TaskT] = {}
        for item in raw:
            task = self.model.model_validate(item)
            task_id: str = task.id  # type: ignore[attr-defined]
            if task_id in tasks:
                raise ValueError(f"{self.path}: task id {task_id!r} appears twice")
            tasks[task_id] = task
        return tasks

    def ids(self) -> list[str]:
        """Task ids in file order."""
        return list(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, task_id: str) -> TaskT:
        try:
            return self.tasks[task_id]
        except KeyError:
            shown = ", ".join(self.ids()[:10])
            more = f" and {len(self) - 10} more" if len(self) > 10 else ""
            raise ValueError(f"unknown task_id {task_id!r}; known: {shown}{more}") from None

    def listing(self, *fields: str) -> list[dict[str, Any]]:
        """``id`` and ``fields`` of every task, in file order (a ``list_tasks`` tool's answer)."""
        return [
            {name: getattr(task, name) for name in ("id", *fields)} for task in self.tasks.values()
        ]

    def pick(self, seed: int) -> TaskT:
        """The task a seed stands for (independent of the file's order)."""
        ids = sorted(self.tasks)
        return self.tasks[ids[derive_seed(seed, "task") % len(ids)]]

    def choose(self, task_id: str | None, seed: int | None, free: bool = False) -> TaskT | None:
        """The reset rule: ``task_id``, else a task picked by ``seed``, else none.

        ``free=True`` asks for no task even with a seed.
        """
        if free and task_id is not None:
            raise ValueError("free=True and task_id cannot be used together")
        if task_id is not None:
            return self[task_id]
        if seed is not None and not free:
            return self.pick(seed)
        return None
