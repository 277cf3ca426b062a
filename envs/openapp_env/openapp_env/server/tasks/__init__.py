"""The OpenApp tasks: goals in the five apps, each checked on the apps' database.

A task is code, not YAML: ``setup(db, rng)`` runs after
:func:`~openapp_env.server.apps.seed_database` and may add the rows the task needs
(a message to answer, a note to read); it returns the task's ``params`` (JSON-able,
deterministic for a given database and ``rng``). ``goal(params)`` is the instruction
the agent sees, with every value the check needs spelled out. ``check(db, params)``
reads the database after the episode: ``1.0`` when the task is solved, ``0.0``
otherwise — there is no partial credit in this task set. Checks compare text
loosely (case and runs of whitespace do not matter; for names and addresses
punctuation does not either) and are strict about what matters: the right row,
date, time, quantity, recipient, and nothing else changed (an extra event, a
deleted todo, a second order all give ``0.0``). ``solution(params)`` is a list of
BrowserGym action strings that solves the task from ``start_url`` with the apps'
semantic bids (the scripted agent of the tests).

Every check returns ``0.0`` on the state right after ``setup``.

One module per app defines its tasks (``calendar``, ``todo``, ``messages``, ``notes``,
``shop``; ``multi`` for tasks across apps), with :func:`~.base.task` on a class per
task; what they share is in ``helpers``. :data:`TASKS` lists them app by app, in the
order of the ``collect`` call below, and each app's in the order its module defines
them: the order of ``list_tasks`` and of the task ids agents are given (a seed picks
its task by id, whatever the order).
"""

from __future__ import annotations

from . import calendar, messages, multi, notes, shop, todo
from .base import Params, Task, collect, task
from .multi import mentions_time

TASKS: dict[str, Task] = collect(calendar, todo, messages, notes, shop, multi)

__all__ = ["TASKS", "Params", "Task", "mentions_time", "task"]
