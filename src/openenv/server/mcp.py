"""MCP over JSON-RPC 2.0: ``tools/list`` and ``tools/call`` on an environment's tools.

Used by ``POST /mcp`` and by the ``mcp`` WebSocket envelope; both hand a parsed
request to :func:`handle`. The tools are those of the session's environment instance
(:meth:`openenv.Environment.instance_tools`): its class's ``@tool`` methods, or tools
of its own (an OpenEnv 0.10 ``MCPEnvironment``'s FastMCP tools). Also OpenEnv's
session methods, which its ``MCPToolClient`` uses: ``openenv/session/create`` and
``openenv/session/close``.
Errors follow JSON-RPC 2.0: -32700 parse error, -32600 invalid request, -32601
unknown method, -32602 invalid params (unknown tool or session, bad arguments),
-32603 internal error, -32000 no room for a new session. A tool that raises is
reported MCP-style, as a result with ``isError: true`` (an ``MCPEnvironment``'s FastMCP
tool: as a -32603 error, as OpenEnv 0.10 reports it).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from pydantic import ValidationError

from ..errors import EnvironmentFailed, ProtocolError
from ..protocol import JsonRpcCode, describe_exception
from ..tools import ToolLike
from .sessions import Session, SessionManager

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


async def handle(request: Any, manager: SessionManager, own: Session | None = None) -> dict:
    """Answer one JSON-RPC request.

    Tools run in ``own`` (the WebSocket's session), else in the session named by
    ``params.session_id`` (one made by ``openenv/session/create``), else in a fresh
    environment for this call only.
    """
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
    if method == "openenv/session/create":
        return await _create_session(manager, own, request_id)
    if method == "openenv/session/close":
        return await _close_session(manager, own, params, request_id)
    if method not in ("tools/list", "tools/call"):
        return error(JsonRpcCode.METHOD_NOT_FOUND, f"Method not found: {method}", request_id)
    if own is not None:
        return await _tools(method, params, own, request_id)
    session_id = params.get("session_id")
    if session_id is not None:
        session = manager.sessions.get(session_id) if isinstance(session_id, str) else None
        if session is None:
            message = f"Unknown session_id: {session_id}"
            return error(JsonRpcCode.INVALID_PARAMS, message, request_id)
        session.touch()  # any request naming the session is activity, even a failing one
        return await _tools(method, params, session, request_id)
    try:
        async with manager.temporary() as session:
            return await _tools(method, params, session, request_id)
    except ProtocolError as exc:  # no room, or the environment could not be made
        return error(JsonRpcCode.INTERNAL_ERROR, exc.message, request_id, exc.frame_data())


async def _create_session(manager: SessionManager, own: Session | None, request_id: Any) -> dict:
    """OpenEnv's ``openenv/session/create``: a session that outlives this request.

    It is reaped when idle like any other; a WebSocket may attach to it with
    ``/ws?session_id=...``. On a WebSocket, the answer is that socket's own session.
    """
    if own is not None:
        return success({"session_id": own.id}, request_id)
    try:
        session = await manager.open()
    except ProtocolError as exc:
        return error(JsonRpcCode.SERVER_ERROR, exc.message, request_id, exc.frame_data())
    return success({"session_id": session.id}, request_id)


async def _close_session(
    manager: SessionManager, own: Session | None, params: dict[str, Any], request_id: Any
) -> dict:
    """OpenEnv's ``openenv/session/close``; an attached session closes when its socket leaves."""
    session_id = params.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        message = "Invalid params: 'session_id' is required"
        return error(JsonRpcCode.INVALID_PARAMS, message, request_id)
    if own is not None and own.id == session_id:
        return error(
            JsonRpcCode.INVALID_REQUEST,
            "Cannot close the WebSocket's own session via MCP; send a close message",
            request_id,
        )
    session = manager.sessions.get(session_id)
    if session is None:
        message = f"Unknown session_id: {session_id}"
        return error(JsonRpcCode.INVALID_PARAMS, message, request_id)
    if session.attached:
        session.close_when_detached = True
        return success({"session_id": session_id, "closed": False, "closing": True}, request_id)
    await session.close("closed via openenv/session/close")
    return success({"session_id": session_id, "closed": True}, request_id)


async def _tools(method: str, params: dict[str, Any], session: Session, request_id: Any) -> dict:
    tools = session.tools()  # this environment instance's: its class's, or its own
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
    except EnvironmentFailed as exc:  # raised in a sandboxed worker: invalid arguments there
        if exc.type_name != "ValidationError":
            return _failed(tools[name], exc, request_id)
        message = f"Invalid arguments for {name}: {exc}"
        return error(JsonRpcCode.INVALID_PARAMS, message, request_id)
    except Exception as exc:
        return _failed(tools[name], exc, request_id)
    try:
        result = tools[name].result(value, session.manager.config.max_message_bytes)
        return success(result, request_id)
    except TypeError as exc:
        return error(
            JsonRpcCode.INTERNAL_ERROR,
            f"tool {name} returned a value that is not JSON: {exc}",
            request_id,
        )


def _failed(spec: ToolLike, exc: Exception, request_id: Any) -> dict:
    """The answer to a call that raised: an MCP result with ``isError`` (the exception
    as its text), or, for a tool that says so, a JSON-RPC error (the message alone)."""
    if getattr(spec, "errors_as_results", True):
        text = describe_exception(exc)
        return success({"content": [{"type": "text", "text": text}], "isError": True}, request_id)
    return error(JsonRpcCode.INTERNAL_ERROR, str(exc), request_id)


async def step_as_tool_call(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """Answer an MCP-style step action as OpenEnv's ListTools/CallTool observations.

    OpenEnv's ``MCPToolClient`` sends tool calls as ``step`` actions typed
    ``list_tools`` / ``call_tool``; the reply is an observation frame's ``data``.
    """
    tools = session.tools()
    if data["type"] == "list_tools":
        described = [spec.describe("input_schema") for spec in tools.values()]
        listed = {"tools": described, "metadata": {}}
        return {"observation": listed, "reward": None, "done": False}
    name = data.get("tool_name")
    arguments = data.get("arguments") or {}
    # metadata inside, as in every observation OpenEnv sends (decision 0007).
    observation: dict[str, Any] = {"tool_name": name, "result": None, "error": None, "metadata": {}}
    if name not in tools:
        observation["error"] = {
            "error_type": "tool_not_found",
            "message": f"Unknown tool: {name!r}",
        }
    else:
        try:
            value = await session.call_tool(name, arguments)
            limit = session.manager.config.max_message_bytes
            observation["result"] = tools[name].result(value, limit)
        except ValidationError as exc:
            observation["error"] = {"error_type": "invalid_args", "message": str(exc)}
        except ProtocolError:
            raise
        except Exception as exc:
            observation["error"] = {
                "error_type": "execution_error",
                "message": f"{type(exc).__name__}: {exc}",
            }
    return {"observation": observation, "reward": None, "done": False}
