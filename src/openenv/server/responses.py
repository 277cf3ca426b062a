"""A JSON response written straight to ASGI ``send``, for pure-ASGI middleware."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Send


async def send_json(
    send: Send, status: int, payload: dict[str, Any], *extra_headers: tuple[bytes, bytes]
) -> None:
    """Answer an HTTP request with ``payload`` as JSON and the given status."""
    body = orjson.dumps(payload)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
