"""Tools an environment instance provides itself (``Environment.instance_tools``).

The server's MCP code (``tools/list``, ``tools/call``, step-style tool calls) reads a
session's tools from its environment instance, not its class: each instance may have
its own (OpenEnv 0.10's ``MCPEnvironment`` gives its FastMCP server's). Those tools
obey the same rules as ``@tool`` methods: a worker thread for a synchronous call, the
step timeout (which ends the session), the message size limit. Real servers, raw frames.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ConfigDict

from openenv.server import ServerConfig
from openenv.tools import ToolLike, mcp_result
from tests.conftest import ask, open_ws, wait_until
from tests.envs_for_tests import ToyEnv

RELEASE = threading.Event()
SERIALS = itertools.count(1)


class NoteArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suffix: str = ""
    size: int = 0
    hold: bool = False


class Note:
    """A tool made for one instance: it returns that instance's note (plus ``suffix``)."""

    errors_as_results = True

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.description = f"the note of instance {text}"
        self.text = text

    def describe(self, schema_key: str = "inputSchema") -> dict[str, Any]:
        schema = NoteArguments.model_json_schema()
        return {"name": self.name, "description": self.description, schema_key: schema}

    def bind(self, env: Any, arguments: dict[str, Any]) -> Callable[[], Any]:
        validated = NoteArguments.model_validate(arguments)
        return functools.partial(self.run, env, validated)

    def run(self, env: Any, arguments: NoteArguments) -> dict[str, Any]:
        if arguments.hold:
            RELEASE.wait(60)
        note = self.text + arguments.suffix + "x" * arguments.size
        return {"note": note, "thread": threading.current_thread().name}

    def is_async(self, env: Any) -> bool:
        return False

    def result(self, value: Any, max_bytes: int) -> dict[str, Any]:
        return mcp_result(value, max_bytes)


class NotesEnv(ToyEnv):
    """ToyEnv (whose class has ``@tool`` methods) whose instances each have one tool of
    their own, ``note_<serial>``, instead."""

    def __init__(self) -> None:
        super().__init__()
        self.serial = next(SERIALS)
        self.own = {f"note_{self.serial}": Note(f"note_{self.serial}", str(self.serial))}

    def instance_tools(self) -> Mapping[str, ToolLike]:
        return self.own


@pytest.fixture(autouse=True)
def released() -> Iterator[None]:
    RELEASE.clear()
    yield
    RELEASE.set()


def rpc(method: str, params: dict[str, Any] | None = None, request_id: int = 1) -> dict:
    request = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}}
    return {"type": "mcp", "data": request}


def listed_names(ws: Any) -> list[str]:
    return [tool["name"] for tool in ask(ws, rpc("tools/list"))["data"]["result"]["tools"]]


def test_each_session_lists_and_calls_its_own_instances_tools(serve: Any) -> None:
    served = serve(NotesEnv)
    with open_ws(served) as first, open_ws(served) as second:
        ask(first, {"type": "reset", "data": {}})
        ask(second, {"type": "reset", "data": {}})
        mine, theirs = listed_names(first), listed_names(second)
        assert len(mine) == len(theirs) == 1 and mine != theirs
        assert "add" not in mine  # the class's @tool methods: replaced by the instance's

        tools = ask(first, rpc("tools/list"))["data"]["result"]["tools"]
        assert tools[0]["description"] == f"the note of instance {mine[0][5:]}"
        assert tools[0]["inputSchema"]["properties"]["suffix"]["type"] == "string"

        called = ask(first, rpc("tools/call", {"name": mine[0], "arguments": {"suffix": "!"}}))
        value = called["data"]["result"]["data"]
        assert value["note"] == mine[0][5:] + "!"
        assert value["thread"].startswith("openenv-env")  # a worker thread, as a step's

        other = ask(first, rpc("tools/call", {"name": theirs[0]}))["data"]["error"]
        assert other["code"] == -32602 and theirs[0] in other["message"]
        bad = ask(first, rpc("tools/call", {"name": mine[0], "arguments": {"oops": 1}}))
        assert bad["data"]["error"]["code"] == -32602
        assert bad["data"]["error"]["data"][0]["loc"] == ["oops"]


def test_step_style_tool_calls_use_the_instance_tools(serve: Any) -> None:
    served = serve(NotesEnv)
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        listed = ask(ws, {"type": "step", "data": {"type": "list_tools"}})
        tools = listed["data"]["observation"]["tools"]
        assert [t["name"] for t in tools] == listed_names(ws)
        assert "input_schema" in tools[0]
        step = {"type": "call_tool", "tool_name": tools[0]["name"], "arguments": {"suffix": "?"}}
        called = ask(ws, {"type": "step", "data": step})["data"]["observation"]
        assert called["result"]["data"]["note"].endswith("?") and called["error"] is None
        missing = {"type": "call_tool", "tool_name": "add", "arguments": {"a": 1, "b": 2}}
        error = ask(ws, {"type": "step", "data": missing})["data"]["observation"]["error"]
        assert error["error_type"] == "tool_not_found"


def test_over_http_each_call_gets_a_fresh_instance_and_its_tools(serve: Any) -> None:
    served = serve(NotesEnv)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    first = httpx.post(served.base_url + "/mcp", json=body, timeout=10).json()
    second = httpx.post(served.base_url + "/mcp", json=body, timeout=10).json()
    names = [first["result"]["tools"][0]["name"], second["result"]["tools"][0]["name"]]
    assert names[0].startswith("note_") and names[0] != names[1]


def test_instance_tools_obey_the_step_timeout_and_the_message_limit(serve: Any) -> None:
    served = serve(NotesEnv, ServerConfig(step_timeout_s=0.3, max_message_bytes=4096))
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        name = listed_names(ws)[0]
        large = ask(ws, rpc("tools/call", {"name": name, "arguments": {"size": 10_000}}))
        assert large["data"]["result"]["isError"] is True
        assert "over the 4096-byte limit" in large["data"]["result"]["content"][0]["text"]
        held = ask(ws, rpc("tools/call", {"name": name, "arguments": {"hold": True}}), timeout=30)
        assert held["data"]["error"]["data"]["code"] == "TIMEOUT"
    wait_until(lambda: not served.sessions)
