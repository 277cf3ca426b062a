"""Running an app under uvicorn: in the foreground, or in a thread of this process.

:func:`uvicorn_config` gives the transport limits that match an app's config;
:func:`run` serves until interrupted; :class:`BackgroundServer` serves in a daemon
thread on a free loopback port (demos and tests) and is a
:class:`~openenv.runtime.base.Runtime`. :func:`log_config` is how ``openenv serve``
logs (``--log-level``), and :class:`AccessLog` writes its ``--access-log``: one
line per HTTP request and per WebSocket connection.

Example::

    from openenv.server import create_app
    from openenv.server.run import BackgroundServer

    with BackgroundServer(create_app(EchoEnvironment)) as server:
        client = EchoEnv(base_url=server.url)
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
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


LOG_LEVELS = ("debug", "info", "warning", "error")
"""What ``openenv serve --log-level`` accepts."""

ACCESS_LOGGER = "openenv.access"
"""The logger :class:`AccessLog` writes to (at INFO)."""


def uvicorn_config(
    app: FastAPI,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    log_access: bool = False,
    **kwargs: Any,
) -> uvicorn.Config:
    """A :class:`uvicorn.Config` for ``app``: keepalive pings and message caps from its config.

    ``log_access`` serves ``app`` behind :class:`AccessLog`; ``kwargs`` go to
    :class:`uvicorn.Config` (e.g. ``log_config=log_config("info")``).
    """
    config: ServerConfig = app.state.config
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "ws_max_size": config.max_message_bytes * TRANSPORT_SLACK,
        "ws_ping_interval": config.ping_interval_s,
        "ws_ping_timeout": config.ping_timeout_s,
        "ws_per_message_deflate": config.websocket_compression,
        "ws": DirectWebSocketProtocol,
        "log_level": "warning",
        "backlog": 4096,
        "timeout_graceful_shutdown": 5,
    }
    options.update(kwargs)
    return uvicorn.Config(AccessLog(app) if log_access else app, **options)


def log_config(level: str = "warning", access_log: bool = False) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for a server (uvicorn's ``log_config``).

    uvicorn's and OpenEnv's loggers (``uvicorn.*``, ``openenv.*``) log at ``level``
    and above to stderr, as ``LEVEL:    message``; with ``access_log``, the
    :class:`AccessLog` lines (``openenv.access``) go to stdout. uvicorn's own access
    log stays off (ours also covers WebSocket connections), and so do its per-connection
    WebSocket lines at ``info`` (``connection open``, ``"WebSocket /ws" [accepted]``),
    one of each per session. Apply it once per process: it configures logging globally.
    """
    if level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"no_websocket_chatter": {"()": _NoWebSocketChatter}},
        "formatters": {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(message)s",
                "use_colors": None,  # colours only on a terminal
            },
        },
        "handlers": {
            "default": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["no_websocket_chatter"],
            },
            "access": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "openenv": {"handlers": ["default"], "level": upper, "propagate": False},
            ACCESS_LOGGER: {
                "handlers": ["access"],
                "level": "INFO" if access_log else "WARNING",
                "propagate": False,
            },
        },
    }


class _NoWebSocketChatter(logging.Filter):
    """Drops uvicorn's INFO lines about each WebSocket connection (the access log has them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith("uvicorn"):
            return True
        message = str(record.msg)
        return not (message.startswith('%s - "WebSocket ') or message.startswith("connection "))


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class AccessLog:
    """ASGI middleware: one INFO line on ``openenv.access`` per HTTP request and WebSocket.

    ``127.0.0.1:50312 - "GET /health HTTP/1.1" 200`` when a response starts, and
    ``127.0.0.1:50314 - "WebSocket /ws" accepted`` (or the status it was refused
    with) when a WebSocket handshake ends. Query strings are left out: they may
    carry a token. Lifespan events pass through, and so does ``app.state``.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = getattr(app, "state", None)
        self.log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket") or not self.log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        who = f"{client[0]}:{client[1]}" if client else "-"
        path = scope.get("path", "")
        logged = False

        async def logging_send(message: Message) -> None:
            nonlocal logged
            if not logged:
                what = message.get("type")
                line = None
                if what == "http.response.start":
                    method, version = scope.get("method"), scope.get("http_version", "1.1")
                    line = f'{who} - "{method} {path} HTTP/{version}" {message["status"]}'
                elif what == "websocket.accept":
                    line = f'{who} - "WebSocket {path}" accepted'
                elif what == "websocket.close":
                    line = f'{who} - "WebSocket {path}" 403'  # closed before accepting
                elif what == "websocket.http.response.start":
                    line = f'{who} - "WebSocket {path}" {message["status"]}'
                if line is not None:
                    logged = True
                    self.log.info("%s", line)
            await send(message)

        await self.app(scope, receive, logging_send)


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
