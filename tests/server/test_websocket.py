"""Every frame of the WebSocket contract (DESIGN §2), with raw frames on a real server."""

from __future__ import annotations

import orjson
import pytest
from websockets.exceptions import ConnectionClosed

from openenv.protocol import EXTENSIONS_SUBPROTOCOL
from tests.conftest import ask, close_code, expect_error, open_ws, recv, send
from tests.envs_for_tests import AsyncToyEnv, ToyEnv


def test_reset_frame(echo_server):
    with open_ws(echo_server) as ws:
        frame = ask(ws, {"type": "reset", "data": {}})
    assert frame == {
        "type": "observation",
        "data": {
            "observation": {
                "echoed_message": "Echo environment ready!",
                "message_length": 23,
                "metadata": {},
            },
            "reward": None,
            "done": False,
        },
    }


def test_reset_without_data_and_with_options(echo_server):
    with open_ws(echo_server) as ws:
        assert ask(ws, {"type": "reset"})["type"] == "observation"
        frame = ask(
            ws, {"type": "reset", "data": {"seed": 3, "episode_id": "ep-1", "greeting": "yo"}}
        )
        assert frame["data"]["observation"] == {
            "echoed_message": "yo",
            "message_length": 2,
            "metadata": {},
        }
        state = ask(ws, {"type": "state"})
    assert state == {"type": "state", "data": {"episode_id": "ep-1", "step_count": 0}}


def test_step_frame_data_is_the_action(echo_server):
    with open_ws(echo_server) as ws:
        ask(ws, {"type": "reset", "data": {}})
        frame = ask(ws, {"type": "step", "data": {"message": "hi"}})
    assert frame == {
        "type": "observation",
        "data": {
            "observation": {"echoed_message": "hi", "message_length": 2, "metadata": {}},
            "reward": 0.2,
            "done": False,
        },
    }


def test_state_frame_counts_steps(echo_server):
    with open_ws(echo_server) as ws:
        ask(ws, {"type": "reset", "data": {"episode_id": "abc"}})
        for _ in range(3):
            ask(ws, {"type": "step", "data": {"message": "x"}})
        frame = ask(ws, {"type": "state"})
    assert frame == {"type": "state", "data": {"episode_id": "abc", "step_count": 3}}


def test_state_frame_carries_extra_state_fields(serve):
    served = serve(ToyEnv)
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {"seed": 1}})
        step = ask(ws, {"type": "step", "data": {"message": "a"}})
        frame = ask(ws, {"type": "state"})
    assert frame["type"] == "state"
    assert frame["data"]["step_count"] == 1
    assert frame["data"]["draws"] == [step["data"]["observation"]["draw"]]


def test_observation_payload_excludes_reward_done_and_keeps_metadata(serve):
    served = serve(ToyEnv)
    with open_ws(served) as ws:
        reset = ask(ws, {"type": "reset", "data": {"seed": 1, "colour": "red"}})
        step = ask(ws, {"type": "step", "data": {"message": "done"}})
    # metadata stays inside the observation (always, even {}) and travels beside it
    # when non-empty, as OpenEnv 0.10 sends it (decision 0007).
    assert reset["data"]["metadata"] == {"options": {"colour": "red"}}
    assert reset["data"]["observation"]["metadata"] == {"options": {"colour": "red"}}
    assert set(reset["data"]) == {"observation", "reward", "done", "metadata"}
    assert set(step["data"]) == {"observation", "reward", "done"}
    assert step["data"]["observation"]["metadata"] == {}
    for frame in (reset, step):
        assert not {"reward", "done"} & set(frame["data"]["observation"])
    assert set(step["data"]["observation"]) == {
        "echoed",
        "step_count",
        "draw",
        "number",
        "metadata",
    }
    assert step["data"]["done"] is True
    assert step["data"]["reward"] == pytest.approx(0.4)


def test_rewards_are_numbers_or_null(echo_server):
    with open_ws(echo_server) as ws:
        rewards = [ask(ws, {"type": "reset", "data": {}})["data"]["reward"]]
        for message in ("", "a", "hello"):
            rewards.append(
                ask(ws, {"type": "step", "data": {"message": message}})["data"]["reward"]
            )
    assert rewards[0] is None
    assert rewards[1:] == [0.0, 0.1, 0.5]
    assert all(type(r) in (int, float) for r in rewards[1:])


def test_done_after_max_steps(echo_server):
    with open_ws(echo_server) as ws:
        ask(ws, {"type": "reset", "data": {"max_steps": 2}})
        first = ask(ws, {"type": "step", "data": {"message": "a"}})
        second = ask(ws, {"type": "step", "data": {"message": "b"}})
    assert (first["data"]["done"], second["data"]["done"]) == (False, True)


def test_close_frame_closes_with_1000(echo_server):
    ws = open_ws(echo_server)
    ask(ws, {"type": "reset", "data": {}})
    send(ws, {"type": "close"})
    assert close_code(ws) == 1000
    with pytest.raises(ConnectionClosed):
        ws.send('{"type":"state"}')
        ws.recv(timeout=2)


def test_close_before_reset_closes_with_1000(echo_server):
    ws = open_ws(echo_server)
    send(ws, {"type": "close"})
    assert close_code(ws) == 1000


def test_mcp_frame(echo_server):
    with open_ws(echo_server) as ws:
        listed = ask(
            ws, {"type": "mcp", "data": {"jsonrpc": "2.0", "id": 7, "method": "tools/list"}}
        )
        called = ask(
            ws,
            {
                "type": "mcp",
                "data": {
                    "jsonrpc": "2.0",
                    "id": "call-1",
                    "method": "tools/call",
                    "params": {"name": "echo_with_length", "arguments": {"message": "hey"}},
                },
            },
        )
        unknown = ask(ws, {"type": "mcp", "data": {"jsonrpc": "2.0", "id": 9, "method": "nope"}})
    assert listed["type"] == "mcp"
    assert listed["data"]["jsonrpc"] == "2.0" and listed["data"]["id"] == 7
    names = {t["name"] for t in listed["data"]["result"]["tools"]}
    assert names == {"echo_message", "echo_with_length"}
    for described in listed["data"]["result"]["tools"]:
        assert described["inputSchema"]["properties"]["message"]["type"] == "string"
        assert described["description"]
    assert called["type"] == "mcp" and called["data"]["id"] == "call-1"
    assert called["data"]["result"]["isError"] is False
    assert called["data"]["result"]["data"] == {"message": "hey", "length": 3}
    assert unknown["data"]["error"]["code"] == -32601 and unknown["data"]["id"] == 9


def test_mcp_tools_share_the_session(serve):
    """Tools run on the session's own environment, before or after reset."""
    served = serve(ToyEnv)
    with open_ws(served) as ws:
        request = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 2, "b": 3}},
        }
        assert ask(ws, {"type": "mcp", "data": request})["data"]["result"]["data"] == 5
        ask(ws, {"type": "reset", "data": {}})
        assert ask(ws, {"type": "mcp", "data": request})["data"]["result"]["data"] == 5
    assert len(served.manager.sessions) <= 1


def test_mcp_style_step_actions(echo_server):
    """OpenEnv's MCPToolClient sends list_tools / call_tool as step actions."""
    with open_ws(echo_server) as ws:
        ask(ws, {"type": "reset", "data": {}})
        listed = ask(ws, {"type": "step", "data": {"type": "list_tools"}})
        called = ask(
            ws,
            {
                "type": "step",
                "data": {
                    "type": "call_tool",
                    "tool_name": "echo_message",
                    "arguments": {"message": "hi"},
                },
            },
        )
        missing = ask(ws, {"type": "step", "data": {"type": "call_tool", "tool_name": "nope"}})
    tools = listed["data"]["observation"]["tools"]
    assert {t["name"] for t in tools} == {"echo_message", "echo_with_length"}
    assert "input_schema" in tools[0]
    assert called["data"]["observation"]["result"]["data"] == "hi"
    assert called["data"]["observation"]["error"] is None
    assert missing["data"]["observation"]["error"]["error_type"] == "tool_not_found"
    # metadata inside, as in every observation OpenEnv sends (decision 0007).
    for frame in (listed, called, missing):
        assert frame["data"]["observation"]["metadata"] == {}
        assert "metadata" not in frame["data"]


@pytest.mark.parametrize("kind", ["reset", "step", "state", "mcp"])
def test_request_id_is_echoed(echo_server, kind):
    messages = {
        "reset": {"type": "reset", "data": {}},
        "step": {"type": "step", "data": {"message": "x"}},
        "state": {"type": "state"},
        "mcp": {"type": "mcp", "data": {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}},
    }
    with open_ws(echo_server, ext=True) as ws:
        ask(ws, {"type": "reset", "data": {}, "id": "warm-up"})
        frame = ask(ws, {**messages[kind], "id": f"req-{kind}"})
        numeric = ask(ws, {**messages[kind], "id": 12345})
    assert frame["id"] == f"req-{kind}"
    assert numeric["id"] == 12345


def test_request_id_is_echoed_on_errors(echo_server):
    with open_ws(echo_server, ext=True) as ws:
        frame = ask(ws, {"type": "step", "data": {"message": "x"}, "id": 41})
        bad = ask(ws, {"type": "nope", "id": 42})
    assert expect_error(frame, "NOT_RESET") and frame["id"] == 41
    assert expect_error(bad, "UNKNOWN_TYPE") and bad["id"] == 42


def test_no_id_in_replies_to_messages_without_one(echo_server):
    with open_ws(echo_server) as ws:
        assert "id" not in ask(ws, {"type": "reset", "data": {}})
        assert "id" not in ask(ws, {"type": "step", "data": {"message": "x"}})
        assert "id" not in ask(ws, {"type": "state"})
        assert "id" not in ask(ws, {"type": "bogus"})


def test_pipelined_requests_are_answered_in_order(echo_server):
    with open_ws(echo_server, ext=True) as ws:
        send(ws, {"type": "reset", "data": {"max_steps": 20}, "id": 0})
        for i in range(1, 21):
            send(ws, {"type": "step", "data": {"message": "m" * i}, "id": i})
        frames = [recv(ws) for _ in range(21)]
    assert [f["id"] for f in frames] == list(range(21))
    assert [f["data"]["observation"]["message_length"] for f in frames[1:]] == list(range(1, 21))


def test_subprotocol_accepted_when_offered(echo_server):
    with open_ws(echo_server, subprotocols=["other.v1", EXTENSIONS_SUBPROTOCOL]) as ws:
        assert ws.subprotocol == EXTENSIONS_SUBPROTOCOL
        assert ask(ws, {"type": "reset", "data": {}})["type"] == "observation"


def test_subprotocol_absent_when_not_offered(echo_server):
    with open_ws(echo_server) as ws:
        assert ws.subprotocol is None
        assert ask(ws, {"type": "reset", "data": {}})["type"] == "observation"
    with open_ws(echo_server, subprotocols=["other.v1"]) as ws:
        assert ws.subprotocol is None
        assert ws.response.headers.get("Sec-WebSocket-Protocol") is None
        assert ask(ws, {"type": "reset", "data": {}})["type"] == "observation"


def test_timeout_s_extension_accepted_on_step(echo_server):
    with open_ws(echo_server, ext=True) as ws:
        ask(ws, {"type": "reset", "data": {}})
        frame = ask(ws, {"type": "step", "data": {"message": "x"}, "timeout_s": 3, "id": 1})
    assert frame["type"] == "observation" and frame["id"] == 1


@pytest.mark.parametrize("env", [ToyEnv, AsyncToyEnv])
def test_each_connection_is_its_own_environment(serve, env):
    served = serve(env)
    with open_ws(served) as a, open_ws(served) as b:
        ask(a, {"type": "reset", "data": {"episode_id": "a"}})
        ask(b, {"type": "reset", "data": {"episode_id": "b"}})
        ask(a, {"type": "step", "data": {"message": "1"}})
        ask(a, {"type": "step", "data": {"message": "2"}})
        ask(b, {"type": "step", "data": {"message": "1"}})
        state_a = ask(a, {"type": "state"})["data"]
        state_b = ask(b, {"type": "state"})["data"]
        assert len(served.sessions) == 2
    assert (state_a["episode_id"], state_a["step_count"]) == ("a", 2)
    assert (state_b["episode_id"], state_b["step_count"]) == ("b", 1)


def test_frames_are_json_text(echo_server):
    with open_ws(echo_server) as ws:
        send(ws, {"type": "reset", "data": {}})
        raw = ws.recv(timeout=5)
    assert isinstance(raw, str)
    assert orjson.loads(raw)["type"] == "observation"
