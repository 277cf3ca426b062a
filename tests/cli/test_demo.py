"""``openenv demo``: real episodes over real WebSockets, summarised."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from pathlib import Path

import pytest
from echo_env.agents import echo_message

from openenv.cli.demo import percentile
from openenv.cli.scenarios import scenarios
from openenv.environment import derive_seed
from tests.cli.helpers import assert_one_line_error, invoke, run

EPISODES = 3
STEPS_PER_EPISODE = 10  # echo's default max_steps


def expected_echo_rewards(seed: int, episodes: int) -> list[float]:
    """What echo pays the demo's policy: len(message) / 10 per step, summed per episode."""
    rewards = []
    for index in range(episodes):
        rng = random.Random(derive_seed(seed, "echo", index))
        rewards.append(sum(len(echo_message(rng)) / 10 for _ in range(STEPS_PER_EPISODE)))
    return rewards


def test_demo_table_and_json(tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.json"
    result = invoke(
        "demo", "--episodes", str(EPISODES), "-e", "echo", "-e", "echo-sandboxed",
        "--json", str(summary_file),
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr

    expected = expected_echo_rewards(0, EPISODES)
    mean = sum(expected) / EPISODES
    row = next(line for line in result.stdout.splitlines() if line.strip().startswith("echo"))
    cells = row.split()
    assert cells[:6] == [
        "echo",
        str(EPISODES),
        f"{mean:.2f}",
        f"{min(expected):.2f}",
        f"{max(expected):.2f}",
        str(EPISODES * STEPS_PER_EPISODE),
    ]
    assert re.search(r"\d+(\.\d+)? (µs|ms)\s+\d+(\.\d+)? (µs|ms)\s*$", row), row
    steps = 2 * EPISODES * STEPS_PER_EPISODE
    assert f"OK {2 * EPISODES}/{2 * EPISODES} episodes, {steps} steps on 2 scenarios" in (
        result.stdout
    )

    summary = json.loads(summary_file.read_text())
    assert summary["ok"] is True and summary["seed"] == 0 and summary["skipped"] == []
    echo, sandboxed = summary["environments"]
    assert echo["name"] == "echo" and echo["env"] == "echo_env"
    assert echo["isolation"] == "none"
    assert echo["episodes"] == EPISODES
    assert echo["steps"] == EPISODES * STEPS_PER_EPISODE
    assert echo["episode_rewards"] == pytest.approx(expected)
    assert echo["reward"]["mean"] == pytest.approx(mean)
    latency = echo["step_latency_us"]
    assert 0 < latency["p50"] <= latency["p99"]
    assert echo["error"] is None

    # The same episodes, every session in its own sandbox: the same rewards.
    assert sandboxed["name"] == "echo (sandboxed)" and sandboxed["isolation"] == "sandbox"
    assert sandboxed["episode_rewards"] == pytest.approx(expected)
    assert sandboxed["error"] is None and sandboxed["skipped"] is None
    for scenario in (echo, sandboxed):
        new_session = scenario["new_session_ms"]
        assert new_session["connect"] > 0 and new_session["first_reset"] > 0
    assert "A new session on a running server" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "sandbox " in line)
    assert re.search(r"echo \(sandboxed\)\s+sandbox(\s+\d+(\.\d+)? (µs|ms)){3}\s*$", row), row


def test_sandboxed_scenario_is_skipped_where_sandboxes_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on it
    summary_file = tmp_path / "summary.json"
    result = invoke("demo", "-n", "1", "--json", str(summary_file))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "skipped echo (sandboxed): isolation 'sandbox' needs bubblewrap" in result.stdout
    unsandboxed = [s for s in scenarios().values() if s.isolation == "none"]
    ran = f"{len(unsandboxed)}/{len(unsandboxed)} episodes"
    assert f"OK {ran}" in result.stdout
    # No podman or docker on PATH either: the container scenario is skipped, saying why.
    assert "skipped echo (container): no container engine" in result.stdout
    summary = json.loads(summary_file.read_text())
    isolated = [s.name for s in scenarios().values() if s.isolation != "none"]
    assert summary["ok"] is True and summary["skipped"] == isolated

    # Asked for by name, it must run: the reason becomes the error.
    result = invoke("demo", "-n", "1", "--env", "echo-sandboxed")
    assert result.exit_code == 1
    assert_one_line_error(
        result.stderr, "demo echo (sandboxed) failed: SandboxUnavailable:", "apt-get install"
    )


def test_same_seed_same_rewards_other_seed_other_rewards(tmp_path: Path) -> None:
    def rewards(seed: int) -> list[float]:
        path = tmp_path / f"{seed}.json"
        result = invoke(
            "demo", "-n", "2", "--seed", str(seed), "--env", "echo", "--json", str(path)
        )
        assert result.exit_code == 0, result.stderr
        return json.loads(path.read_text())["environments"][0]["episode_rewards"]

    assert rewards(5) == rewards(5) == pytest.approx(expected_echo_rewards(5, 2))
    assert rewards(5) != rewards(6)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_demo_runs_with_no_arguments_as_a_command() -> None:
    result = run("demo", timeout=840)  # every scenario, 20 episodes each: ~40 s when idle
    assert result.returncode == 0, result.stdout + result.stderr
    count = len(scenarios())
    assert re.search(
        rf"OK {20 * count}/{20 * count} episodes, \d+ steps on {count} scenarios", (result.stdout)
    ), result.stdout
    assert "Traceback" not in result.stderr


def test_unknown_demo_env() -> None:
    result = invoke("demo", "--env", "nope")
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "no demo named 'nope'; demos: echo, echo (sandboxed)")


@pytest.mark.parametrize("name", ["echo (sandboxed)", "echo-sandboxed", "Echo Sandboxed"])
def test_choose_a_demo_by_name_or_slug(name: str, tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.json"
    result = invoke("demo", "-n", "1", "--env", name, "--json", str(summary_file))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert [e["name"] for e in json.loads(summary_file.read_text())["environments"]] == [
        "echo (sandboxed)"
    ]


def test_a_failing_scenario_fails_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(client: object, seed: int, episode: object) -> None:
        raise RuntimeError("policy crashed")

    echo = dataclasses.replace(scenarios()["echo"], play=broken)
    monkeypatch.setitem(scenarios(), "echo", echo)
    result = invoke("demo", "-n", "1")
    assert result.exit_code == 1
    assert "failed" in result.stdout
    assert_one_line_error(result.stderr, "demo echo failed: RuntimeError: policy crashed")


def test_percentile() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0


def test_openapp_demo_saves_the_screenshots_of_a_solved_task(tmp_path: Path) -> None:
    pytest.importorskip("openapp_env")
    from openapp_env.agents import chromium_missing

    lacking = chromium_missing()
    if lacking is not None:
        pytest.skip(lacking)
    stale = tmp_path / "openapp" / "old.png"
    stale.parent.mkdir()
    stale.write_bytes(b"from an earlier run")
    result = invoke("demo", "-e", "openapp", "-n", "3", "--seed", "5", "--out", str(tmp_path))
    assert result.exit_code == 0, result.stdout + result.stderr
    saved = sorted((tmp_path / "openapp").iterdir())
    assert not stale.exists()
    shots = [p for p in saved if p.suffix == ".png"]
    goals = [p for p in saved if p.name.endswith("-goal.txt")]
    assert len(shots) >= 4 and len(goals) == 1
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in shots)
    assert f"files saved in {tmp_path / 'openapp'}/" in result.stdout.replace("\n", "")


def test_a_scenario_this_machine_cannot_run_is_skipped_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    from openenv.cli.demo import run_scenario

    lacking = dataclasses.replace(scenarios()["echo"], missing=lambda: "no browser here")
    result = run_scenario(lacking, 1, 0, lambda: None)
    assert result.skipped == "no browser here" and result.episodes == []
    asked = run_scenario(lacking, 1, 0, lambda: None, required=True)
    assert asked.error == "RuntimeError: no browser here"
    monkeypatch.setitem(scenarios(), "echo", lacking)
    named = invoke("demo", "-n", "1", "-e", "echo")
    assert named.exit_code == 1 and "no browser here" in named.stderr
