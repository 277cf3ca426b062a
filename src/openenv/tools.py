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
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, create_model
from pydantic import ValidationError as ValidationError  # re-exported for callers

from .signatures import fields_from_signature

F = TypeVar("F", bound=Callable[..., Any])

RESERVED_TOOL_NAMES = frozenset({"reset", "step", "state", "close"})
"""Names a tool may not take: they would shadow the Gym-style API."""

_TOOL_ATTR = "__openenv_tool__"


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its name, description, JSON input schema and the method behind it."""

    name: str
    description: str
    method_name: str
    arguments_model: type[BaseModel]

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
