"""Reference agents of the echo environment (see :mod:`openenv.agents`).

Echo has nothing to solve: it pays 0.1 per character echoed, so the "good" agent
just talks (the demo's policy) and the random agent earns as much as it says.
"""

from __future__ import annotations

import random
from typing import Any

from openenv.agents import Expect, ReferenceAgents, Task, seed_tasks

from .models import EchoAction

WORDS = ("hello", "world", "reward", "agent", "policy", "echo", "step", "rl", "openenv")


def echo_message(rng: random.Random) -> str:
    """The demo's echo policy: one to four random words."""
    return " ".join(rng.choices(WORDS, k=rng.randint(1, 4)))


def play_good(session: Any, first: Any, task: Task, rng: random.Random | None = None) -> None:
    """Say random words until the episode ends."""
    rng = rng or random.Random(task.reset.get("seed"))
    result = first
    while not result.done:
        result = session.step(EchoAction(message=echo_message(rng)))


AGENTS = ReferenceAgents(
    tasks=seed_tasks(10),
    good=play_good,
    noop=EchoAction(message=""),
    expect=Expect(
        random_max=None,
        why="echo pays 0.1 per character: any message earns, there is nothing to solve",
    ),
)
