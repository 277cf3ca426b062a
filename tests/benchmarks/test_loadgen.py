"""The benchmark load generator, in quick mode, against our server and the raw floor.

Real servers (subprocesses on loopback), real load worker processes. No timing
assertions: only that every count adds up and nothing failed.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import loadgen
from benchmarks.servers import RunningServer, launch

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["ours", "floor"])
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with launch(request.param) as running:
        yield running


def test_step_load_counts_every_step(server: RunningServer) -> None:
    result = loadgen.step_load(
        server.url,
        sessions=6,
        steps=40,
        warmup=3,
        processes=2,
        server_pid=server.pid,
        timeout_s=60,
    )
    assert result.errors == []
    assert result.failed_sessions == 0
    assert result.completed_steps == result.expected_steps == 240
    assert result.latency.count == 240
    assert 0 < result.latency.p50 <= result.latency.p99 <= result.latency.max
    assert result.wall_s > 0 and result.steps_per_s > 0
    assert result.server_cpu_s is not None and result.server_cpu_s >= 0
    assert result.server_cpu_us_per_step is not None


def test_single_session_latency(server: RunningServer) -> None:
    result = loadgen.step_load(server.url, sessions=1, steps=200, warmup=10, timeout_s=60)
    assert result.errors == [] and result.failed_sessions == 0
    assert result.completed_steps == 200
    assert result.processes == 1
    assert not math.isnan(result.latency.p50)


def test_connect_latency(server: RunningServer) -> None:
    result = loadgen.connect_latency(server.url, count=15, timeout_s=60)
    assert result.errors == []
    assert result.ok == 15 and result.failures == 0
    assert result.latency.count == 15 and result.latency.p50 > 0


def test_hold_sleeping_sessions(server: RunningServer) -> None:
    result = loadgen.hold_sleeping(
        server.url,
        60,
        sleep_s=0.3,
        deadline_s=15,
        connect_timeout_s=30,
        processes=2,
        server_pid=server.pid,
    )
    assert result.errors == []
    assert result.connected == result.succeeded == 60
    assert result.success_rate == 1.0
    # every reply came after the server slept
    assert result.step_latency.count == 60 and result.step_latency.p50 >= 0.3
    assert result.server_threads is not None and result.server_threads >= 1
    assert result.server_rss_bytes is not None and result.server_rss_bytes > 0


def test_failures_are_counted_not_raised() -> None:
    # Nobody listens there: every session fails, and the result says so.
    from benchmarks.servers import free_port

    url = f"ws://127.0.0.1:{free_port()}/ws"
    result = loadgen.step_load(url, sessions=3, steps=5, timeout_s=10)
    assert result.completed_steps == 0 and result.failed_sessions == 3
    assert result.errors
    hold = loadgen.hold_sleeping(url, 4, sleep_s=0.1, deadline_s=2, connect_timeout_s=5)
    assert hold.succeeded == 0 and hold.success_rate == 0.0 and hold.errors


def test_cli_prints_json(server: RunningServer) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.loadgen",
            "steps",
            server.url,
            "--sessions",
            "2",
            "--steps",
            "10",
            "--server-pid",
            str(server.pid),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    summary = json.loads(out.stdout)
    assert summary["completed_steps"] == 20 and summary["failed_sessions"] == 0


@pytest.mark.slow
def test_run_script_quick_ours_and_floor(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--only",
            "ours,floor",
            "--levels",
            "50",
            "--json",
            str(report),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(report.read_text())
    for name in ("ours", "floor"):
        figures = data["figures"][name]
        assert figures["held"] == 50
        assert figures["tput_64"] > 0 and figures["p50_1"] > 0 and figures["cpu_64"] > 0
        runs = data["servers"][name]
        assert runs["multi_session"][0]["failed_sessions"] == 0
        assert runs["multi_session"][0]["completed_steps"] == 64 * 100
    targets = {t["name"]: t for t in data["targets"]}
    assert targets["1-session step p50 ≤ 1.2 x floor"]["value"] is not None
