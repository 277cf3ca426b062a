"""Tools obey the step rules: worker threads (never the event loop), the step timeout,
the message size limit (docs/rewards.md, docs/server.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import orjson
import pytest

from openenv import tool
from openenv.server import ServerConfig
from tests.conftest import ask, open_ws, wait_until
from tests.envs_for_tests import ToyEnv

RELEASE = threading.Event()
"""Set by a test to let a blocked ``hold`` tool return."""


class ToolsEnv(ToyEnv):
    """ToyEnv with a tool that blocks and one whose result is as big as asked."""

    @tool
    def hold(self) -> bool:
        """A synchronous tool that blocks until the test sets :data:`RELEASE`."""
        return RELEASE.wait(60)

    @tool
    def big(self, size: int) -> str:
        """A tool whose result is ``size`` characters."""
        return "x" * size


@pytest.fixture(autouse=True)
def released() -> Iterator[None]:
    RELEASE.clear()
    yield
    RELEASE.set()  # no tool thread is left waiting


def call_tool(name: str, request_id: int = 1, **arguments: object) -> dict[str, object]:
    return {
        "type": "mcp",
        "id": request_id,
        "data": {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        },
    }


def test_a_blocking_sync_tool_stalls_neither_health_nor_other_sessions(serve):
    served = serve(ToolsEnv)
    with open_ws(served) as blocked, open_ws(served) as other:
        ask(blocked, {"type": "reset", "data": {}})
        blocked.send(orjson.dumps(call_tool("hold")).decode())
        wait_until(lambda: any(s._busy for s in served.sessions.values()))  # it is running
        assert httpx.get(served.base_url + "/health", timeout=5).status_code == 200
        ask(other, {"type": "reset", "data": {}})
        assert ask(other, {"type": "step", "data": {"message": "go"}})["type"] == "observation"
        RELEASE.set()
        reply = orjson.loads(blocked.recv(timeout=30))
        assert reply["data"]["result"]["data"] is True


def test_a_tool_past_the_step_timeout_ends_its_session_like_a_step(serve):
    served = serve(ToolsEnv, ServerConfig(step_timeout_s=0.3))
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        reply = ask(ws, call_tool("hold"), timeout=30)
        assert reply["type"] == "mcp"
        assert reply["data"]["error"]["data"]["code"] == "TIMEOUT"
    wait_until(lambda: not served.sessions)


def test_a_tool_result_over_the_message_limit_is_refused(serve):
    served = serve(ToolsEnv, ServerConfig(max_message_bytes=4096))
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        small = ask(ws, call_tool("big", size=100))
        assert small["data"]["result"]["data"] == "x" * 100
        large = ask(ws, call_tool("big", request_id=2, size=10_000))
        assert large["data"]["result"]["isError"] is True
        assert "over the 4096-byte limit" in large["data"]["result"]["content"][0]["text"]
        stepped = ask(
            ws,
            {"type": "step", "data": {"type": "call_tool", "tool_name": "big",
                                      "arguments": {"size": 10_000}}},
        )  # fmt: skip
        assert stepped["type"] == "observation"
        assert stepped["data"]["observation"]["result"]["isError"] is True


def test_over_http_too(serve):
    served = serve(ToolsEnv, ServerConfig(max_message_bytes=4096))
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "big", "arguments": {"size": 10_000}}}  # fmt: skip
    reply = httpx.post(served.base_url + "/mcp", json=body, timeout=10).json()
    assert reply["result"]["isError"] is True
    assert "over the 4096-byte limit" in reply["result"]["content"][0]["text"]
