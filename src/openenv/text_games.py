"""A base for games an LLM plays in words: it writes free text, the game reads a guess.

Wordle, Hangman and guess-the-number (``envs/``) are one loop around different
rules: read a guess out of the agent's message, refuse it if it cannot count,
otherwise play it, then show the board in words. :class:`TextGame` owns that loop,
so every text game behaves the same way where the rules do not differ:

* **one** :class:`InvalidGuess`: what a game raises when a message holds no usable
  guess; its text is shown to the agent as the observation's ``error``;
* **the invalid-message budget**: an invalid message uses no move; the observation
  carries ``error``, ``invalid=True`` and the board unchanged, and after
  ``max_invalid`` of them (a reset option) the game ends, lost;
* **game over**: after a valid move the game ends when :meth:`TextGame.finished`
  says so (won, out of moves); ``state.game_over`` and the observation's ``done``
  follow it, and the base class refuses any later step (``EpisodeOver``);
* **the rules prompt**: the ``rules`` tool, which is also the first observation's
  ``prompt``;
* **the observe/describe skeleton**: every observation carries the board
  (:meth:`TextGame.board`) and the budget left (``invalid_left``); its ``prompt``
  says what the message did, then how the game stands;
* **the reward mode**: the ``reward_mode`` reset option picks a rubric from
  :attr:`TextGame.reward_modes` (``"shaped"`` or ``"sparse"``).

A game fills in the rest: ``_reset`` (its own options, then :meth:`TextGame.start_game`),
:meth:`~TextGame.parse`, :meth:`~TextGame.play`, :meth:`~TextGame.finished`,
:meth:`~TextGame.board`, :meth:`~TextGame.rules_values`,
:meth:`~TextGame.describe_move` and :meth:`~TextGame.describe_board`.

Example (``tests/test_text_games.py`` has it whole)::

    class CoinGame(TextGame[CoinAction, CoinObservation, CoinState]):
        rules_template = "Guess [heads] or [tails]. {max_invalid} invalid guesses end it."
        invalid_cost = "That cost nothing"
        reward_modes = {"shaped": won_rubric, "sparse": won_rubric}   # () -> Rubric

        def _reset(self, seed=None, episode_id=None, max_invalid: int = 3,
                   reward_mode: RewardMode = "shaped"):
            self.side = self.rng.choice(["heads", "tails"])
            return self.start_game(max_invalid=max_invalid, reward_mode=reward_mode)

        def parse(self, message):
            side = (extract_answer(message) or "").lower()
            if side not in ("heads", "tails"):
                raise InvalidGuess("say [heads] or [tails]")
            return side

        def play(self, side):
            self.state.won = side == self.side
            return {"guess": side}

        def finished(self):
            return True                         # one toss, one guess

        ...                                     # board, rules_values, describe_*

The action must have a ``message`` (the agent's text); the state the fields
``invalid_count``, ``max_invalid``, ``reward_mode`` and ``game_over``; the
observation ``prompt``, ``invalid``, ``error`` and ``invalid_left``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, TypeVar, cast

from .environment import Environment
from .errors import InvalidGuess
from .rubrics import Rubric
from .tools import tool
from .types import Action, Observation, State

__all__ = ["InvalidGuess", "RewardMode", "TextGame"]

ActT = TypeVar("ActT", bound=Action)
ObsT = TypeVar("ObsT", bound=Observation)
StateT = TypeVar("StateT", bound=State)

RewardMode = Literal["shaped", "sparse"]
"""The ``reward_mode`` reset option of every text game."""


class TextGame(Environment[ActT, ObsT, StateT]):
    """Base class of a text game: reads a guess per step, refuses invalid messages.

    See the module docstring for what it owns and what a game implements. Class
    attributes a game sets:

    * ``rules_template`` — the rules, a ``str.format`` template filled with
      :meth:`rules_values` and ``max_invalid``;
    * ``invalid_cost`` — what an invalid message did not cost, as the prompt
      says it (``"That did not use a try"``);
    * ``reward_modes`` — a rubric factory per ``reward_mode`` (``"shaped"``,
      ``"sparse"``); :meth:`start_game` builds a fresh rubric every episode.
    """

    rules_template: ClassVar[str] = ""
    invalid_cost: ClassVar[str] = "That did not count"
    reward_modes: ClassVar[Mapping[str, Callable[[], Rubric]]] = {}
    runs_inline = True  # a text game never blocks: no thread hop on the server

    # -- hooks for a game ------------------------------------------------------------------

    def parse(self, message: str) -> Any:
        """The guess in the agent's ``message``; :class:`InvalidGuess` when it cannot count.

        Check here everything that makes a guess invalid (out of range, tried
        before): nothing may change before it raises.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement parse()")

    def play(self, guess: Any) -> dict[str, Any]:
        """Play a valid ``guess``: update the game; return this move's observation fields."""
        raise NotImplementedError(f"{type(self).__name__} must implement play()")

    def finished(self) -> bool:
        """The game is over after the move just played (won, or out of moves)."""
        raise NotImplementedError(f"{type(self).__name__} must implement finished()")

    def board(self) -> dict[str, Any]:
        """The fields every observation carries: the board, what is known, and the
        answer once ``state.game_over``."""
        raise NotImplementedError(f"{type(self).__name__} must implement board()")

    def rules_values(self) -> dict[str, Any]:
        """The values :attr:`rules_template` names, but ``max_invalid`` (the base adds it)."""
        return {}

    def describe_move(self, observation: ObsT) -> list[str]:
        """Lines saying what a valid move did (the prompt's first lines)."""
        raise NotImplementedError(f"{type(self).__name__} must implement describe_move()")

    def describe_board(self, observation: ObsT) -> list[str]:
        """Lines saying how the game stands, ending with how it ended or what to do next."""
        raise NotImplementedError(f"{type(self).__name__} must implement describe_board()")

    def invalid_fields(self, error: InvalidGuess) -> dict[str, Any]:
        """Observation fields an invalid message sets beyond ``error`` and ``invalid``."""
        return {}

    # -- the loop --------------------------------------------------------------------------

    def start_game(self, *, max_invalid: int, reward_mode: RewardMode) -> ObsT:
        """The end of every ``_reset``: set the budget and the reward, show the rules.

        Call it once the game's own options are in place: the first observation
        shows the board and, as its prompt, :meth:`rules`.
        """
        self.rubric = self.reward_modes[reward_mode]()
        self.state.max_invalid = max_invalid
        self.state.reward_mode = reward_mode
        return self.observe(prompt=self.rules())

    def _step(self, action: ActT, timeout_s: float | None = None) -> ObsT:
        try:
            guess = self.parse(action.message)  # type: ignore[attr-defined]
        except InvalidGuess as error:
            observation = self.refuse(error)
        else:
            fields = self.play(guess)
            self.state.game_over = self.finished()
            observation = self.observe(**fields)
        return self.apply_rubric(action, observation)

    def refuse(self, error: InvalidGuess) -> ObsT:
        """An invalid message: count it against the budget; no move is played."""
        state = self.state
        state.invalid_count += 1
        # The game cannot be over already (the base class refuses steps after done).
        state.game_over = state.invalid_count >= state.max_invalid
        return self.observe(error=str(error), invalid=True, **self.invalid_fields(error))

    def observe(self, prompt: str | None = None, **fields: Any) -> ObsT:
        """The observation now: the board, the budget left, ``fields``, and its prompt
        (``prompt`` if given, else :meth:`describe`)."""
        state = self.state
        observation: Any = self.observation_type(
            **self.board(),
            invalid_left=state.max_invalid - state.invalid_count,
            done=state.game_over,
            **fields,
        )
        observation.prompt = prompt if prompt is not None else self.describe(observation)
        return cast(ObsT, observation)

    def describe(self, observation: ObsT) -> str:
        """The observation in words, for an LLM: what the message did, then the game."""
        obs: Any = observation
        if obs.error:
            lines = [f"Invalid guess: {obs.error}."]
            if not obs.done:
                more = "guess ends" if obs.invalid_left == 1 else "guesses end"
                lines.append(
                    f"{self.invalid_cost}; {obs.invalid_left} more invalid {more} the game."
                )
        else:
            lines = self.describe_move(observation)
        return "\n".join([*lines, *self.describe_board(observation)])

    @tool
    def rules(self) -> str:
        """The rules of this game, as the first observation's prompt states them."""
        return self.rules_template.format(max_invalid=self.state.max_invalid, **self.rules_values())
