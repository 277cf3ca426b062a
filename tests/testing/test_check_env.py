"""check_env finds each breach of the contract, in-process and served; it passes good envs."""

from __future__ import annotations

import random
from typing import Any, ClassVar

import jsonschema
import pytest
from pydantic import ConfigDict, Field, field_validator

from openenv import Action, Environment, Observation, State
from openenv.testing import CHECK_NAMES, EnvCheckFailed, check_env, run_checks
from openenv.testing.sampling import sample
from openenv.types import NONDETERMINISTIC


class CountAction(Action):
    add: int = Field(ge=0, le=9)


class CountObservation(Observation):
    total: int = 0
    elapsed_s: float = Field(0.0, json_schema_extra=NONDETERMINISTIC)


class CountEnv(Environment[CountAction, CountObservation, State]):
    """A seeded counter that ends at 30: keeps the whole contract."""

    runs_inline = True

    def _reset(self, seed: int | None = None, episode_id: str | None = None, start: int = 0):
        self.total = start + self.rng.randint(0, 5)
        return CountObservation(total=self.total, elapsed_s=random.random())

    def _step(self, action: CountAction, timeout_s: float | None = None) -> CountObservation:
        self.total += action.add
        done = self.total >= 30
        return CountObservation(
            total=self.total, reward=float(done), done=done, elapsed_s=random.random()
        )


class IgnoresSeed(CountEnv):
    def _reset(self, seed: int | None = None, episode_id: str | None = None, start: int = 0):
        self.total = start
        return CountObservation(total=self.total)


class Unseeded(CountEnv):
    """Draws from the global random module: the same seed does not replay."""

    def _reset(self, seed: int | None = None, episode_id: str | None = None, start: int = 0):
        self.total = start + random.randint(0, 10**9)
        return CountObservation(total=self.total)


class SharedTotal(CountEnv):
    """Keeps its count on the class: sessions see each other."""

    shared: ClassVar[list[int]] = [0]

    def _reset(self, seed: int | None = None, episode_id: str | None = None, start: int = 0):
        self.shared[0] = start + self.rng.randint(0, 5)
        return CountObservation(total=self.shared[0])

    def _step(self, action: CountAction, timeout_s: float | None = None) -> CountObservation:
        self.shared[0] += action.add
        return CountObservation(total=self.shared[0], done=self.shared[0] >= 30)


class LooseAction(Action):
    model_config = ConfigDict(extra="allow")
    add: int = Field(ge=0, le=9)


class AcceptsTypos(CountEnv):
    """Its action takes unknown fields: a typo is silently ignored."""

    action_type = LooseAction


class BadClose(CountEnv):
    def close(self) -> None:
        if getattr(self, "closed", False):
            raise RuntimeError("closed twice")
        self.closed = True


class RaisesOnStep(CountEnv):
    """Fails with a bug (not a refusal) on every step."""

    def _step(self, action: CountAction, timeout_s: float | None = None) -> CountObservation:
        raise KeyError("oops")


def statuses(target: Any, **options: Any) -> dict[str, str]:
    report = run_checks(target, **options)
    assert [result.name for result in report.results] == list(CHECK_NAMES)
    return {result.name: result.status for result in report.results}


def test_a_good_environment_passes_every_check_and_nondeterministic_fields_are_ignored():
    report = check_env(CountEnv)
    assert report.ok and {r.status for r in report.results} == {"pass"}, report


def test_an_ignored_seed_is_reported():
    found = statuses(IgnoresSeed)
    assert found["different seeds"] == "warn"
    assert found["same seed"] == "pass"


def test_an_unseeded_environment_fails_the_same_seed_check():
    report = run_checks(Unseeded)
    same = next(r for r in report.results if r.name == "same seed")
    assert same.status == "fail" and "reset differs at observation.total" in same.detail
    with pytest.raises(EnvCheckFailed) as failed:
        check_env(Unseeded)
    assert "same seed" in str(failed.value) and failed.value.report.failures


def test_sessions_sharing_state_fail_the_independence_check():
    assert statuses(SharedTotal)["sessions independent"] == "fail"


def test_an_action_taking_unknown_fields_fails_the_bad_actions_check():
    report = run_checks(AcceptsTypos)
    bad = next(r for r in report.results if r.name == "bad actions")
    assert bad.status == "fail" and "an unknown field: accepted" in bad.detail


def test_close_that_fails_the_second_time_is_caught():
    assert statuses(BadClose)["close twice"] == "fail"


def test_a_step_that_crashes_is_a_typed_error_and_the_report_says_so():
    found = statuses(RaisesOnStep)
    assert found["steps"] == "warn"  # every step EXECUTION_ERROR: nothing could be played
    assert found["step after done"] == "skip"


def test_a_served_environment_is_checked_over_the_wire(openenv_serve):
    served = openenv_serve(CountEnv)
    report = check_env(served.base_url)
    # Served, the reset options are unknown to the checker, and nothing ends an
    # episode early: the sampled actions play until the counter reaches 30.
    assert report.ok, report
    assert next(r for r in report.results if r.name == "step after done").status == "pass"
    broken = openenv_serve(Unseeded)
    assert not run_checks(broken.base_url).ok


def test_echo_by_name_in_process_and_served():
    assert check_env("echo_env").ok
    assert check_env("echo_env", served=True).ok  # `openenv serve echo_env` in a subprocess


def test_progress_names_each_check_and_the_report_is_json_able():
    seen: list[str] = []
    report = run_checks(CountEnv, progress=seen.append)
    assert seen == list(CHECK_NAMES)
    data = report.to_dict()
    assert data["ok"] is True and len(data["results"]) == len(CHECK_NAMES)


class Shapes(Action):
    name: str = Field(min_length=2, max_length=4)
    count: int = Field(ge=3, le=5)
    ratio: float = Field(gt=0, lt=1)
    kind: str = Field(pattern="^[ab]$", default="a")
    flag: bool | None = None
    items: list[int] = Field(min_length=1, max_length=2)
    pair: tuple[int, str]
    nested: CountAction
    mode: Any = None


def test_sampled_values_match_their_schema():
    schema = Shapes.model_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    rng = random.Random(0)
    for _ in range(200):
        value = sample(schema, rng)
        assert not list(validator.iter_errors(value)), value
        Shapes.model_validate(value)


class DoublingObservation(CountObservation):
    """Its validator rewrites the total: what a client parses is not what was sent."""

    @field_validator("total")
    @classmethod
    def _doubled(cls, value: int) -> int:
        return value * 2


class Lossy(CountEnv):
    observation_type = DoublingObservation

    def _reset(self, seed: int | None = None, episode_id: str | None = None, start: int = 0):
        return DoublingObservation(total=start + 1)


def test_an_observation_that_does_not_survive_the_wire_fails():
    report = run_checks(Lossy)
    reset = next(r for r in report.results if r.name == "reset")
    assert reset.status == "fail" and "JSON round trip" in reset.detail
