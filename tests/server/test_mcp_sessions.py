"""MCP sessions, as OpenEnv's ``MCPToolClient`` (production mode) uses them.

``openenv/session/create`` over ``POST /mcp`` makes a session that outlives the
request; ``tools/list``/``tools/call`` with ``params.session_id`` run in it; a
WebSocket attaches to it with ``/ws?session_id=...`` (one socket at a time);
``openenv/session/close`` ends it, or marks it closing while a socket is attached.
Real servers, raw requests.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from openenv import tool
from openenv.server import ServerConfig
from tests.conftest import (
    Served,
    ask,
    assert_server_healthy,
    close_code,
    expect_error,
    open_ws,
    recv,
    send,
    wait_until,
)
from tests.envs_for_tests import Recorder, ToyEnv


class SessionToyEnv(ToyEnv):
    """ToyEnv with tools that show which environment instance they ran in."""

    def __init__(self) -> None:
        super().__init__()
        self.bumps = 0

    @tool
    def bump(self) -> int:
        """Count calls on this instance."""
        self.bumps += 1
        return self.bumps

    @tool
    def where(self) -> dict[str, Any]:
        """The episode this instance is in."""
        state = self.state
        return {"episode_id": state.episode_id, "step_count": state.step_count}


def serve_sessions(serve, **config: Any) -> tuple[Served, Recorder]:
    factory = Recorder(SessionToyEnv)
    return serve(factory, ServerConfig(**config), env_class=SessionToyEnv), factory


def rpc(served: Served, method: str, params: Any = None, request_id: Any = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        body["params"] = params
    response = httpx.post(served.base_url + "/mcp", json=body, timeout=5)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["jsonrpc"] == "2.0" and reply["id"] == request_id, reply
    return reply


def create(served: Served) -> str:
    reply = rpc(served, "openenv/session/create")
    session_id = reply["result"]["session_id"]
    assert isinstance(session_id, str) and session_id
    return session_id


def close(served: Served, session_id: Any) -> dict[str, Any]:
    return rpc(served, "openenv/session/close", {"session_id": session_id})


def call(served: Served, session_id: str | None, name: str, **arguments: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if session_id is not None:
        params["session_id"] = session_id
    return rpc(served, "tools/call", params)


def result(reply: dict[str, Any]) -> Any:
    assert "error" not in reply, reply
    assert reply["result"]["isError"] is False, reply
    return reply["result"]["data"]


def attach(served: Served, session_id: str):
    return open_ws(f"{served.ws_url}?session_id={session_id}")


def envelope(method: str, params: dict[str, Any] | None = None, request_id: int = 1) -> dict:
    data: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        data["params"] = params
    return {"type": "mcp", "data": data}


def error_code(reply: dict[str, Any]) -> int:
    assert "result" not in reply, reply
    return reply["error"]["code"]


def wait_detached(served: Served, session_id: str) -> None:
    wait_until(lambda: not served.sessions[session_id].attached)


# -- create / close over POST /mcp ---------------------------------------------------------


def test_create_and_close_over_http(serve):
    served, factory = serve_sessions(serve)
    reply = rpc(served, "openenv/session/create", request_id="c-1")
    session_id = reply["result"]["session_id"]
    assert reply["result"] == {"session_id": session_id}
    # The session outlives the request: it holds an environment until closed.
    assert list(served.sessions) == [session_id] and served.manager.active == 1
    assert factory.close_calls == [0]
    other = create(served)
    assert other != session_id and len(served.sessions) == 2

    reply = rpc(served, "openenv/session/close", {"session_id": session_id}, request_id=9)
    assert reply["result"] == {"session_id": session_id, "closed": True}
    assert list(served.sessions) == [other]
    wait_until(lambda: factory.close_calls == [1, 0])
    # Gone: a second close, or a tool call in it, names an unknown session.
    for reply in (close(served, session_id), call(served, session_id, "add", a=1, b=2)):
        assert error_code(reply) == -32602
        assert session_id in reply["error"]["message"]
    assert close(served, other)["result"]["closed"] is True
    wait_until(lambda: factory.close_calls == [1, 1])
    assert served.manager.active == 0
    assert_server_healthy(served)


@pytest.mark.parametrize(
    "params", [None, {}, {"session_id": ""}, {"session_id": 5}, {"session_id": None}]
)
def test_close_needs_a_session_id(serve, params):
    served, _ = serve_sessions(serve)
    session_id = create(served)
    reply = rpc(served, "openenv/session/close", params)
    assert error_code(reply) == -32602
    assert "session_id" in reply["error"]["message"]
    assert list(served.sessions) == [session_id]  # nothing was closed


@pytest.mark.parametrize("session_id", ["no-such-session", 5, ["x"], ""])
def test_tools_in_an_unknown_session(serve, session_id):
    served, factory = serve_sessions(serve)
    for method, params in (
        ("tools/list", {"session_id": session_id}),
        ("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}, "session_id": session_id}),
    ):
        reply = rpc(served, method, params)
        assert error_code(reply) == -32602
        assert "Unknown session_id" in reply["error"]["message"]
    assert not served.sessions and served.manager.active == 0
    assert not factory.made  # no fresh environment instead


def test_tools_with_session_id_run_in_that_sessions_environment(serve):
    served, factory = serve_sessions(serve)
    first, second = create(served), create(served)
    assert [result(call(served, first, "bump")) for _ in range(3)] == [1, 2, 3]
    assert result(call(served, second, "bump")) == 1
    assert result(call(served, first, "add", a=2, b=40)) == 42
    listed = rpc(served, "tools/list", {"session_id": first})["result"]["tools"]
    assert {"add", "bump", "where"} <= {t["name"] for t in listed}
    # No environment was made per call: only the two sessions' own.
    assert len(factory.made) == 2
    assert [env.bumps for env in factory.made] == [3, 1]
    # Without a session_id, a call gets a fresh environment, closed afterwards.
    assert result(call(served, None, "bump")) == 1
    assert len(factory.made) == 3
    wait_until(lambda: factory.close_calls == [0, 0, 1])
    # Errors in a session's tools are answered as without one, and the session goes on.
    assert error_code(call(served, first, "no_such_tool")) == -32602
    assert error_code(call(served, first, "add", a="x", b=1)) == -32602
    assert call(served, first, "explode")["result"]["isError"] is True
    assert result(call(served, first, "bump")) == 4


def test_websocket_attached_by_session_id_shares_the_environment(serve):
    served, factory = serve_sessions(serve)
    session_id = create(served)
    assert result(call(served, session_id, "bump")) == 1
    with attach(served, session_id) as ws:
        assert ask(ws, {"type": "reset", "data": {"episode_id": "shared"}})["type"] == "observation"
        for message in ("a", "b"):
            assert ask(ws, {"type": "step", "data": {"message": message}})["type"] == "observation"
        # HTTP tool calls see the episode the socket is playing ...
        where = result(call(served, session_id, "where"))
        assert where == {"episode_id": "shared", "step_count": 2}
        assert result(call(served, session_id, "bump")) == 2
        # ... and the socket's own tool calls run in the same environment.
        frame = ask(ws, envelope("tools/call", {"name": "bump", "arguments": {}}))
        assert frame["data"]["result"]["data"] == 3
        # Over the socket, openenv/session/create answers the socket's own session.
        frame = ask(ws, envelope("openenv/session/create", request_id=4))
        assert frame["data"] == {"jsonrpc": "2.0", "id": 4, "result": {"session_id": session_id}}
        assert ask(ws, {"type": "state"})["data"]["step_count"] == 2
        assert served.sessions[session_id].attached
    assert len(factory.made) == 1 and list(served.sessions) == [session_id]


# -- attach rules ------------------------------------------------------------------------


def test_one_socket_at_a_time(serve):
    served, factory = serve_sessions(serve)
    session_id = create(served)
    with attach(served, session_id) as first:
        ask(first, {"type": "reset", "data": {}})
        with attach(served, session_id) as second:
            data = expect_error(recv(second), "SESSION_ERROR")
            assert session_id in data["message"]
            assert close_code(second) == 1011
        # The first socket and its session are untouched.
        assert ask(first, {"type": "step", "data": {"message": "x"}})["type"] == "observation"
        assert served.sessions[session_id].attached
    wait_detached(served, session_id)
    assert len(factory.made) == 1 and factory.close_calls == [0]


def test_unknown_session_id_is_refused(serve):
    served, factory = serve_sessions(serve)
    with attach(served, "no-such-session") as ws:
        data = expect_error(recv(ws), "SESSION_ERROR")
        assert "Unknown session_id: no-such-session" in data["message"]
        assert close_code(ws) == 1011
    assert not factory.made and not served.sessions and served.manager.active == 0
    # An empty session_id asks for nothing: a fresh session, as /ws without one.
    with open_ws(f"{served.ws_url}?session_id=") as ws:
        assert ask(ws, {"type": "reset", "data": {}})["type"] == "observation"
    assert_server_healthy(served)


def test_a_plain_websockets_own_session_cannot_be_attached_to(serve):
    served, factory = serve_sessions(serve)
    with open_ws(served) as owner:
        ask(owner, {"type": "reset", "data": {}})
        own_id = ask(owner, envelope("openenv/session/create"))["data"]["result"]["session_id"]
        assert own_id in served.sessions
        with attach(served, own_id) as intruder:
            expect_error(recv(intruder), "SESSION_ERROR")
            assert close_code(intruder) == 1011
        assert ask(owner, {"type": "step", "data": {"message": "x"}})["type"] == "observation"
        # Closing it over HTTP waits for its socket, as for an attached one.
        reply = close(served, own_id)
        assert reply["result"] == {"session_id": own_id, "closed": False, "closing": True}
        assert ask(owner, {"type": "step", "data": {"message": "y"}})["type"] == "observation"
    wait_until(lambda: not served.sessions)
    wait_until(lambda: factory.close_calls == [1])


@pytest.mark.parametrize("leaving", ["disconnect", "close message"])
def test_the_session_outlives_its_socket(serve, leaving):
    served, factory = serve_sessions(serve)
    session_id = create(served)
    ws = attach(served, session_id)
    ask(ws, {"type": "reset", "data": {"episode_id": "kept"}})
    ask(ws, {"type": "step", "data": {"message": "x"}})
    if leaving == "disconnect":
        ws.close()
    else:
        send(ws, {"type": "close"})
        assert close_code(ws) == 1000
    wait_detached(served, session_id)
    assert list(served.sessions) == [session_id] and factory.close_calls == [0]
    assert result(call(served, session_id, "where")) == {"episode_id": "kept", "step_count": 1}
    # Another socket may attach now and pick up the episode where it was.
    with attach(served, session_id) as again:
        assert ask(again, {"type": "state"})["data"]["step_count"] == 1
        frame = ask(again, {"type": "step", "data": {"message": "y"}})
        assert frame["data"]["observation"]["step_count"] == 2
    wait_detached(served, session_id)
    assert close(served, session_id)["result"]["closed"] is True
    wait_until(lambda: factory.close_calls == [1])
    assert_server_healthy(served)


def test_close_while_attached_closes_when_the_socket_leaves(serve):
    served, factory = serve_sessions(serve)
    session_id = create(served)
    with attach(served, session_id) as ws:
        ask(ws, {"type": "reset", "data": {}})
        reply = close(served, session_id)
        assert reply["result"] == {"session_id": session_id, "closed": False, "closing": True}
        # Still usable until the socket leaves.
        assert ask(ws, {"type": "step", "data": {"message": "x"}})["type"] == "observation"
        assert result(call(served, session_id, "bump")) == 1
        assert factory.close_calls == [0]
    wait_until(lambda: not served.sessions)
    wait_until(lambda: factory.close_calls == [1])
    assert error_code(close(served, session_id)) == -32602
    with attach(served, session_id) as late:
        expect_error(recv(late), "SESSION_ERROR")
    assert served.manager.active == 0
    assert_server_healthy(served)


def test_closing_sessions_over_the_websocket_envelope(serve):
    served, factory = serve_sessions(serve)
    other = create(served)
    with open_ws(served) as plain:
        own_id = ask(plain, envelope("openenv/session/create"))["data"]["result"]["session_id"]
        # Its own session: refused (a socket ends its session with a close message).
        frame = ask(plain, envelope("openenv/session/close", {"session_id": own_id}))
        assert frame["type"] == "mcp" and error_code(frame["data"]) == -32600
        # Another session: closed like over HTTP.
        frame = ask(plain, envelope("openenv/session/close", {"session_id": other}))
        assert frame["data"]["result"] == {"session_id": other, "closed": True}
        frame = ask(plain, envelope("openenv/session/close", {"session_id": other}))
        assert error_code(frame["data"]) == -32602
        assert ask(plain, {"type": "reset", "data": {}})["type"] == "observation"
    attached_id = create(served)
    with attach(served, attached_id) as ws:
        frame = ask(ws, envelope("openenv/session/close", {"session_id": attached_id}))
        assert error_code(frame["data"]) == -32600
        assert ask(ws, {"type": "reset", "data": {}})["type"] == "observation"
    wait_detached(served, attached_id)
    assert list(served.sessions) == [attached_id]
    wait_until(lambda: factory.close_calls == [1, 1, 0])


# -- capacity, failures, reaping, shutdown -----------------------------------------------


def test_created_sessions_count_against_capacity(serve):
    served, factory = serve_sessions(serve, max_sessions=2)
    first, second = create(served), create(served)
    reply = rpc(served, "openenv/session/create", request_id=7)
    assert error_code(reply) == -32000
    assert reply["error"]["data"]["active_sessions"] == 2
    assert reply["error"]["data"]["max_sessions"] == 2
    assert reply["error"]["data"]["code"] == "CAPACITY_REACHED"
    assert len(factory.made) == 2  # no environment was made for the refused one
    # Every other way in is full too.
    with open_ws(served) as ws:
        expect_error(recv(ws), "CAPACITY_REACHED")
        assert close_code(ws) == 1013
    response = httpx.post(served.base_url + "/reset", json={}, timeout=5)
    assert response.status_code == 503
    reply = rpc(served, "tools/list")
    assert error_code(reply) == -32603 and reply["error"]["data"]["code"] == "CAPACITY_REACHED"
    # Attaching and tools in a session need no new room.
    with attach(served, first) as ws:
        assert ask(ws, {"type": "reset", "data": {}})["type"] == "observation"
        assert result(call(served, second, "bump")) == 1
    assert len(factory.made) == 2
    close(served, second)
    third = create(served)
    assert set(served.sessions) == {first, third}


def test_create_when_the_factory_fails(serve):
    served, factory = serve_sessions(serve)
    factory.fail_next = 1
    reply = rpc(served, "openenv/session/create")
    assert error_code(reply) == -32000
    assert "the backing service is down" in reply["error"]["message"]
    assert reply["error"]["data"]["code"] == "FACTORY_ERROR"
    assert not served.sessions and served.manager.active == 0
    create(served)


def test_created_sessions_are_reaped_when_idle(serve):
    served, factory = serve_sessions(serve, idle_timeout_s=0.3)
    session_id = create(served)
    started = time.monotonic()
    wait_until(lambda: not served.sessions, timeout=3)
    assert time.monotonic() - started >= 0.3
    wait_until(lambda: factory.close_calls == [1])
    assert error_code(call(served, session_id, "bump")) == -32602
    with attach(served, session_id) as ws:
        expect_error(recv(ws), "SESSION_ERROR")


def test_an_idle_attached_session_is_reaped_and_its_socket_closed(serve):
    served, factory = serve_sessions(serve, idle_timeout_s=0.3)
    session_id = create(served)
    with attach(served, session_id) as ws:
        ask(ws, {"type": "reset", "data": {}})
        assert close_code(ws) == 1000
        assert "idle" in ws.protocol.close_rcvd.reason
    wait_until(lambda: not served.sessions)
    wait_until(lambda: factory.close_calls == [1])
    assert error_code(close(served, session_id)) == -32602


def test_tool_calls_in_a_session_keep_it_alive(serve):
    served, factory = serve_sessions(serve, idle_timeout_s=0.3)
    busy, idle = create(served), create(served)
    deadline = time.monotonic() + 1.0
    i = 0
    while time.monotonic() < deadline:
        # Any request naming the session counts, even listing or a failing call.
        if i % 3 == 0:
            assert "result" in rpc(served, "tools/list", {"session_id": busy})
        elif i % 3 == 1:
            assert error_code(call(served, busy, "no_such_tool")) == -32602
        else:
            assert result(call(served, busy, "bump")) >= 1
        i += 1
        time.sleep(0.08)
    assert idle not in served.sessions
    assert busy in served.sessions
    wait_until(lambda: not served.sessions, timeout=3)
    wait_until(lambda: factory.close_calls == [1, 1])


def test_shutdown_closes_created_sessions(serve):
    served, factory = serve_sessions(serve)
    create(served)
    attached_id = create(served)
    ws = attach(served, attached_id)
    ask(ws, {"type": "reset", "data": {}})
    served.stop()
    wait_until(lambda: factory.close_calls == [1, 1], timeout=3)
    assert not served.sessions
    ws.close()
