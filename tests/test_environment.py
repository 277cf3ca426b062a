"""The Environment base class: seeding, reset options, async variants, introspection."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from openenv import Environment, FunctionRubric, Observation, State, derive_seed
from openenv.environment import MAX_SEED
from tests.envs_for_tests import AsyncToyEnv, StrictResetEnv, ToyAction, ToyEnv, ToyObservation


def play(env: ToyEnv, seed: int | None, steps: int = 5) -> list[int]:
    first = env.reset(seed=seed)
    return [first.draw] + [env.step(ToyAction()).draw for _ in range(steps)]


# -- seeding ---------------------------------------------------------------------------


def test_same_seed_same_episode():
    assert play(ToyEnv(), 42) == play(ToyEnv(), 42)
    env = ToyEnv()
    assert play(env, 42) == play(env, 42)  # also after an episode on the same instance
    assert play(ToyEnv(), 42) != play(ToyEnv(), 43)


def test_seed_none_draws_a_seed_that_replays_the_episode():
    env = ToyEnv()
    episode = play(env, None)
    assert isinstance(env.seed, int) and 0 <= env.seed < 2**63
    assert play(ToyEnv(), env.seed) == episode
    assert play(ToyEnv(), None) != episode


def test_extreme_seeds():
    for seed in (0, 1, MAX_SEED):
        assert play(ToyEnv(), seed) == play(ToyEnv(), seed)
    assert MAX_SEED == 2**64 - 1


def test_derive_seed_is_stable():
    value = derive_seed(7, "opponent")
    assert value == derive_seed(7, "opponent")
    assert 0 <= value < 2**64
    assert value != derive_seed(7, "map") != derive_seed(8, "opponent")
    assert derive_seed(7, "a", 1) != derive_seed(7, "a", 2)
    assert derive_seed(7) != derive_seed(8)


def test_derive_seed_is_the_same_in_another_process():
    code = "from openenv import derive_seed; print(derive_seed(7, 'opponent', 3))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "random", "PATH": ""},
    ).stdout
    assert int(out) == derive_seed(7, "opponent", 3)


def test_begin_episode_resets_state_and_rubric():
    env = ToyEnv()
    env.rubric = FunctionRubric(lambda a, o: 1.0)
    env.reset(seed=1, episode_id="first")
    env.step(ToyAction())
    env.apply_rubric(ToyAction(), ToyObservation())
    assert env.rubric.last_score == 1.0
    assert (env.state.episode_id, env.state.step_count) == ("first", 1)
    env.reset(seed=1)
    assert env.rubric.last_score is None
    assert env.state.step_count == 0 and env.state.draws == []
    assert env.state.episode_id not in (None, "first")  # a fresh uuid


def test_apply_rubric():
    env = ToyEnv()
    obs = ToyObservation(reward=0.7)
    assert env.apply_rubric(ToyAction(), obs).reward == 0.7  # no rubric: left alone
    env.rubric = FunctionRubric(lambda action, o: len(action.message) * 2)
    assert env.apply_rubric(ToyAction(message="abc"), obs).reward == 6.0


def test_initial_state_before_reset():
    env = ToyEnv()
    assert env.state.model_dump() == {"episode_id": None, "step_count": 0, "draws": []}


# -- reset options -----------------------------------------------------------------------


@pytest.mark.parametrize("env_class", [ToyEnv, AsyncToyEnv, StrictResetEnv])
@pytest.mark.parametrize(
    "seed",
    [True, False, "1", 1.0, 1.5, -1, 2**64, None.__class__, [1]],
    ids=["true", "false", "str", "float-int", "float", "negative", "2**64", "type", "list"],
)
def test_invalid_seeds_are_refused(env_class, seed):
    model = env_class.reset_options_model()
    with pytest.raises(ValidationError) as refused:
        model.model_validate({"seed": seed})
    assert refused.value.errors()[0]["loc"] == ("seed",)


@pytest.mark.parametrize("seed", [0, 1, 2**63, MAX_SEED, None])
def test_valid_seeds(seed):
    assert ToyEnv.reset_options_model().model_validate({"seed": seed}).seed == seed


def test_seed_from_json_is_strict_too():
    model = StrictResetEnv.reset_options_model()
    assert model.model_validate_json('{"seed": 5}').seed == 5
    for raw in ('{"seed": "5"}', '{"seed": 5.0}', '{"seed": true}'):
        with pytest.raises(ValidationError):
            model.model_validate_json(raw)


def test_unknown_options_refused_without_var_kwargs():
    model = StrictResetEnv.reset_options_model()
    assert model.model_validate({"level": 3}).model_dump(exclude_unset=True) == {"level": 3}
    with pytest.raises(ValidationError) as refused:
        model.model_validate({"levle": 3})
    assert refused.value.errors()[0]["type"] == "extra_forbidden"
    with pytest.raises(ValidationError):
        model.model_validate({"level": "hard"})


def test_unknown_options_pass_with_var_kwargs():
    model = ToyEnv.reset_options_model()
    dumped = model.model_validate({"seed": 1, "colour": "red"}).model_dump(exclude_unset=True)
    assert dumped == {"seed": 1, "colour": "red"}


def test_episode_id_is_validated():
    model = StrictResetEnv.reset_options_model()
    assert model.model_validate({"episode_id": "e-1"}).episode_id == "e-1"
    for bad in ("", "x" * 256, 5):
        with pytest.raises(ValidationError):
            model.model_validate({"episode_id": bad})


def test_options_of_an_async_reset_come_from_reset_async():
    class AsyncOnly(Environment):
        async def reset_async(self, seed=None, episode_id=None, difficulty: int = 1):
            self.begin_episode(seed, episode_id)
            return Observation()

    model = AsyncOnly.reset_options_model()
    assert model.model_validate({"difficulty": 2}).difficulty == 2  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        model.model_validate({"other": 1})


def test_required_reset_options():
    class NeedsTask(Environment):
        def reset(self, task: str, seed=None, episode_id=None):
            return Observation()

    model = NeedsTask.reset_options_model()
    with pytest.raises(ValidationError):
        model.model_validate({})
    assert model.model_validate({"task": "t"}).task == "t"  # type: ignore[attr-defined]


# -- the API and its async variants -----------------------------------------------------------


def test_base_class_must_be_implemented():
    env: Environment = Environment()
    with pytest.raises(NotImplementedError, match="reset"):
        env.reset()
    with pytest.raises(NotImplementedError, match="step"):
        env.step(ToyAction())
    assert isinstance(env.state, State)
    env.close()  # a no-op by default


async def test_default_async_variants_run_the_sync_ones():
    env = ToyEnv()
    first = await env.reset_async(seed=3, episode_id="e")
    step = await env.step_async(ToyAction(message="x"), timeout_s=1.5)
    assert first.draw == ToyEnv().reset(seed=3).draw
    assert step.echoed == "x" and env.last_timeout_s == 1.5
    assert env.state.episode_id == "e"


async def test_async_overrides():
    env = AsyncToyEnv()
    await env.reset_async(seed=3)
    assert (await env.step_async(ToyAction(message="y"))).echoed == "y"


def test_runs_async():
    assert not ToyEnv.runs_async("reset_async") and not ToyEnv.runs_async("step_async")
    assert AsyncToyEnv.runs_async("reset_async") and AsyncToyEnv.runs_async("step_async")


def test_tools_of_an_environment():
    assert set(ToyEnv.tools()) == {"add", "explode", "not_json", "wait"}
    assert set(AsyncToyEnv.tools()) == set(ToyEnv.tools())  # inherited
    assert Environment.tools() == {}
