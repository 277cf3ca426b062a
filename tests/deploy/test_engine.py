"""Finding the container engine (runtime/engine.py): Podman's service, started by us."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from openenv.runtime import engine as engine_module
from tests.conftest import wait_until


def _service_pids(sock: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if b"service" in argv and f"unix://{sock}".encode() in argv:
                found.append(int(entry))
    return found


def test_a_podman_service_started_here_keeps_its_own_directory_and_is_reaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service started from a directory deleted later (a CI checkout) failed every
    container it ran; and once idle it exited as a zombie child of a long test run."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        pytest.skip("podman and runc not installed (scripts/apt-packages.txt)")
    sock = tmp_path / "service" / "podman.sock"
    caller = tmp_path / "checkout"
    caller.mkdir()
    monkeypatch.chdir(caller)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("OPENENV_PODMAN_SOCKET", str(sock))
    if engine_module._answers(Path("/var/run/docker.sock")):
        pytest.skip("a Docker daemon answers here: engine_url() would not start Podman")

    assert engine_module.engine_url() == f"unix://{sock}"
    (pid,) = _service_pids(sock)
    try:
        assert os.readlink(f"/proc/{pid}/cwd") == str(sock.parent)
        assert engine_module.engine_url() == f"unix://{sock}"
        assert _service_pids(sock) == [pid]  # answered: reused, not started again
    finally:
        os.kill(pid, signal.SIGTERM)
    # Reaped: gone from /proc, not left as a zombie (state Z) of this process.
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), timeout=30, interval=0.05)
