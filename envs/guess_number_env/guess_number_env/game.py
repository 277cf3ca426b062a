"""Guess-the-number's rules without a server: reading a number, the hint, the reward.

Example::

    from guess_number_env.game import hint, read_number, win_reward

    read_number("Hmm... [42]")       # 42
    hint(42, secret=77)              # 'higher': the secret is higher than the guess
    win_reward(3, max_guesses=10)    # 0.8
"""

from __future__ import annotations

import math
import re
import reprlib
from typing import Literal

from openenv.text import extract_answer
from openenv.text_games import InvalidGuess  # one for every text game; re-exported here

Hint = Literal["higher", "lower", "correct"]
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
MAX_DIGITS = 30


def read_number(message: str) -> int:
    """The integer in an agent's ``message``; :class:`InvalidGuess` if there is none.

    The guess is the last ``[...]`` in the message, or the whole message if it
    is a single token (see :func:`openenv.text.extract_answer`), and must be a
    whole number written in digits::

        read_number("I'll go with [50].")   # 50
        read_number("-3")                    # -3
        read_number("[fifty]")               # InvalidGuess: not a whole number ...
    """
    token = extract_answer(message)
    if token is None:
        raise InvalidGuess("no number found: reply with a number in square brackets, like [50]")
    if not _INTEGER.fullmatch(token):
        raise InvalidGuess(f"{reprlib.repr(token)} is not a whole number written in digits")
    if len(token.lstrip("+-")) > MAX_DIGITS:
        raise InvalidGuess(f"a number of {len(token.lstrip('+-'))} digits is far out of range")
    return int(token)


def hint(guess: int, secret: int) -> Hint:
    """``"higher"`` when the secret is higher than ``guess``, ``"lower"`` when lower."""
    if guess < secret:
        return "higher"
    if guess > secret:
        return "lower"
    return "correct"


def win_reward(guesses_used: int, max_guesses: int) -> float:
    """The reward for finding the number with the ``guesses_used``-th guess.

    ``1 - (guesses_used - 1) / max_guesses``: 1.0 for a first-guess win, falling
    by ``1 / max_guesses`` per extra guess (a last-guess win still earns
    ``1 / max_guesses``).
    """
    return 1.0 - (guesses_used - 1) / max_guesses


def guesses_needed(low: int, high: int) -> int:
    """How many guesses binary search needs at most to find any number in ``low..high``."""
    return math.ceil(math.log2(high - low + 2))
