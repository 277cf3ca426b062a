"""OpenEnv 0.10's ``MCPEnvironment`` on ours, in this process: tools from a real FastMCP
server, answered through ``step`` and served by our server's MCP code.

``test_reference_mcp_package.py`` serves a whole package built on it and drives it with
the reference's own ``MCPToolClient`` and with ours.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import orjson
import pytest
from fastmcp import FastMCP

from openenv.agents import LocalSession
from openenv.core import MCPToolClient
from openenv.core.env_server import (
    Action,
    CallToolAction,
    CallToolObservation,
    ListToolsAction,
    ListToolsObservation,
    MCPEnvironment,
    Observation,
    State,
)
from openenv.core.env_server.mcp_environment import INSTALL_HINT
from openenv.errors import EpisodeNotStarted, ToolError
from openenv.server import ServerConfig
from tests.conftest import ask, open_ws, wait_until

RELEASE = threading.Event()
"""Set by a test to let a blocked ``hold`` tool return."""


class Move(Action):
    direction: str = "up"


class Notebook(MCPEnvironment):
    """A notebook in the reference's style: its tools keep notes for the episode."""

    def __init__(self) -> None:
        mcp = FastMCP("notebook")
        self.notes: list[str] = []

        @mcp.tool
        def add(a: int, b: int = 1) -> int:
            """Add two integers."""
            return a + b

        @mcp.tool
        async def remember(note: str) -> dict:
            """Keep a note; says how many are kept."""
            self.notes.append(note)
            return {"count": len(self.notes), "thread": threading.current_thread().name}

        @mcp.tool
        def where() -> str:
            """The thread a synchronous tool runs in."""
            return threading.current_thread().name

        @mcp.tool
        def explode() -> int:
            """Always fails."""
            raise ValueError("kaboom")

        @mcp.tool
        def hold() -> bool:
            """Blocks until the test lets it go."""
            return RELEASE.wait(60)

        super().__init__(mcp)
        self._state = State(episode_id=str(uuid4()), step_count=0)

    def reset(self, seed: Any = None, episode_id: Any = None, **kwargs: Any) -> Observation:
        self.notes.clear()
        self._state = State(episode_id=episode_id or str(uuid4()), step_count=0)
        return Observation(metadata={"status": "ready"})

    def _step_impl(self, action: Any, timeout_s: Any = None, **kwargs: Any) -> Observation:
        return Observation(metadata={"moved": getattr(action, "direction", None)})

    @property
    def state(self) -> State:
        return self._state


class CountingNotebook(Notebook):
    """Overrides ``step`` and calls ``super().step``, as the reference's own envs do."""

    def step(self, action: Any, timeout_s: Any = None, **kwargs: Any) -> Any:
        self._state.step_count += 1
        observation = super().step(action, timeout_s=timeout_s, **kwargs)
        if isinstance(observation, CallToolObservation) and observation.error is None:
            observation.reward = 1.0
        return observation


class AsyncCountingNotebook(Notebook):
    """Overrides only ``step_async``, calling ``super().step_async``."""

    async def step_async(self, action: Any, timeout_s: Any = None, **kwargs: Any) -> Any:
        self._state.step_count += 1
        return await super().step_async(action, timeout_s=timeout_s, **kwargs)


@pytest.fixture(autouse=True)
def released() -> Iterator[None]:
    RELEASE.clear()
    yield
    RELEASE.set()  # no tool thread is left waiting


def call(env: Any, name: str, **arguments: Any) -> CallToolObservation:
    return env.step(CallToolAction(tool_name=name, arguments=arguments))


# -- in process ---------------------------------------------------------------------------


def test_step_lists_and_calls_the_fastmcp_tools() -> None:
    env = Notebook()
    env.reset()
    listed = env.step(ListToolsAction())
    assert isinstance(listed, ListToolsObservation)
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == {"add", "remember", "where", "explode", "hold"}
    assert tools["add"].description == "Add two integers."
    assert tools["add"].input_schema["properties"]["a"] == {"type": "integer"}
    assert tools["add"].input_schema["required"] == ["a"]

    added = call(env, "add", a=2, b=3)
    assert isinstance(added, CallToolObservation) and added.error is None
    assert added.result.data == 5 and added.result.structured_content == {"result": 5}
    assert call(env, "remember", note="x").result.data["count"] == 1
    assert env.notes == ["x"]

    missing = call(env, "nope")
    assert missing.error.error_type.value == "tool_not_found"
    assert missing.error.message == "Unknown tool: 'nope'"
    assert call(env, "add", a="x").error.error_type.value == "invalid_args"
    failed = call(env, "explode")
    assert failed.error.error_type.value == "execution_error" and "kaboom" in failed.error.message
    assert env.step(Move(direction="left")).metadata == {"moved": "left"}  # _step_impl


def test_our_episode_rules_hold_for_tool_steps() -> None:
    with pytest.raises(EpisodeNotStarted):
        Notebook().step(ListToolsAction())


def test_a_subclass_overriding_step_calls_the_base_once() -> None:
    env = CountingNotebook()
    env.reset()
    assert call(env, "add", a=1).reward == 1.0
    assert call(env, "nope").reward is None
    env.step(ListToolsAction())
    assert env.state.step_count == 3


def test_a_subclass_overriding_step_async_calls_the_base() -> None:
    env = AsyncCountingNotebook()

    async def main() -> list[Any]:
        await env.reset_async()
        added = await env.step_async(CallToolAction(tool_name="add", arguments={"a": 4}))
        where = await env.step_async(CallToolAction(tool_name="where"))
        return [added.result.data, where.result.data, env.state.step_count]

    added, thread, steps = asyncio.run(main())
    assert added == 5 and steps == 2
    assert thread != threading.main_thread().name  # a synchronous tool: in a thread


def test_a_local_session_lists_and_calls_them_as_a_client_does() -> None:
    """``openenv validate`` and ``eval`` drive environments in process this way."""
    session = LocalSession(Notebook())
    session.reset()
    assert {tool["name"] for tool in session.list_tools()} >= {"add", "remember"}
    assert session.call_tool("add", a=1) == 2
    assert session.call_tool("remember", note="n")["count"] == 1


def test_reserved_tool_names_are_refused_at_construction() -> None:
    class Shadowing(Notebook):
        def __init__(self) -> None:
            mcp = FastMCP("shadowing")

            @mcp.tool
            def step(action: str) -> str:
                return action

            MCPEnvironment.__init__(self, mcp)

    with pytest.raises(ValueError, match=r"MCP tools cannot use reserved names: \['step'\]"):
        Shadowing()
    env = Notebook()
    with pytest.raises(ValueError, match="Tool name 'close' is reserved"):

        @env.tool()
        def close() -> None:
            pass


def test_tools_registered_later_and_per_mode() -> None:
    env = Notebook()
    env.reset()

    @env.tool()
    def double(x: int) -> int:
        """Twice x."""
        return 2 * x

    @env.tool(mode="simulation")
    def add(a: int, b: int = 1) -> int:
        """Simulated add."""
        return -1

    assert call(env, "double", x=4).result.data == 8
    assert call(env, "add", a=1).error.error_type.value == "tool_not_found"  # other mode
    env._mode = "simulation"
    assert call(env, "add", a=1).result.data == -1
    described = {tool.name: tool.description for tool in env.step(ListToolsAction()).tools}
    assert described["add"] == "Simulated add." and described["double"] == "Twice x."
    with pytest.raises(ValueError, match="Invalid mode"):
        env.tool(mode="staging")


def test_without_fastmcp_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    mcp = FastMCP("unused")
    monkeypatch.setitem(sys.modules, "fastmcp", None)  # import fastmcp now fails
    with pytest.raises(ImportError, match=r"pip install 'openenv-rl\[fastmcp\]'"):
        MCPEnvironment(mcp)
    assert INSTALL_HINT == "pip install 'openenv-rl[fastmcp]'"


def test_the_step_actions_are_parsed_only_where_the_action_type_allows() -> None:
    assert isinstance(Notebook.validate_action({"type": "list_tools"}), ListToolsAction)
    parsed = Notebook.validate_action({"type": "call_tool", "tool_name": "add"})
    assert isinstance(parsed, CallToolAction) and parsed.arguments == {}

    class Moving(Notebook):
        action_type = Move

    assert isinstance(Moving.validate_action({"direction": "down"}), Move)
    with pytest.raises(ValueError):  # an env-specific action type stays authoritative
        Moving.validate_action({"type": "list_tools"})


# -- served by our server ------------------------------------------------------------------


def rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "mcp", "data": {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}}


def test_our_server_serves_the_instance_tools(serve: Any) -> None:
    served = serve(CountingNotebook)

    async def main() -> dict[str, Any]:
        async with MCPToolClient(base_url=served.base_url) as env:
            await env.reset()
            tools = {tool.name: tool for tool in await env.list_tools()}
            out: dict[str, Any] = {
                "names": set(tools),
                "schema": tools["add"].input_schema,
                "add": await env.call_tool("add", a=2, b=3),
                "remember": [await env.call_tool("remember", note=n) for n in "ab"],
                "where": await env.call_tool("where"),
            }
            out["errors"] = {}
            for name, arguments in (("nope", {}), ("add", {"a": "x"}), ("explode", {})):
                with pytest.raises(ToolError) as failed:
                    await env.call_tool(name, **arguments)
                out["errors"][name] = str(failed.value)
            step = await env.step(CallToolAction(tool_name="add", arguments={"a": 5}))
            out["step"] = [type(step.observation), step.observation.result["data"], step.reward]
            out["steps"] = (await env.state()).step_count
            return out

    out = asyncio.run(main())
    assert out["names"] == {"add", "remember", "where", "explode", "hold"}
    assert out["schema"]["required"] == ["a"]
    assert out["add"] == 5
    assert [r["count"] for r in out["remember"]] == [1, 2]  # one instance per session
    assert out["remember"][0]["thread"] == served.thread.name  # async: on the event loop
    assert out["where"] != served.thread.name  # sync: never on the event loop
    errors = out["errors"]
    assert "Unknown tool: 'nope'" in errors["nope"] and "JSON-RPC -32602" in errors["nope"]
    assert "Invalid arguments for add" in errors["add"] and "JSON-RPC -32602" in errors["add"]
    assert "kaboom" in errors["explode"] and "JSON-RPC -32603" in errors["explode"]
    assert out["step"] == [CallToolObservation, 6, 1.0]  # through the subclass's step
    assert out["steps"] == 1  # tools/call is not a step; the CallToolAction was


def test_a_blocking_tool_stalls_neither_health_nor_other_sessions(serve: Any) -> None:
    served = serve(Notebook)
    with open_ws(served) as blocked, open_ws(served) as other:
        ask(blocked, {"type": "reset", "data": {}})
        blocked.send(orjson.dumps(rpc("tools/call", {"name": "hold"})).decode())
        wait_until(lambda: any(s._busy for s in served.sessions.values()))  # it is running
        assert httpx.get(served.base_url + "/health", timeout=5).status_code == 200
        ask(other, {"type": "reset", "data": {}})
        added = ask(other, rpc("tools/call", {"name": "add", "arguments": {"a": 1}}))
        assert added["data"]["result"]["data"] == 2
        RELEASE.set()
        assert orjson.loads(blocked.recv(timeout=30))["data"]["result"]["data"] is True


def test_a_tool_call_past_the_step_timeout_ends_the_session(serve: Any) -> None:
    served = serve(Notebook, ServerConfig(step_timeout_s=0.3))
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        reply = ask(ws, rpc("tools/call", {"name": "hold", "arguments": {}}), timeout=30)
        assert reply["data"]["error"]["data"]["code"] == "TIMEOUT"
    wait_until(lambda: not served.sessions)
    with open_ws(served) as ws:  # and as a step
        ask(ws, {"type": "reset", "data": {}})
        step = {"type": "call_tool", "tool_name": "hold", "arguments": {}}
        reply = ask(ws, {"type": "step", "data": step}, timeout=30)
        assert reply["type"] == "error" and reply["data"]["code"] == "TIMEOUT"
