"""The servers a benchmark compares, each started as a subprocess on a free loopback port.

* ``ours`` — our ``create_app`` serving the counter env (:mod:`.ours`);
* ``reference`` — the reference OpenEnv 0.10 ``create_app`` serving an equivalent
  counter env with async reset/step (:mod:`.reference`), under the reference's own
  Python (:func:`benchmarks.reference.venv.reference_python`);
* ``reference-sync`` — the same with sync reset/step, run by the reference in each
  session's own thread, sleeping with ``time.sleep``;
* ``floor`` — a raw ``websockets`` server speaking the same frames (:mod:`.floor`).

Example::

    with launch("ours") as server:
        print(server.url, server.pid)   # ws://127.0.0.1:PORT/ws
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.loadgen import die_with_parent

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def _reference_python() -> str:
    from benchmarks.reference.venv import reference_python

    return str(reference_python())


def uvloop_overlay(python: str) -> str | None:
    """A folder that gives ``python`` the uvloop we have, for ``--loop uvloop``; None if not needed.

    The reference venv has no uvloop (OpenEnv 0.10 depends on plain ``uvicorn``).
    To compare servers on the same event loop, the same uvloop version is
    installed once into a folder next to that venv (``pip install --target``) and
    put on the reference server's ``PYTHONPATH``; the venv itself is left as is.
    """
    probe = subprocess.run([python, "-c", "import uvloop"], capture_output=True)
    if probe.returncode == 0:
        return None
    import importlib.metadata

    version = importlib.metadata.version("uvloop")
    venv = Path(python).parent.parent  # .../VENV/bin/python -> .../VENV
    overlay = venv.parent / f"{venv.name}-uvloop-{version}"
    marker = overlay / ".ready"
    if not marker.exists():
        overlay.mkdir(parents=True, exist_ok=True)
        with open(overlay.parent / f".{overlay.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not marker.exists():
                subprocess.run(
                    [
                        python,
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        "--target",
                        str(overlay),
                        f"uvloop=={version}",
                    ],
                    check=True,
                )
                marker.touch()
    return str(overlay)


@dataclass(frozen=True)
class ServerKind:
    """How to start one kind of server."""

    name: str
    description: str
    script: str
    python: Callable[[], str] = lambda: sys.executable
    extra_args: tuple[str, ...] = ()


KINDS: dict[str, ServerKind] = {
    kind.name: kind
    for kind in (
        ServerKind("ours", "our create_app + uvicorn, counter env (async)", "ours.py"),
        ServerKind(
            "reference",
            "OpenEnv 0.10 create_app + uvicorn, counter env (async reset/step)",
            "reference.py",
            _reference_python,
        ),
        ServerKind(
            "reference-sync",
            "OpenEnv 0.10, counter env (sync reset/step in the session thread)",
            "reference.py",
            _reference_python,
            ("--sync-sleep",),
        ),
        ServerKind("floor", "raw websockets server, same frames", "floor.py"),
    )
}


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _prepare_child(cpus: set[int] | None) -> None:  # pragma: no cover - runs before exec
    die_with_parent()
    if cpus:
        os.sched_setaffinity(0, cpus)


@dataclass
class RunningServer:
    """A benchmark server subprocess listening on loopback."""

    kind: ServerKind
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    _stopped: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's output (for error messages)."""
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""

    def wait_listening(self, timeout_s: float) -> None:
        """Block until the port accepts connections; raise if the server died or is late."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} server exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), timeout=0.5),
            ):
                return
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} server not listening after {timeout_s:g} s")

    def stop(self, grace_s: float = 8.0) -> None:
        """SIGTERM (uvicorn closes its sessions), then SIGKILL after ``grace_s``."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                self.process.wait(5)


def start(
    name: str,
    *,
    loop: str = "asyncio",
    host: str = "127.0.0.1",
    log_dir: Path | None = None,
    ready_timeout_s: float = 60.0,
    cpus: Collection[int] | None = None,
    profile_out: Path | None = None,
    extra_args: Collection[str] = (),
) -> RunningServer:
    """Start the server ``name`` (a key of :data:`KINDS`) and wait until it listens.

    ``cpus`` pins the server to those cores (``sched_setaffinity``). The caller
    must :meth:`~RunningServer.stop` it (or use :func:`launch`). With
    ``profile_out``, the server runs under the sampling profiler of
    :mod:`._sampled`, which writes collapsed stacks there when it exits.
    """
    kind = KINDS[name]
    port = free_port(host)
    log_dir = log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    log_path = log_dir / f"openenv-bench-{name}-{port}.log"
    python = kind.python()
    profiler = [] if profile_out is None else [str(HERE / "_sampled.py"), str(profile_out)]
    command = [
        python,
        *profiler,
        str(HERE / kind.script),
        "--host",
        host,
        "--port",
        str(port),
        "--loop",
        loop,
        *kind.extra_args,
        *extra_args,
    ]
    env = dict(os.environ)
    env.pop("ENABLE_WEB_INTERFACE", None)
    if loop == "uvloop" and python != sys.executable:
        overlay = uvloop_overlay(python)
        if overlay:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (overlay, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
            env=env,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
            preexec_fn=functools.partial(_prepare_child, None if cpus is None else set(cpus)),
        )
    server = RunningServer(kind, host, port, process, log_path)
    try:
        server.wait_listening(ready_timeout_s)
    except BaseException:
        server.stop()
        raise
    return server


@contextlib.contextmanager
def launch(name: str, **kwargs: object) -> Iterator[RunningServer]:
    """``with launch("ours") as server:`` — started, and always stopped on the way out."""
    server = start(name, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()
