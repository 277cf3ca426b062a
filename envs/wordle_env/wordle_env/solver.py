"""A reference Wordle player: keep the words that fit the feedback, guess the most telling one.

It is the baseline the tests and ``openenv demo`` use: it solves nearly every
game of the shipped answer list within six tries. It knows the answer list
(``data/answers.txt``), as human players of Wordle may.

Example::

    from wordle_env import WordleAction, WordleEnv
    from wordle_env.solver import WordleSolver

    with WordleEnv(base_url="http://localhost:8000") as env:
        result = env.reset(seed=3)
        solver = WordleSolver()
        while not result.done:
            guess = solver.next_guess()
            result = env.step(WordleAction(message=f"My guess: [{guess}]"))
            solver.update(guess, result.observation.feedback)
        print(result.observation.solved, result.observation.tries_used)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .game import answers, score_guess

FIRST_GUESS = "trace"
"""The answer that splits the answer list into the most feedback groups (122 of them)."""


class WordleSolver:
    """Candidate filtering with a greedy split: see the module docstring.

    ``next_guess()`` is the candidate whose feedback splits the remaining
    candidates into the most groups (ties: the smaller largest group, then
    alphabetical); ``update(guess, feedback)`` keeps the candidates that would
    have given that feedback.
    """

    def __init__(self, words: Iterable[str] | None = None, first_guess: str = FIRST_GUESS):
        self.candidates: list[str] = sorted(set(words if words is not None else answers()))
        self.first_guess = first_guess
        self.guesses: list[str] = []

    def next_guess(self) -> str:
        """The word to guess now."""
        if not self.guesses and self.first_guess:
            return self.first_guess
        if not self.candidates:
            raise ValueError("no word fits the feedback so far")
        if len(self.candidates) <= 2:
            return self.candidates[0]
        return min(self.candidates, key=self._split_score)

    def update(self, guess: str, feedback: str) -> None:
        """Keep the candidates that would have given ``feedback`` for ``guess``."""
        self.guesses.append(guess)
        self.candidates = [w for w in self.candidates if score_guess(guess, w) == feedback]

    def _split_score(self, guess: str) -> tuple[int, int, str]:
        """Smaller is better: most groups, then the smallest largest group, then a-z."""
        groups = Counter(score_guess(guess, answer) for answer in self.candidates)
        return -len(groups), max(groups.values()), guess
