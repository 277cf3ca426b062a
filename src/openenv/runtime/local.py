"""Local runtimes: an ``openenv serve`` subprocess on this machine, plain or sandboxed.

:class:`LocalRuntime` runs ``python -m openenv serve ENV --port 0`` with this
interpreter, reads the port the server actually bound from its first line of
output, and waits until ``GET /health`` answers. ``isolation="none"`` runs each
session's environment in the server process; ``isolation="sandbox"`` runs every
session in its own bubblewrap sandbox (see :mod:`openenv.runtime.sandbox`), and
is checked before anything starts (:class:`~openenv.runtime.sandbox.SandboxUnavailable`
says what to install). :class:`LocalSandboxRuntime` is the sandboxed one.

Example::

    from openenv.runtime.local import LocalRuntime

    with LocalRuntime("echo_env", isolation="sandbox") as runtime:
        print(runtime.base_url, runtime.health())     # http://127.0.0.1:43117 True
        # EchoEnv(base_url=runtime.base_url, token=runtime.token) ...

What it guarantees:

* the server binds 127.0.0.1 and, unless told otherwise, requires a random
  bearer token (:attr:`LocalRuntime.token`), so other local users cannot drive it;
* :meth:`~LocalRuntime.start` either returns a healthy server's URL or raises
  :class:`~openenv.runtime.base.RuntimeStartError`, leaving nothing running: one
  line with the server's own one-line error and, when it printed more, the path of
  a file that keeps its output (``$TMPDIR/openenv-serve-ENV-*.log``);
* :meth:`~LocalRuntime.stop` ends the server (SIGTERM, then SIGKILL to its process
  group after ``stop_timeout_s``) and reaps it; its sandboxes go with it;
* the server also exits when this process dies without stopping it (even on
  SIGKILL): it watches its stdin, a pipe only this process holds.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx

from ..errors import RuntimeStartError
from .base import Runtime

ISOLATION_LEVELS = ("none", "sandbox")

_ANNOUNCED = re.compile(r" on (https?://\S+) \(WebSocket ")
"""``openenv serve`` announces where it listens in this form (see ``cli/serve.py``)."""
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
OUTPUT_LINES = 200
TAIL_LINES = 25


class LocalRuntime(Runtime):
    """An ``openenv serve ENV`` subprocess on a free loopback port.

    ``env`` is an installed environment name or a folder with ``openenv.yaml``.
    ``isolation`` is ``"none"``, ``"sandbox"`` or ``None`` (the environment's
    ``openenv.yaml`` decides, else ``none``). ``token=None`` generates a random
    token; ``require_token=False`` serves without one. ``server_args`` are more
    ``openenv serve`` options (``["--max-sessions", "8"]``); ``env_vars`` are set
    for the server process, over this one's environment.
    """

    def __init__(
        self,
        env: str | Path,
        *,
        isolation: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        require_token: bool = True,
        server_args: Sequence[str] = (),
        start_timeout_s: float = 60.0,
        stop_timeout_s: float = 10.0,
        python: str | None = None,
        env_vars: Mapping[str, str] | None = None,
    ) -> None:
        if isolation is not None and isolation not in ISOLATION_LEVELS:
            raise ValueError(f"isolation must be 'none', 'sandbox' or None, not {isolation!r}")
        self.env = env
        self.isolation = isolation
        self.host = host
        self.port = port
        self.token = (token or secrets.token_urlsafe(24)) if require_token else None
        self.server_args = list(server_args)
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.python = python or sys.executable
        self.env_vars = dict(env_vars or {})
        self.base_url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._lines: collections.deque[str] = collections.deque(maxlen=OUTPUT_LINES)
        self._announced: str | None = None
        self._lock = threading.Lock()

    # -- the interface ---------------------------------------------------------------------

    def start(self) -> str:
        with self._lock:
            if self._process is not None and self.base_url is not None:
                return self.base_url
            if self.isolation == "sandbox":
                check_sandbox()  # SandboxUnavailable: what to install, before anything starts
            self._spawn()
            try:
                self.base_url = self._wait_until_healthy()
            except BaseException:
                self._stop_locked()
                raise
            return self.base_url

    def health(self) -> bool:
        process, base_url = self._process, self.base_url
        if process is None or base_url is None or process.poll() is not None:
            return False
        return self._health_status(base_url) == 200

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    # -- more ------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def output(self, lines: int = TAIL_LINES) -> str:
        """The last ``lines`` lines the server printed (stdout and stderr together)."""
        return "\n".join(list(self._lines)[-lines:])

    def command(self) -> list[str]:
        """The command line of the server."""
        argv = [self.python, "-m", "openenv", "serve", str(self.env)]
        argv += ["--host", self.host, "--port", str(self.port), "--exit-with-stdin"]
        if self.isolation is not None:
            argv += ["--isolation", self.isolation]
        return argv + self.server_args

    # -- plumbing --------------------------------------------------------------------------

    def _spawn(self) -> None:
        env = {**os.environ, **self.env_vars}
        env.update(NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1")
        env["COLUMNS"] = "1000"  # one line per message, never wrapped
        env.pop("FORCE_COLOR", None)
        env.pop("OPENENV_TOKEN", None)
        if self.token:
            env["OPENENV_TOKEN"] = self.token  # not on the command line, where `ps` shows it
        self._lines.clear()
        self._announced = None
        try:
            process = subprocess.Popen(
                self.command(),
                stdin=subprocess.PIPE,  # EOF when we go, however we go: the server then exits
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C in a terminal is ours to handle, not the server's
            )
        except OSError as exc:
            raise RuntimeStartError(f"cannot run {self.python}: {exc.strerror or exc}") from None
        self._process = process
        self._reader = threading.Thread(
            target=self._read_output,
            args=(process.stdout,),
            name=f"openenv-runtime-{process.pid}",
            daemon=True,
        )
        self._reader.start()

    def _read_output(self, stream: IO[bytes] | None) -> None:
        if stream is None:
            return
        with contextlib.suppress(OSError, ValueError):
            for raw in stream:
                line = _ANSI.sub("", raw.decode("utf-8", "replace").rstrip())
                self._lines.append(line)
                if self._announced is None:
                    match = _ANNOUNCED.search(line)
                    if match:
                        self._announced = match.group(1)

    def _wait_until_healthy(self) -> str:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + self.start_timeout_s
        interval = 0.01
        while True:
            code = process.poll()
            if code is not None:
                if self._reader is not None:
                    self._reader.join(timeout=2)  # the last words of the server
                raise RuntimeStartError(
                    self._failure(f"exited with code {code} before it was healthy")
                )
            url = self._announced
            if url is not None and self._health_status(url) == 200:
                return url
            if time.monotonic() > deadline:
                where = f"on {url}" if url else "(it never said where it listens)"
                raise RuntimeStartError(
                    self._failure(f"was not healthy {where} within {self.start_timeout_s:g} s")
                )
            time.sleep(interval)
            interval = min(interval * 1.5, 0.1)

    def _failure(self, what: str) -> str:
        """One line: what happened, the server's own one-line error, where its output is."""
        lines = [line.strip() for line in self._lines if line.strip()]
        if not lines:
            return f"openenv serve {self.env} {what} (it printed nothing)"
        said = server_error(lines)
        message = f"openenv serve {self.env} {what}"
        message += f": {said}" if said else f"; its last line: {lines[-1]}"
        if len(lines) > 1:  # more than the one line shown
            message += f" (its output: {self._keep_output(lines)})"
        return message

    def _keep_output(self, lines: list[str]) -> str:
        """Write what the server printed (its last ``OUTPUT_LINES`` lines) to a file; its path."""
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(str(self.env)).name) or "env"
        with tempfile.NamedTemporaryFile(
            "w", prefix=f"openenv-serve-{name}-", suffix=".log", delete=False
        ) as file:
            file.write("\n".join(lines) + "\n")
        return file.name

    def _health_status(self, base_url: str) -> int | None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = httpx.get(f"{base_url}/health", headers=headers, timeout=2, trust_env=False)
        except httpx.HTTPError:
            return None
        return response.status_code

    def _stop_locked(self) -> None:
        process, self._process = self._process, None
        self.base_url = None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the server sees EOF and shuts down
        if process.poll() is None:
            with contextlib.suppress(OSError):
                process.send_signal(signal.SIGTERM)
            _exited(process.pid, self.stop_timeout_s)  # still running after it: killed below
        # The server (or its zombie) still holds its process-group id here, so this
        # reaches only what it left in its group, never an unrelated process.
        if process.returncode is None:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        if process.stdout is not None:
            with contextlib.suppress(OSError):
                process.stdout.close()


def server_error(lines: Sequence[str]) -> str | None:
    """The server's one-line reason for failing, from its output lines.

    ``openenv serve`` ends a failure with ``error: <message>``: that message. Else the
    last line of a Python traceback (``ValueError: ...``), else ``None``.
    """
    for line in reversed(lines):
        if line.startswith("error: "):
            return line.removeprefix("error: ").strip()
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        return lines[-1].strip() if lines else None
    return None


def check_sandbox() -> None:
    """:func:`openenv.runtime.sandbox.check_sandbox`, its advice worded for Python callers."""
    from .sandbox import SandboxUnavailable
    from .sandbox import check_sandbox as check

    try:
        check()
    except SandboxUnavailable as exc:
        raise SandboxUnavailable(str(exc).replace("--isolation none", "isolation='none'")) from None


def _exited(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` for child ``pid`` to exit, without reaping it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


class LocalSandboxRuntime(LocalRuntime):
    """A local server whose every session runs in its own sandbox (``isolation="sandbox"``)."""

    def __init__(self, env: str | Path, **options: object) -> None:
        options.pop("isolation", None)
        super().__init__(env, isolation="sandbox", **options)  # type: ignore[arg-type]
