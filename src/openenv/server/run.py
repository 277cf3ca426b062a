"""Running an app under uvicorn: in the foreground, or in a thread of this process.

:func:`uvicorn_config` gives the transport limits that match an app's config;
:func:`run` serves until interrupted; :class:`BackgroundServer` serves in a daemon
thread on a free loopback port (demos and tests) and is a
:class:`~openenv.runtime.base.Runtime`.

Example::

    from openenv.server import create_app
    from openenv.server.run import BackgroundServer

    with BackgroundServer(create_app(EchoEnvironment)) as server:
        client = EchoEnv(base_url=server.url)
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from ..runtime.base import Runtime, RuntimeStartError
from .config import ServerConfig
from .transport import DirectWebSocketProtocol

TRANSPORT_SLACK = 4
"""The transport refuses (close 1009) messages over this many times ``max_message_bytes``;
between 1x and this, the app answers MESSAGE_TOO_LARGE and the session goes on."""


def uvicorn_config(app: FastAPI, host: str = "127.0.0.1", port: int = 8000, **kwargs: Any):
    """A :class:`uvicorn.Config` for ``app``: keepalive pings and message caps from its config."""
    config: ServerConfig = app.state.config
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "ws_max_size": config.max_message_bytes * TRANSPORT_SLACK,
        "ws_ping_interval": config.ping_interval_s,
        "ws_ping_timeout": config.ping_timeout_s,
        "ws": DirectWebSocketProtocol,
        "log_level": "warning",
        "backlog": 4096,
        "timeout_graceful_shutdown": 5,
    }
    options.update(kwargs)
    return uvicorn.Config(app, **options)


def run(app: FastAPI, host: str = "127.0.0.1", port: int = 8000, **kwargs: Any) -> None:
    """Serve ``app`` until interrupted (binds 127.0.0.1 unless told otherwise)."""
    uvicorn.Server(uvicorn_config(app, host, port, **kwargs)).run()


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening, inheritable TCP socket on ``host:port`` (``port=0``: any free port).

    Raises :class:`OSError` whose ``strerror`` says ``cannot listen on host:port: why``.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(4096)
    except OSError as exc:
        sock.close()
        raise _cannot_listen(host, port, exc) from None
    sock.set_inheritable(True)
    return sock


def _cannot_listen(host: str, port: int, exc: OSError) -> OSError:
    why = exc.strerror or str(exc)
    return OSError(exc.errno or errno.EINVAL, f"cannot listen on {host}:{port}: {why}")


def http_url(host: str, port: int) -> str:
    """``http://host:port``, with IPv6 literals in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def ws_url(base: str) -> str:
    """The WebSocket endpoint of a server at ``base``."""
    return base.replace("http://", "ws://", 1) + "/ws"


class BackgroundServer(Runtime):
    """Serve ``app`` in a daemon thread of this process on a free loopback port.

    The in-process runtime: ``start()`` returns once uvicorn is serving, ``stop()``
    runs the app's shutdown and joins the thread. ``uvicorn_kwargs`` go to
    :func:`uvicorn_config`.
    """

    def __init__(
        self,
        app: FastAPI,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        start_timeout_s: float = 30.0,
        **uvicorn_kwargs: Any,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.start_timeout_s = start_timeout_s
        self.uvicorn_kwargs = uvicorn_kwargs
        self.token = app.state.config.token
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        return http_url(self.host, self.port)

    def start(self) -> str:
        if self.base_url is not None:
            return self.base_url
        sock = listen_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn_config(self.app, self.host, self.port, **self.uvicorn_kwargs)
        )
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"openenv-server-{self.port}",
            daemon=True,
        )
        self.server, self.thread, self._sock = server, thread, sock
        thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeStartError(f"the in-process server on {self.url} failed to start")
            time.sleep(0.005)
        self.base_url = self.url
        return self.base_url

    def health(self) -> bool:
        if self.base_url is None or self.thread is None or not self.thread.is_alive():
            return False
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = httpx.get(self.base_url + "/health", headers=headers, trust_env=False)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def stop(self, timeout: float = 15.0) -> None:
        server, thread, sock = self.server, self.thread, self._sock
        self.base_url = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
        if sock is not None:
            sock.close()
        self._sock = None

    @property
    def stopped(self) -> bool:
        """Whether the serving thread has ended (after :meth:`stop`, or on its own)."""
        return self.thread is None or not self.thread.is_alive()
