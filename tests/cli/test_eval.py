"""``openenv eval`` / ``openenv.evaluation.evaluate``: episodes run, recorded, summed up."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openenv.agents import LocalSession
from openenv.errors import ConfigError
from openenv.evaluation import evaluate
from openenv.trajectories import load_episodes, replay
from tests.cli.helpers import assert_one_line_error, invoke
from tests.conftest import Served

pytestmark = pytest.mark.timeout(180)


def echo_policy(observation: Any) -> dict[str, str]:
    """A per-step policy (imported by name in the CLI test): 0.2 a step in echo_env."""
    assert hasattr(observation, "echoed_message")  # it gets the typed observation
    return {"message": "ab"}


def echo_agent(session: Any, first: Any, task: Any) -> None:
    """A whole-episode agent: three steps, then gives up."""
    for word in ("a", "bb", "ccc"):
        session.step({"message": word})


def test_the_good_agent_over_the_envs_tasks(tmp_path: Path) -> None:
    out = tmp_path / "g.jsonl"
    report = evaluate("guess_number_env", "good", episodes=4, out=out)
    assert len(report.outcomes) == 4 and report.failed == 0
    assert report.success_rate == 1.0 and 0 < report.reward_mean <= 1.0
    assert report.reward_min <= report.reward_mean <= report.reward_max
    episodes = load_episodes(out)
    assert [e.total_reward for e in episodes] == pytest.approx(
        [o.total_reward for o in report.outcomes]
    )
    assert {e.metadata["policy"] for e in episodes} == {"good"}
    from guess_number_env.server import GuessNumberEnvironment

    for episode in episodes:  # what was recorded is what happened
        assert replay(episode, LocalSession(GuessNumberEnvironment())).same


def test_a_step_policy_and_an_agent_over_seeds(tmp_path: Path) -> None:
    stepped = evaluate("echo_env", echo_policy, episodes=2, seed=7, max_steps=4, out=tmp_path / "a")
    assert [o.task for o in stepped.outcomes] == ["seed-7", "seed-8"]
    assert [o.steps for o in stepped.outcomes] == [4, 4]
    # 0.1 per character: 4 steps of 2
    assert stepped.reward_mean == pytest.approx(0.8) and stepped.success_rate == 0.0
    played = evaluate("echo_env", echo_agent, episodes=1, out=tmp_path / "b", success_at=2.0)
    assert played.outcomes[0].steps == 3 and played.outcomes[0].total_reward == pytest.approx(0.6)
    assert played.success_rate == 0.0  # 0.6 < --success-at 2.0


def test_infrastructure_failures_are_counted_apart(
    tmp_path: Path, serve: Callable[..., Served]
) -> None:
    from echo_env.server import EchoEnvironment

    served = serve(EchoEnvironment)
    steps = 0

    def policy(observation: Any) -> dict[str, str]:
        nonlocal steps
        steps += 1
        if steps == 5:
            served.stop()  # the server goes away in the second episode
        return {"message": "ab"}

    report = evaluate(
        "echo_env", policy, episodes=3, url=served.base_url, max_steps=3, out=tmp_path / "f"
    )
    assert [o.failure is None for o in report.outcomes] == [True, False, False]
    assert report.failed == 2 and len(report.scored) == 1
    assert report.reward_mean == pytest.approx(0.6)  # the failures are not zeros in the mean
    assert [e.failure is None for e in load_episodes(tmp_path / "f", include_failed=True)][:2] == [
        True,
        False,
    ]


def test_nothing_scored_gives_no_numbers(tmp_path: Path, serve: Callable[..., Served]) -> None:
    from echo_env.server import EchoEnvironment

    served = serve(EchoEnvironment)
    served.stop()
    report = evaluate("echo_env", echo_policy, episodes=2, url=served.base_url, out=tmp_path / "n")
    assert report.failed == 2 and math.isnan(report.reward_mean)
    assert report.to_dict()["reward_mean"] is None


def test_bad_policies_say_what_to_write() -> None:
    with pytest.raises(ConfigError, match="use good, random, noop or module:function"):
        evaluate("echo_env", "bogus", episodes=1)
    with pytest.raises(ConfigError, match="has no 'nothing'"):
        evaluate("echo_env", "tests.cli.test_eval:nothing", episodes=1)
    with pytest.raises(ConfigError, match="has no do-nothing action"):
        evaluate("chess_env", "noop", episodes=1)


def test_the_command_prints_a_table_and_json(tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl"
    result = invoke(
        "eval", "echo_env", "--policy", "tests.cli.test_eval:echo_policy", "-n", "2",
        "--max-steps", "2", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "reward mean" in result.stdout and "0.400" in result.stdout and str(out) in result.stdout
    result = invoke("eval", "guess_number_env", "-n", "2", "--json", "-o", str(out))
    report = json.loads(result.stdout)
    assert report["episodes"] == 2 and report["success_rate"] == 1.0 and report["failed"] == 0
    assert len(load_episodes(out)) == 4  # appended to the same file


def test_the_command_refuses_bad_options() -> None:
    result = invoke("eval", "echo_env", "--options", "{nope")
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "--options is not JSON")
    assert "eval" in invoke("--help").stdout


def test_the_command_line_and_the_server_do_not_need_numpy() -> None:
    """An image installs OpenEnv's core dependencies only: starting `openenv serve` there
    must not import the client-side batch code (numpy), as `openenv eval` would."""
    import subprocess
    import sys

    code = (
        "import sys, openenv.cli.main, openenv.server; "
        "print(sorted(m for m in ('numpy', 'openenv.client.envpool', 'openenv.evaluation') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
