"""Shared fixtures: real uvicorn servers on loopback, and raw WebSocket helpers.

``serve(env, config=...)`` starts a server in a background thread (its own event
loop) on a free 127.0.0.1 port and returns a :class:`Served` with its ``base_url``,
the FastAPI ``app`` and its ``SessionManager`` for inspection. Servers stop at the
end of the test.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from openenv.protocol import EXTENSIONS_SUBPROTOCOL
from openenv.server import ServerConfig, create_app
from openenv.server.run import BackgroundServer
from openenv.server.sessions import SessionManager

# Keep tests independent of the developer's shell.
ENV_VARS_CLEARED = ("OPENENV_TOKEN",)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS_CLEARED:
        monkeypatch.delenv(name, raising=False)


def free_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    return sock


@dataclass
class Served:
    """A running server: where it listens and its insides."""

    base_url: str
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread
    background: BackgroundServer | None = None

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws"

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def manager(self) -> SessionManager:
        return self.app.state.sessions

    @property
    def sessions(self) -> dict[str, Any]:
        return self.app.state.sessions.sessions

    def stop(self) -> None:
        self.server.should_exit = True
        if self.background is not None:
            self.background.stop()  # joins the thread, closes the listening socket
        self.thread.join(15)
        assert not self.thread.is_alive(), "server did not stop"


def start_server(app: FastAPI, port: int = 0, **uvicorn_kwargs: Any) -> Served:
    background = BackgroundServer(app, port=port, start_timeout_s=10, **uvicorn_kwargs)
    background.start()
    assert background.server is not None and background.thread is not None
    return Served(background.url, app, background.server, background.thread, background)


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """``serve(env_or_factory, config=None, env_class=None, **create_app_kwargs)``."""
    running: list[Served] = []

    def _serve(
        env: Any,
        config: ServerConfig | None = None,
        *,
        port: int = 0,
        uvicorn_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Served:
        app = create_app(env, config=config or ServerConfig(), **kwargs)
        served = start_server(app, port=port, **(uvicorn_kwargs or {}))
        running.append(served)
        return served

    yield _serve
    for served in running:
        if served.thread.is_alive():
            served.stop()


@pytest.fixture
def echo_server(serve: Callable[..., Served]) -> Served:
    from echo_env.server import EchoEnvironment

    return serve(EchoEnvironment)


# -- raw WebSocket helpers ----------------------------------------------------------------


def open_ws(served: Served | str, *, ext: bool = False, **kwargs: Any) -> ClientConnection:
    """A raw WebSocket to ``/ws``; ``ext=True`` offers the extensions subprotocol."""
    url = served if isinstance(served, str) else served.ws_url
    if ext:
        kwargs.setdefault("subprotocols", [EXTENSIONS_SUBPROTOCOL])
    # Entered at once: websockets >= 17.1 deprecates using connect() without ``with``.
    kwargs.setdefault("compression", None)
    return ws_connect(url, open_timeout=5, proxy=None, **kwargs).__enter__()


def send(ws: ClientConnection, message: Any) -> None:
    ws.send(message if isinstance(message, str | bytes) else orjson.dumps(message).decode())


def recv(ws: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    return orjson.loads(ws.recv(timeout=timeout))


def ask(ws: ClientConnection, message: Any, timeout: float = 5) -> dict[str, Any]:
    """Send one message and return the reply frame."""
    send(ws, message)
    return recv(ws, timeout)


def expect_error(frame: dict[str, Any], code: str) -> dict[str, Any]:
    assert frame["type"] == "error", frame
    data = frame["data"]
    assert data["code"] == code, frame
    assert isinstance(data["message"], str) and data["message"], frame
    assert "Traceback" not in data["message"]
    return data


def close_code(ws: ClientConnection, timeout: float = 5) -> int | None:
    """Wait for the server to close ``ws``; return the close code it sent."""
    from websockets.exceptions import ConnectionClosed

    deadline = time.monotonic() + timeout
    with contextlib.suppress(ConnectionClosed):
        while time.monotonic() < deadline:
            ws.recv(timeout=max(0.01, deadline - time.monotonic()))
    assert ws.protocol.close_rcvd is not None or ws.protocol.close_sent is not None, "not closed"
    rcvd = ws.protocol.close_rcvd
    return rcvd.code if rcvd is not None else None


def wait_until(predicate: Callable[[], Any], timeout: float = 5, interval: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


def assert_server_healthy(
    served: Served | str,
    action: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """The server still serves: a fresh session does reset + step, and /health answers."""
    base_url = served if isinstance(served, str) else served.base_url
    ws_url = base_url.replace("http://", "ws://") + "/ws"
    with open_ws(ws_url, additional_headers=headers) as ws:
        frame = ask(ws, {"type": "reset", "data": {}})
        assert frame["type"] == "observation", frame
        frame = ask(ws, {"type": "step", "data": action or {"message": "still here"}})
        assert frame["type"] == "observation", frame
        assert frame["data"]["done"] in (True, False)
        send(ws, {"type": "close"})
        assert close_code(ws) == 1000
    response = httpx.get(base_url + "/health", headers=headers, timeout=5)
    assert response.status_code == 200 and response.json() == {"status": "healthy"}
