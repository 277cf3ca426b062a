"""Tools: environment methods agents may call over MCP."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import ValidationError

from openenv import Environment, tool
from openenv.tools import RESERVED_TOOL_NAMES, collect_tools


class Calculator(Environment):
    def __init__(self) -> None:
        super().__init__()
        self.memory = 0

    @tool
    def add(self, a: int, b: int = 1) -> int:
        """Add two integers.

        More words that stay in the description.
        """
        return a + b

    @tool(name="store", description="Remember a number.")
    def remember(self, value: float) -> None:
        self.memory = value

    @tool
    async def mode(self, kind: Literal["fast", "slow"] = "fast") -> str:
        return kind

    @tool
    def undocumented(self, items: list[str], options: dict[str, Any] | None = None) -> int:
        return len(items)

    def helper(self) -> None:
        """Not a tool."""


class ScientificCalculator(Calculator):
    @tool
    def power(self, base: float, exponent: float) -> float:
        """Raise to a power."""
        return base**exponent


def test_collected_tools():
    tools = collect_tools(Calculator)
    assert set(tools) == {"add", "store", "mode", "undocumented"}
    assert tools["store"].method_name == "remember"
    assert tools["store"].description == "Remember a number."
    assert tools["add"].description.startswith("Add two integers.")
    assert "More words" in tools["add"].description
    assert tools["undocumented"].description == ""
    assert Calculator.tools() is Calculator.tools()  # collected once per class
    assert set(Calculator.tools()) == set(tools)


def test_subclasses_inherit_tools():
    assert set(ScientificCalculator.tools()) == {"add", "store", "mode", "undocumented", "power"}
    assert "power" not in Calculator.tools()


def test_input_schema_from_type_hints():
    schema = Calculator.tools()["add"].input_schema
    assert "title" not in schema
    assert schema["type"] == "object"
    assert schema["properties"]["a"]["type"] == "integer"
    assert schema["properties"]["b"]["default"] == 1
    assert schema["required"] == ["a"]
    assert schema["additionalProperties"] is False
    assert Calculator.tools()["mode"].input_schema["properties"]["kind"]["enum"] == ["fast", "slow"]
    items = Calculator.tools()["undocumented"].input_schema["properties"]["items"]
    assert items == {"items": {"type": "string"}, "title": "Items", "type": "array"}


def test_describe():
    spec = Calculator.tools()["add"]
    assert spec.describe() == {
        "name": "add",
        "description": spec.description,
        "inputSchema": spec.input_schema,
    }
    assert set(spec.describe("input_schema")) == {"name", "description", "input_schema"}


async def test_call_validates_and_runs():
    env = Calculator()
    tools = Calculator.tools()
    assert await tools["add"].call(env, {"a": 2, "b": 3}) == 5
    assert await tools["add"].call(env, {"a": 2}) == 3  # defaults apply
    assert await tools["add"].call(env, {"a": "4"}) == 5  # lax coercion, as pydantic does
    assert await tools["store"].call(env, {"value": 2.5}) is None
    assert env.memory == 2.5
    assert await tools["mode"].call(env, {"kind": "slow"}) == "slow"  # async tools awaited
    assert await tools["undocumented"].call(env, {"items": ["a", "b"]}) == 2


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("add", {}),
        ("add", {"a": "x"}),
        ("add", {"a": 1, "c": 2}),
        ("mode", {"kind": "medium"}),
        ("undocumented", {"items": "abc"}),
    ],
)
async def test_call_refuses_bad_arguments(name, arguments):
    with pytest.raises(ValidationError):
        await Calculator.tools()[name].call(Calculator(), arguments)


@pytest.mark.parametrize("name", sorted(RESERVED_TOOL_NAMES))
def test_reserved_names(name):
    with pytest.raises(ValueError, match="reserved"):

        class Bad(Environment):
            @tool(name=name)
            def anything(self) -> None:
                pass

    with pytest.raises(ValueError, match="reserved"):
        tool(lambda self: None, name=name)


def test_tool_keeps_the_method_callable():
    env = Calculator()
    assert env.add(1, 2) == 3
    env.remember(7)
    assert env.memory == 7
