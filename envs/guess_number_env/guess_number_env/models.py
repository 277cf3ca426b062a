"""Guess-the-number's action, observation and state."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from openenv import Action, Observation, State

MAX_MESSAGE_CHARS = 1_000_000


class GuessNumberAction(Action):
    """What the agent says; a whole number is read out of it.

    The guess is the last ``[...]`` in the message (``"I'll say [50]"``), or the
    whole message if it is one token (``"50"``).
    """

    message: str = Field(
        description="Free text holding the guess, e.g. 'I guess [50]'.",
        max_length=MAX_MESSAGE_CHARS,
    )


class GuessNumberObservation(Observation):
    """The hint for the last guess, what is still possible, and dense signals."""

    prompt: str = Field("", description="The situation in words: rules, hints, what is left.")
    guess: int | None = Field(None, description="The number read from the message.")
    hint: Literal["higher", "lower", "correct"] | None = Field(
        None, description="'higher': the secret is higher than the guess; 'lower': lower."
    )
    low: int = Field(1, description="The smallest number the secret can be (the game's range).")
    high: int = Field(100, description="The largest number the secret can be.")
    lower_bound: int = Field(1, description="The smallest number the hints so far allow.")
    upper_bound: int = Field(100, description="The largest number the hints so far allow.")
    remaining: int = Field(100, ge=0, description="How many numbers the hints still allow.")
    history: list[str] = Field(
        default_factory=list, description="Every guess so far with its hint: '50 higher'."
    )
    guesses_used: int = Field(
        0, ge=0, description="Valid guesses made (invalid ones do not count)."
    )
    guesses_left: int = Field(0, ge=0)
    max_guesses: int = Field(10, ge=1)
    invalid_left: int = Field(
        0, ge=0, description="Invalid messages still allowed before the game ends."
    )
    wasted: bool = Field(
        False, description="The guess was already ruled out by the hints (a repeat included)."
    )
    invalid: bool = Field(False, description="No usable number (no guess used).")
    error: str | None = Field(None, description="Why the message was invalid.")
    won: bool = Field(False, description="This guess is the secret.")
    secret: int | None = Field(None, description="The secret, revealed when the game is over.")


class GuessNumberState(State):
    """Episode bookkeeping (the secret is not in it)."""

    low: int = 1
    high: int = 100
    guesses: list[int] = Field(default_factory=list)
    max_guesses: int = 10
    invalid_count: int = 0
    max_invalid: int = 5
    reward_mode: str = "shaped"
    won: bool = False
    game_over: bool = False
