"""Reference agents of the Hangman environment (see :mod:`openenv.agents`).

The known-good agent is the letter-frequency agent (:mod:`hangman_env.agent`); it
wins the seeded words with lives left, a return of 1.0.
"""

from __future__ import annotations

from typing import Any

from openenv.agents import ReferenceAgents, Task, seed_tasks

from .agent import FrequencyAgent
from .models import HangmanAction


def play_good(session: Any, first: Any, task: Task, on_step: Any = None) -> Any:
    """The frequency agent: the likeliest letter (or the word, once sure) each step."""
    agent = FrequencyAgent()
    result = first
    while not result.done:
        obs = result.observation
        guess = agent.next_guess(obs.pattern, obs.guessed_letters, obs.wrong_words)
        message = f"Is there a [{guess}]?" if len(guess) == 1 else f"It must be [{guess}]!"
        result = session.step(HangmanAction(message=message))
        if on_step is not None:
            on_step(guess, message, result)
    return result


AGENTS = ReferenceAgents(
    tasks=seed_tasks(30),
    good=play_good,
    noop=HangmanAction(message="Hmm, let me think about it."),
    secrets=lambda task, final: [final.observation.word] if final else [],
)
