"""OpenEnv 0.10's ``MCPToolClient``: list and call an environment's MCP tools.

Example::

    async with MCPToolClient(base_url="http://localhost:8000") as env:
        tools = await env.list_tools()            # [Tool(name=..., input_schema=...)]
        total = await env.call_tool("add", a=5, b=3)

    with MCPToolClient(base_url="http://localhost:8000").sync() as env:
        total = env.call_tool("add", a=5, b=3)

The calls travel as ``{"type": "mcp"}`` frames on the session's WebSocket (our
:meth:`~openenv.AsyncEnvClient.call_tool`); a failed call raises
:class:`~openenv.ToolError` (a ``RuntimeError``, as the reference raises). Tools may
also be called as steps, ``env.step(CallToolAction(tool_name="add", arguments=...))``,
answered with a ``CallToolObservation`` (``ListToolsAction``: ``ListToolsObservation``),
as the reference's client parses them.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from ..protocol import parse_result
from ..types import Observation, State, StepResult
from .env_client import EnvClient
from .env_server.mcp_types import CallToolObservation, ListToolsObservation, Tool
from .sync_client import SyncEnvClient


def _as_tools(listed: list[dict[str, Any]]) -> list[Tool]:
    return [
        Tool(
            name=tool.get("name", ""),
            description=tool.get("description") or "",
            input_schema=tool.get("inputSchema", tool.get("input_schema")) or {},
        )
        for tool in listed
    ]


class GenericMCPObservation(Observation):
    """Any other observation of an MCP environment, its fields kept (as the reference's)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)


def parse_mcp_result(payload: dict[str, Any]) -> StepResult[Any]:
    """A step's result as the reference's MCP client reads it: a ``ListToolsObservation``
    (the observation has ``tools``), a ``CallToolObservation`` (``tool_name``), else a
    :class:`GenericMCPObservation`."""
    observation = dict(payload.get("observation") or {})
    if "tools" in observation:
        listed = _as_tools(list(observation.get("tools") or []))
        observation["tools"] = [tool.model_dump() for tool in listed]
        return parse_result({**payload, "observation": observation}, ListToolsObservation)
    if "tool_name" in observation:
        return parse_result(payload, CallToolObservation)
    result = parse_result(payload, None)  # the fields as a dict, metadata beside them
    fields = {k: v for k, v in result.observation.items() if k not in ("done", "reward")}
    typed = GenericMCPObservation(
        **fields, done=result.done, reward=result.reward, metadata=result.metadata
    )
    return StepResult(
        observation=typed, reward=result.reward, done=result.done, metadata=result.metadata
    )


class MCPClientBase(EnvClient[Any, Any, Any]):
    """A client of an environment served with MCP tools: observations parsed as the
    reference parses them (:func:`parse_mcp_result`), the state as a ``State``."""

    action_type = None
    observation_type = None
    state_type = State

    def __init__(self, base_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(base_url, *args, **kwargs)
        self._tools: list[Tool] | None = None

    async def list_tools(self, use_cache: bool = True) -> list[Tool]:  # type: ignore[override]
        """The environment's tools (fetched once unless ``use_cache=False``)."""
        if self._tools is None or not use_cache:
            self._tools = _as_tools(await EnvClient.list_tools(self))
        return self._tools

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[Any]:
        return parse_mcp_result(payload)

    def sync(self) -> SyncMCPToolClient:  # type: ignore[override]
        """The blocking view: the same calls, returning results rather than awaitables."""
        self._claim("sync")
        if self._sync_client is None:
            self._sync_client = SyncMCPToolClient(self)
        return self._sync_client  # type: ignore[return-value]


class MCPToolClient(MCPClientBase):
    """Adds :meth:`get_tool` and :meth:`has_tool` to the listing and calling of tools."""

    async def get_tool(self, name: str) -> Tool | None:
        """The tool called ``name``, or None."""
        return next((tool for tool in await self.list_tools() if tool.name == name), None)

    async def has_tool(self, name: str) -> bool:
        """Whether the environment has a tool called ``name``."""
        return await self.get_tool(name) is not None


class SyncMCPToolClient(SyncEnvClient[Any, Any, Any]):
    """The blocking view of an :class:`MCPClientBase`: tools as :class:`Tool` models."""

    def __init__(self, async_client: MCPClientBase) -> None:
        super().__init__(async_client)
        self._tools: list[Tool] | None = None

    def list_tools(self, use_cache: bool = True) -> list[Tool]:  # type: ignore[override]
        """The environment's tools (fetched once unless ``use_cache=False``)."""
        if self._tools is None or not use_cache:
            self._tools = _as_tools(super().list_tools())
        return self._tools

    def get_tool(self, name: str) -> Tool | None:
        """The tool called ``name``, or None."""
        return next((tool for tool in self.list_tools() if tool.name == name), None)

    def has_tool(self, name: str) -> bool:
        """Whether the environment has a tool called ``name``."""
        return self.get_tool(name) is not None


__all__ = [
    "GenericMCPObservation",
    "MCPClientBase",
    "MCPToolClient",
    "SyncMCPToolClient",
    "parse_mcp_result",
]
