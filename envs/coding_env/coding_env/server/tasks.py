"""The task set: small Python problems, each with hidden tests (``tasks.yaml``).

The file is read by the environment, never by the agent's code: the kernel and
the submission's runner run confined away from this package (see ``environment.py``).
Each test is a :class:`openenv.grading.HiddenTest`: checks such as
``two_sum([2, 7], 9) == (0, 1)`` whose left side the submission computes and whose
right side only the grader sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from openenv.grading import HiddenTest
from openenv.tasks import TaskSet


class Task(BaseModel):
    """One problem. ``tests``, ``solution`` and ``wrong_solution`` are never shown."""

    id: str
    title: str
    difficulty: Literal["easy", "medium", "hard"]
    prompt: str
    entry_point: str
    tests: list[HiddenTest] = Field(min_length=1)
    solution: str
    wrong_solution: str


TASKS = TaskSet(Task, Path(__file__).resolve().parent.parent / "tasks.yaml")
