"""A bound on HTTP request bodies, the HTTP twin of the WebSocket message limit.

Pure ASGI middleware: a body over ``max_message_bytes`` gets ``413`` with
``{"detail", "message", "code": "MESSAGE_TOO_LARGE", "max_message_bytes"}`` before
any route reads it (by ``Content-Length``, or while a chunked body streams in).
WebSocket connections pass through untouched; their messages are bounded in
:mod:`openenv.server.app`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .responses import send_json


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse HTTP bodies larger than ``limit`` bytes with 413 MESSAGE_TOO_LARGE."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(send)
                return
        received = 0
        tripped = answered = False

        async def limited_receive() -> Message:
            nonlocal received, tripped
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    tripped = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if tripped:
                # The route turned our exception into its own error (FastAPI answers
                # 400 for a body it could not read): answer 413 instead.
                if not answered and message["type"] == "http.response.start":
                    answered = True
                    await self._refuse(send)
                return
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if answered:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        message = f"request body exceeds the limit of {self.limit} bytes"
        payload = {
            "detail": message,
            "message": message,
            "code": "MESSAGE_TOO_LARGE",
            "max_message_bytes": self.limit,
        }
        await send_json(send, 413, payload, (b"connection", b"close"))
