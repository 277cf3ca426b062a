"""One WebSocket connection served: one session, its messages answered in order.

The frames are :mod:`openenv.protocol`'s; the rules a session lives by (limits,
timeouts, reaping) are :mod:`openenv.server.sessions`'; this module moves messages
between the two and turns exceptions into error frames (:mod:`.failures`).
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from .. import protocol
from ..errors import ProtocolError
from ..protocol import EXTENSIONS_SUBPROTOCOL, ErrorCode
from . import mcp
from .failures import execution_error, validation_error
from .sessions import Session, SessionManager
from .transport import EXTENSION as DIRECT_EXTENSION
from .transport import ClientDisconnected, DirectChannel

_DISCONNECTED = object()


class WebSocketSession:
    """Serves one WebSocket connection: one session, messages answered in order.

    Under :class:`~openenv.server.transport.DirectWebSocketProtocol` (what
    ``uvicorn_config`` selects), messages arrive by callback and replies are
    written straight to the socket; under any other ASGI server, through ASGI.
    Either way a reader watches the socket while a call runs, so a client that
    vanishes mid-step ends its session at once instead of when the step returns.
    """

    BACKLOG = 64
    """Messages queued unanswered before the server stops reading the socket."""

    def __init__(self, websocket: WebSocket, manager: SessionManager) -> None:
        self.websocket = websocket
        self.manager = manager
        self.pending: collections.deque[Any] = collections.deque()
        self.waiter: asyncio.Future[None] | None = None
        self.room = asyncio.Event()
        self.room.set()
        self.direct: DirectChannel | None = websocket.scope.get("extensions", {}).get(
            DIRECT_EXTENSION
        )
        self.loop = asyncio.get_running_loop()  # kept: finding it costs a getpid() on 3.11
        self.handling = False
        self.gone = False
        self.end_reason: str | None = None

    async def run(self) -> None:
        ws = self.websocket
        offered = ws.scope.get("subprotocols") or ()
        chosen = EXTENSIONS_SUBPROTOCOL if EXTENSIONS_SUBPROTOCOL in offered else None
        await ws.accept(subprotocol=chosen)
        attach_to = ws.query_params.get("session_id")  # a session made by openenv/session/create
        try:
            if attach_to:
                session = self.manager.attach(attach_to)
            else:
                session = await self.manager.open()
                session.attached = True  # its own socket: no other may attach to it
        except ProtocolError as exc:
            await ws.send_text(protocol.encode_error(exc).decode())
            await ws.close(code=1013 if exc.code is ErrorCode.CAPACITY_REACHED else 1011)
            return
        session.on_end = self._on_end
        if self.direct is not None:
            self.direct.attach(self._push)
        # Served in a task of its own: each message wakes this short stack, not the
        # ASGI task's dozen frames of middleware (~0.5 µs a message on uvloop).
        # Cancelling the ASGI task (shutdown) cancels it too.
        serving = self.loop.create_task(self._serve(session))
        reader = self.loop.create_task(self._read(serving))
        try:
            await serving
        except WebSocketDisconnect:
            pass  # the client left while we were answering; nothing more to send
        except asyncio.CancelledError:
            if not reader.done():  # cancelled from outside (shutdown), not by our reader
                raise
        finally:
            reader.cancel()
            if self.direct is not None:
                self.direct.detach()
            if attach_to:
                await self.manager.detach(session)
            else:
                await session.close(self.end_reason or "client disconnected")

    def _on_end(self, reason: str) -> None:
        # Reaping or shutdown: wake the serving loop so it closes the socket.
        self.end_reason = reason
        self._push(_DISCONNECTED)

    def _push(self, item: Any) -> None:
        self.pending.append(item)
        if len(self.pending) >= self.BACKLOG:
            self.room.clear()
            if self.direct is not None:
                self.direct.pause_reading()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _next(self) -> Any:
        while True:
            if self.gone or self.end_reason is not None:  # client left, or session reaped/shut down
                return _DISCONNECTED
            if self.pending:
                break
            self.waiter = self.loop.create_future()
            await self.waiter
        item = self.pending.popleft()
        if not self.room.is_set() and len(self.pending) < self.BACKLOG // 2:
            self.room.set()
            if self.direct is not None:
                self.direct.resume_reading()
        return item

    async def _read(self, main: asyncio.Task[Any] | None) -> None:
        # With the direct channel, only the disconnect comes this way.
        receive = self.websocket.receive
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.gone = True
                if self.handling and main is not None:
                    main.cancel()  # abandon the running call; the session is over
                self._push(_DISCONNECTED)
                return
            text = message.get("text")
            self._push(text if text is not None else message.get("bytes", b""))
            await self.room.wait()

    async def _send(self, frame: bytes) -> None:
        if self.direct is None:
            await self.websocket.send_text(frame.decode())
            return
        try:
            self.direct.send_text(frame)
        except ClientDisconnected:
            raise WebSocketDisconnect(1006) from None
        writable = self.direct.writable
        if not writable.is_set():  # the peer is not reading: wait for room
            await writable.wait()

    async def _serve(self, session: Session) -> None:
        ws = self.websocket
        limit = self.manager.config.max_message_bytes
        while True:
            raw = await self._next()
            session.touch()
            if raw is _DISCONNECTED:
                if self.end_reason is not None:
                    await ws.close(code=1000, reason=self.end_reason[:120])
                return
            size = len(raw)
            if isinstance(raw, str) and size * 4 > limit:  # a character is up to 4 bytes
                size = len(raw.encode())
            if size > limit:
                error = ProtocolError(
                    ErrorCode.MESSAGE_TOO_LARGE,
                    f"message of {size} bytes exceeds the limit of {limit} bytes",
                    max_message_bytes=limit,
                )
                await self._send(protocol.encode_error(error))
                continue
            self.handling = True
            try:
                reply = await self._answer(session, raw)
            finally:
                self.handling = False
            if reply is None:  # close requested
                await ws.close(code=1000)
                return
            await self._send(reply)
            if session.end_reason is not None:  # e.g. the step timed out
                await ws.close(code=1000, reason=session.end_reason[:120])
                return

    async def _answer(self, session: Session, raw: str | bytes) -> bytes | None:
        request_id = None
        message: Any = None
        try:
            message = protocol.decode_message(raw)
            request_id = message.get("id")
            if request_id is not None and (
                isinstance(request_id, bool) or not isinstance(request_id, str | int)
            ):
                request_id = None
                raise ProtocolError(
                    ErrorCode.VALIDATION_ERROR, '"id" must be a string or an integer'
                )
            kind = message.get("type")
            allowed = protocol.MESSAGE_KEYS.get(kind) if isinstance(kind, str) else None
            if allowed is None:
                what = f"unknown message type {kind!r}" if kind is not None else 'no "type"'
                raise ProtocolError(
                    ErrorCode.UNKNOWN_TYPE,
                    f"{what}; expected one of {', '.join(protocol.MESSAGE_KEYS)}",
                )
            if not allowed.issuperset(message):
                extra = sorted(message.keys() - allowed)
                raise ProtocolError(
                    ErrorCode.VALIDATION_ERROR, f"unexpected field(s) {extra} in a {kind} message"
                )
            data = message.get("data")
            if kind == "step":
                if isinstance(data, dict) and self._is_mcp_step(data):
                    return protocol.encode_frame(
                        "observation", await mcp.step_as_tool_call(session, data), request_id
                    )
                timeout_s = message.get("timeout_s")
                if timeout_s is not None and (
                    isinstance(timeout_s, bool)
                    or not isinstance(timeout_s, int | float)
                    or timeout_s <= 0
                ):
                    raise ProtocolError(
                        ErrorCode.VALIDATION_ERROR, "timeout_s must be a positive number"
                    )
                observation = await session.step(data, timeout_s)
                return protocol.encode_observation(observation, request_id)
            if kind == "reset":
                if data is not None and not isinstance(data, dict):
                    raise ProtocolError(
                        ErrorCode.VALIDATION_ERROR, "reset data must be an object of options"
                    )
                observation = await session.reset(data or {})
                return protocol.encode_observation(observation, request_id)
            if kind == "state":
                state = session.state().model_dump(mode="json")
                return protocol.encode_frame("state", state, request_id)
            if kind == "mcp":
                if not isinstance(data, dict):
                    raise ProtocolError(
                        ErrorCode.VALIDATION_ERROR, "mcp data must be a JSON-RPC request object"
                    )

                response = await mcp.handle(data, self.manager, own=session)
                return protocol.encode_frame("mcp", response, request_id)
            return None  # close
        except ProtocolError as exc:
            return protocol.encode_error(exc, request_id)
        except ValidationError as exc:
            what = message.get("type") if isinstance(message, dict) else None
            error = validation_error(exc, self.manager, str(what))
            return protocol.encode_error(error, request_id)
        except Exception as exc:
            error = execution_error(exc, f"in session {session.id}")
            return protocol.encode_error(error, request_id)

    def _is_mcp_step(self, data: dict[str, Any]) -> bool:
        # OpenEnv's MCPToolClient sends tool calls as step actions typed
        # "list_tools" / "call_tool"; honour them when the action has no "type" of its own.
        return (
            data.get("type") in ("list_tools", "call_tool")
            and "type" not in self.manager.action_type.model_fields
            and bool(self.manager.env_class.tools())
        )
