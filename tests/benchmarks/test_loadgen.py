"""The benchmark load generator, in quick mode, against our server and the raw floor.

Real servers (subprocesses on loopback), real load worker processes. No timing
assertions: only that every count adds up and nothing failed.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import serve
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from benchmarks import loadgen
from benchmarks.servers import RunningServer, launch

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["ours", "floor"])
def server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    with launch(request.param) as running:
        yield running


@pytest.mark.parametrize("client", loadgen.STEP_CLIENTS)
def test_step_load_counts_every_step(server: RunningServer, client: str) -> None:
    result = loadgen.step_load(
        server.url,
        sessions=6,
        steps=40,
        warmup=3,
        processes=2,
        server_pid=server.pid,
        timeout_s=60,
        client=client,
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


def counter_server(wrong_after: int | None = None, ping_at: int | None = None) -> Any:
    """A websockets handler counting steps like the benchmark's env: the step number
    ``wrong_after`` + 1 gets a wrong total; step ``ping_at`` is answered only after the
    client answered a ping."""

    async def handler(ws: Any) -> None:
        total = 0
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "step":
                total += 1
                if total == ping_at:
                    await asyncio.wait_for(await ws.ping(b"still there?"), 5)
            reported = total + 1000 if wrong_after is not None and total > wrong_after else total
            observation = {"observation": {"total": reported}, "reward": None, "done": False}
            await ws.send(json.dumps({"type": "observation", "data": observation}))

    return handler


def raw_steps(handler: Any, steps: int, warmup: int = 2) -> Any:
    async def go() -> Any:
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]

            async def barrier() -> float:
                return 0.0

            return await loadgen._run_steps(
                f"ws://127.0.0.1:{port}", 1, steps, warmup, barrier, timeout_s=20, client="raw"
            )

    return asyncio.run(go())


def test_raw_steps_check_every_reply() -> None:
    good = raw_steps(counter_server(), steps=30)
    assert (good.completed, good.failed_sessions, good.errors) == (30, 0, [])
    bad = raw_steps(counter_server(wrong_after=10), steps=30)
    assert bad.failed_sessions == 1 and bad.completed == 8  # warm-up 2, then 8 right
    assert "unexpected reply" in bad.errors[0]


def test_raw_steps_answer_a_servers_ping() -> None:
    outcome = raw_steps(counter_server(ping_at=5), steps=10)
    assert (outcome.completed, outcome.failed_sessions, outcome.errors) == (10, 0, [])


def test_a_masked_frame_unmasks_to_its_payload() -> None:
    for payload in (b"", b"x" * 125, b"y" * 126, b"z" * 70_000):
        frame = loadgen.masked_frame(payload)
        reader = StreamReader()
        reader.feed_data(frame)
        with pytest.raises(StopIteration) as done:
            next(Frame.parse(reader.read_exact, mask=True))
        assert done.value.value.data == payload and done.value.value.opcode == Opcode.TEXT


def test_wspath_answers_every_step_in_process() -> None:
    # benchmarks.wspath drives the server's protocol object without sockets; it
    # raises unless every step got its reply.
    from benchmarks import wspath

    assert asyncio.run(wspath.cpu_per_message(300, warmup=20)) > 0
