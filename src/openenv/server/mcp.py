"""MCP over JSON-RPC 2.0: ``tools/list`` and ``tools/call`` on an environment's tools.

Used by ``POST /mcp`` and by the ``mcp`` WebSocket envelope; both hand a parsed
request and a session to :func:`handle`. Errors follow JSON-RPC 2.0:
-32700 parse error, -32600 invalid request, -32601 unknown method,
-32602 invalid params (unknown tool, bad arguments), -32603 internal error.
A tool that raises is reported MCP-style, as a result with ``isError: true``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import ValidationError

from ..protocol import JsonRpcCode, ProtocolError
from .sessions import Session

log = logging.getLogger("openenv.server")

MCP_PROTOCOL_VERSION = "2025-06-18"


def error(code: JsonRpcCode, message: str, request_id: Any = None, data: Any = None) -> dict:
    body: dict[str, Any] = {"code": code.value, "message": message}
    if data is not None:
        body["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": body}


def success(result: Any, request_id: Any) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def parse(raw: bytes) -> Any:
    """Parse a JSON-RPC body; returns an error response dict on a parse error."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return error(JsonRpcCode.PARSE_ERROR, f"Parse error: {exc}")


def validate(request: Any) -> tuple[str, dict[str, Any], Any] | dict:
    """``(method, params, id)`` of a valid request, or the error response."""
    if not isinstance(request, dict):
        kind = "batch requests are not supported" if isinstance(request, list) else "not an object"
        return error(JsonRpcCode.INVALID_REQUEST, f"Invalid Request: {kind}")
    request_id = request.get("id")
    if request_id is not None and (
        isinstance(request_id, bool) or not isinstance(request_id, str | int)
    ):
        return error(JsonRpcCode.INVALID_REQUEST, "Invalid Request: id must be a string or number")
    if request.get("jsonrpc") != "2.0":
        return error(
            JsonRpcCode.INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"', request_id
        )
    method = request.get("method")
    if not isinstance(method, str):
        return error(
            JsonRpcCode.INVALID_REQUEST, 'Invalid Request: "method" must be a string', request_id
        )
    params = request.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return error(
            JsonRpcCode.INVALID_PARAMS, "Invalid params: params must be an object", request_id
        )
    return method, params, request_id


def tool_result(value: Any) -> dict[str, Any]:
    """An MCP ``CallToolResult``; ``data`` carries the raw value (as FastMCP does)."""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return {
        "content": [{"type": "text", "text": text}],
        "structuredContent": {"result": value},
        "isError": False,
        "data": value,
    }


async def handle(request: Any, session_for: Callable[[], Awaitable[Session]]) -> dict:
    """Answer one JSON-RPC request; ``session_for()`` gives the session tools run in."""
    checked = validate(request)
    if isinstance(checked, dict):
        return checked
    method, params, request_id = checked
    if method == "initialize":
        return success(
            {
                "protocolVersion": MCP_PROTOCOL_VERSION,
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": "openenv", "version": "1.0"},
            },
            request_id,
        )
    if method == "ping":
        return success({}, request_id)
    if method not in ("tools/list", "tools/call"):
        return error(JsonRpcCode.METHOD_NOT_FOUND, f"Method not found: {method}", request_id)
    try:
        session = await session_for()
    except ProtocolError as exc:
        return error(JsonRpcCode.INTERNAL_ERROR, exc.message, request_id, {"code": exc.code.value})
    tools = type(session.env).tools()
    if method == "tools/list":
        return success({"tools": [spec.describe() for spec in tools.values()]}, request_id)

    name = params.get("name")
    arguments = params.get("arguments") or {}
    if not isinstance(name, str) or not name:
        return error(JsonRpcCode.INVALID_PARAMS, "Invalid params: 'name' is required", request_id)
    if name not in tools:
        known = ", ".join(sorted(tools)) or "none"
        return error(
            JsonRpcCode.INVALID_PARAMS, f"Unknown tool: {name!r} (tools: {known})", request_id
        )
    if not isinstance(arguments, dict):
        return error(
            JsonRpcCode.INVALID_PARAMS, "Invalid params: 'arguments' must be an object", request_id
        )
    try:
        value = await session.call_tool(name, arguments)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        return error(
            JsonRpcCode.INVALID_PARAMS, f"Invalid arguments for {name}", request_id, errors
        )
    except ProtocolError as exc:
        return error(JsonRpcCode.INTERNAL_ERROR, exc.message, request_id, {"code": exc.code.value})
    except Exception as exc:
        return success(
            {
                "content": [{"type": "text", "text": f"{type(exc).__name__}: {exc}"}],
                "isError": True,
            },
            request_id,
        )
    try:
        return success(tool_result(value), request_id)
    except TypeError as exc:
        return error(
            JsonRpcCode.INTERNAL_ERROR,
            f"tool {name} returned a value that is not JSON: {exc}",
            request_id,
        )
