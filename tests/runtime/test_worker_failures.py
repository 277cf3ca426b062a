"""A sandboxed worker that crashes, is killed, or exceeds a limit ends only its session.

Every test checks the same three things: the session gets a ``SESSION_ERROR``
frame saying how its worker died and its socket is closed; a bystander session
on the same server keeps working; and no process of the dead sandbox is left
(zombies included), counted from ``/proc``.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from openenv.server import create_app
from tests.conftest import (
    Served,
    ask,
    assert_server_healthy,
    close_code,
    expect_error,
    recv,
    send,
    start_server,
    wait_until,
)
from tests.runtime.helpers import (
    assert_gone,
    descendants,
    processes,
    sandbox_config,
    session,
    settled,
    worker_pids,
)
from tests.runtime.sandbox_envs import TrialEnv

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """One sandboxed server for the module, with small limits to hit on purpose."""
    config = sandbox_config(pool=2, memory_mb=128, cpu_seconds=2, max_file_size_mb=1)
    config.step_timeout_s = 20
    server = start_server(create_app(TrialEnv, config=config))
    yield server
    server.stop()


def step(ws: Any, timeout: float = 20, **action: Any) -> dict[str, Any]:
    return ask(ws, {"type": "step", "data": action}, timeout=timeout)


DEATHS = [
    pytest.param({"do": "crash", "amount": 3}, "exited with code 3", "exited", id="os._exit"),
    pytest.param({"do": "exit", "amount": 5}, "exited with code 5", "exited", id="SystemExit"),
    pytest.param(
        {"do": "memory", "amount": 600},
        "was killed: it exceeded its memory limit",
        "memory_limit",
        id="memory",
    ),
    pytest.param(
        {"do": "cpu", "amount": 30},
        "was killed: it exceeded its CPU time limit",
        "cpu_limit",
        id="cpu",
    ),
    pytest.param(
        {"do": "write", "amount": 4},
        "was killed: it exceeded its file size limit",
        "file_size_limit",
        id="file-size",
    ),
]


@pytest.mark.parametrize(("action", "message", "cause"), DEATHS)
def test_a_dying_worker_ends_only_its_session(
    served: Served, action: dict[str, Any], message: str, cause: str
) -> None:
    before = settled(served)
    with session(served) as (bystander, _), session(served) as (ws, doomed):
        pids = worker_pids(doomed)
        assert step(bystander, message="before")["data"]["observation"]["echoed"] == "before"

        error = expect_error(step(ws, **action), "SESSION_ERROR")
        assert error["message"] == f"the sandboxed environment {message}", error
        assert error["cause"] == cause
        assert close_code(ws) == 1000
        assert_gone(pids)

        assert step(bystander, message="after")["data"]["observation"]["echoed"] == "after"
    after = settled(served)
    assert len(after) == len(before), (before, after)
    assert not set(after) & set(pids)


def test_worker_killed_from_the_host_mid_step(served: Served) -> None:
    settled(served)
    with session(served) as (ws, doomed):
        pids = worker_pids(doomed)
        send(ws, {"type": "step", "data": {"do": "sleep", "amount": 30}})
        wait_until(lambda: doomed in served.manager.busy)  # the step is under way
        os.kill(pids[-1], signal.SIGKILL)  # the python process
        error = expect_error(recv(ws, timeout=10), "SESSION_ERROR")
        assert error["message"] == "the sandboxed environment was killed by SIGKILL"
        assert close_code(ws) == 1000
        assert_gone(pids)
    settled(served)


def test_worker_killed_while_idle_fails_the_next_call(served: Served) -> None:
    with session(served) as (ws, doomed):
        pids = worker_pids(doomed)
        os.kill(pids[-1], signal.SIGKILL)
        assert_gone(pids)
        error = expect_error(step(ws, message="anyone?"), "SESSION_ERROR")
        assert "was killed by SIGKILL" in error["message"]
        assert close_code(ws) == 1000
    settled(served)


def test_client_vanishing_mid_step_kills_the_worker(served: Served) -> None:
    before = settled(served)
    with session(served) as (ws, doomed):
        pids = worker_pids(doomed)
        send(ws, {"type": "step", "data": {"do": "sleep", "amount": 30}})
        wait_until(lambda: doomed in served.manager.busy)  # the step is under way
        ws.socket.shutdown(socket.SHUT_RDWR)  # gone: no close frame, no goodbye
        ws.socket.close()
        assert_gone(pids)
        wait_until(lambda: doomed.id not in served.sessions)
    assert len(settled(served)) == len(before)


def test_step_timeout_kills_the_worker(served: Served) -> None:
    before = settled(served)
    with session(served) as (ws, doomed):
        pids = worker_pids(doomed)
        frame = ask(ws, {"type": "step", "data": {"do": "sleep", "amount": 30}, "timeout_s": 0.3})
        expect_error(frame, "TIMEOUT")
        assert close_code(ws) == 1000
        assert_gone(pids)
    assert len(settled(served)) == len(before)


def test_a_daemon_left_in_the_sandbox_dies_with_the_session(served: Served) -> None:
    before = settled(served)
    with session(served) as (ws, doomed):
        alone = len(worker_pids(doomed))
        assert step(ws, do="daemon")["type"] == "observation"
        pids = wait_until(lambda: p if len(p := worker_pids(doomed)) > alone else None)
        send(ws, {"type": "close"})
        assert close_code(ws) == 1000
    assert_gone(pids)
    assert len(settled(served)) == len(before)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("garbage", "the sandboxed environment sent a malformed reply; session ended"),
        (
            "bad_observation",
            "the sandboxed environment sent an invalid observation (1 error(s)); session ended",
        ),
    ],
)
def test_a_worker_breaking_the_protocol_is_killed(served: Served, action: str, message) -> None:
    with session(served) as (ws, doomed):
        pids = worker_pids(doomed)
        error = expect_error(step(ws, do=action), "SESSION_ERROR")
        assert error["message"] == message
        assert error["cause"] == "protocol"
        assert close_code(ws) == 1000
        assert_gone(pids)
    assert_server_healthy(served)


def test_environment_exceptions_keep_their_type_and_the_session(served: Served) -> None:
    with session(served) as (ws, _):
        error = expect_error(step(ws, do="raise", message="x"), "EXECUTION_ERROR")
        assert error["message"] == "KeyError: 'no such thing: x'"
        assert "Traceback" not in error["message"]
        assert step(ws, message="still")["data"]["observation"]["echoed"] == "still"
    assert_server_healthy(served)


def test_close_ends_the_sandbox_without_orphans(served: Served) -> None:
    """A normal close kills the sandbox's pid 1 first, so nothing is re-parented to PID 1."""
    settled(served)
    closed: list[int] = []
    for _ in range(3):
        with session(served) as (ws, s):
            pids = worker_pids(s)
            closed += pids
            step(ws, message="hi")
            send(ws, {"type": "close"})
            assert close_code(ws) == 1000
        assert_gone(pids)
    settled(served)
    time.sleep(0.1)
    orphans = [p for p in processes().values() if p.pid in closed]  # not ours any more
    assert not orphans, orphans
    assert not any(p.state == "Z" for p in descendants().values())
