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
from tests.runtime.helpers import descendants, zombies


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


def test_websocket_compression_is_a_flag() -> None:
    process, base_url = start("echo_env", "--websocket-compression")
    try:
        ws_url = base_url.replace("http://", "ws://") + "/ws"
        with ws_connect(ws_url, compression="deflate") as ws:  # as OpenEnv's client offers
            assert [type(e).__name__ for e in ws.protocol.extensions] == ["PerMessageDeflate"]
            ws.send(json.dumps({"type": "reset"}))
            assert json.loads(ws.recv(timeout=10))["type"] == "observation"
    finally:
        _, err = stop(process)
    assert process.returncode == 0, err


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


def test_serve_sandboxed_drive_and_ctrl_c() -> None:
    before = set(descendants())
    process, base_url = start("echo_env", "--isolation", "sandbox")
    try:
        with EchoEnv(base_url=base_url) as client:
            result = client.reset(seed=1)
            assert result.observation.echoed_message == "Echo environment ready!"
            result = client.step(EchoAction(message="sandboxed"))
            assert result.observation.echoed_message == "sandboxed"
            assert result.reward == pytest.approx(0.9)
            assert client.call_tool("echo_message", message="hi") == "hi"
            # Every session (and the warm pool) runs in bubblewrap, below the server.
            assert any(p.name == "bwrap" for p in descendants(process.pid).values())
    finally:
        out, err = stop(process)
    assert process.returncode == 0, err
    assert "isolation sandbox" in out and "stopped" in out
    assert "Traceback" not in err
    assert set(descendants()) <= before and not zombies()


def boxed_echo(folder: Path, isolation: str) -> Path:
    """A folder environment: echo, with ``isolation`` in its openenv.yaml."""
    folder.mkdir()
    (folder / "openenv.yaml").write_text(
        "name: boxed_echo\n"
        "environment: echo_env.server.environment:EchoEnvironment\n"
        f"isolation: {isolation}\n"
    )
    return folder


def test_isolation_comes_from_openenv_yaml_and_the_flag_overrides_it(tmp_path: Path) -> None:
    folder = boxed_echo(tmp_path / "boxed_echo", "sandbox")
    for args, expected in (((), "sandbox"), (("--isolation", "none"), "none")):
        process, base_url = start(str(folder), *args)
        try:
            with EchoEnv(base_url=base_url) as client:
                assert client.reset().observation.echoed_message
        finally:
            out, err = stop(process)
        assert process.returncode == 0, err
        assert f"isolation {expected}," in out


def test_unknown_isolation_in_openenv_yaml(tmp_path: Path) -> None:
    result = invoke("serve", str(boxed_echo(tmp_path / "odd", "docker")))
    assert result.exit_code == 1
    assert_one_line_error(
        result.stderr, "asks for isolation 'docker'", "--isolation none or sandbox"
    )


@pytest.mark.parametrize("problem", ["missing", "no user namespaces"])
def test_sandbox_unavailable_says_what_to_do(tmp_path: Path, problem: str) -> None:
    if problem == "missing":
        expected = "apt-get install bubblewrap"
    else:
        bwrap = tmp_path / "bwrap"  # fails the way bwrap does where userns are forbidden
        bwrap.write_text(
            "#!/bin/sh\n"
            '[ "$1" = --version ] && echo "bubblewrap 0.8.0" && exit 0\n'
            "echo 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n"
        )
        bwrap.chmod(0o755)
        expected = "unprivileged user namespaces"
    result = subprocess.run(
        [*OPENENV, "serve", "echo_env", "--isolation", "sandbox", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "1000", "PATH": str(tmp_path)},
    )
    assert result.returncode == 1
    assert_one_line_error(result.stderr, expected, "--isolation none")
    assert "serving" not in result.stdout


def test_exit_with_stdin_stops_cleanly() -> None:
    """Launchers' lifeline: the server goes when the pipe on its stdin closes."""
    process = subprocess.Popen(
        [*OPENENV, "serve", "echo_env", "--port", "0", "--exit-with-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "1000"},
    )
    assert process.stdout is not None and process.stdin is not None
    line = process.stdout.readline()
    assert "serving echo_env on http://127.0.0.1:" in line, line
    port = int(line.split("http://127.0.0.1:", 1)[1].split()[0])
    assert port != 0  # --port 0 prints the port it really got
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    process.stdin.close()
    assert process.wait(timeout=20) == 0
    assert "stopped" in process.stdout.read()
    assert process.stderr is not None and "Traceback" not in process.stderr.read()


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
