"""Wordle's rules without a server: the word lists, feedback, and reading a guess from text.

Example::

    from wordle_env.game import answers, read_guess, score_guess

    score_guess("crane", "react")          # 'YYGXY'
    read_guess("I think it's [Crane].")    # 'crane'
    "slate" in answers()                   # True
"""

from __future__ import annotations

import reprlib
from collections import Counter
from functools import cache
from importlib.resources import files

from openenv.text import extract_answer
from openenv.text_games import InvalidGuess  # one for every text game; re-exported here

WORD_LENGTH = 5
GREEN, YELLOW, GRAY = "G", "Y", "X"
"""Feedback letters: right letter in the right spot, in the word elsewhere, not in the word."""

_MEANING = {GREEN: "right spot", YELLOW: "wrong spot", GRAY: "not in the word"}


def _word_list(name: str) -> tuple[str, ...]:
    text = files("wordle_env").joinpath("data", name).read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


@cache
def answers() -> tuple[str, ...]:
    """The words a seed can pick (``data/answers.txt``): common five-letter words, sorted."""
    return _word_list("answers.txt")


@cache
def guesses() -> frozenset[str]:
    """Every word accepted as a guess (``data/guesses.txt``, which includes every answer)."""
    return frozenset(_word_list("guesses.txt"))


def score_guess(guess: str, answer: str) -> str:
    """Wordle feedback for ``guess``: ``G``, ``Y`` or ``X`` per letter.

    Greens are marked first; then each other letter is ``Y`` while the answer
    still has an unmatched copy of it, else ``X`` — so a letter guessed twice
    but present once is ``Y`` (or ``G``) once and ``X`` once::

        score_guess("speed", "abide")   # 'XXYXY'
        score_guess("eerie", "there")   # 'YXYXG'
    """
    marks = [GRAY] * len(guess)
    unmatched: Counter[str] = Counter()
    for i, (g, a) in enumerate(zip(guess, answer, strict=True)):
        if g == a:
            marks[i] = GREEN
        else:
            unmatched[a] += 1
    for i, g in enumerate(guess):
        if marks[i] != GREEN and unmatched[g] > 0:
            marks[i] = YELLOW
            unmatched[g] -= 1
    return "".join(marks)


def describe_feedback(guess: str, feedback: str) -> str:
    """A readable line: ``describe_feedback("crane", "XXYXG")`` ->
    ``'C: not in the word, R: not in the word, A: wrong spot, N: not in the word, E: right spot'``.
    """
    return ", ".join(f"{g.upper()}: {_MEANING[m]}" for g, m in zip(guess, feedback, strict=True))


def read_guess(message: str, allowed: frozenset[str] | set[str] | None = None) -> str:
    """The guess in an agent's ``message``, lower-cased; :class:`InvalidGuess` if there is none.

    The guess is the last ``[...]`` in the message, or the whole message if it is
    a single word (see :func:`openenv.text.extract_answer`). It must be five
    letters and, when ``allowed`` is given, one of those words::

        read_guess("not [slate], I'd say [crane]")   # 'crane'
        read_guess("CRANE")                          # 'crane'
        read_guess("crane or slate")                 # InvalidGuess: no guess found ...
    """
    token = extract_answer(message)
    if token is None:
        raise InvalidGuess(
            "no guess found: reply with a 5-letter word in square brackets, like [crane]"
        )
    if not token:
        raise InvalidGuess("the brackets are empty: put a 5-letter word in them, like [crane]")
    word = token.lower()
    if not (word.isascii() and word.isalpha()):
        raise InvalidGuess(f"{reprlib.repr(token)} is not a word: use the letters a-z only")
    if len(word) != WORD_LENGTH:
        raise InvalidGuess(
            f"{reprlib.repr(token)} has {len(word)} letters; a guess has {WORD_LENGTH}"
        )
    if allowed is not None and word not in allowed:
        raise InvalidGuess(f"{word.upper()} is not in the word list")
    return word
