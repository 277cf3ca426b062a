"""Guess the number: find a secret whole number from higher/lower hints.

The game:

* ``reset(seed=s)`` draws the secret uniformly from ``low..high`` (default
  1..100; the same seed, the same secret); ``reset(secret=n)`` sets it.
* Each step reads a number from free text (:func:`guess_number_env.game.read_number`).
* A valid guess (a whole number in ``low..high``) uses one of ``max_guesses``
  (default 10) and gets a hint: ``"higher"`` (the secret is higher than the
  guess), ``"lower"`` or ``"correct"``. A number the hints had already ruled out
  (a repeat included) is valid but flagged ``wasted``.
* An **invalid message** (no number in it, not a whole number, outside the
  range) uses **no** guess: the observation carries ``error``. After
  ``max_invalid`` invalid messages (default 5) the game ends, lost.
* The game ends when the number is found, after ``max_guesses`` valid guesses,
  or as above; the last observation reveals ``secret``. A step after that raises
  ``EpisodeOver`` (over the wire: an ``EPISODE_OVER`` error frame) and changes
  nothing: reset to play again.

Binary search always wins: it needs at most ``ceil(log2(high - low + 2))``
guesses (7 for 1..100).

Reward (``reward_mode``, a reset option):

* ``"sparse"``: on the winning step ``1 - (guesses_used - 1) / max_guesses``
  (1.0 for a first-guess win, 0.1 less per extra guess by default); 0.0 on
  every other step, and for a lost game.
* ``"shaped"`` (default): the same, less 0.1 on every step whose message was
  invalid or whose guess was wasted.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from openenv import FunctionRubric, WeightedSum
from openenv.text_games import RewardMode, TextGame

from ..game import InvalidGuess, hint, read_number, win_reward
from ..models import GuessNumberAction, GuessNumberObservation, GuessNumberState

BOUND = 10**12
"""``low`` and ``high`` lie within ``-BOUND..BOUND``."""
Bounded = Annotated[int, Field(ge=-BOUND, le=BOUND)]
WASTE_PENALTY = 0.1

RULES = (
    "Let's play guess the number. I am thinking of a whole number from {low} to {high}; "
    "find it in at most {max_guesses} guesses.\n"
    "Reply with your guess in square brackets, like [{example}]; if you write several, "
    "the last one counts.\n"
    "After each guess I tell you whether my number is higher or lower. "
    "The fewer guesses you use, the higher your reward.\n"
    "Invalid guesses (no number, not a whole number, outside {low}..{high}) use no guess, "
    "but after {max_invalid} of them the game ends."
)


def win_score(action: GuessNumberAction, observation: GuessNumberObservation) -> float:
    """The sparse reward: ``1 - (guesses_used - 1) / max_guesses`` on the winning step."""
    if not observation.won:
        return 0.0
    return win_reward(observation.guesses_used, observation.max_guesses)


def wasted_step(action: GuessNumberAction, observation: GuessNumberObservation) -> float:
    """1 for an invalid message or a guess the hints had ruled out (weighted -0.1 shaped)."""
    return float(observation.invalid or observation.wasted)


def shaped_rubric() -> WeightedSum:
    """``win_score - 0.1 * (invalid or wasted)``; its parts are named ``win_score`` and
    ``wasted_step`` in ``metadata["reward_components"]``."""
    return WeightedSum(
        [FunctionRubric(win_score), FunctionRubric(wasted_step)], weights=[1.0, -WASTE_PENALTY]
    )


def sparse_rubric() -> FunctionRubric:
    """``win_score`` alone."""
    return FunctionRubric(win_score)


class GuessNumberEnvironment(TextGame[GuessNumberAction, GuessNumberObservation, GuessNumberState]):
    """Guess the number from free text. See the module docstring.

    Example::

        env = GuessNumberEnvironment()
        env.reset(secret=37)
        obs = env.step(GuessNumberAction(message="Let's start in the middle: [50]"))
        obs.hint, obs.lower_bound, obs.upper_bound    # 'lower', 1, 49
    """

    rules_template = RULES
    invalid_cost = "That used no guess"
    reward_modes = {"shaped": shaped_rubric, "sparse": sparse_rubric}

    def __init__(self) -> None:
        super().__init__()
        self.secret = 0
        self.lower_bound, self.upper_bound = 1, 100

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        low: Bounded = 1,
        high: Bounded = 100,
        max_guesses: Annotated[int, Field(ge=1, le=100)] = 10,
        secret: Bounded | None = None,
        max_invalid: Annotated[int, Field(ge=1, le=100)] = 5,
        reward_mode: RewardMode = "shaped",
    ) -> GuessNumberObservation:
        """Start a game: ``secret`` if given, else one drawn by the seed from ``low..high``."""
        if not -BOUND <= low < high <= BOUND:
            raise ValueError(f"need low < high within ±{BOUND}, got low={low}, high={high}")
        if secret is not None and not low <= secret <= high:
            raise ValueError(f"secret {secret} is outside {low}..{high}")
        self.secret = secret if secret is not None else self.rng.randint(low, high)
        self.lower_bound, self.upper_bound = low, high
        state = self.state
        state.low, state.high = low, high
        state.max_guesses = max_guesses
        return self.start_game(max_invalid=max_invalid, reward_mode=reward_mode)

    def parse(self, message: str) -> int:
        guess = read_number(message)
        if not self.state.low <= guess <= self.state.high:
            raise InvalidGuess(f"{guess} is outside {self.state.low}..{self.state.high}")
        return guess

    def play(self, guess: int) -> dict[str, Any]:
        wasted = not self.lower_bound <= guess <= self.upper_bound
        answer = hint(guess, self.secret)
        self.state.guesses.append(guess)
        if answer == "higher":
            self.lower_bound = max(self.lower_bound, guess + 1)
        elif answer == "lower":
            self.upper_bound = min(self.upper_bound, guess - 1)
        else:
            self.lower_bound = self.upper_bound = guess
        self.state.won = answer == "correct"
        return {"guess": guess, "hint": answer, "wasted": wasted}

    def finished(self) -> bool:
        return self.state.won or len(self.state.guesses) >= self.state.max_guesses

    def rules_values(self) -> dict[str, Any]:
        state = self.state
        return {
            "low": state.low,
            "high": state.high,
            "max_guesses": state.max_guesses,
            "example": (state.low + state.high) // 2,
        }

    def board(self) -> dict[str, Any]:
        state = self.state
        return {
            "low": state.low,
            "high": state.high,
            "lower_bound": self.lower_bound,
            "upper_bound": self.upper_bound,
            "remaining": max(self.upper_bound - self.lower_bound + 1, 0),
            "history": [f"{g} {hint(g, self.secret)}" for g in state.guesses],
            "guesses_used": len(state.guesses),
            "guesses_left": state.max_guesses - len(state.guesses),
            "max_guesses": state.max_guesses,
            "won": state.won,
            "secret": self.secret if state.game_over else None,
        }

    def describe_move(self, obs: GuessNumberObservation) -> list[str]:
        said = {
            "higher": f"My number is higher than {obs.guess}",
            "lower": f"My number is lower than {obs.guess}",
            "correct": "That is my number",
        }[obs.hint]
        lines = [f"Guess {obs.guesses_used} of {obs.max_guesses}: {obs.guess}. {said}."]
        if obs.wasted:
            lines.append("(The earlier hints had already ruled that number out.)")
        return lines

    def describe_board(self, obs: GuessNumberObservation) -> list[str]:
        lines: list[str] = []
        if obs.history:
            lines.append(f"So far: {', '.join(obs.history)}")
        if obs.won:
            lines.append(f"You found it in {obs.guesses_used} of {obs.max_guesses} guesses!")
        elif obs.done:
            lines.append(f"Game over: my number was {self.secret}.")
        else:
            lines.append(
                f"It is between {obs.lower_bound} and {obs.upper_bound} "
                f"({obs.remaining} numbers). {obs.guesses_left} "
                f"{'guess' if obs.guesses_left == 1 else 'guesses'} left. "
                "Reply with your next guess in square brackets."
            )
        return lines
