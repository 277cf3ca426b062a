"""OpenEnv 0.10's MCP types that clients use (:class:`Tool`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Tool(BaseModel):
    """An MCP tool as ``tools/list`` describes it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique identifier for the tool")
    description: str = Field(description="Human-readable description of what the tool does")
    input_schema: dict[str, Any] = Field(description="JSON Schema for the tool's arguments")


__all__ = ["Tool"]
