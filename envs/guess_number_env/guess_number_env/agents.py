"""Reference agents of the guess-the-number environment (see :mod:`openenv.agents`).

The known-good agent is binary search. It always wins, but the reward is
``1 - (guesses - 1) / max_guesses``: only a first-guess win pays 1.0, and binary
search needs up to 7 guesses in 1..100, so it is held to at least 0.4.
"""

from __future__ import annotations

from typing import Any

from openenv.agents import Expect, ReferenceAgents, Task, seed_tasks

from .models import GuessNumberAction


def play_good(session: Any, first: Any, task: Task, on_step: Any = None) -> Any:
    """Binary search: guess the middle of what the hints still allow."""
    result = first
    while not result.done:
        obs = result.observation
        middle = (obs.lower_bound + obs.upper_bound) // 2
        result = session.step(GuessNumberAction(message=f"I'll guess [{middle}]"))
        if on_step is not None:
            on_step(middle, result)
    return result


AGENTS = ReferenceAgents(
    tasks=seed_tasks(30),
    good=play_good,
    noop=GuessNumberAction(message="Let me think about it."),
    expect=Expect(
        good_min=0.4,
        why="fewer guesses pay more: binary search wins within 7 guesses (reward >= 0.4), "
        "only a lucky first guess pays 1.0",
    ),
    secrets=lambda task, final: [str(final.observation.secret)] if final else [],
)
