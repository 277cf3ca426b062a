"""``openenv serve``: a real server in a subprocess, driven by the client, stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from echo_env import EchoAction, EchoEnv
from websockets.sync.client import connect as ws_connect

from tests.cli.helpers import OPENENV, REPO, assert_one_line_error, invoke, run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """Start ``openenv serve ARGS --port <free>`` and wait until /health answers."""
    port = free_port()
    process = subprocess.Popen(
        [*OPENENV, "serve", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, process.communicate()
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code in (200, 401):
                return process, base_url
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.05)


def stop(process: subprocess.Popen[str], sig: int = signal.SIGINT) -> tuple[str, str]:
    process.send_signal(sig)
    try:
        out, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return out, err


@pytest.mark.parametrize("target", ["echo_env", str(REPO / "envs" / "echo_env")])
def test_serve_drive_and_ctrl_c(target: str) -> None:
    process, base_url = start(target)
    try:
        with EchoEnv(base_url=base_url) as client:
            result = client.reset(seed=1)
            assert result.observation.echoed_message == "Echo environment ready!"
            result = client.step(EchoAction(message="hello"))
            assert result.observation.echoed_message == "hello"
            assert result.reward == pytest.approx(0.5)
            assert client.state().step_count == 1
            assert client.call_tool("echo_message", message="hi") == "hi"
    finally:
        out, err = stop(process)
    assert process.returncode == 0, err
    listen = [line for line in out.splitlines() if "serving echo_env on" in line]
    assert len(listen) == 1, out
    port = base_url.rsplit(":", 1)[1]
    assert f"on {base_url}" in listen[0]
    assert f"ws://127.0.0.1:{port}/ws" in listen[0]
    assert "no token" in listen[0]
    assert "Traceback" not in err


def test_sigterm_stops_cleanly_too() -> None:
    process, _ = start("echo_env")
    out, err = stop(process, signal.SIGTERM)
    assert process.returncode == 0, err
    assert "stopped" in out


def test_token_and_limits_are_applied() -> None:
    process, base_url = start(
        "echo_env", "--max-sessions", "1", "--step-timeout", "5", env={"OPENENV_TOKEN": "s3cret"}
    )
    try:
        assert httpx.get(f"{base_url}/schema").status_code == 401
        headers = {"Authorization": "Bearer s3cret"}
        assert httpx.get(f"{base_url}/schema", headers=headers).status_code == 200
        with EchoEnv(base_url=base_url, token="s3cret") as first:
            first.reset()
            ws_url = base_url.replace("http://", "ws://") + "/ws"
            with ws_connect(ws_url, additional_headers=headers) as second:
                frame = json.loads(second.recv(timeout=10))
            assert frame["type"] == "error"
            assert frame["data"]["code"] == "CAPACITY_REACHED"
    finally:
        out, err = stop(process)
    assert process.returncode == 0, err
    assert "token required" in out
    assert "max 1 sessions" in out


def test_unknown_env_is_one_line() -> None:
    result = run("serve", "no_such_env")
    assert result.returncode == 1
    assert_one_line_error(
        result.stderr, "no environment named 'no_such_env'", "installed: ", "echo_env"
    )


def test_folder_without_openenv_yaml(tmp_path: Path) -> None:
    result = invoke("serve", str(tmp_path))
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "has no openenv.yaml")


def test_sandbox_is_not_available_yet() -> None:
    result = invoke("serve", "echo_env", "--isolation", "sandbox")
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "isolation 'sandbox' is not available yet")


def test_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = invoke("serve", "echo_env", "--port", str(port))
    assert result.exit_code == 1
    assert_one_line_error(
        result.stderr, f"cannot listen on 127.0.0.1:{port}", "pick another --port"
    )
