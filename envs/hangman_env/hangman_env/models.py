"""Hangman's action, observation and state."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from openenv import Action, Observation, State

MAX_MESSAGE_CHARS = 1_000_000


class HangmanAction(Action):
    """What the agent says; a letter or the whole word is read out of it.

    The guess is the last ``[...]`` in the message (``"Is there an [e]?"``), or
    the whole message if it is one token (``"e"``, ``"rabbit"``).
    """

    message: str = Field(
        description="Free text holding a letter or the word, e.g. 'I guess [e]'.",
        max_length=MAX_MESSAGE_CHARS,
    )


class HangmanObservation(Observation):
    """The word as far as it is known, the lives left, and dense reward signals."""

    prompt: str = Field("", description="The situation in words: rules, word, lives, guesses.")
    pattern: str = Field("", description="The word with '_' for letters not found yet.")
    guess: str | None = Field(None, description="The letter or word read from the message.")
    kind: Literal["letter", "word"] | None = Field(None, description="What was guessed.")
    correct: bool = Field(False, description="The letter is in the word, or the word is right.")
    revealed: int = Field(0, ge=0, description="Letters of the word this guess uncovered.")
    guessed_letters: list[str] = Field(default_factory=list, description="Letters tried (sorted).")
    wrong_letters: list[str] = Field(default_factory=list, description="Tried, not in the word.")
    wrong_words: list[str] = Field(default_factory=list, description="Words tried, not it.")
    lives_left: int = Field(0, ge=0)
    max_lives: int = Field(6, ge=1)
    invalid_left: int = Field(
        0, ge=0, description="Invalid messages still allowed before the game ends."
    )
    repeated: bool = Field(False, description="The letter or word was tried before (invalid).")
    invalid: bool = Field(False, description="No usable guess: no life lost, no letter shown.")
    error: str | None = Field(None, description="Why the message was invalid.")
    won: bool = Field(False, description="The whole word is known.")
    progress: float = Field(
        0.0, description="1.0 when won, else 0.5 x the fraction of the word's letters shown."
    )
    progress_gain: float = Field(0.0, description="progress after this step minus before it.")
    word: str | None = Field(None, description="The word, revealed when the game is over.")


class HangmanState(State):
    """Episode bookkeeping (the word is not in it)."""

    guessed_letters: list[str] = Field(default_factory=list)
    wrong_words: list[str] = Field(default_factory=list)
    lives_left: int = 6
    max_lives: int = 6
    invalid_count: int = 0
    max_invalid: int = 5
    reward_mode: str = "shaped"
    won: bool = False
    game_over: bool = False
