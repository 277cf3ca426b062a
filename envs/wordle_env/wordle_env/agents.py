"""Reference agents of the Wordle environment (see :mod:`openenv.agents`).

The known-good agent is the reference solver (:mod:`wordle_env.solver`): it solves
every seeded word within six tries, a return of 1.0. Doing nothing (chatter with no
guess in it) costs 0.1 a message until the game ends.
"""

from __future__ import annotations

from typing import Any

from openenv.agents import ReferenceAgents, Task, seed_tasks

from .models import WordleAction
from .solver import WordleSolver


def play_good(session: Any, first: Any, task: Task, on_step: Any = None) -> Any:
    """The reference solver: a guess a step, narrowed by the feedback, until solved."""
    solver = WordleSolver()
    result = first
    while not result.done:
        guess = solver.next_guess()
        result = session.step(WordleAction(message=f"I think it's [{guess}]"))
        if on_step is not None:
            on_step(guess, result)
        solver.update(guess, result.observation.feedback)
    return result


AGENTS = ReferenceAgents(
    tasks=seed_tasks(30),
    good=play_good,
    noop=WordleAction(message="Hmm, let me think about it."),
    secrets=lambda task, final: [final.observation.answer] if final else [],
)
