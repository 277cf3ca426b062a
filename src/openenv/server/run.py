"""Running an app under uvicorn with the transport limits that match its config."""

from __future__ import annotations

from typing import Any

import uvicorn
from fastapi import FastAPI

from .config import ServerConfig

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
        "ws": "websockets-sansio",
        "log_level": "warning",
        "backlog": 4096,
        "timeout_graceful_shutdown": 5,
    }
    options.update(kwargs)
    return uvicorn.Config(app, **options)


def run(app: FastAPI, host: str = "127.0.0.1", port: int = 8000, **kwargs: Any) -> None:
    """Serve ``app`` until interrupted (binds 127.0.0.1 unless told otherwise)."""
    uvicorn.Server(uvicorn_config(app, host, port, **kwargs)).run()
