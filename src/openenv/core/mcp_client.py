"""OpenEnv 0.10's ``MCPToolClient``: list and call an environment's MCP tools.

Example::

    async with MCPToolClient(base_url="http://localhost:8000") as env:
        tools = await env.list_tools()            # [Tool(name=..., input_schema=...)]
        total = await env.call_tool("add", a=5, b=3)

The calls travel as ``{"type": "mcp"}`` frames on the session's WebSocket (our
:meth:`~openenv.AsyncEnvClient.call_tool`); a failed call raises
:class:`~openenv.ToolError` (a ``RuntimeError``, as the reference raises).
"""

from __future__ import annotations

from typing import Any

from .env_client import EnvClient
from .env_server.mcp_types import Tool


class MCPClientBase(EnvClient[Any, Any, Any]):
    """A client of an environment served with MCP tools (dict observations and state)."""

    action_type = None
    observation_type = None
    state_type = None

    def __init__(self, base_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(base_url, *args, **kwargs)
        self._tools: list[Tool] | None = None

    async def list_tools(self, use_cache: bool = True) -> list[Tool]:  # type: ignore[override]
        """The environment's tools (fetched once unless ``use_cache=False``)."""
        if self._tools is None or not use_cache:
            listed = await EnvClient.list_tools(self)
            self._tools = [
                Tool(
                    name=tool["name"],
                    description=tool.get("description") or "",
                    input_schema=tool.get("inputSchema") or {},
                )
                for tool in listed
            ]
        return self._tools


class MCPToolClient(MCPClientBase):
    """Adds :meth:`get_tool` and :meth:`has_tool` to the listing and calling of tools."""

    async def get_tool(self, name: str) -> Tool | None:
        """The tool called ``name``, or None."""
        return next((tool for tool in await self.list_tools() if tool.name == name), None)

    async def has_tool(self, name: str) -> bool:
        """Whether the environment has a tool called ``name``."""
        return await self.get_tool(name) is not None


__all__ = ["MCPClientBase", "MCPToolClient"]
