"""The task set: shell tasks, each with a hidden verifier script (``tasks.yaml``).

``setup`` prepares ``/workspace`` from ``$SEED``; ``verify`` exits 0 when the task is
solved (it recomputes what it expects from ``$SEED``, trusting nothing the agent
could edit); ``solution`` solves it for any seed (the scripted agent of the tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from openenv.tasks import TaskSet


class Task(BaseModel):
    """One task. ``setup``, ``verify`` and ``solution`` are never shown to the agent."""

    id: str
    title: str
    difficulty: Literal["easy", "medium", "hard"]
    prompt: str
    setup: str = ""
    verify: str
    solution: str


TASKS = TaskSet(Task, Path(__file__).resolve().parent.parent / "tasks.yaml")
