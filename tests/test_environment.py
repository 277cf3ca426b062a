"""The Environment base class: seeding, reset options, the episode's rules, async
variants, introspection."""

from __future__ import annotations

import subprocess
import sys
import threading
import types
from typing import Any, Generic, TypeVar

import pytest
from pydantic import ValidationError, model_validator

from openenv import Action, Environment, FunctionRubric, Observation, State, derive_seed
from openenv.environment import MAX_SEED, EpisodeError, EpisodeNotStarted, EpisodeOver
from tests.envs_for_tests import (
    AsyncToyEnv,
    StrictResetEnv,
    ToyAction,
    ToyEnv,
    ToyObservation,
    ToyState,
)


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


def test_options_of_an_async_reset_come_from_its_hook():
    class AsyncOnly(Environment):
        async def _reset(self, seed=None, episode_id=None, difficulty: int = 1):
            return Observation()

    model = AsyncOnly.reset_options_model()
    assert model.model_validate({"difficulty": 2}).difficulty == 2  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        model.model_validate({"other": 1})


def test_required_reset_options():
    class NeedsTask(Environment):
        def _reset(self, task: str, seed=None, episode_id=None):
            return Observation()

    model = NeedsTask.reset_options_model()
    with pytest.raises(ValidationError):
        model.model_validate({})
    assert model.model_validate({"task": "t"}).task == "t"  # type: ignore[attr-defined]


# -- the episode's rules ---------------------------------------------------------------------


class InlineToyEnv(ToyEnv):
    """Synchronous hooks that never block: run on the caller's event loop, no thread."""

    runs_inline = True

    def _step(self, action: ToyAction, timeout_s: float | None = None) -> ToyObservation:
        self.step_thread = threading.get_ident()
        return super()._step(action, timeout_s)


def test_step_before_reset_raises_episode_not_started():
    env = ToyEnv()
    with pytest.raises(EpisodeNotStarted, match="call reset"):
        env.step(ToyAction())
    assert isinstance(EpisodeNotStarted(), EpisodeError) and issubclass(EpisodeError, ValueError)
    assert env.steps_started == 0 and env.state.step_count == 0


async def test_step_async_before_reset_raises_episode_not_started():
    for env in (ToyEnv(), AsyncToyEnv(), InlineToyEnv()):
        with pytest.raises(EpisodeNotStarted):
            await env.step_async(ToyAction())
        assert env.steps_started == 0


def test_a_failed_reset_starts_no_episode():
    env = ToyEnv()
    env.reset(seed=1)
    env.step(ToyAction(message="done"))
    with pytest.raises(RuntimeError):
        env.reset(fail=True)
    with pytest.raises(EpisodeNotStarted):
        env.step(ToyAction())


def test_step_after_done_raises_episode_over_without_running_the_step():
    env = ToyEnv()
    env.reset(seed=1)
    last = env.step(ToyAction(message="done"))
    assert last.done and env.episode_over and not env.truncated
    for _ in range(2):
        with pytest.raises(EpisodeOver, match="call reset"):
            env.step(ToyAction(message="more"))
    assert env.steps_started == 1  # _step was not called again
    assert env.state.step_count == 1 and len(env.state.draws) == 1


async def test_step_async_after_done_raises_episode_over():
    for env in (ToyEnv(), AsyncToyEnv(), InlineToyEnv()):
        await env.reset_async(seed=1)
        await env.step_async(ToyAction(message="done"))
        with pytest.raises(EpisodeOver):
            await env.step_async(ToyAction())
        assert env.steps_started == 1 and env.state.step_count == 1


def test_done_at_reset_ends_the_episode_at_once():
    class DoneAtReset(ToyEnv):
        def _reset(self, seed=None, episode_id=None, **options):
            return ToyObservation(done=True)

    env = DoneAtReset()
    env.reset()
    assert env.episode_over
    with pytest.raises(EpisodeOver):
        env.step(ToyAction())
    assert env.steps_started == 0


def test_max_steps_truncates_the_episode():
    limits = []

    class Limited(ToyEnv):
        def _step(self, action, timeout_s=None):
            limits.append(self.at_step_limit)
            return super()._step(action, timeout_s)

    env = Limited()
    env.max_steps = 3
    env.reset(seed=1)
    observations = [env.step(ToyAction()) for _ in range(3)]
    assert [o.done for o in observations] == [False, False, True]
    assert [o.step_count for o in observations] == [1, 2, 3]  # counted before _step
    assert limits == [False, False, True]  # at_step_limit inside _step: the last step
    assert env.truncated and env.episode_over and env.state.step_count == 3
    with pytest.raises(EpisodeOver):
        env.step(ToyAction())
    assert env.steps_started == 3


def test_max_steps_as_a_class_attribute_and_done_on_the_last_step():
    class Limited(ToyEnv):
        max_steps = 2

    env = Limited()
    env.reset(seed=1)
    env.step(ToyAction())
    assert env.step(ToyAction(message="done")).done
    assert not env.truncated  # it ended by itself, on the last allowed step
    env.reset(seed=1)
    env.step(ToyAction())
    assert env.step(ToyAction()).done and env.truncated


def test_no_max_steps_no_limit():
    env = ToyEnv()
    env.reset(seed=1)
    assert not any(env.step(ToyAction()).done for _ in range(50))
    assert not env.truncated and not env.at_step_limit


def test_a_raising_step_does_not_count():
    env = ToyEnv()
    env.max_steps = 2
    env.reset(seed=1)
    assert env.step(ToyAction()).step_count == 1
    for _ in range(3):
        with pytest.raises(ValueError, match="broke"):
            env.step(ToyAction(fail=True))
        assert env.state.step_count == 1 and not env.episode_over
    last = env.step(ToyAction())
    assert last.step_count == 2 and last.done and env.truncated


def test_step_count_is_set_and_marked_as_set():
    # The count skips pydantic's assignment validator on plain states (a hot path):
    # it must still read back, dump, and count as a field set.
    env = ToyEnv()
    env.reset(seed=1)
    env._state = ToyState()  # a state made without the count (as a subclass might)
    assert "step_count" not in env.state.model_fields_set
    for _ in range(3):
        env.step(ToyAction())
    assert env.state.step_count == 3
    assert "step_count" in env.state.model_fields_set
    assert env.state.model_dump(exclude_unset=True)["step_count"] == 3
    assert type(env.state).model_validate(env.state.model_dump()).step_count == 3


def test_a_state_that_validates_assignments_sees_each_count():
    seen: list[int] = []

    class WatchedState(ToyState):
        @model_validator(mode="after")
        def note(self) -> WatchedState:
            seen.append(self.step_count)
            return self

    class Watched(ToyEnv):
        state_type = WatchedState

    env = Watched()
    env.reset(seed=1)
    seen.clear()
    env.step(ToyAction())
    env.step(ToyAction())
    with pytest.raises(ValueError, match="broke"):
        env.step(ToyAction(fail=True))
    assert env.state.step_count == 2
    assert seen == [1, 2, 3, 2]  # each count and the raising step's uncount, validated


async def test_a_raising_async_step_does_not_count():
    env = AsyncToyEnv()
    await env.reset_async(seed=1)
    with pytest.raises(ValueError, match="broke"):
        await env.step_async(ToyAction(fail=True))
    assert env.state.step_count == 0
    assert (await env.step_async(ToyAction())).step_count == 1


def test_reset_after_done_starts_a_new_episode():
    env = ToyEnv()
    env.max_steps = 1
    env.reset(seed=1, episode_id="first")
    assert env.step(ToyAction()).done and env.truncated
    env.reset(seed=1, episode_id="second")
    assert not env.episode_over and not env.truncated
    assert (env.state.episode_id, env.state.step_count) == ("second", 0)
    assert env.step(ToyAction()).step_count == 1


@pytest.mark.parametrize("method", ["reset", "step", "reset_async", "step_async"])
def test_defining_a_public_method_is_refused(method):
    with pytest.raises(TypeError, match=f"defines {method}\\(\\)"):
        type("Bad", (ToyEnv,), {method: lambda self, *args, **kwargs: None})


def test_an_async_environment_is_refused_by_the_sync_methods():
    env = AsyncToyEnv()
    with pytest.raises(TypeError, match=r"asynchronous: use `await env\.reset_async"):
        env.reset()
    with pytest.raises(TypeError, match=r"asynchronous: use `await env\.step_async"):
        env.step(ToyAction())
    assert env.steps_started == 0


async def test_an_async_environment_works_through_the_async_methods():
    env = AsyncToyEnv()
    env.max_steps = 2
    await env.reset_async(seed=3)
    first = await env.step_async(ToyAction(message="y"), timeout_s=2.0)
    assert (first.echoed, first.step_count, env.last_timeout_s) == ("y", 1, 2.0)
    assert (await env.step_async(ToyAction())).done and env.truncated
    with pytest.raises(EpisodeOver):
        await env.step_async(ToyAction())


async def test_runs_inline_steps_on_the_callers_thread():
    here = threading.get_ident()
    inline, threaded = InlineToyEnv(), type("Threaded", (InlineToyEnv,), {"runs_inline": False})()
    for env in (inline, threaded):
        await env.reset_async(seed=1)
        await env.step_async(ToyAction())
    assert inline.step_thread == here
    assert threaded.step_thread != here


# -- the API and its async variants -----------------------------------------------------------


def test_base_class_must_be_implemented():
    env: Environment = Environment()
    with pytest.raises(NotImplementedError, match="_reset"):
        env.reset()
    with pytest.raises(EpisodeNotStarted):  # the failed reset started no episode
        env.step(ToyAction())
    with pytest.raises(NotImplementedError, match="_step"):
        env._step(ToyAction())
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
    assert InlineToyEnv.runs_async("reset_async") and InlineToyEnv.runs_async("step_async")
    assert not InlineToyEnv.runs_async("close_async")


def test_needs_event_loop_only_for_coroutines():
    """Inline hooks are awaited by the server, but a sandboxed worker calls them directly."""
    assert not ToyEnv.needs_event_loop("reset_async") and not ToyEnv.needs_event_loop("step_async")
    assert AsyncToyEnv.needs_event_loop("reset_async")
    assert AsyncToyEnv.needs_event_loop("step_async")
    assert not InlineToyEnv.needs_event_loop("reset_async")
    assert not InlineToyEnv.needs_event_loop("step_async")


def test_tools_of_an_environment():
    assert set(ToyEnv.tools()) == {"add", "explode", "not_json", "wait"}
    assert set(AsyncToyEnv.tools()) == set(ToyEnv.tools())  # inherited
    assert Environment.tools() == {}


# -- the types come from the generic arguments ---------------------------------------------


class OtherAction(Action):
    other: int = 0


A = TypeVar("A", bound=Action)
O = TypeVar("O", bound=Observation)  # noqa: E741


def test_types_come_from_the_generic_arguments():
    assert (ToyEnv.action_type, ToyEnv.observation_type, ToyEnv.state_type) == (
        ToyAction,
        ToyObservation,
        ToyState,
    )
    assert ToyEnv().state.__class__ is ToyState  # used: the fresh state is a ToyState


def test_types_are_inherited_and_found_through_generic_intermediates():
    class Plain(ToyEnv):
        pass

    class Mid(Environment[A, O, ToyState], Generic[A, O]):
        pass

    class Sub(Mid[ToyAction, ToyObservation]):
        pass

    class Half(Mid[OtherAction, O], Generic[O]):
        pass

    class Whole(Half[ToyObservation]):
        pass

    assert (Plain.action_type, Plain.observation_type, Plain.state_type) == (
        ToyAction,
        ToyObservation,
        ToyState,
    )
    # a TypeVar left open keeps the base type; the bound argument is set
    assert (Mid.action_type, Mid.observation_type, Mid.state_type) == (
        Action,
        Observation,
        ToyState,
    )
    assert (Sub.action_type, Sub.observation_type, Sub.state_type) == (
        ToyAction,
        ToyObservation,
        ToyState,
    )
    assert (Half.action_type, Half.observation_type) == (OtherAction, Observation)
    assert (Whole.action_type, Whole.observation_type) == (OtherAction, ToyObservation)


def test_bare_and_any_arguments_keep_the_base_types():
    class Bare(Environment):
        pass

    class Anything(Environment[Any, Any, Any]):
        action_type = ToyAction  # nothing in the class statement to disagree with

    assert (Bare.action_type, Bare.observation_type, Bare.state_type) == (
        Action,
        Observation,
        State,
    )
    assert Anything.action_type is ToyAction and Anything.state_type is State


def test_a_declaration_that_disagrees_with_the_generic_argument_is_refused():
    with pytest.raises(TypeError, match=r"declares action_type = .*OtherAction.*ToyAction"):

        class Drifted(Environment[ToyAction, ToyObservation, State]):
            action_type = OtherAction

    class Agrees(Environment[ToyAction, ToyObservation, State]):
        action_type = ToyAction  # redundant, but the same class: allowed

    class Narrowed(ToyEnv):
        action_type = OtherAction  # a plain subclass overrides what it inherits

    assert Agrees.action_type is ToyAction and Narrowed.action_type is OtherAction


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (
            (int, ToyObservation, State),
            "action_type argument .* subclass of Action, not builtins.int",
        ),
        (
            (ToyAction, ToyAction, State),
            "observation_type argument .* not tests.envs_for_tests.ToyAction",
        ),
        ((ToyAction, ToyObservation, ToyObservation), "state_type argument .* subclass of State"),
        ((ToyAction, "ToyObservation", State), "observation_type argument .* ForwardRef"),
    ],
)
def test_a_generic_argument_of_the_wrong_kind_is_refused(arguments, fragment):
    with pytest.raises(TypeError, match=fragment):
        types.new_class("Wrong", (Environment[arguments],))
