"""The runtime interface and its local implementations: a real ``openenv serve`` subprocess.

Every test checks that what it started is gone afterwards: no process left among
this test process's descendants, and no zombie (see tests/runtime/helpers.py).
"""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
from echo_env import EchoAction, EchoEnv
from echo_env.server import EchoEnvironment

from openenv.runtime.base import Runtime, RuntimeStartError
from openenv.runtime.local import LocalRuntime, LocalSandboxRuntime
from openenv.server import ServerConfig, create_app
from openenv.server.run import BackgroundServer
from tests.runtime.helpers import descendants

pytestmark = pytest.mark.timeout(60)


def fake_python(tmp_path: Path, body: str) -> str:
    """An executable that stands in for ``python -m openenv serve ...``."""
    path = tmp_path / "fake-python"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_start_health_stop(no_leaks: None) -> None:
    runtime = LocalRuntime("echo_env")
    assert not runtime.health() and runtime.base_url is None
    base_url = runtime.start()
    try:
        assert base_url.startswith("http://127.0.0.1:") and runtime.base_url == base_url
        assert runtime.start() == base_url  # idempotent
        assert runtime.health() and runtime.running
        assert runtime.pid in descendants()
        # A random token guards the server; without it nothing answers.
        assert runtime.token and len(runtime.token) >= 16
        assert httpx.get(f"{base_url}/health", trust_env=False).status_code == 401
        with EchoEnv(base_url=base_url, token=runtime.token) as client:
            client.reset()
            assert client.step(EchoAction(message="hi")).observation.echoed_message == "hi"
        assert "isolation none" in runtime.output()
    finally:
        runtime.stop()
    assert not runtime.health() and not runtime.running and runtime.base_url is None
    assert "stopped" in runtime.output()  # a clean shutdown, not a kill
    runtime.stop()  # twice is fine


def test_context_manager_and_no_token(no_leaks: None) -> None:
    with LocalRuntime("echo_env", require_token=False, server_args=["--max-sessions", "3"]) as rt:
        assert rt.token is None
        response = httpx.get(f"{rt.base_url}/health", trust_env=False)
        assert response.json() == {"status": "healthy"}
        assert "max 3 sessions" in rt.output()
        pid = rt.pid
    assert pid not in descendants()


def test_folder_and_explicit_port(no_leaks: None, tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    with LocalRuntime(repo / "envs" / "echo_env") as rt:
        port = int(rt.base_url.rsplit(":", 1)[1])  # type: ignore[union-attr]
    with LocalRuntime("echo_env", port=port) as rt:  # a port just freed: pass it on
        assert rt.base_url == f"http://127.0.0.1:{port}"


def test_sandboxed_runtime_runs_sessions_in_sandboxes(no_leaks: None) -> None:
    with LocalSandboxRuntime("echo_env", isolation="none") as rt:  # isolation is not negotiable
        assert rt.isolation == "sandbox"
        assert "isolation sandbox" in rt.output()
        with EchoEnv(base_url=rt.base_url, token=rt.token) as client:  # type: ignore[arg-type]
            client.reset()
            assert client.step(EchoAction(message="boxed")).observation.echoed_message == "boxed"
            below = descendants(rt.pid)
            assert any(p.name == "bwrap" for p in below.values()), below
    # The server's sandboxes went with it (checked by no_leaks).


def test_server_that_fails_gives_its_output(no_leaks: None) -> None:
    runtime = LocalRuntime("no_such_env")
    with pytest.raises(RuntimeStartError) as failure:
        runtime.start()
    message = str(failure.value)
    assert "openenv serve no_such_env exited with code 1 before it was healthy" in message
    assert "no environment named 'no_such_env'" in message  # the server's own words
    assert not runtime.running and runtime.base_url is None


def test_server_that_never_gets_healthy_is_killed(no_leaks: None, tmp_path: Path) -> None:
    # It prints, ignores SIGTERM and never listens: start times out, and stop, after
    # stop_timeout_s, kills its process group.
    python = fake_python(tmp_path, "trap '' TERM\necho 'warming up forever'\nexec sleep 60")
    runtime = LocalRuntime("echo_env", python=python, start_timeout_s=1, stop_timeout_s=0.3)
    with pytest.raises(RuntimeStartError) as failure:
        runtime.start()
    message = str(failure.value)
    assert "was not healthy (it never said where it listens) within 1 s" in message
    assert "warming up forever" in message


def test_server_exits_when_its_stdin_closes(no_leaks: None) -> None:
    runtime = LocalRuntime("echo_env")
    runtime.start()
    process = runtime._process
    assert process is not None and process.stdin is not None
    process.stdin.close()  # what happens when the launching process dies
    assert process.wait(timeout=15) == 0
    runtime.stop()
    assert "stopped" in runtime.output()


def test_bad_isolation_is_refused() -> None:
    with pytest.raises(ValueError, match="isolation must be"):
        LocalRuntime("echo_env", isolation="docker")


def test_background_server_is_a_runtime() -> None:
    server = BackgroundServer(create_app(EchoEnvironment))
    assert isinstance(server, Runtime) and not server.health()
    with server as running:
        assert running.health() and running.base_url == running.url
        with EchoEnv(base_url=running.url) as client:
            assert client.reset().observation.echoed_message
    assert not server.health() and server.stopped

    # Any runtime can back a launcher; the client then owns it.
    app = create_app(EchoEnvironment, config=ServerConfig(token="in-process-token"))
    with EchoEnv.from_runtime(BackgroundServer(app)) as client:
        assert client.runtime is not None and client.runtime.token == "in-process-token"
        assert client.reset().observation.echoed_message
        runtime = client.runtime
    assert not runtime.health()


def test_a_minimal_runtime() -> None:
    class Fixed(Runtime):
        """Points at a server someone else runs."""

        def __init__(self, url: str) -> None:
            self.url, self.stops = url, 0

        def start(self) -> str:
            self.base_url = self.url
            return self.url

        def health(self) -> bool:
            return self.base_url is not None

        def stop(self) -> None:
            self.stops += 1
            self.base_url = None

    with Fixed("http://example.invalid") as runtime:
        assert runtime.health() and "example.invalid" in repr(runtime)
    assert runtime.stops == 1 and not runtime.health()
    with pytest.raises(TypeError):
        Runtime()  # type: ignore[abstract]
