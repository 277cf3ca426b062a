"""RFC 6455 frames on the direct transport, byte by byte.

:class:`~openenv.server.transport.DirectWebSocketProtocol` parses a session's
steady-state frames itself and hands the first frame of any other kind (and all
after it) to ``websockets``. These tests speak raw frames over a TCP socket, so
they reach the cases a well-behaved client never sends: frames split at every
byte, frames run together, pings between fragments, unmasked frames, RSV bits,
oversize lengths, a frame sent with the handshake.
"""

from __future__ import annotations

import asyncio
import base64
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from openenv.server import ServerConfig
from openenv.server.app import create_app
from openenv.server.transport import DirectWebSocketProtocol, frame_header
from tests.conftest import Served, assert_server_healthy, open_ws, start_server, wait_until
from tests.envs_for_tests import AsyncToyEnv

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
FIN = 0x80
LIMIT = 200_000


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    key: bytes | None = None,
) -> bytes:
    """A client frame: masked (as RFC 6455 requires of clients) unless ``mask=False``."""
    first = (FIN if fin else 0) | rsv | opcode
    length = len(payload)
    if length < 126:
        head = bytes((first, (0x80 if mask else 0) | length))
    elif length < 65536:
        head = bytes((first, (0x80 if mask else 0) | 126)) + struct.pack("!H", length)
    else:
        head = bytes((first, (0x80 if mask else 0) | 127)) + struct.pack("!Q", length)
    if not mask:
        return head + payload
    key = key or os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


def text(message: dict[str, object]) -> bytes:
    return frame(TEXT, orjson.dumps(message))


class RawSocket:
    """A WebSocket client that writes whatever bytes it is given."""

    def __init__(self, served: Served, *, wait_for_101: bool = True) -> None:
        self.sock = socket.create_connection(("127.0.0.1", served.port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.sock.sendall(request)
        self.buffer = b""
        if wait_for_101:
            self.read_101()

    def read_101(self) -> None:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, data: bytes, *, one_byte_at_a_time: bool = False) -> None:
        if not one_byte_at_a_time:
            self.sock.sendall(data)
            return
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            self.sock.sendall(data[i : i + 1])

    def read_frame(self) -> tuple[int, bytes]:
        """The server's next frame: (first byte, payload). Server frames are unmasked."""
        first, second = self._take(2)
        assert second & 0x80 == 0, "a server must not mask its frames"
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8))
        return first, self._take(length)

    def reply(self) -> dict[str, object]:
        first, payload = self.read_frame()
        assert first == FIN | TEXT, hex(first)
        return orjson.loads(payload)

    def close_code(self) -> int:
        """Read on to the server's close frame; its code."""
        while True:
            first, payload = self.read_frame()
            if first == FIN | CLOSE:
                return struct.unpack("!H", payload[:2])[0]

    def closed_by_server(self) -> bool:
        self.sock.settimeout(5)
        try:
            while self.sock.recv(65536):
                pass
        except ConnectionResetError:
            pass
        return True


@pytest.fixture
def served(serve: Callable[..., Served]) -> Served:
    return serve(AsyncToyEnv, ServerConfig(max_message_bytes=LIMIT))


@pytest.fixture
def raw(served: Served) -> Iterator[RawSocket]:
    sock = RawSocket(served)
    yield sock
    sock.sock.close()


def websockets_of(served: Served) -> list[DirectWebSocketProtocol]:
    connections = list(served.server.server_state.connections)
    return [c for c in connections if isinstance(c, DirectWebSocketProtocol)]


def connection(served: Served) -> DirectWebSocketProtocol:
    """The server side of the one WebSocket open."""
    found = websockets_of(served)
    assert len(found) == 1, found
    return found[0]


def started(raw: RawSocket, served: Served) -> DirectWebSocketProtocol:
    raw.send(text({"type": "reset"}))
    assert raw.reply()["type"] == "observation"
    return connection(served)


def test_a_sessions_frames_are_parsed_by_the_direct_transport(
    raw: RawSocket, served: Served
) -> None:
    protocol = started(raw, served)
    assert protocol.frames_parsed_here
    raw.send(text({"type": "step", "data": {"number": 7}}))
    assert raw.reply()["data"]["observation"]["number"] == 7
    assert protocol.frames_parsed_here


def test_frames_split_at_every_byte_are_answered(raw: RawSocket, served: Served) -> None:
    started(raw, served)
    for length in (10, 200, 70_000):  # 7-bit, 16-bit and 64-bit payload lengths
        message = "x" * length
        raw.send(
            text({"type": "step", "data": {"message": message}}), one_byte_at_a_time=length < 1000
        )
        assert raw.reply()["data"]["observation"]["echoed"] == message
    assert connection(served).frames_parsed_here


def test_frames_run_together_are_answered_in_order(raw: RawSocket, served: Served) -> None:
    started(raw, served)
    burst = b"".join(text({"type": "step", "data": {"number": i}, "id": i}) for i in range(50))
    raw.send(burst[:-3])  # the last frame arrives in two pieces
    raw.send(burst[-3:])
    assert [raw.reply()["id"] for _ in range(50)] == list(range(50))


def test_a_binary_message_is_answered(raw: RawSocket, served: Served) -> None:
    started(raw, served)
    raw.send(frame(BINARY, b'{"type":"state"}'))
    assert raw.reply()["type"] == "state"


def test_a_ping_gets_a_pong_with_its_payload(raw: RawSocket, served: Served) -> None:
    started(raw, served)
    raw.send(frame(PING, b"are you there") + text({"type": "state"}))
    assert raw.read_frame() == (FIN | PONG, b"are you there")
    assert raw.reply()["type"] == "state"
    assert connection(served).frames_parsed_here


def test_a_fragmented_message_is_answered_and_so_is_everything_after(
    raw: RawSocket, served: Served
) -> None:
    protocol = started(raw, served)
    payload = orjson.dumps({"type": "step", "data": {"message": "in three parts"}})
    raw.send(
        frame(TEXT, payload[:10], fin=False)
        + frame(PING, b"between")  # a control frame may come between fragments
        + frame(CONT, payload[10:20], fin=False)
        + frame(CONT, payload[20:])
    )
    assert raw.read_frame() == (FIN | PONG, b"between")
    assert raw.reply()["data"]["observation"]["echoed"] == "in three parts"
    assert not protocol.frames_parsed_here  # websockets frames the rest of the connection
    raw.send(text({"type": "step", "data": {"number": 2}}))
    assert raw.reply()["data"]["observation"]["number"] == 2


def test_a_close_frame_is_answered_with_its_code_and_ends_the_session(
    raw: RawSocket, served: Served
) -> None:
    started(raw, served)
    raw.send(frame(CLOSE, struct.pack("!H", 1000) + b"bye"))
    assert raw.close_code() == 1000
    assert raw.closed_by_server()
    wait_until(lambda: not served.sessions)


@pytest.mark.parametrize(
    ("bad_frame", "code"),
    [
        (frame(TEXT, b'{"type":"state"}', mask=False), 1002),  # clients must mask
        (frame(TEXT, b'{"type":"state"}', rsv=0x40), 1002),  # RSV1 without an extension
        (frame(0x3, b"reserved opcode"), 1002),
        (frame(PING, b"x" * 126), 1002),  # control frames carry at most 125 bytes
        (frame(TEXT, b'{"x":"\xff"}'), 1007),  # invalid UTF-8
        (frame(TEXT, b"x" * (LIMIT * 4 + 1)), 1009),  # over the transport's limit
    ],
    ids=["unmasked", "rsv1", "reserved-opcode", "long-ping", "invalid-utf8", "too-big"],
)
def test_a_bad_frame_fails_the_connection_with_its_code(
    raw: RawSocket, served: Served, bad_frame: bytes, code: int
) -> None:
    started(raw, served)
    raw.send(bad_frame)
    assert raw.close_code() == code
    wait_until(lambda: not served.sessions)
    assert_server_healthy(served)


def test_invalid_utf8_split_across_fragments_fails_the_connection(
    raw: RawSocket, served: Served
) -> None:
    started(raw, served)
    raw.send(frame(TEXT, b'{"x":"\xe2', fin=False) + frame(CONT, b'\x28\xa1"}'))
    assert raw.close_code() == 1007


def test_a_keepalive_pong_keeps_the_connection(serve: Callable[..., Served]) -> None:
    served = serve(AsyncToyEnv, ServerConfig(ping_interval_s=0.2, ping_timeout_s=10))
    raw = RawSocket(served)
    started(raw, served)
    for _ in range(3):  # each pong answered lets the server schedule the next ping
        first, payload = raw.read_frame()
        assert first == FIN | PING
        raw.send(frame(PONG, payload))
    raw.send(text({"type": "state"}))
    assert raw.reply()["type"] == "state"


def test_a_missing_pong_closes_the_connection(serve: Callable[..., Served]) -> None:
    served = serve(AsyncToyEnv, ServerConfig(ping_interval_s=0.2, ping_timeout_s=0.3))
    raw = RawSocket(served)
    started(raw, served)
    first, _ = raw.read_frame()
    assert first == FIN | PING
    raw.send(frame(PONG, b"not the ping's payload"))
    assert raw.close_code() == 1011
    wait_until(lambda: not served.sessions)


def gated(serve: Callable[..., Served]) -> tuple[Served, threading.Event]:
    """A server whose sessions open only once the event is set (after the 101)."""
    gate = threading.Event()

    async def make_env() -> AsyncToyEnv:
        await asyncio.to_thread(gate.wait, 10)
        return AsyncToyEnv()

    return serve(make_env, env_class=AsyncToyEnv), gate


def test_frames_sent_before_the_session_opened_are_answered(
    serve: Callable[..., Served],
) -> None:
    served, gate = gated(serve)
    raw = RawSocket(served)
    second = text({"type": "state", "id": "second"})
    raw.send(text({"type": "reset", "id": "first"}) + second[:5])  # no session yet
    wait_until(lambda: connection(served).queue.qsize() and connection(served).unparsed)
    gate.set()
    assert raw.reply()["id"] == "first"
    raw.send(second[5:])
    assert raw.reply()["id"] == "second"
    assert connection(served).frames_parsed_here


class HoldTheHandshake:
    """ASGI middleware: a WebSocket is accepted only once ``gate`` is set."""

    def __init__(self, app: Any, gate: threading.Event) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await asyncio.to_thread(self.gate.wait, 10)
        await self.app(scope, receive, send)


def test_frames_sent_before_the_handshake_ended_leave_framing_to_websockets() -> None:
    # RFC 6455 §4.1: a client waits for the 101 before it sends frames. One that does
    # not may leave websockets holding part of a frame; it keeps framing that connection.
    app = create_app(AsyncToyEnv, config=ServerConfig())
    gate = threading.Event()
    app.add_middleware(HoldTheHandshake, gate=gate)
    served = start_server(app)
    try:
        raw = RawSocket(served, wait_for_101=False)
        # Cut after the header: the rest starts with a mask key that reads as the
        # header of a 5-byte text frame, so parsing it as a fresh frame would show.
        whole = frame(TEXT, orjson.dumps({"type": "reset", "id": "early"}), key=b"\x81\x85\x00\x00")
        wait_until(lambda: any(c.handshake_initiated for c in websockets_of(served)))
        raw.send(whole[:2])
        wait_until(lambda: connection(served).websockets_saw_frames)
        gate.set()
        raw.read_101()
        raw.send(whole[2:])
        assert raw.reply()["id"] == "early"
        assert not connection(served).frames_parsed_here
        raw.send(text({"type": "step", "data": {"number": 4}}))
        assert raw.reply()["data"]["observation"]["number"] == 4
    finally:
        gate.set()
        served.stop()


def test_compression_is_declined_by_default_and_the_client_goes_on(served: Served) -> None:
    # OpenEnv's client offers permessage-deflate; by default we decline it.
    with open_ws(served, compression="deflate") as ws:
        assert not ws.protocol.extensions
        ws.send(orjson.dumps({"type": "reset"}).decode())
        assert orjson.loads(ws.recv(timeout=5))["type"] == "observation"
        assert all(c.frames_parsed_here for c in websockets_of(served))


def test_a_compressed_connection_is_framed_by_websockets(
    serve: Callable[..., Served],
) -> None:
    served = serve(AsyncToyEnv, ServerConfig(websocket_compression=True))
    with open_ws(served, compression="deflate") as ws:
        assert ws.protocol.extensions, "permessage-deflate was not negotiated"
        assert not connection(served).frames_parsed_here
        ws.send(orjson.dumps({"type": "reset"}).decode())
        assert orjson.loads(ws.recv(timeout=5))["type"] == "observation"
        ws.send(orjson.dumps({"type": "step", "data": {"message": "z" * 5000}}).decode())
        assert orjson.loads(ws.recv(timeout=5))["data"]["observation"]["echoed"] == "z" * 5000


@pytest.mark.parametrize("length", [0, 125, 126, 65535, 65536])
def test_the_servers_frame_header_parses_as_rfc_6455(length: int) -> None:
    payload = b"y" * length
    reader = StreamReader()
    reader.feed_data(frame_header(FIN | TEXT, length) + payload)
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as done:  # all bytes are there: it parses at once
        next(parser)
    parsed = done.value.value
    assert parsed.fin and parsed.opcode == Opcode.TEXT and parsed.data == payload
    assert not reader.buffer


def test_a_peer_that_never_reads_is_not_read_from_without_end(
    raw: RawSocket, served: Served
) -> None:
    # Pings never read back: each gets a pong queued in the server's write buffer.
    # Once that buffer is full the server must stop reading, or it grows with
    # everything the peer sends.
    protocol = started(raw, served)
    raw.sock.setblocking(False)
    batch = memoryview(frame(PING, b"p" * 125) * 500)  # ~65 KiB of pings
    sent, offset, cap = 0, 0, 64 * 2**20
    deadline = time.monotonic() + 20
    while sent < cap and time.monotonic() < deadline:
        try:
            n = raw.sock.send(batch[offset:])
        except BlockingIOError:
            _, writable, _ = select.select([], [raw.sock], [], 1.0)
            if not writable:
                break  # the server stopped reading us
            continue
        sent += n
        offset = (offset + n) % len(batch)
    buffered = protocol.transport.get_write_buffer_size()
    assert buffered < 4 * 2**20, f"{buffered} bytes of pongs queued ({sent} bytes of pings sent)"
    assert sent < cap
