"""Frames between the server and a sandboxed worker: a 4-byte length, then JSON.

JSON both ways on purpose: the worker runs untrusted code, so nothing it sends
may be able to execute in the server (no pickle), and the server validates
every observation against the environment's pydantic models.

The worker's end (:class:`SyncChannel`) needs no ``asyncio``: the worker imports
this module first thing, and asyncio costs a cold start ~10-20 ms.
"""

from __future__ import annotations

import socket
import struct
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import ChannelClosed

if TYPE_CHECKING:
    import asyncio

HEADER = struct.Struct(">I")
MAX_FRAME = 256 * 2**20
"""Largest frame accepted from a worker (a screenshot-heavy observation fits easily)."""


def encode(message: Any, default: Any = None) -> bytes:
    """One frame: ``message``'s JSON behind its 4-byte length."""
    body = orjson.dumps(message, default=default)
    return HEADER.pack(len(body)) + body


def _models_as_json(value: Any) -> Any:
    """Server to worker: validated arguments may hold pydantic models; send their JSON."""
    dump = getattr(value, "model_dump", None)
    if dump is None:
        raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")
    return dump(mode="json")


def _size(header: bytes) -> int:
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ChannelClosed(f"frame of {size} bytes exceeds {MAX_FRAME}")
    return size


class SyncChannel:
    """The worker's end: blocking reads and writes on a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file = sock.makefile("rb")

    def send(self, message: Any) -> None:
        """Send ``message``; :class:`TypeError` (nothing sent) if it is not JSON."""
        self.sock.sendall(encode(message))

    def receive(self) -> Any:
        header = self.file.read(HEADER.size)
        if len(header) < HEADER.size:
            raise ChannelClosed("server closed the channel")
        size = _size(header)
        body = self.file.read(size)
        if len(body) < size:
            raise ChannelClosed("server closed the channel mid-frame")
        return orjson.loads(body)


class AsyncChannel:
    """The server's end: one request, one reply, in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def over(cls, sock: socket.socket) -> AsyncChannel:
        import asyncio

        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=MAX_FRAME)
        return cls(reader, writer)

    async def send(self, message: Any) -> None:
        self.writer.write(encode(message, _models_as_json))
        await self.writer.drain()

    async def receive(self) -> Any:
        try:
            header = await self.reader.readexactly(HEADER.size)
            body = await self.reader.readexactly(_size(header))
        except (EOFError, ConnectionError) as exc:  # IncompleteReadError is an EOFError
            raise ChannelClosed("worker closed the channel") from exc
        return orjson.loads(body)

    async def request(self, message: Any) -> Any:
        await self.send(message)
        return await self.receive()

    def close(self) -> None:
        self.writer.close()
