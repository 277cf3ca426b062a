"""Our clients against a REFERENCE OpenEnv server (``openenv==0.10.0``).

The server is ``benchmarks/reference/echo_server.py``, an echo env equal to ours,
built with the reference's ``create_app`` and run by the reference venv's Python.
Our client offers the ``openenv.ext.v1`` subprotocol; the reference server does not
take it, so our client must fall back to plain OpenEnv frames (no ids, no
``timeout_s``): the reference server rejects any unknown field in a message, so
every successful call below also proves that the fallback sent plain frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from echo_env import AsyncEchoEnv, EchoAction, EchoEnv, EchoObservation
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from openenv import AsyncGenericEnvClient, GenericEnvClient, State
from openenv.client import EnvServerError, SessionLostError, ToolError

GREETING = "Echo environment ready!"

# The first test may create the reference venv (pip install; about a minute).
pytestmark = pytest.mark.timeout(600)


def retry(call: Callable[[], Any], timeout: float = 5.0) -> Any:
    """``call()``, retried while the server is still freeing a just-closed session."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except EnvServerError as exc:
            if exc.code != "CAPACITY_REACHED" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# -- reset / step / state / close -------------------------------------------------------


def test_slides_code_verbatim(reference_servers: dict[str, str]) -> None:
    client = EchoEnv(base_url=reference_servers["default"])
    result = client.reset()
    result = client.step(EchoAction(message="hi"))
    assert (result.observation.echoed_message, result.reward) == ("hi", pytest.approx(0.2))
    client.close()


def test_typed_sync_client(reference_servers: dict[str, str]) -> None:
    with EchoEnv(base_url=reference_servers["default"]) as env:
        # The reference server accepted no subprotocol: plain frames, no request ids.
        assert env._ws is not None and env._ws.subprotocol is None
        assert env._core is not None and env._core.extensions is False

        reset = env.reset(seed=42, episode_id="ours-1")
        assert isinstance(reset.observation, EchoObservation)
        assert reset.observation.echoed_message == GREETING
        assert reset.observation.message_length == len(GREETING)
        assert reset.reward is None and reset.done is False

        step = env.step(EchoAction(message="hello"))
        assert step.observation.echoed_message == "hello"
        assert step.observation.message_length == 5
        assert step.reward == pytest.approx(0.5) == step.observation.reward
        assert step.done is False and step.metadata == {}

        # A per-step timeout is an extension: not sent to a plain server (which would
        # reject the unknown field), the call still succeeds.
        step = env.step(EchoAction(message="with timeout"), timeout_s=5)
        assert step.observation.echoed_message == "with timeout"

        state = env.state()
        assert isinstance(state, State)
        assert (state.episode_id, state.step_count) == ("ours-1", 2)
    # Closed: the session is gone; reset() opens a new one.
    with pytest.raises(SessionLostError):
        env.step(EchoAction(message="after close"))
    assert env.reset().observation.echoed_message == GREETING
    env.close()


def test_episode_ends_after_max_steps(reference_servers: dict[str, str]) -> None:
    with GenericEnvClient(base_url=reference_servers["default"]) as env:
        env.reset(max_steps=2)
        assert env.step({"message": "a"}).done is False
        last = env.step({"message": "bb"})
        assert last.done is True
        assert last.reward == pytest.approx(0.2)


def test_generic_client(reference_servers: dict[str, str]) -> None:
    with GenericEnvClient(base_url=reference_servers["default"]) as env:
        reset = env.reset(episode_id="generic-1")
        # Our client moves the reference's nested observation metadata beside it.
        assert reset.observation == {"echoed_message": GREETING, "message_length": len(GREETING)}
        step = env.step({"message": "four"})
        assert step.observation == {"echoed_message": "four", "message_length": 4}
        assert step.reward == pytest.approx(0.4)
        assert env.state() == {"episode_id": "generic-1", "step_count": 1}


async def test_async_client(reference_servers: dict[str, str]) -> None:
    async with AsyncEchoEnv(base_url=reference_servers["default"]) as env:
        assert env._ws is not None and env._ws.subprotocol is None
        reset = await env.reset(episode_id="async-1")
        assert reset.observation.echoed_message == GREETING
        step = await env.step(EchoAction(message="async"), timeout_s=5)
        assert (step.observation.echoed_message, step.reward) == ("async", pytest.approx(0.5))
        state = await env.state()
        assert (state.episode_id, state.step_count) == ("async-1", 1)
    async with AsyncGenericEnvClient(base_url=reference_servers["default"]) as generic:
        await generic.reset()
        assert (await generic.step({"message": "x"})).observation["echoed_message"] == "x"


def test_step_before_reset_is_allowed_by_the_reference(reference_servers: dict[str, str]) -> None:
    # A difference we chose: our server answers NOT_RESET; the reference steps anyway.
    with GenericEnvClient(base_url=reference_servers["default"]) as env:
        assert env.step({"message": "early"}).observation["echoed_message"] == "early"


# -- errors ---------------------------------------------------------------------------


def test_error_frames_become_env_server_errors(reference_servers: dict[str, str]) -> None:
    with GenericEnvClient(base_url=reference_servers["default"]) as env:
        env.reset()
        with pytest.raises(EnvServerError) as bad:
            env.step({"nope": 1})
        assert bad.value.code == "VALIDATION_ERROR"
        assert {tuple(e["loc"]) for e in bad.value.details["errors"]} == {("message",), ("nope",)}

        with pytest.raises(EnvServerError) as wrong:
            env.step({"message": 123})
        assert wrong.value.code == "VALIDATION_ERROR"

        with pytest.raises(EnvServerError) as failed:
            env.reset(max_steps=0)  # the environment raises ValueError
        assert failed.value.code == "EXECUTION_ERROR"
        assert "max_steps must be at least 1" in failed.value.message

        # The session survives its errors.
        env.reset(episode_id="after-errors")
        assert env.step({"message": "ok"}).observation["echoed_message"] == "ok"
        assert env.state()["episode_id"] == "after-errors"


def test_typed_client_checks_its_action_type(reference_servers: dict[str, str]) -> None:
    with EchoEnv(base_url=reference_servers["default"]) as env:
        env.reset()
        with pytest.raises(TypeError):
            env.step(State())  # type: ignore[arg-type]


# -- MCP through our client's `mcp` envelope ------------------------------------------


def test_list_and_call_tools(reference_servers: dict[str, str]) -> None:
    with EchoEnv(base_url=reference_servers["default"]) as env:
        tools = env.list_tools()
        assert [t["name"] for t in tools] == ["echo_message", "echo_with_length"]
        assert all(t["inputSchema"]["required"] == ["message"] for t in tools)
        assert env.call_tool("echo_message", message="Hello!") == "Hello!"
        assert env.call_tool("echo_with_length", message="Test") == {"message": "Test", "length": 4}
        with pytest.raises(ToolError, match="no_such_tool"):
            env.call_tool("no_such_tool", message="x")
        # Tools and the episode share the session.
        env.reset(episode_id="tools-1")
        assert env.call_tool("echo_message", message="again") == "again"
        assert env.state().episode_id == "tools-1"


async def test_list_and_call_tools_async(reference_servers: dict[str, str]) -> None:
    async with AsyncEchoEnv(base_url=reference_servers["default"]) as env:
        assert len(await env.list_tools()) == 2
        assert await env.call_tool("echo_with_length", message="ab") == {
            "message": "ab",
            "length": 2,
        }


# -- capacity -----------------------------------------------------------------------------


@pytest.fixture(params=["reference", "ours"])
def capacity_1_url(request: pytest.FixtureRequest) -> str:
    """A server holding one session at most: the reference's, and (to compare) ours."""
    servers = "reference_servers" if request.param == "reference" else "our_servers"
    return request.getfixturevalue(servers)["capacity_1"]


def test_capacity_reached(capacity_1_url: str) -> None:
    # The reference server refuses with an error frame and closes at once, often before
    # our first request is even sent; ours does the same with close code 1013.
    url = capacity_1_url
    first = GenericEnvClient(base_url=url)
    second = GenericEnvClient(base_url=url)
    try:
        retry(first.reset)
        for _ in range(2):  # refused each time, always as CAPACITY_REACHED
            with pytest.raises(EnvServerError) as refused:
                second.reset()
            assert refused.value.code == "CAPACITY_REACHED"
            assert refused.value.details == {"active_sessions": 1, "max_sessions": 1}
        # A refused client has no session to step in.
        with pytest.raises(SessionLostError):
            second.step({"message": "x"})
        first.close()
        # The slot is free again: the same client gets in with reset().
        assert retry(second.reset).observation["echoed_message"] == GREETING
    finally:
        first.close()
        second.close()


async def test_capacity_reached_async(capacity_1_url: str) -> None:
    url = capacity_1_url
    holder = GenericEnvClient(base_url=url)
    try:
        retry(holder.reset)
        async with AsyncGenericEnvClient(base_url=url) as refused_client:
            with pytest.raises(EnvServerError) as refused:
                await refused_client.reset()
            assert refused.value.code == "CAPACITY_REACHED"
    finally:
        holder.close()


# -- the same frames to both servers ------------------------------------------------------

SCRIPT: list[Any] = [
    {"type": "reset", "data": {"seed": 1, "episode_id": "cmp-1"}},
    {"type": "step", "data": {"message": "hi"}},
    {"type": "state"},
    {"type": "step", "data": {"nope": 1}},
    {"type": "bogus"},
    "not json",
    {"type": "reset", "data": {"max_steps": 0}},
    {"type": "mcp", "data": {"jsonrpc": "2.0", "id": 5, "method": "tools/list"}},
    {
        "type": "mcp",
        "data": {
            "jsonrpc": "2.0",
            "id": "c",
            "method": "tools/call",
            "params": {"name": "echo_message", "arguments": {"message": "m"}},
        },
    },
    {
        "type": "mcp",
        "data": {
            "jsonrpc": "2.0",
            "id": 6,
            "method": "tools/call",
            "params": {"name": "nope", "arguments": {}},
        },
    },
    {"type": "mcp", "data": {"jsonrpc": "2.0", "id": 7, "method": "nope"}},
    {
        "type": "step",
        "data": {"type": "call_tool", "tool_name": "echo_message", "arguments": {"message": "m"}},
    },
    {"type": "step", "data": {"type": "list_tools"}},
]


STRICTER = [{"type": "reset", "data": {"max_steps": 0}}]
"""Messages our server refuses by the reset options' schema (``max_steps >= 1``), before
the environment runs (decision 0002); the reference's environment raises instead."""


def play(base_url: str) -> tuple[list[dict[str, Any]], int | None]:
    """Send SCRIPT as a plain OpenEnv client would; the replies and the close code."""
    replies = []
    ws_url = base_url.replace("http://", "ws://") + "/ws"
    with connect(ws_url, open_timeout=10, proxy=None) as ws:
        for message in SCRIPT:
            ws.send(message if isinstance(message, str) else orjson.dumps(message).decode())
            replies.append(orjson.loads(ws.recv(timeout=10)))
        ws.send('{"type":"close"}')
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        code = ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None
    return replies, code


def shape(frame: dict[str, Any]) -> Any:
    """What a client relies on in a frame; message texts and extras may differ."""
    data = frame["data"]
    kind = frame["type"]
    if kind == "error":
        return kind, data["code"], isinstance(data["message"], str)
    if kind == "observation":
        observation = dict(data["observation"])  # metadata inside included (decision 0007)
        if "result" in observation:  # step-style call_tool: clients read result["data"]
            observation["result"] = observation["result"]["data"]
        if "tools" in observation:
            observation["tools"] = [
                (t["name"], t["input_schema"]["required"]) for t in observation["tools"]
            ]
        return kind, observation, data["reward"], data["done"], data.get("metadata")
    if kind == "mcp":
        body = data.get("result") or {}
        return (
            kind,
            data["jsonrpc"],
            data["id"],
            "error" in data,
            [t["name"] for t in body.get("tools", [])],
            body.get("data"),
        )
    return kind, data


def test_same_frames_as_the_reference_server(
    reference_servers: dict[str, str], our_servers: dict[str, str]
) -> None:
    theirs, their_close = play(reference_servers["default"])
    ours, our_close = play(our_servers["default"])
    assert our_close == their_close == 1000
    for message, their_frame, our_frame in zip(SCRIPT, theirs, ours, strict=True):
        if message in STRICTER:  # a difference we chose: refused by the schema, not the env
            assert shape(their_frame)[:2] == ("error", "EXECUTION_ERROR"), their_frame
            assert shape(our_frame)[:2] == ("error", "VALIDATION_ERROR"), our_frame
            continue
        assert shape(our_frame) == shape(their_frame), (message, their_frame, our_frame)

    # Both nest `metadata` inside every observation (always, even {}): decision 0007.
    for i in (0, 1, 11, 12):
        assert ours[i]["data"]["observation"]["metadata"] == {}, ours[i]
        assert theirs[i]["data"]["observation"]["metadata"] == {}, theirs[i]

    # The differences we know of, pinned so that any change is seen:
    # 1. (gone: metadata inside the observation, see above.)
    # 2. tools/call results: MCP's camelCase here, the reference's snake_case there
    #    (it serialises FastMCP's CallToolResult dataclass); both carry `data`.
    assert {"structuredContent", "isError"} <= ours[8]["data"]["result"].keys()
    assert {"structured_content", "is_error"} <= theirs[8]["data"]["result"].keys()
    # 3. Unknown tool: -32602 (invalid params) here, -32603 (internal error) there.
    assert ours[9]["data"]["error"]["code"] == -32602
    assert theirs[9]["data"]["error"]["code"] == -32603


# -- OpenEnv's MCP sessions (what MCPToolClient's production mode uses), both servers ------


def play_sessions(base_url: str) -> dict[str, Any]:
    """OpenEnv's session methods and ``/ws?session_id=``, raw, against one server."""
    ws_url = base_url.replace("http://", "ws://") + "/ws"
    out: dict[str, Any] = {}

    with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as http:

        def rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
            return http.post("/mcp", json=body).json()

        def ws_ask(ws: Any, message: dict[str, Any]) -> dict[str, Any]:
            ws.send(orjson.dumps(message).decode())
            return orjson.loads(ws.recv(timeout=10))

        def refused(url: str) -> tuple[dict[str, Any], int | None]:
            with connect(url, open_timeout=10, proxy=None) as ws:
                frame = orjson.loads(ws.recv(timeout=10))
                with pytest.raises(ConnectionClosed):
                    ws.recv(timeout=10)
                return frame, ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None

        out["create"] = rpc("openenv/session/create")
        session_id = out["session_id"] = out["create"]["result"]["session_id"]
        call = {"name": "echo_message", "arguments": {"message": "m"}, "session_id": session_id}
        out["call"] = rpc("tools/call", call)
        out["list_unknown"] = rpc("tools/list", {"session_id": "no-such-session"})
        out["close_without_id"] = rpc("openenv/session/close")
        with connect(f"{ws_url}?session_id={session_id}", open_timeout=10, proxy=None) as ws:
            out["attached_reset"] = ws_ask(ws, {"type": "reset", "data": {}})
            envelope = {"jsonrpc": "2.0", "id": 2, "method": "openenv/session/create"}
            out["ws_create"] = ws_ask(ws, {"type": "mcp", "data": envelope})
            envelope = {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "openenv/session/close",
                "params": {"session_id": session_id},
            }
            out["ws_close_own"] = ws_ask(ws, {"type": "mcp", "data": envelope})
            out["second"] = refused(f"{ws_url}?session_id={session_id}")
            out["close_attached"] = rpc("openenv/session/close", {"session_id": session_id})
            out["call_while_closing"] = rpc("tools/call", call)
        deadline = time.monotonic() + 5
        while "error" not in (reply := rpc("tools/call", call)) and time.monotonic() < deadline:
            time.sleep(0.05)  # the session closes once the server sees the socket leave
        out["after_detach"] = reply
        out["unknown"] = refused(f"{ws_url}?session_id=no-such-session")
    return out


def session_shape(out: dict[str, Any]) -> dict[str, Any]:
    """What OpenEnv's MCPToolClient relies on; message texts may differ."""
    session_id = out["session_id"]
    return {
        "create": set(out["create"]["result"]),
        "call": out["call"]["result"]["data"],
        "list_unknown": out["list_unknown"]["error"]["code"],
        "close_without_id": out["close_without_id"]["error"]["code"],
        "attached_reset": shape(out["attached_reset"]),
        "ws_create": out["ws_create"]["data"]["result"] == {"session_id": session_id},
        "ws_close_own": out["ws_close_own"]["data"]["error"]["code"],
        "second": shape(out["second"][0]),
        "close_attached": {**out["close_attached"]["result"], "session_id": "x"},
        "call_while_closing": out["call_while_closing"]["result"]["data"],
        "after_detach": out["after_detach"]["error"]["code"],
        "unknown": shape(out["unknown"][0]),
    }


def test_same_mcp_session_answers_as_the_reference_server(
    reference_servers: dict[str, str], our_servers: dict[str, str]
) -> None:
    theirs = play_sessions(reference_servers["default"])
    ours = play_sessions(our_servers["default"])
    assert session_shape(ours) == session_shape(theirs)
    assert session_shape(ours) == {
        "create": {"session_id"},
        "call": "m",
        "list_unknown": -32602,
        "close_without_id": -32602,
        "attached_reset": shape(ours["attached_reset"]),
        "ws_create": True,
        "ws_close_own": -32600,
        "second": ("error", "SESSION_ERROR", True),
        "close_attached": {"session_id": "x", "closed": False, "closing": True},
        "call_while_closing": "m",
        "after_detach": -32602,
        "unknown": ("error", "SESSION_ERROR", True),
    }
    assert ours["attached_reset"]["data"]["observation"]["echoed_message"] == GREETING
    # A difference we chose: a refused attach closes with 1011 here, 1000 there.
    assert (ours["second"][1], ours["unknown"][1]) == (1011, 1011)
    assert (theirs["second"][1], theirs["unknown"][1]) == (1000, 1000)
