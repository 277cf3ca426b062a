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

Frames. From the handshake's 101 on, the frames a client sends in a session's
steady state are parsed here: a whole (FIN) text or binary frame,
masked, without RSV bits, within the size limit, and pings and pongs. The first
frame of any other kind (a fragment, a close, anything malformed) and everything
after it go to ``websockets``' parser, which has seen nothing since the handshake
and so starts at that frame's first byte: fragmented messages, the closing
handshake, and every protocol error (1002, 1007, 1009) keep its behaviour.
Replies are written as single unmasked frames. A connection that negotiated an
extension (permessage-deflate, with ``ServerConfig.websocket_compression``) is framed
by ``websockets`` throughout. While the socket's write buffer is full, nothing more
is read from it. Why: see docs/decisions/0022-our-own-frames-for-the-steady-state.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode, apply_mask
from websockets.protocol import State

EXTENSION = "openenv.websocket.direct"

__all__ = ["EXTENSION", "ClientDisconnected", "DirectChannel", "DirectWebSocketProtocol"]

# A frame's first byte (FIN, RSV1-3, opcode) for the frames parsed here.
_TEXT = 0x81
_BINARY = 0x82
_PING = 0x89
_PONG = 0x8A
_OURS = frozenset((_TEXT, _BINARY, _PING, _PONG))


def frame_header(first: int, length: int) -> bytes:
    """The header of an unmasked frame (a server's) of ``length`` payload bytes."""
    if length < 126:
        return bytes((first, length))
    if length < 65536:
        return bytes((first, 126)) + length.to_bytes(2, "big")
    return bytes((first, 127)) + length.to_bytes(8, "big")


class DirectChannel:
    """What the app gets: :meth:`attach` a message callback, and a direct ``send_text``.

    The callback gets every message as ``bytes``: a text message's are valid UTF-8
    (checked here; invalid UTF-8 fails the connection with 1007, as RFC 6455 asks).
    """

    def __init__(self, protocol: DirectWebSocketProtocol) -> None:
        self._protocol = protocol
        self.on_message: Callable[[bytes], None] | None = None
        self.writable: asyncio.Event = protocol.writable
        """Clear while the socket's write buffer is full."""

    def attach(self, on_message: Callable[[bytes], None]) -> None:
        """Hand every complete message to ``on_message`` from now on, not to ASGI."""
        self.on_message = on_message

    def detach(self) -> None:
        """Messages go to ASGI again."""
        self.on_message = None

    def send_text(self, text: str | bytes) -> None:
        """Write one text frame now (``bytes``: already UTF-8); :class:`ClientDisconnected`
        if the peer is gone."""
        protocol = self._protocol
        transport = protocol.transport
        if protocol.disconnected or protocol.close_sent or transport.is_closing():
            raise ClientDisconnected()
        payload = text.encode() if isinstance(text, str) else text
        if protocol.frames_parsed_here:
            length = len(payload)
            header = bytes((_TEXT, length)) if length < 126 else frame_header(_TEXT, length)
            transport.write(header + payload)
            return
        conn = protocol.conn  # websockets frames (and may compress) this connection
        conn.send_text(payload)
        transport.write(b"".join(conn.data_to_send()))

    def pause_reading(self) -> None:
        """Read nothing more from the socket until :meth:`resume_reading`."""
        self._protocol.reading_held = True
        self._protocol.transport.pause_reading()

    def resume_reading(self) -> None:
        protocol = self._protocol
        protocol.reading_held = False
        if not protocol.disconnected and protocol.writable.is_set():
            protocol.transport.resume_reading()


class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol, plus :class:`DirectChannel` and our frames."""

    direct: DirectChannel | None = None
    frames_parsed_here = False
    """True while incoming frames are parsed by this class rather than ``websockets``."""
    websockets_saw_frames = False
    """``websockets`` was given bytes after the handshake: it frames the connection."""
    unparsed: bytearray
    """The start of a frame not yet complete (while frames are parsed here)."""
    reading_held = False
    """The session paused reading (its backlog is full)."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            self.direct = DirectChannel(self)
            scope["extensions"][EXTENSION] = self.direct

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            # The 101 was just written, with no turn of the event loop since: no frame
            # can have reached websockets, unless the client sent it before the 101.
            self.take_framing()

    def pause_writing(self) -> None:
        # The peer reads none of what we write (replies, pongs): read nothing more from
        # it, or a client sending pings and never reading grows our buffer without end.
        super().pause_writing()
        if not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        held = self.reading_held or self.read_paused  # by the session, or by uvicorn's queue
        if not held and not self.disconnected and not self.transport.is_closing():
            self.transport.resume_reading()

    def take_framing(self) -> None:
        """Parse incoming frames here from now on (see the module's docstring)."""
        conn = self.conn
        if self.websockets_saw_frames or self.close_sent or conn.state is not State.OPEN:
            return
        if conn.extensions:  # permessage-deflate: websockets decompresses
            return
        self.frames_parsed_here = True
        self.unparsed = bytearray()

    def data_received(self, data: bytes) -> None:
        if not self.frames_parsed_here:
            # uvicorn's upgrade hands over the request alone; anything after it is
            # frames (sent early), and websockets may keep part of one between calls.
            if self.handshake_initiated:
                self.websockets_saw_frames = True
            super().data_received(data)
            return
        unparsed = self.unparsed
        if not unparsed:
            used = self.parse_frames(data)
            if used >= 0 and used < len(data):
                unparsed += data[used:]
            return
        unparsed += data
        used = self.parse_frames(unparsed)
        if used > 0:
            del unparsed[:used]

    def parse_frames(self, data: bytes | bytearray) -> int:
        """Handle each complete frame in ``data``; the bytes used, or -1 if handed over."""
        end = len(data)
        pos = 0
        limit = self.conn.max_message_size
        while end - pos >= 2:
            first = data[pos]
            second = data[pos + 1]
            length = second & 0x7F
            if second < 0x80 or first not in _OURS or (first >= _PING and length > 125):
                return self.hand_over(data, pos)  # unmasked, fragment, close, RSV bits, ...
            if length < 126:
                head = 6
            elif length == 126:
                if end - pos < 4:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                head = 8
            else:
                if end - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                head = 14
            if limit is not None and length > limit:
                return self.hand_over(data, pos)  # websockets closes with 1009
            stop = pos + head + length
            if stop > end:
                break
            payload = apply_mask(data[pos + head : stop], data[pos + head - 4 : pos + head])
            pos = stop
            if first == _TEXT or first == _BINARY:
                self.deliver(payload, first == _TEXT)
            elif first == _PING:
                if not self.close_sent:
                    self.transport.write(frame_header(_PONG, len(payload)) + payload)
            else:
                self.handle_pong(Frame(Opcode.PONG, payload))
            if self.transport.is_closing():
                return -1
        return pos

    def hand_over(self, data: bytes | bytearray, pos: int) -> int:
        """From the frame at ``pos`` on, ``websockets`` parses everything."""
        self.frames_parsed_here = False
        self.unparsed = bytearray()
        super().data_received(bytes(data[pos:]))
        return -1

    def deliver(self, data: bytes, text: bool) -> None:
        """One complete message: to the channel's callback if attached, else to ASGI."""
        direct = self.direct
        on_message = direct.on_message if direct is not None else None
        if on_message is None:
            self.frames = [data]
            self.curr_msg_data_type = "text" if text else "bytes"
            super().send_receive_event_to_app()
            return
        if self.close_sent:  # past the app's close: discard, as uvicorn does
            return
        if text and not data.isascii():
            try:
                data.decode()
            except UnicodeDecodeError:  # RFC 6455 §8.1: invalid UTF-8 fails the connection
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        on_message(data)

    def send_receive_event_to_app(self) -> None:
        # A message framed by websockets (the handshake's stragglers, fragments, ...).
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        self.deliver(data, self.curr_msg_data_type == "text")
