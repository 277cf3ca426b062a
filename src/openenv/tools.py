"""Tools: environment methods that agents may call over MCP.

Mark a method of your :class:`~openenv.Environment` with :func:`tool` and it is
listed by ``tools/list`` and callable by ``tools/call`` — over ``POST /mcp`` and
the ``mcp`` WebSocket envelope alike. Arguments are validated against the
method's type hints, and the input schema shown to agents is derived from them.

Example::

    class Calculator(Environment):
        @tool
        def add(self, a: int, b: int) -> int:
            \"\"\"Add two integers.\"\"\"
            return a + b

The server reads a session's tools from its environment instance
(:meth:`openenv.Environment.instance_tools`): by default the class's ``@tool``
methods, as :class:`ToolSpec`; an environment may give each instance its own
(OpenEnv 0.10's ``MCPEnvironment`` gives those of its FastMCP server). Every entry
of that table has the interface of :class:`ToolLike`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, create_model
from pydantic import ValidationError as ValidationError  # re-exported for callers

from .signatures import fields_from_signature

F = TypeVar("F", bound=Callable[..., Any])

RESERVED_TOOL_NAMES = frozenset({"reset", "step", "state", "close"})
"""Names a tool may not take: they would shadow the Gym-style API."""

_TOOL_ATTR = "__openenv_tool__"


class ToolLike(Protocol):
    """What the server needs of a tool: :class:`ToolSpec` (a ``@tool`` method) is one."""

    name: str
    description: str
    errors_as_results: bool
    """A call that raises is answered as an MCP result with ``isError`` (True), or as a
    JSON-RPC error (False: OpenEnv 0.10's ``MCPEnvironment`` does so, and its client
    raises only on that)."""

    def describe(self, schema_key: str = "inputSchema") -> dict[str, Any]:
        """The tool as MCP lists it (``input_schema`` as the key in step observations)."""
        ...

    def bind(self, env: Any, arguments: dict[str, Any]) -> Callable[[], Any]:
        """The call of this tool on ``env``, not yet made; calling it runs the tool (its
        result is a coroutine when :meth:`is_async`). Bad arguments raise
        :class:`pydantic.ValidationError`, here or when the call runs."""
        ...

    def is_async(self, env: Any) -> bool:
        """Whether the call is awaited on the event loop (else it runs in a worker thread)."""
        ...

    def result(self, value: Any, max_bytes: int) -> dict[str, Any]:
        """The MCP ``CallToolResult`` of what the call returned (see :func:`mcp_result`)."""
        ...


def mcp_result(value: Any, max_bytes: int) -> dict[str, Any]:
    """An MCP ``CallToolResult`` for a tool's value; ``data`` carries the raw value (as
    FastMCP's client does). Raises ``TypeError`` when ``value`` is not JSON.

    A result over ``max_bytes`` (the server's message limit, as for steps) is not
    sent: an error result says how big it was.
    """
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    if len(text) > max_bytes // 4 and len(text.encode()) > max_bytes:
        return too_large(len(text.encode()), max_bytes)
    return {
        "content": [{"type": "text", "text": text}],
        "structuredContent": {"result": value},
        "isError": False,
        "data": value,
    }


def too_large(size: int, max_bytes: int) -> dict[str, Any]:
    """The error result that replaces a tool's result of ``size`` bytes."""
    message = f"the tool's result is {size} bytes, over the {max_bytes}-byte limit"
    return {"content": [{"type": "text", "text": message}], "isError": True}


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its name, description, JSON input schema and the method behind it."""

    name: str
    description: str
    method_name: str
    arguments_model: type[BaseModel]
    errors_as_results = True  # a method that raises: an isError result (see ToolLike)

    @property
    def input_schema(self) -> dict[str, Any]:
        schema = self.arguments_model.model_json_schema()
        schema.pop("title", None)
        return schema

    def describe(self, schema_key: str = "inputSchema") -> dict[str, Any]:
        """The tool as MCP lists it (``schema_key`` is ``input_schema`` in step observations)."""
        return {"name": self.name, "description": self.description, schema_key: self.input_schema}

    def bind(self, env: object, arguments: dict[str, Any]) -> Callable[[], Any]:
        """The call of this tool on ``env`` with ``arguments`` validated, not yet made.

        Calling it runs the method (a coroutine for an ``async def`` tool). Raises
        :class:`pydantic.ValidationError` when the arguments do not fit.
        """
        validated = self.arguments_model.model_validate(arguments)
        kwargs = {name: getattr(validated, name) for name in type(validated).model_fields}
        return functools.partial(getattr(env, self.method_name), **kwargs)

    async def call(self, env: object, arguments: dict[str, Any]) -> Any:
        """Validate ``arguments`` and run the tool on ``env``, here (no thread, no limit).

        The server does not use this: it runs synchronous tools in worker threads
        under the step timeout (:meth:`openenv.server.sessions.Session.call_tool`).
        """
        result = self.bind(env, arguments)()
        if inspect.isawaitable(result):
            result = await result
        return result

    def is_async(self, env: object) -> bool:
        """Whether the tool's method on ``env`` is a coroutine function."""
        return inspect.iscoroutinefunction(getattr(env, self.method_name))

    def result(self, value: Any, max_bytes: int) -> dict[str, Any]:
        """The MCP ``CallToolResult`` of the method's return value (:func:`mcp_result`)."""
        return mcp_result(value, max_bytes)


def tool(fn: F | None = None, *, name: str | None = None, description: str | None = None) -> Any:
    """Declare an environment method as an MCP tool (usable bare or with arguments)."""

    def mark(method: F) -> F:
        tool_name = name or method.__name__
        if tool_name in RESERVED_TOOL_NAMES:
            raise ValueError(f"tool name {tool_name!r} is reserved ({sorted(RESERVED_TOOL_NAMES)})")
        setattr(method, _TOOL_ATTR, (tool_name, description))
        return method

    return mark(fn) if fn is not None else mark


def collect_tools(cls: type) -> dict[str, ToolSpec]:
    """All tools declared on ``cls`` and its bases, by name."""
    tools: dict[str, ToolSpec] = {}
    for attr_name in dir(cls):
        method = getattr(cls, attr_name, None)
        marker = getattr(method, _TOOL_ATTR, None)
        if marker is None:
            continue
        tool_name, description = marker
        fields, _ = fields_from_signature(method, skip_first=True)
        model = create_model(
            f"{cls.__name__}_{tool_name}_arguments",
            __config__=ConfigDict(extra="forbid"),
            **fields,
        )
        doc = description or inspect.getdoc(method) or ""
        tools[tool_name] = ToolSpec(tool_name, doc.strip(), attr_name, model)
    return tools
