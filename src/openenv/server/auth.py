"""Optional bearer-token guard for every route, WebSocket upgrades included.

Pure ASGI middleware: it looks once at each connection's headers and adds
nothing to the per-message path of an accepted WebSocket.
"""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Receive, Scope, Send

from .responses import send_json


class BearerTokenMiddleware:
    """Refuse requests without ``Authorization: Bearer <token>``.

    HTTP requests get ``401`` with ``{"detail", "message", "code": "UNAUTHORIZED"}``; a
    WebSocket upgrade is refused before it is accepted (the client sees HTTP 403).
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = token.encode()

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                # The scheme is case-insensitive (RFC 7235); the token is not.
                return scheme.lower() == b"bearer" and secrets.compare_digest(
                    credentials.strip(), self.expected
                )
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "unauthorized"})
            return
        message = "missing or wrong bearer token"
        payload = {"detail": message, "message": message, "code": "UNAUTHORIZED"}
        await send_json(send, 401, payload, (b"www-authenticate", b"Bearer"))
