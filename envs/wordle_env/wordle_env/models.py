"""Wordle's action, observation and state."""

from __future__ import annotations

from pydantic import Field

from openenv import Action, Observation, State

MAX_MESSAGE_CHARS = 1_000_000


class WordleAction(Action):
    """What the agent says; the guess is read out of it.

    The guess is the last ``[...]`` in the message (``"I think it's [crane]"``),
    or the whole message if it is one word (``"crane"``). Case does not matter.
    """

    message: str = Field(
        description="Free text holding the guess, e.g. 'I think it is [crane]'.",
        max_length=MAX_MESSAGE_CHARS,
    )


class WordleObservation(Observation):
    """The board after a guess, with the dense signals a trainer may shape rewards from.

    ``prompt`` says it all in words for an LLM; the other fields say it for code.
    """

    prompt: str = Field("", description="The situation in words: rules, board, what is known.")
    guess: str | None = Field(None, description="The guess read from the message (lower case).")
    feedback: str = Field("", description="One of G/Y/X per letter of the guess; '' if invalid.")
    feedback_line: str = Field("", description="The feedback in words, letter by letter.")
    board: list[str] = Field(
        default_factory=list, description="Every guess so far with its feedback: 'CRANE XXYXG'."
    )
    pattern: str = Field("_____", description="Letters known in place; '_' where unknown.")
    present_letters: list[str] = Field(
        default_factory=list, description="Letters known to be in the word (sorted)."
    )
    absent_letters: list[str] = Field(
        default_factory=list, description="Letters known not to be in the word (sorted)."
    )
    tries_used: int = Field(0, ge=0, description="Valid guesses made (invalid ones do not count).")
    tries_left: int = Field(0, ge=0)
    max_tries: int = Field(6, ge=1)
    invalid_left: int = Field(
        0, ge=0, description="Invalid messages still allowed before the game ends."
    )
    greens: int = Field(0, ge=0, le=5, description="Green letters in this guess.")
    yellows: int = Field(0, ge=0, le=5, description="Yellow letters in this guess.")
    new_greens: int = Field(
        0, ge=0, le=5, description="Spots that turned green for the first time."
    )
    new_letters: int = Field(
        0, ge=0, le=5, description="Letters known to be in the word for the first time."
    )
    repeated: bool = Field(False, description="The guess was made before (it still used a try).")
    invalid: bool = Field(False, description="No valid guess in the message (no try used).")
    error: str | None = Field(None, description="Why the message was invalid.")
    solved: bool = Field(False, description="This guess is the word.")
    progress: float = Field(
        0.0, description="1.0 when solved, else 0.1 per green spot + 0.05 per letter known."
    )
    progress_gain: float = Field(0.0, description="progress after this step minus before it.")
    answer: str | None = Field(None, description="The word, revealed when the game is over.")


class WordleState(State):
    """Episode bookkeeping (the answer is not in it)."""

    guesses: list[str] = Field(default_factory=list)
    max_tries: int = 6
    invalid_count: int = 0
    max_invalid: int = 5
    reward_mode: str = "shaped"
    solved: bool = False
    game_over: bool = False
