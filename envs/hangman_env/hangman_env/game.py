"""Hangman's rules without a server: the word list, the masked word, reading a guess.

Example::

    from hangman_env.game import mask, read_guess, words

    mask("rabbit", {"a", "b"})               # '_abb__'
    read_guess("Is there an [E]?")           # 'e'
    read_guess("It must be [rabbit]!")       # 'rabbit'
    "rabbit" in words()                      # True
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

from openenv.text import extract_answer
from openenv.text_games import InvalidGuess  # one for every text game; re-exported here

HIDDEN = "_"
"""How ``mask`` shows a letter not guessed yet."""


class RepeatedGuess(InvalidGuess):
    """The letter or word was tried before in this game."""


@cache
def words() -> tuple[str, ...]:
    """The words a seed can pick (``words.txt``): common nouns of 5 to 11 letters, sorted."""
    text = files("hangman_env").joinpath("words.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


def mask(word: str, guessed: Iterable[str]) -> str:
    """``word`` with every letter not in ``guessed`` replaced by ``_``."""
    known = set(guessed)
    return "".join(c if c in known else HIDDEN for c in word)


def read_guess(message: str) -> str:
    """A letter or a whole word from an agent's ``message``, lower-cased.

    The guess is the last ``[...]`` in the message, or the whole message if it
    is a single token (see :func:`openenv.text.extract_answer`); one letter is a
    letter guess, more is a guess of the word. :class:`InvalidGuess` when there
    is none, or it is not made of the letters a-z::

        read_guess("[e]")            # 'e'
        read_guess("E.")             # 'e'
        read_guess("maybe e or a")   # InvalidGuess: no guess found ...
    """
    token = extract_answer(message)
    if token is None:
        raise InvalidGuess(
            "no guess found: reply with a letter or the whole word in square brackets, like [e]"
        )
    if not token:
        raise InvalidGuess("the brackets are empty: put a letter or the word in them, like [e]")
    guess = token.lower()
    if not (guess.isascii() and guess.isalpha()):
        raise InvalidGuess(
            f"{reprlib.repr(token)} is not a letter or a word: use the letters a-z only"
        )
    return guess
