"""Fixtures for the container tests: a real Podman serving the Docker Engine API.

- ``engine_url``: ``podman system service`` started by this session on a socket of
  its own, stopped at the end; ``$DOCKER_HOST`` points at it for the whole session
  (and so for every process the tests start).
- ``echo_image``: echo_env built with ``openenv build`` (the first build on a new
  machine also makes the local Debian base, about two minutes).
- ``tiny_env``: a package made by ``openenv init`` in a temporary folder.
- ``registry``: Debian's ``docker-registry`` on a free 127.0.0.1 port.

Container counts are taken by label (``openenv.managed=1``) and by the images the
tests make, so other containers on the machine never disturb them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_until

OPENENV = str(Path(sys.executable).with_name("openenv"))
ECHO_IMAGE = "openenv-test-echo:latest"


def _missing(*programs: str) -> str | None:
    absent = [p for p in programs if shutil.which(p) is None]
    if absent:
        return (
            f"{', '.join(absent)} not installed (scripts/apt-packages.txt; bash scripts/install.sh)"
        )
    return None


@pytest.fixture(scope="session")
def engine_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    problem = _missing("podman", "runc")
    if problem:
        pytest.skip(problem)
    from openenv.runtime import engine as engine_module

    sock = tmp_path_factory.mktemp("podman") / "podman.sock"
    url = f"unix://{sock}"
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    previous = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = url
    try:
        wait_until(lambda: engine_module._answers(sock), timeout=60, interval=0.05)
        yield url
    finally:
        for container in _our_containers(url):
            subprocess.run(["podman", "rm", "-f", container], capture_output=True)
        service.terminate()
        service.wait(timeout=30)
        if previous is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = previous
        engine_module._client.cache_clear()


def _our_containers(url: str) -> list[str]:
    done = subprocess.run(
        ["podman", "ps", "-a", "-q", "--filter", "label=openenv.managed=1"],
        capture_output=True,
        text=True,
    )
    return done.stdout.split()


def containers_of(image: str) -> list[str]:
    """Ids of the containers (any state) started from ``image`` by OpenEnv."""
    from openenv.runtime.engine import engine

    return [
        c["Id"]
        for c in engine().api.containers(all=True, filters={"label": "openenv.managed=1"})
        if (c.get("Labels") or {}).get("openenv.image") == image
    ]


def wait_for_no_containers(image: str, timeout: float = 60) -> None:
    wait_until(lambda: not containers_of(image), timeout=timeout, interval=0.1)


@pytest.fixture(scope="session")
def echo_image(engine_url: str) -> str:
    from openenv.deploy.images import build_image

    build_image("echo_env", tag=ECHO_IMAGE)
    return ECHO_IMAGE


@pytest.fixture
def tiny_env(tmp_path: Path) -> Path:
    """A fresh package made by ``openenv init`` (name: tiny_env)."""
    subprocess.run(
        [OPENENV, "init", "tiny_env", "-o", str(tmp_path)], check=True, capture_output=True
    )
    return tmp_path / "tiny_env"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """``127.0.0.1:PORT``: a real OCI registry (Debian's docker-registry), empty."""
    problem = _missing("docker-registry")
    if problem:
        pytest.skip(problem)
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp_path / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _answers_http(port), timeout=30, interval=0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers_http(port: int) -> bool:
    import httpx

    try:
        return (
            httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1, trust_env=False).status_code == 200
        )
    except httpx.HTTPError:
        return False


def dead_pid() -> int:
    """The pid of a process that has exited (for an orphan's owner label)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
