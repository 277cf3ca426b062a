"""Reward components: each step's ``metadata["reward_components"]``, written by the base
class from the rubric's named parts, and by nothing else (not even an echo of the agent)."""

from __future__ import annotations

from typing import Any

import pytest

from openenv import Action, Environment, FunctionRubric, Observation, State, WeightedSum
from openenv.environment import REWARD_COMPONENTS
from tests.conftest import ask, open_ws

FORGED = {"correct": 100.0}


class GuessAction(Action):
    guess: int = 0


class GuessObservation(Observation):
    hint: str = ""
    correct: bool = False


def correct(action: GuessAction, observation: GuessObservation) -> float:
    return float(observation.correct)


def close(action: GuessAction, observation: GuessObservation) -> float:
    return max(0.0, 1.0 - abs(action.guess - 7) / 10)


class GuessEnv(Environment[GuessAction, GuessObservation, State]):
    """Guess 7. Its observation metadata echoes the agent's, as a careless env might."""

    def __init__(self, rubric: Any = "parts", echo: str = "before") -> None:
        super().__init__()
        self.make_rubric = rubric
        self.echo = echo  # where the agent's metadata is copied: "before"/"after" scoring

    def _reset(self, seed: int | None = None, episode_id: str | None = None) -> GuessObservation:
        if self.make_rubric == "parts":
            self.rubric = WeightedSum([FunctionRubric(correct), FunctionRubric(close)])
        elif self.make_rubric == "single":
            self.rubric = FunctionRubric(correct)
        return GuessObservation(metadata={REWARD_COMPONENTS: FORGED, "note": "reset"})

    def _step(self, action: GuessAction, timeout_s: float | None = None) -> GuessObservation:
        observation = GuessObservation(correct=action.guess == 7, done=action.guess == 7)
        if self.echo == "before":
            observation.metadata = dict(action.metadata)
        observation = self.apply_rubric(action, observation)
        if self.echo == "after":
            observation.metadata = dict(action.metadata)
        return observation


class AsyncGuessEnv(GuessEnv):
    async def _step(  # type: ignore[override]
        self, action: GuessAction, timeout_s: float | None = None
    ) -> GuessObservation:
        return super()._step(action, timeout_s)


def forged(guess: int) -> GuessAction:
    return GuessAction(guess=guess, metadata={REWARD_COMPONENTS: FORGED, "trace": "mine"})


def test_the_key_is_documented():
    assert REWARD_COMPONENTS == "reward_components"


def test_each_step_carries_the_scores_of_the_rubrics_parts_by_name():
    env = GuessEnv()
    assert REWARD_COMPONENTS not in env.reset().metadata  # no step, no scores
    first = env.step(GuessAction(guess=5))
    assert first.metadata[REWARD_COMPONENTS] == {"correct": 0.0, "close": pytest.approx(0.8)}
    assert first.reward == pytest.approx(0.8)
    last = env.step(GuessAction(guess=7))
    assert last.metadata[REWARD_COMPONENTS] == {"correct": 1.0, "close": 1.0}
    assert last.reward == 2.0


@pytest.mark.parametrize("rubric", [None, "single"])
def test_no_key_without_a_rubric_or_without_parts(rubric):
    env = GuessEnv(rubric=rubric)
    env.reset()
    observation = env.step(GuessAction(guess=7))
    assert REWARD_COMPONENTS not in observation.metadata
    assert observation.reward == (1.0 if rubric else None)


@pytest.mark.parametrize("echo", ["before", "after"])
@pytest.mark.parametrize("rubric", ["parts", "single", None])
def test_the_agent_cannot_write_the_key(echo, rubric):
    env = GuessEnv(rubric=rubric, echo=echo)
    assert env.reset().metadata == {"note": "reset"}  # what the env forged at reset: dropped
    metadata = env.step(forged(3)).metadata
    assert metadata["trace"] == "mine"  # the rest of the metadata is the env's business
    if rubric == "parts":
        assert metadata[REWARD_COMPONENTS] == {"correct": 0.0, "close": pytest.approx(0.6)}
    else:
        assert REWARD_COMPONENTS not in metadata


def test_a_step_that_applies_no_rubric_shows_no_old_scores():
    env = GuessEnv()
    env.reset()
    assert REWARD_COMPONENTS in env.step(GuessAction(guess=1)).metadata
    env.apply_rubric = lambda action, observation: observation  # type: ignore[method-assign]
    assert REWARD_COMPONENTS not in env.step(forged(2)).metadata


def test_a_rubric_applied_outside_a_step_does_not_leak_into_the_next_one():
    env = GuessEnv(echo="none")
    env.reset()
    env.apply_rubric(GuessAction(guess=7), GuessObservation(correct=True))
    env.apply_rubric = lambda action, observation: observation  # type: ignore[method-assign]
    assert env.step(GuessAction(guess=2)).metadata == {}


async def test_async_steps_carry_them_too():
    env = AsyncGuessEnv()
    await env.reset_async()
    observation = await env.step_async(forged(7))
    assert observation.metadata[REWARD_COMPONENTS] == {"correct": 1.0, "close": 1.0}


def test_over_the_wire_inside_and_beside_the_observation(serve):
    ws = open_ws(serve(GuessEnv))
    with ws:
        reset = ask(ws, {"type": "reset", "data": {}})["data"]
        step = {"guess": 6, "metadata": {REWARD_COMPONENTS: FORGED}}
        data = ask(ws, {"type": "step", "data": step})["data"]
    assert reset["metadata"] == reset["observation"]["metadata"] == {"note": "reset"}
    expected = {"correct": 0.0, "close": 0.9}
    assert data["metadata"] == {REWARD_COMPONENTS: expected}
    assert data["observation"]["metadata"] == {REWARD_COMPONENTS: expected}
    assert data["reward"] == 0.9
