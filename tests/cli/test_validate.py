"""``openenv validate``: level 1 (the contract), 2 (reference agents' rewards), 3 (integrity)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from openenv.agents import load_agents
from openenv.validation import validate
from tests.cli.helpers import invoke

ENVS = [
    "echo_env",
    "wordle_env",
    "hangman_env",
    "guess_number_env",
    "chess_env",
    "connect4_env",
    "gridworld_env",
    "maze_env",
    "openspiel_env",
    "gym_env",
    pytest.param("atari_env", marks=pytest.mark.slow),
    pytest.param("coding_env", marks=pytest.mark.slow),
    pytest.param("terminal_env", marks=pytest.mark.slow),
    pytest.param("openapp_env", marks=pytest.mark.slow),
]


def statuses(report: dict) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


@pytest.mark.parametrize("env", ["echo_env", "wordle_env", "connect4_env"])
def test_level_one_passes_as_json(env: str) -> None:
    result = invoke("validate", env, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["failed_levels"] == []
    assert {check["level"] for check in report["checks"]} == {1}
    assert "fail" not in statuses(report).values()


def test_deep_validation_of_a_fast_env_passes_with_a_table() -> None:
    result = invoke("validate", "guess_number_env", "--deep", "--tasks", "2")
    assert result.exit_code == 0, result.stdout + result.stderr
    for name in ("do-nothing earns 0", "good agent solves", "no answer leaks"):
        assert name in result.stdout
    assert "deterministic under a seed" in result.stdout
    assert "OK guess_number_env" in result.stdout


def test_deep_json_has_all_three_levels() -> None:
    result = invoke("validate", "wordle_env", "--deep", "--json", "--tasks", "1")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert {check["level"] for check in report["checks"]} == {1, 2, 3}
    found = statuses(report)
    assert found["do-nothing earns 0"] == "pass"
    assert found["random agent earns little"] == "pass"
    assert found["good agent solves"] == "pass"
    assert found["deterministic under a seed"] == "pass"
    assert found["no answer leaks"] == "pass"
    assert found["sandbox denies network"] == "skip"


def test_help_explains_each_level() -> None:
    result = invoke("validate", "--help")
    assert result.exit_code == 0
    for words in ("Level 1", "Level 2", "Level 3", "--deep", "--tasks", "--timeout", "--json"):
        assert words in result.stdout


# -- a deliberately broken environment ---------------------------------------------------------

BROKEN_MODELS = """
from openenv import Action, Observation


class GuessAction(Action):
    word: str


class GuessObservation(Observation):
    hint: str = ""
    noise: int = 0
"""

BROKEN_ENV = '''
import random

from openenv import Environment, State

from ..models import GuessAction, GuessObservation

WORDS = ["apple", "brick", "cloud", "dance", "eagle", "flame", "grape", "house"]


class BrokenEnvironment(Environment[GuessAction, GuessObservation, State]):
    """Pays for doing nothing, shows its answer, and ignores its seed."""

    action_type = GuessAction
    observation_type = GuessObservation
    runs_inline = True

    def _reset(self, seed=None, episode_id=None):
        self.answer = self.rng.choice(WORDS)
        self.max_steps = 3
        # leaks the answer; `noise` comes from the global random module, not self.rng
        return GuessObservation(hint=f"psst: it is {self.answer}", noise=random.randint(0, 10**9))

    def _step(self, action, timeout_s=None):
        right = action.word == self.answer
        return GuessObservation(
            reward=1.0 if right or action.word == "" else 0.0,  # do-nothing pays 1.0
            done=right,
            noise=random.randint(0, 10**9),
        )
'''

BROKEN_AGENTS = """
from openenv.agents import ReferenceAgents, seed_tasks

from .models import GuessAction


def play_good(session, first, task):
    word = first.observation.hint.rsplit(" ", 1)[-1]
    return session.step(GuessAction(word=word))


AGENTS = ReferenceAgents(
    tasks=seed_tasks(4),
    good=play_good,
    noop=GuessAction(word=""),
    secrets=lambda task, final: [_answer(task)],
)


def _answer(task):
    import random

    from .server.environment import WORDS

    return random.Random(task.reset["seed"]).choice(WORDS)
"""


def write_broken_env(root: Path, package: str) -> Path:
    folder = root / package
    (folder / package / "server").mkdir(parents=True)
    (folder / "openenv.yaml").write_text(
        f"spec_version: 1\nname: {package}\n"
        f"environment: {package}.server.environment:BrokenEnvironment\nisolation: none\n"
    )
    (folder / package / "__init__.py").write_text("")
    (folder / package / "server" / "__init__.py").write_text("")
    (folder / package / "models.py").write_text(textwrap.dedent(BROKEN_MODELS))
    (folder / package / "server" / "environment.py").write_text(textwrap.dedent(BROKEN_ENV))
    (folder / package / "agents.py").write_text(textwrap.dedent(BROKEN_AGENTS))
    return folder


def test_a_broken_env_fails_the_right_checks(tmp_path: Path) -> None:
    folder = write_broken_env(tmp_path, "broken_validate_env")
    result = invoke("validate", str(folder), "--deep", "--json", "--tasks", "2")
    assert result.exit_code == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False and 2 in report["failed_levels"] and 3 in report["failed_levels"]
    found = statuses(report)
    assert found["do-nothing earns 0"] == "fail"
    assert found["no answer leaks"] == "fail"
    assert found["deterministic under a seed"] == "fail"
    assert found["good agent solves"] == "pass"
    details = {check["name"]: check["detail"] for check in report["checks"]}
    assert "expected at most 0" in details["do-nothing earns 0"]
    assert "appears in observations" in details["no answer leaks"]
    assert "noise" in details["deterministic under a seed"]


def test_the_table_exits_non_zero_and_names_the_failed_levels(tmp_path: Path) -> None:
    folder = write_broken_env(tmp_path, "broken_validate_table_env")
    result = invoke("validate", str(folder), "--deep", "--tasks", "1")
    assert result.exit_code == 1
    assert "FAILED" in result.stdout and "fail" in result.stdout


def test_a_url_without_local_agents_skips_the_deep_levels(monkeypatch) -> None:
    import openenv.testing
    from openenv.testing import CheckReport, CheckResult

    monkeypatch.setattr(
        openenv.testing,
        "run_checks",
        lambda target, **_: CheckReport(target, [CheckResult("schemas", "pass", "")]),
    )

    class Metadata:
        @staticmethod
        def json() -> dict:
            return {"name": "not_installed_here_env"}

    monkeypatch.setattr("httpx.get", lambda *args, **kwargs: Metadata())
    report = validate("http://127.0.0.1:9", deep=True)
    assert not [c for c in report.checks if c.level >= 2 and c.status == "fail"]
    skipped = [c for c in report.checks if c.level == 2]
    assert skipped[0].status == "skip"
    assert "no agents for not_installed_here_env installed" in skipped[0].detail


def test_the_timeout_bounds_level_two() -> None:
    report = validate("gym_env", deep=True, tasks=20, timeout_s=0.01, contract=False)
    # What did not fit is reported as such, and counts as neither a pass nor a fail.
    assert not any(check.status == "fail" for check in report.checks)
    details = " ".join(check.detail for check in report.checks)
    assert "out of time" in details, report.checks


# -- every shipped environment: levels 2 and 3 ---------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_every_shipped_env_passes_levels_two_and_three(env: str) -> None:
    agents = load_agents(env)
    why = agents.missing() if agents.missing else None
    if why:
        pytest.skip(why)
    if agents.network_probe is not None:
        from openenv.runtime.programs import missing_for_sandboxed_programs

        if (missing := missing_for_sandboxed_programs()) is not None:
            pytest.skip(str(missing))
    report = validate(env, deep=True, tasks=1, timeout_s=110, contract=False)
    failed = {check.name: check.detail for check in report.checks if check.status == "fail"}
    assert not failed, failed
    assert any(
        c.name == "good agent solves" and c.status in ("pass", "skip") for c in report.checks
    )
