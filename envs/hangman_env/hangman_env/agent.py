"""A reference Hangman player: guess the letter most of the fitting words have.

It is the baseline the tests and ``openenv demo`` use. It knows the word list
(``words.txt``); for a word outside it, it falls back on English letter
frequencies.

Example::

    from hangman_env import HangmanAction, HangmanEnv
    from hangman_env.agent import FrequencyAgent

    with HangmanEnv(base_url="http://localhost:8000") as env:
        result = env.reset(seed=3)
        agent = FrequencyAgent()
        while not result.done:
            obs = result.observation
            guess = agent.next_guess(obs.pattern, obs.guessed_letters, obs.wrong_words)
            result = env.step(HangmanAction(message=f"I guess [{guess}]"))
        print(result.observation.won, result.observation.lives_left)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .game import HIDDEN, words

ENGLISH_FREQUENCY = "etaoinshrdlcumwfgypbvkjxqz"
"""Letters from the most to the least common in English text."""


class FrequencyAgent:
    """Keeps the words that fit what is known; guesses the letter most of them contain.

    When one word is left it guesses that word. Ties between letters, and words
    outside the list, go by :data:`ENGLISH_FREQUENCY`.
    """

    def __init__(self, vocabulary: Iterable[str] | None = None) -> None:
        self.vocabulary = sorted(set(vocabulary if vocabulary is not None else words()))

    def candidates(
        self, pattern: str, guessed_letters: Iterable[str], wrong_words: Iterable[str] = ()
    ) -> list[str]:
        """The words of the vocabulary that fit ``pattern`` and the letters tried."""
        tried = set(guessed_letters)
        wrong = set(wrong_words)
        return [w for w in self.vocabulary if w not in wrong and _fits(w, pattern, tried)]

    def next_guess(
        self, pattern: str, guessed_letters: Iterable[str], wrong_words: Iterable[str] = ()
    ) -> str:
        """A letter to try, or the word when only one fits."""
        tried = set(guessed_letters)
        fitting = self.candidates(pattern, tried, wrong_words)
        if len(fitting) == 1:
            return fitting[0]
        counts = Counter(c for w in fitting for c in set(w) if c not in tried)
        untried = [c for c in ENGLISH_FREQUENCY if c not in tried]
        return max(untried, key=lambda c: counts[c])  # max keeps the first of equals


def _fits(word: str, pattern: str, tried: set[str]) -> bool:
    if len(word) != len(pattern):
        return False
    for w, p in zip(word, pattern, strict=True):
        if p == HIDDEN:
            if w in tried:  # a tried letter would have been shown here
                return False
        elif w != p:
            return False
    return True
