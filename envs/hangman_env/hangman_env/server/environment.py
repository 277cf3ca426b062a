"""Hangman: find a word letter by letter before the lives run out.

The game:

* ``reset(seed=s)`` picks the word from ``words.txt`` (the same seed, the same
  word); ``reset(word="rabbit")`` sets it.
* Each step reads a guess from free text (:func:`hangman_env.game.read_guess`):
  one letter, or the whole word.
* A letter in the word shows every copy of it; a letter not in it costs a life.
  A guess of the word (same length) wins if right and costs a life if wrong.
* An **invalid message** (no letter or word in it, not letters a-z, a letter or
  word tried before, a word of the wrong length) costs **no** life and shows
  nothing: the observation carries ``error``. After ``max_invalid`` invalid
  messages (default 5) the game ends, lost.
* The game ends when every letter is shown (won), when the lives run out
  (default 6), or as above; the last observation reveals ``word``. A step after
  that raises ``EpisodeOver`` (over the wire: an ``EPISODE_OVER`` error frame)
  and changes nothing: reset to play again.

Reward (``reward_mode``, a reset option):

* ``"shaped"`` (default): ``progress_gain - 0.1 * invalid``, where ``progress`` is
  1.0 once won, else 0.5 x the fraction of the word's letters shown. A won game's
  return is 1.0 whatever the path; a lost one's is its partial progress (below
  0.5), less 0.1 per invalid message.
* ``"sparse"``: 1.0 on the step that wins, else 0.0.
"""

from __future__ import annotations

import reprlib
from typing import Annotated, Any

from pydantic import Field

from openenv import FunctionRubric, WeightedSum
from openenv.text_games import RewardMode, TextGame

from ..game import HIDDEN, InvalidGuess, RepeatedGuess, mask, read_guess, words
from ..models import HangmanAction, HangmanObservation, HangmanState

INVALID_PENALTY = 0.1
PARTIAL_WEIGHT = 0.5

RULES = (
    "Let's play Hangman. Find the secret word{word}\n"
    "Guess one letter at a time, or the whole word, in square brackets, like [e]. "
    "If you write several, the last one counts.\n"
    "A wrong letter or a wrong word costs a life; you have {lives} lives.\n"
    "Invalid guesses (nothing to read, a letter or word tried before, a word of the wrong "
    "length) cost no life, but after {max_invalid} of them the game ends."
)


def progress_gain(action: HangmanAction, observation: HangmanObservation) -> float:
    """The shaped reward's main part: how much ``progress`` this step added."""
    return observation.progress_gain


def invalid(action: HangmanAction, observation: HangmanObservation) -> float:
    """1 for an invalid message, else 0 (weighted -0.1 when shaped)."""
    return float(observation.invalid)


def won(action: HangmanAction, observation: HangmanObservation) -> float:
    """The sparse reward: 1.0 on the step that wins."""
    return 1.0 if observation.won else 0.0


def shaped_rubric() -> WeightedSum:
    """``progress_gain - 0.1 * invalid``; its parts are named ``progress_gain`` and
    ``invalid`` in ``metadata["reward_components"]``."""
    return WeightedSum(
        [FunctionRubric(progress_gain), FunctionRubric(invalid)], weights=[1.0, -INVALID_PENALTY]
    )


def sparse_rubric() -> FunctionRubric:
    """1.0 on the step that wins."""
    return FunctionRubric(won)


class HangmanEnvironment(TextGame[HangmanAction, HangmanObservation, HangmanState]):
    """Hangman from free text. See the module docstring.

    Example::

        env = HangmanEnvironment()
        env.reset(word="rabbit")
        obs = env.step(HangmanAction(message="Is there a [b]?"))
        obs.pattern, obs.revealed, obs.lives_left    # '__bb__', 2, 6
    """

    rules_template = RULES
    invalid_cost = "That cost no life"
    reward_modes = {"shaped": shaped_rubric, "sparse": sparse_rubric}

    def __init__(self) -> None:
        super().__init__()
        self.word = ""
        self.progress = 0.0

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        word: Annotated[str, Field(pattern=r"^[A-Za-z]{2,30}$")] | None = None,
        lives: Annotated[int, Field(ge=1, le=26)] = 6,
        max_invalid: Annotated[int, Field(ge=1, le=100)] = 5,
        reward_mode: RewardMode = "shaped",
    ) -> HangmanObservation:
        """Start a game: ``word`` if given (2 to 30 letters), else one picked by the seed.

        (The options are checked against this signature before the call.)
        """
        self.word = word.lower() if word else self.rng.choice(words())
        self.progress = 0.0
        self.state.lives_left = self.state.max_lives = lives
        return self.start_game(max_invalid=max_invalid, reward_mode=reward_mode)

    def parse(self, message: str) -> str:
        """A letter or word that can count: not tried before, and a word of the right length."""
        guess = read_guess(message)
        if len(guess) == 1:
            if guess in self.state.guessed_letters:
                raise RepeatedGuess(f"the letter {guess.upper()} was tried before")
        elif len(guess) != len(self.word):
            raise InvalidGuess(
                f"{reprlib.repr(guess.upper())} has {len(guess)} letters; "
                f"the word has {len(self.word)}"
            )
        elif guess in self.state.wrong_words:
            raise RepeatedGuess(f"the word {guess.upper()} was tried before")
        return guess

    def invalid_fields(self, error: InvalidGuess) -> dict[str, Any]:
        return {"repeated": isinstance(error, RepeatedGuess)}

    def play(self, guess: str) -> dict[str, Any]:
        state = self.state
        shown_before = self._shown()
        if len(guess) == 1:
            state.guessed_letters = sorted({*state.guessed_letters, guess})
            correct = guess in self.word
        else:
            correct = guess == self.word
            if not correct:
                state.wrong_words.append(guess)
        if not correct:
            state.lives_left -= 1
        shown = len(self.word) if correct and len(guess) > 1 else self._shown()
        state.won = shown == len(self.word)
        before = self.progress
        self.progress = 1.0 if state.won else PARTIAL_WEIGHT * shown / len(self.word)
        return {
            "guess": guess,
            "kind": "letter" if len(guess) == 1 else "word",
            "correct": correct,
            "revealed": shown - shown_before,
            "progress_gain": self.progress - before,
        }

    def finished(self) -> bool:
        return self.state.won or self.state.lives_left == 0

    def rules_values(self) -> dict[str, Any]:
        blank = " ".join(mask(self.word, ()))
        word = f" ({len(self.word)} letters).\nWord: {blank}" if self.word else "."
        return {"word": word, "lives": self.state.max_lives}

    def board(self) -> dict[str, Any]:
        state = self.state
        return {
            "pattern": self._pattern(),
            "guessed_letters": list(state.guessed_letters),
            "wrong_letters": [c for c in state.guessed_letters if c not in self.word],
            "wrong_words": list(state.wrong_words),
            "lives_left": state.lives_left,
            "max_lives": state.max_lives,
            "won": state.won,
            "progress": self.progress,
            "word": self.word if state.game_over else None,
        }

    def describe_move(self, obs: HangmanObservation) -> list[str]:
        if obs.kind == "letter":
            verdict = f"yes, {obs.revealed} of them" if obs.revealed > 1 else "yes"
            said = verdict if obs.correct else "not in the word"
        else:
            said = "right" if obs.correct else "not the word"
        return [f"You guessed {obs.guess.upper()}: {said}."]

    def describe_board(self, obs: HangmanObservation) -> list[str]:
        wrong = " ".join(obs.wrong_letters).upper() or "-"
        if obs.wrong_words:
            wrong += f"  (wrong words: {', '.join(obs.wrong_words).upper()})"
        lines = [
            f"Word: {' '.join(obs.pattern.upper())}",
            f"Tried letters: {' '.join(obs.guessed_letters).upper() or '-'}",
            f"Wrong: {wrong}",
        ]
        if obs.won:
            lines.append(f"You won with {obs.lives_left} of {obs.max_lives} lives left!")
        elif obs.done:
            lines.append(f"Game over: the word was {self.word.upper()}.")
        else:
            lines.append(
                f"Lives left: {obs.lives_left} of {obs.max_lives}. "
                "Reply with a letter or the word in square brackets."
            )
        return lines

    # -- helpers ---------------------------------------------------------------------------

    def _shown(self) -> int:
        """How many of the word's letters are shown."""
        return sum(c != HIDDEN for c in self._pattern())

    def _pattern(self) -> str:
        if self.state.won:
            return self.word
        return mask(self.word, self.state.guessed_letters)
