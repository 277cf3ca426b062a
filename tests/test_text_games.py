"""The text-game base: one loop (parse, refuse or play, observe) for every game in words."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field

from openenv import Action, FunctionRubric, Observation, State
from openenv.environment import EpisodeOver
from openenv.text import extract_answer
from openenv.text_games import InvalidGuess, RewardMode, TextGame


class CoinAction(Action):
    message: str


class CoinObservation(Observation):
    prompt: str = ""
    guess: str | None = None
    tosses: list[str] = Field(default_factory=list)
    invalid: bool = False
    error: str | None = None
    invalid_left: int = 0
    won: bool = False
    side: str | None = None


class CoinState(State):
    tosses: list[str] = Field(default_factory=list)
    max_tosses: int = 2
    invalid_count: int = 0
    max_invalid: int = 2
    reward_mode: str = "shaped"
    won: bool = False
    game_over: bool = False


def won(action: CoinAction, observation: CoinObservation) -> float:
    return float(observation.won)


class CoinGame(TextGame[CoinAction, CoinObservation, CoinState]):
    """Call the coin: heads or tails, in at most ``max_tosses`` tries."""

    rules_template = "Call [heads] or [tails], {max_tosses} tries. {max_invalid} invalid end it."
    invalid_cost = "That cost no toss"
    reward_modes = {"shaped": lambda: FunctionRubric(won), "sparse": lambda: FunctionRubric(won)}

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        side: str = "tails",
        max_tosses: int = 2,
        max_invalid: int = 2,
        reward_mode: RewardMode = "shaped",
    ) -> CoinObservation:
        self.side = side
        self.state.max_tosses = max_tosses
        return self.start_game(max_invalid=max_invalid, reward_mode=reward_mode)

    def parse(self, message: str) -> str:
        side = (extract_answer(message) or "").lower()
        if side not in ("heads", "tails"):
            raise InvalidGuess("say [heads] or [tails]")
        return side

    def play(self, guess: str) -> dict[str, Any]:
        self.state.tosses.append(guess)
        self.state.won = guess == self.side
        return {"guess": guess}

    def finished(self) -> bool:
        return self.state.won or len(self.state.tosses) >= self.state.max_tosses

    def rules_values(self) -> dict[str, Any]:
        return {"max_tosses": self.state.max_tosses}

    def board(self) -> dict[str, Any]:
        state = self.state
        return {
            "tosses": list(state.tosses),
            "won": state.won,
            "side": self.side if state.game_over else None,
        }

    def describe_move(self, obs: CoinObservation) -> list[str]:
        return [f"You called {obs.guess}."]

    def describe_board(self, obs: CoinObservation) -> list[str]:
        if obs.won:
            return ["Right!"]
        return [f"It was {obs.side}."] if obs.done else ["Call again."]


def test_the_first_observation_shows_the_rules_which_the_tool_repeats():
    env = CoinGame()
    obs = env.reset(max_tosses=3, max_invalid=4)
    assert obs.prompt == env.rules() == "Call [heads] or [tails], 3 tries. 4 invalid end it."
    assert (obs.invalid_left, obs.done, obs.side) == (4, False, None)
    assert "rules" in CoinGame.tools()
    assert CoinGame.runs_inline  # a text game never blocks


def test_a_valid_move_is_played_and_described():
    env = CoinGame()
    env.reset()
    obs = env.step(CoinAction(message="I say [heads]"))
    assert (obs.guess, obs.tosses, obs.done, obs.reward) == ("heads", ["heads"], False, 0.0)
    assert obs.prompt == "You called heads.\nCall again."
    obs = env.step(CoinAction(message="tails"))
    assert (obs.won, obs.done, obs.side, obs.reward) == (True, True, "tails", 1.0)
    assert obs.prompt == "You called tails.\nRight!"
    assert env.state.game_over
    with pytest.raises(EpisodeOver):
        env.step(CoinAction(message="[heads]"))


def test_running_out_of_moves_ends_the_game():
    env = CoinGame()
    env.reset(max_tosses=1)
    obs = env.step(CoinAction(message="[heads]"))
    assert (obs.won, obs.done, obs.side) == (False, True, "tails")
    assert obs.prompt == "You called heads.\nIt was tails."


def test_invalid_messages_use_the_budget_not_a_move():
    env = CoinGame()
    env.reset(max_invalid=2)
    obs = env.step(CoinAction(message="edge?"))
    assert (obs.invalid, obs.error, obs.invalid_left, obs.tosses) == (
        True,
        "say [heads] or [tails]",
        1,
        [],
    )
    assert obs.prompt == (
        "Invalid guess: say [heads] or [tails].\n"
        "That cost no toss; 1 more invalid guess ends the game.\n"
        "Call again."
    )
    assert env.state.invalid_count == 1 and env.state.step_count == 1
    last = env.step(CoinAction(message="[edge]"))
    assert (last.done, last.invalid_left, last.side) == (True, 0, "tails")
    assert last.prompt == "Invalid guess: say [heads] or [tails].\nIt was tails."


def test_the_reward_mode_picks_a_fresh_rubric_each_episode():
    env = CoinGame()
    env.reset()
    first = env.rubric
    env.reset(reward_mode="sparse")
    assert env.rubric is not first and env.state.reward_mode == "sparse"


def test_invalid_guess_is_a_value_error():
    assert issubclass(InvalidGuess, ValueError)
