"""Wordle: guess a five-letter word in six tries, told per letter what is right.

The game:

* ``reset(seed=s)`` picks the word from ``data/answers.txt`` (the same seed, the
  same word); ``reset(word="crane")`` sets it (for tests and evaluation).
* Each step reads a guess from free text (:func:`wordle_env.game.read_guess`):
  the last ``[...]`` in the message, or the message if it is one word.
* A valid guess (five letters, in ``data/guesses.txt``) uses a try and gets
  feedback ``G``/``Y``/``X`` per letter. Guessing a word again is valid: it uses
  a try and is flagged ``repeated``.
* An **invalid message** (no guess in it, not five letters, not a word in the
  list) does **not** use a try: the observation carries ``error`` and the board
  unchanged. After ``max_invalid`` invalid messages (default 5) the game ends,
  unsolved.
* The game ends when the word is guessed, after ``max_tries`` valid guesses
  (default 6), or as above; the last observation reveals ``answer``. A step
  after that raises ``EpisodeOver`` (over the wire: an ``EPISODE_OVER`` error
  frame) and changes nothing: reset to play again.

Reward (``reward_mode``, a reset option):

* ``"shaped"`` (default): ``progress_gain - 0.1 * invalid - 0.1 * repeated``, where
  ``progress`` is 1.0 once solved, else ``0.1 * green spots + 0.05 * letters
  known to be in the word``. Progress only grows, and a solved game's progress
  is 1.0 whatever the path, so the return of an episode is 1.0 when solved and
  its partial progress (at most 0.65) when not, less 0.1 per invalid or repeated guess.
* ``"sparse"``: 1.0 on the step that solves it, else 0.0.

Either way the dense parts (``greens``, ``yellows``, ``new_greens``,
``new_letters``, ``repeated``, ``invalid``, ``solved``, ``progress``) are
observation fields, so a trainer can build its own reward from them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from openenv import FunctionRubric, WeightedSum
from openenv.text_games import RewardMode, TextGame

from ..game import (
    GRAY,
    GREEN,
    WORD_LENGTH,
    YELLOW,
    answers,
    describe_feedback,
    guesses,
    read_guess,
    score_guess,
)
from ..models import WordleAction, WordleObservation, WordleState

GREEN_WEIGHT = 0.1
LETTER_WEIGHT = 0.05
MISTAKE_PENALTY = 0.1

RULES = (
    "Let's play Wordle. Guess the secret 5-letter English word in {max_tries} tries.\n"
    "Reply with your guess in square brackets, like [crane]; if you write several, "
    "the last one counts.\n"
    "After each guess every letter is marked G (right letter, right spot), "
    "Y (in the word, another spot) or X (not in the word).\n"
    "Invalid guesses (no word, not 5 letters, not in the word list) do not use a try, "
    "but after {max_invalid} of them the game ends."
)


def progress_gain(action: WordleAction, observation: WordleObservation) -> float:
    """The shaped reward's main part: how much ``progress`` this step added."""
    return observation.progress_gain


def mistakes(action: WordleAction, observation: WordleObservation) -> float:
    """1 for an invalid message or a repeated guess, else 0 (weighted -0.1 when shaped)."""
    return float(observation.invalid or observation.repeated)


def solved(action: WordleAction, observation: WordleObservation) -> float:
    """The sparse reward: 1.0 when this guess is the word."""
    return 1.0 if observation.solved else 0.0


def shaped_rubric() -> WeightedSum:
    """``progress_gain - 0.1 * (invalid or repeated)``; its parts are named
    ``progress_gain`` and ``mistakes`` in ``metadata["reward_components"]``."""
    return WeightedSum(
        [FunctionRubric(progress_gain), FunctionRubric(mistakes)], weights=[1.0, -MISTAKE_PENALTY]
    )


def sparse_rubric() -> FunctionRubric:
    """1.0 on the step that solves it."""
    return FunctionRubric(solved)


class WordleEnvironment(TextGame[WordleAction, WordleObservation, WordleState]):
    """Wordle from free text; dense reward signals beside the reward. See the module docstring.

    Example::

        env = WordleEnvironment()
        env.reset(word="slate")
        obs = env.step(WordleAction(message="I'll start with [crane]"))
        obs.feedback, obs.absent_letters       # 'XXGXG', ['c', 'n', 'r']
    """

    rules_template = RULES
    invalid_cost = "That did not use a try"
    reward_modes = {"shaped": shaped_rubric, "sparse": sparse_rubric}

    @classmethod
    def prepare_shared(cls) -> None:
        answers(), guesses()  # read once: a sandboxed session's worker is forked with them

    def __init__(self) -> None:
        super().__init__()
        self.answer = ""
        self.allowed: frozenset[str] = guesses()
        self.feedbacks: list[str] = []
        self.progress = 0.0

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        word: Annotated[str, Field(pattern=r"^[A-Za-z]{5}$")] | None = None,
        max_tries: Annotated[int, Field(ge=1, le=20)] = 6,
        max_invalid: Annotated[int, Field(ge=1, le=100)] = 5,
        reward_mode: RewardMode = "shaped",
    ) -> WordleObservation:
        """Start a game: ``word`` if given, else one picked by the seed.

        Any five letters may be the ``word``; it is then a valid guess too. (The options
        are checked against this signature before the call.)
        """
        self.answer = word.lower() if word else self.rng.choice(answers())
        self.allowed = guesses() | {self.answer}
        self.state.max_tries = max_tries
        self.feedbacks = []
        self.progress = 0.0
        return self.start_game(max_invalid=max_invalid, reward_mode=reward_mode)

    def parse(self, message: str) -> str:
        return read_guess(message, self.allowed)

    def play(self, guess: str) -> dict[str, Any]:
        state = self.state
        known_before = self._known()
        repeated = guess in state.guesses
        feedback = score_guess(guess, self.answer)
        state.guesses.append(guess)
        self.feedbacks.append(feedback)
        state.solved = guess == self.answer
        greens_after, letters_after = self._known()
        before = self.progress
        self.progress = (
            1.0
            if state.solved
            else round(GREEN_WEIGHT * len(greens_after) + LETTER_WEIGHT * len(letters_after), 4)
        )
        return {
            "guess": guess,
            "feedback": feedback,
            "feedback_line": describe_feedback(guess, feedback),
            "greens": feedback.count(GREEN),
            "yellows": feedback.count(YELLOW),
            "new_greens": len(greens_after - known_before[0]),
            "new_letters": len(letters_after - known_before[1]),
            "repeated": repeated,
            "solved": state.solved,
            "progress_gain": round(self.progress - before, 4),
        }

    def finished(self) -> bool:
        return self.state.solved or len(self.state.guesses) >= self.state.max_tries

    def rules_values(self) -> dict[str, Any]:
        return {"max_tries": self.state.max_tries}

    def board(self) -> dict[str, Any]:
        state = self.state
        spots, present = self._known()
        tried = {letter for guess in state.guesses for letter in guess}
        pattern = "".join(self.answer[i] if i in spots else "_" for i in range(WORD_LENGTH))
        return {
            "board": [
                f"{g.upper()} {f}" for g, f in zip(state.guesses, self.feedbacks, strict=True)
            ],
            "pattern": pattern,
            "present_letters": sorted(present),
            "absent_letters": sorted(tried - set(self.answer)),
            "tries_used": len(state.guesses),
            "tries_left": state.max_tries - len(state.guesses),
            "max_tries": state.max_tries,
            "progress": self.progress,
            "answer": self.answer if state.game_over else None,
        }

    def describe_move(self, obs: WordleObservation) -> list[str]:
        lines = [
            f"Guess {obs.tries_used} of {obs.max_tries}: {obs.guess.upper()}",
            f"Feedback: {' '.join(obs.feedback)}  ({obs.feedback_line})",
        ]
        if obs.repeated:
            lines.append("You had guessed that word before.")
        return lines

    def describe_board(self, obs: WordleObservation) -> list[str]:
        lines: list[str] = []
        if obs.board:
            lines.append("Board:")
            lines += [f"  {i}. {row}" for i, row in enumerate(obs.board, 1)]
            lines.append(f"Known spots: {' '.join(obs.pattern.upper())}")
            lines.append(f"In the word: {' '.join(obs.present_letters).upper() or '-'}")
            lines.append(f"Not in the word: {' '.join(obs.absent_letters).upper() or '-'}")
        if obs.solved:
            lines.append(f"Solved in {obs.tries_used} of {obs.max_tries} tries!")
        elif obs.done:
            lines.append(f"Game over: the word was {self.answer.upper()}.")
        else:
            tries = "try" if obs.tries_left == 1 else "tries"
            lines.append(
                f"{obs.tries_left} {tries} left. Reply with your next guess in square brackets."
            )
        return lines

    # -- helpers ---------------------------------------------------------------------------

    def _known(self) -> tuple[set[int], set[str]]:
        """Spots known green, and letters known to be in the word, from the guesses so far."""
        spots: set[int] = set()
        letters: set[str] = set()
        for guess, feedback in zip(self.state.guesses, self.feedbacks, strict=True):
            for i, (letter, mark) in enumerate(zip(guess, feedback, strict=True)):
                if mark == GREEN:
                    spots.add(i)
                if mark != GRAY:
                    letters.add(letter)
        return spots, letters
