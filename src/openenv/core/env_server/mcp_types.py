"""OpenEnv 0.10's MCP types: the tool model, and the actions and observations of tools
called as steps (``ListToolsAction`` → ``ListToolsObservation``, ``CallToolAction`` →
``CallToolObservation``), as :class:`~.mcp_environment.MCPEnvironment` answers them.

The actions and observations are our :class:`~openenv.Action` and
:class:`~openenv.Observation` with the reference's fields, so they travel in our step
frames unchanged (``{"type": "call_tool", "tool_name": ..., "arguments": {...}}``).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...tools import RESERVED_TOOL_NAMES
from ...types import Action, Observation


class Tool(BaseModel):
    """An MCP tool as ``tools/list`` describes it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique identifier for the tool")
    description: str = Field(description="Human-readable description of what the tool does")
    input_schema: dict[str, Any] = Field(description="JSON Schema for the tool's arguments")


class ToolErrorType(str, Enum):
    """Why a tool call made as a step failed (the tool's own errors are in its result)."""

    EXECUTION_ERROR = "execution_error"
    INVALID_ARGS = "invalid_args"
    TRANSPORT_ERROR = "transport_error"
    TOOL_NOT_FOUND = "tool_not_found"
    TIMEOUT = "timeout"


class ToolError(BaseModel):
    """A failed tool call: its kind and message."""

    model_config = ConfigDict(extra="forbid")

    error_type: ToolErrorType = Field(description="Category of the error")
    message: str = Field(description="Human-readable error message")


class ListToolsAction(Action):
    """Ask for the environment's tools (answered with a :class:`ListToolsObservation`)."""

    type: Literal["list_tools"] = Field(default="list_tools", description="Action type")


class CallToolAction(Action):
    """Call the tool ``tool_name`` with ``arguments`` (answered with a
    :class:`CallToolObservation`)."""

    type: Literal["call_tool"] = Field(default="call_tool", description="Action type")
    tool_name: str = Field(description="Name of the tool to call")
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="Arguments to pass to the tool"
    )


class ListToolsObservation(Observation):
    """The environment's tools, with their input schemas."""

    tools: list[Tool] = Field(description="List of available tools with their schemas")


class CallToolObservation(Observation):
    """What a tool call returned (``result``), or why it failed (``error``)."""

    tool_name: str = Field(description="Name of the tool that was called")
    result: Any = Field(default=None, description="The tool's result (may hold its own errors)")
    error: ToolError | None = Field(default=None, description="Why the call failed, if it did")


__all__ = [
    "RESERVED_TOOL_NAMES",
    "CallToolAction",
    "CallToolObservation",
    "ListToolsAction",
    "ListToolsObservation",
    "Tool",
    "ToolError",
    "ToolErrorType",
]
