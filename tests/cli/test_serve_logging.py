"""``openenv serve``: its start-up line, ``--log-level`` and ``--access-log``, on a real
server in a subprocess (``--port 0``: the start-up line says where it listens)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
from dataclasses import dataclass, field

import httpx
import pytest
from echo_env import EchoAction, EchoEnv
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from tests.cli.helpers import OPENENV, assert_one_line_error, run

STARTUP = re.compile(r"^openenv serving (\S+) on (http://\S+) \(WebSocket .*\) - Ctrl-C to stop$")
WAIT_S = 30.0


@dataclass
class Server:
    """An ``openenv serve`` subprocess; stdout and stderr read line by line as they come."""

    process: subprocess.Popen[str]
    lines: queue.Queue[tuple[str, str]] = field(default_factory=queue.Queue)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def wait_for(self, pattern: str, stream: str = "stdout") -> re.Match[str]:
        """The first line of ``stream`` (seen or coming) matching ``pattern``."""
        regex = re.compile(pattern)
        index = 0
        while True:
            while index < len(self.seen):
                name, line = self.seen[index]
                index += 1
                match = regex.search(line) if name == stream else None
                if match:
                    return match
            try:
                self.seen.append(self.lines.get(timeout=WAIT_S))
            except queue.Empty:
                raise AssertionError(
                    f"no {stream} line matching {pattern!r}: {self.seen}"
                ) from None

    def stop(self) -> tuple[list[str], list[str]]:
        """Ctrl-C, then every line it printed: (stdout, stderr)."""
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(timeout=WAIT_S) == 0, self.seen
        for reader in self.readers:
            reader.join(WAIT_S)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return (
            [line for name, line in self.seen if name == "stdout"],
            [line for name, line in self.seen if name == "stderr"],
        )

    def start_reading(self) -> None:
        self.readers = [
            threading.Thread(target=self._read, args=(name,), daemon=True)
            for name in ("stdout", "stderr")
        ]
        for reader in self.readers:
            reader.start()

    def _read(self, name: str) -> None:
        stream = getattr(self.process, name)
        for line in stream:
            self.lines.put((name, line.rstrip("\n")))


def serve(*args: str, env: dict[str, str] | None = None) -> tuple[Server, str]:
    """Start ``openenv serve echo_env --port 0 ARGS``; the server and its URL (from its line)."""
    process = subprocess.Popen(
        [*OPENENV, "serve", "echo_env", "--port", "0", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "80", **(env or {})},  # narrow: the line must not wrap
    )
    server = Server(process)
    server.start_reading()
    match = server.wait_for(STARTUP.pattern)
    assert match.group(1) == "echo_env"
    return server, match.group(2)


def drive(base_url: str, token: str | None = None) -> None:
    """One HTTP request and one WebSocket session."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    assert httpx.get(f"{base_url}/health", headers=headers, timeout=WAIT_S).status_code == 200
    with EchoEnv(base_url=base_url, token=token) as client:
        client.reset()
        assert client.step(EchoAction(message="hi")).observation.echoed_message == "hi"


ACCESS = re.compile(r'^INFO: +127\.0\.0\.1:\d+ - "')


def test_startup_line_and_access_log_on_request() -> None:
    server, base_url = serve("--access-log")
    try:
        line = next(line for name, line in server.seen if name == "stdout")
        assert "isolation none" in line and "max 1024 sessions" in line, line
        assert "log level warning" in line and "access log on" in line, line
        drive(base_url)
        server.wait_for(r'^INFO: +127\.0\.0\.1:\d+ - "GET /health HTTP/1\.1" 200$')
        server.wait_for(r'^INFO: +127\.0\.0\.1:\d+ - "WebSocket /ws" accepted$')
    finally:
        out, err = server.stop()
    assert out[-1] == "openenv stopped"
    assert not err, err  # warning level: nothing to say


def test_no_access_log_by_default() -> None:
    server, base_url = serve()
    try:
        assert "access log off" in server.seen[0][1]
        drive(base_url)
    finally:
        out, err = server.stop()  # everything it printed, up to its exit
    assert not [line for line in out + err if ACCESS.search(line)], out + err
    assert not [line for line in out + err if "WebSocket" in line and "accepted" in line]
    assert len(out) == 2 and out[1] == "openenv stopped", out
    assert not err, err


def test_access_log_shows_refusals_without_the_query_string() -> None:
    server, base_url = serve("--access-log", env={"OPENENV_TOKEN": "s3cret"})
    try:
        assert httpx.get(f"{base_url}/schema?token=guess", timeout=WAIT_S).status_code == 401
        ws_url = base_url.replace("http://", "ws://") + "/ws"
        with pytest.raises(InvalidStatus):
            ws_connect(ws_url, open_timeout=WAIT_S)
        server.wait_for(r'"GET /schema HTTP/1\.1" 401$')
        server.wait_for(r'"WebSocket /ws" 403$')
        drive(base_url, token="s3cret")
        server.wait_for(r'"WebSocket /ws" accepted$')
    finally:
        out, _ = server.stop()
    assert not [line for line in out if "guess" in line or "s3cret" in line], out


def test_log_level_info_shows_uvicorn_and_openenv_messages() -> None:
    server, base_url = serve("--log-level", "INFO", "--idle-timeout", "0.2")
    try:
        assert "log level info" in server.seen[0][1]
        server.wait_for(r"^INFO: +Application startup complete\.$", "stderr")
        with EchoEnv(base_url=base_url) as client:
            client.reset()
            client.step(EchoAction(message="hi"))
            server.wait_for(r"^INFO: +reaping session \S+ after \d+ s idle$", "stderr")
    finally:
        _, err = server.stop()
    # Per-connection WebSocket chatter stays out even at info: that is the access log's.
    assert not [line for line in err if "WebSocket" in line or "connection open" in line], err


def test_log_level_error_and_a_bad_level() -> None:
    result = run("serve", "echo_env", "--log-level", "loud")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "Invalid value for '--log-level'", "openenv serve --help")
    server, base_url = serve("--log-level", "error")
    try:
        drive(base_url)
    finally:
        _, err = server.stop()
    assert not err, err
