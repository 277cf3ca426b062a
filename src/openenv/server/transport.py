"""The WebSocket transport: uvicorn's sans-I/O protocol with a direct path for sessions.

Through plain ASGI, every message costs a queue hop inside uvicorn, a task
switch, and a pause/resume of the socket (two ``epoll_ctl`` calls), and every
reply goes through Starlette's wrappers. For environments whose step takes
microseconds, that is most of the server's CPU per step.

:class:`DirectWebSocketProtocol` keeps uvicorn's handshake, keepalive pings,
size limits and close handling, and offers the app a :class:`DirectChannel`
in ``scope["extensions"]``: complete messages are handed to a callback as they
arrive, and replies are written straight to the socket. The app
(:mod:`openenv.server.app`) uses it when present and plain ASGI otherwise, so the
app still runs under any ASGI server. :func:`~openenv.server.run.uvicorn_config`
selects this protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

EXTENSION = "openenv.websocket.direct"

__all__ = ["EXTENSION", "ClientDisconnected", "DirectChannel", "DirectWebSocketProtocol"]


class DirectChannel:
    """What the app gets: a message callback to set, and a direct ``send_text``."""

    def __init__(self, protocol: DirectWebSocketProtocol) -> None:
        self._protocol = protocol
        self.on_message: Callable[[str | bytes], None] | None = None

    def send_text(self, text: str) -> None:
        """Write one text frame now; :class:`ClientDisconnected` if the peer is gone."""
        protocol = self._protocol
        if protocol.disconnected or protocol.close_sent:
            raise ClientDisconnected()
        protocol.conn.send_text(text.encode())
        protocol.transport.write(b"".join(protocol.conn.data_to_send()))

    @property
    def writable(self) -> Any:
        """An ``asyncio.Event``, clear while the socket's write buffer is full."""
        return self._protocol.writable

    def pause_reading(self) -> None:
        self._protocol.transport.pause_reading()

    def resume_reading(self) -> None:
        if not self._protocol.disconnected:
            self._protocol.transport.resume_reading()


class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol, plus :class:`DirectChannel`."""

    direct: DirectChannel | None = None

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            self.direct = DirectChannel(self)
            scope["extensions"][EXTENSION] = self.direct

    def send_receive_event_to_app(self) -> None:
        direct = self.direct
        if direct is None or direct.on_message is None:
            super().send_receive_event_to_app()
            return
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return
        if self.curr_msg_data_type == "bytes":
            direct.on_message(data)
            return
        try:
            text = data.decode()
        except UnicodeDecodeError:  # RFC 6455: invalid UTF-8 in a text frame fails the connection
            self.conn.send_close(1007)
            self.handle_parser_exception()
            return
        direct.on_message(text)
