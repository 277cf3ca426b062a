"""Fixtures for compatibility tests against the reference OpenEnv (``openenv==0.10.0``).

The reference package is also called ``openenv``, so it lives in its own virtual
environment (``benchmarks.reference.venv``; ``$OPENENV_REFERENCE_VENV`` chooses
where) and everything that imports it runs there, in a subprocess:

- ``reference_python``: that venv's Python, created on first use (about 30 s).
  Nothing is skipped: if the install fails, every test here fails with pip's error.
- ``our_servers``: our echo env served by uvicorn in background threads on free
  loopback ports: ``default``, ``capacity_1`` (``max_sessions=1``) and
  ``metadata`` (echo that also returns observation metadata, as OpenEnv's echo does).
- ``reference_servers``: ``benchmarks/reference/echo_server.py`` run by the
  reference Python: ``default`` and ``capacity_1`` (``--max-sessions 1``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from benchmarks.reference.venv import reference_python as _reference_python
from openenv.server import ServerConfig, create_app, uvicorn_config

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_ECHO_SERVER = ROOT / "benchmarks" / "reference" / "echo_server.py"
START_TIMEOUT_S = 60.0


def subprocess_env() -> dict[str, str]:
    """The environment for reference-side subprocesses: none of our settings leak in."""
    env = dict(os.environ)
    for name in (
        "PYTHONPATH",
        "PYTHONHOME",
        "VIRTUAL_ENV",
        "OPENENV_TOKEN",
        "OPENENV_MODE",
        "OPENENV_CLIENT_MODE",
        "ENABLE_WEB_INTERFACE",
    ):
        env.pop(name, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="session")
def reference_env() -> dict[str, str]:
    """Environment variables for a subprocess run by the reference Python."""
    return subprocess_env()


@pytest.fixture(scope="session")
def reference_python() -> Path:
    """Python of the venv holding openenv==0.10.0 (installed now if missing)."""
    python = _reference_python()
    check = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('openenv'))"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert check.returncode == 0, f"reference venv is broken:\n{check.stderr}"
    assert check.stdout.strip() == "0.10.0", check.stdout
    return python


# -- our servers, in this process --------------------------------------------------------


@dataclass
class OurServer:
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def start_our_server(env: Any, **config: Any) -> OurServer:
    app = create_app(env, config=ServerConfig(token=None, **config))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, port=port))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"compat-ours-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("our server failed to start")
        time.sleep(0.005)
    sock.close()  # uvicorn serves from its own duplicate
    return OurServer(f"http://127.0.0.1:{port}", server, thread)


def echo_with_metadata_env() -> type:
    """Our echo env, also returning ``metadata`` on each step as OpenEnv's echo env does."""
    from echo_env.server import EchoEnvironment

    class EchoWithMetadata(EchoEnvironment):
        def _step(self, action: Any, timeout_s: float | None = None) -> Any:
            observation = super()._step(action, timeout_s)
            observation.metadata = {
                "original_message": action.message,
                "step_count": self.state.step_count,
            }
            return observation

    return EchoWithMetadata


@pytest.fixture(scope="session")
def our_servers() -> Iterator[dict[str, str]]:
    """Base URLs of our echo servers: ``default``, ``capacity_1``, ``metadata``."""
    from echo_env.server import EchoEnvironment

    servers = {
        "default": start_our_server(EchoEnvironment),
        "capacity_1": start_our_server(EchoEnvironment, max_sessions=1),
        "metadata": start_our_server(echo_with_metadata_env()),
    }
    try:
        yield {name: served.base_url for name, served in servers.items()}
    finally:
        for served in servers.values():
            served.stop()


# -- reference servers, in subprocesses run by the reference Python -----------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ReferenceServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Any  # the temporary file holding its stdout and stderr

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


def launch_reference_server(python: Path, max_sessions: int) -> ReferenceServer:
    port = free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [
            str(python),
            str(REFERENCE_ECHO_SERVER),
            "--port",
            str(port),
            "--max-sessions",
            str(max_sessions),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=subprocess_env(),
        cwd=tempfile.gettempdir(),  # nothing called `openenv` on its path but the reference
    )
    return ReferenceServer(f"http://127.0.0.1:{port}", process, log)


def wait_healthy(server: ReferenceServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"reference server exited with {server.process.returncode}:\n{server.output()}"
            )
        try:
            response = httpx.get(f"{server.base_url}/health", timeout=1, trust_env=False)
            if response.status_code == 200 and response.json() == {"status": "healthy"}:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"reference server not healthy in time:\n{server.output()}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def reference_servers(reference_python: Path) -> Iterator[dict[str, str]]:
    """Base URLs of reference echo servers: ``default`` and ``capacity_1``."""
    servers: dict[str, ReferenceServer] = {}
    try:
        # Both start at once: most of their start-up is importing the reference package.
        servers["default"] = launch_reference_server(reference_python, 64)
        servers["capacity_1"] = launch_reference_server(reference_python, 1)
        for server in servers.values():
            wait_healthy(server)
        yield {name: server.base_url for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
