"""Our server, driven by the REFERENCE OpenEnv client classes (``openenv==0.10.0``).

The reference client runs in its own virtual environment, in one subprocess
(``drive_with_reference_client.py``) that plays every scenario against our
servers and prints a JSON report; each test here checks one scenario of it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

DRIVER = Path(__file__).with_name("drive_with_reference_client.py")
GREETING = "Echo environment ready!"

# The first test may create the reference venv (pip install; about a minute).
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def report(
    reference_python: Path, reference_env: dict[str, str], our_servers: dict[str, str]
) -> dict[str, Any]:
    command = [
        str(reference_python),
        str(DRIVER),
        "--url",
        our_servers["default"],
        "--capacity-url",
        our_servers["capacity_1"],
        "--metadata-url",
        our_servers["metadata"],
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=reference_env, timeout=120)
    if done.returncode != 0 or not done.stdout.strip():
        pytest.fail(
            f"driver failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def scenario(report: dict[str, Any], name: str) -> Any:
    entry = report[name]
    if not entry["ok"]:
        pytest.fail(f"scenario {name} raised:\n{entry['traceback']}")
    return entry["result"]


def obs(echoed: str, reward: float | None, done: bool = False) -> dict[str, Any]:
    # metadata inside the observation, always, as OpenEnv 0.10 sends it (decision 0007).
    return {
        "observation": {"echoed_message": echoed, "message_length": len(echoed), "metadata": {}},
        "reward": reward,
        "done": done,
    }


# -- simulation API: reset / step / state / close ----------------------------------------


def test_typed_client_through_sync_wrapper(report: dict[str, Any]) -> None:
    result = scenario(report, "typed_sync")
    reset = result["reset"]
    assert reset["observation"]["echoed_message"] == GREETING
    assert reset["observation"]["message_length"] == len(GREETING)
    assert reset["reward"] is None and reset["done"] is False
    assert [s["observation"]["echoed_message"] for s in result["steps"]] == ["hi", "hello world"]
    assert [s["reward"] for s in result["steps"]] == pytest.approx([0.2, 1.1])
    assert [s["observation"]["reward"] for s in result["steps"]] == pytest.approx([0.2, 1.1])
    assert result["state"] == {"episode_id": "ref-episode-1", "step_count": 2}


def test_typed_client_called_from_plain_sync_code(report: dict[str, Any]) -> None:
    result = scenario(report, "typed_auto_sync")
    assert result["reset"]["observation"]["echoed_message"] == GREETING
    assert result["step"]["observation"]["echoed_message"] == "abc"
    assert result["step"]["reward"] == pytest.approx(0.3)
    assert result["state"]["step_count"] == 1
    assert result["state"]["episode_id"]  # the server made one up


def test_generic_client_sends_and_gets_plain_openenv_frames(report: dict[str, Any]) -> None:
    result = scenario(report, "generic_frames")
    assert result["sent"] == [
        {"type": "reset", "data": {"seed": 7, "episode_id": "generic-1", "max_steps": 2}},
        {"type": "step", "data": {"metadata": {}, "message": "four"}},
        {"type": "step", "data": {"message": "done now"}},
        {"type": "state"},
    ]
    # No request ids, no extensions: the reference client offers no subprotocol.
    assert result["received"] == [
        {"type": "observation", "data": obs(GREETING, None)},
        {"type": "observation", "data": obs("four", 0.4)},
        {"type": "observation", "data": obs("done now", 0.8, done=True)},
        {"type": "state", "data": {"episode_id": "generic-1", "step_count": 2}},
    ]
    assert result["frame_problems"] == []  # each frame validates as the reference's model
    assert result["steps"][1]["done"] is True  # max_steps=2 reached the client as done


def test_generic_client_async(report: dict[str, Any]) -> None:
    result = scenario(report, "generic_async")
    assert result["reset"]["observation"]["echoed_message"] == GREETING
    assert result["step"] == {**obs("async", 0.5), "metadata": None}
    assert result["state"] == {"episode_id": "async-1", "step_count": 1}


def test_errors_raise_in_reference_client_with_our_codes(report: dict[str, Any]) -> None:
    result = scenario(report, "errors")
    for name, code in (
        ("bad_action", "VALIDATION_ERROR"),
        ("wrong_type", "VALIDATION_ERROR"),
        ("unknown_type", "UNKNOWN_TYPE"),
    ):
        assert result[name]["type"] == "RuntimeError", (name, result[name])
        assert result[name]["message"].startswith("Server error: "), result[name]
        assert result[name]["message"].endswith(f"(code: {code})"), result[name]
    # The session survives its errors.
    assert result["after_errors"]["observation"]["echoed_message"] == "still here"
    assert result["frame_problems"] == []
    errors = [f["data"] for f in result["received"] if f["type"] == "error"]
    assert [e["code"] for e in errors] == [
        "NOT_RESET",
        "VALIDATION_ERROR",
        "VALIDATION_ERROR",
        "UNKNOWN_TYPE",
    ]
    assert {tuple(e["loc"]) for e in errors[1]["errors"]} == {("message",), ("nope",)}


def test_step_before_reset_is_refused_unlike_the_reference(report: dict[str, Any]) -> None:
    # A documented difference: the reference steps a never-reset environment; we
    # answer NOT_RESET (an added code), which its client raises like any error.
    result = scenario(report, "errors")
    assert result["step_before_reset"]["message"].endswith("(code: NOT_RESET)")


def test_capacity_reached_raises_in_reference_client(report: dict[str, Any]) -> None:
    result = scenario(report, "capacity")
    assert result["second"]["type"] == "RuntimeError"
    assert result["second"]["message"].endswith("(code: CAPACITY_REACHED)"), result["second"]
    # Closing the first session frees its slot.
    assert result["after_release"]["observation"]["echoed_message"] == GREETING


def test_metadata_beside_the_observation(report: dict[str, Any]) -> None:
    result = scenario(report, "metadata")
    expected = {"original_message": "hi", "step_count": 1}
    assert result["generic_result_metadata"] == expected
    assert result["frame"]["data"]["metadata"] == expected


def test_metadata_inside_the_observation_for_upstream_style_clients(
    report: dict[str, Any],
) -> None:
    # Most OpenEnv env clients read obs_data.get("metadata"): it is there, as the
    # reference server puts it (decision 0007).
    result = scenario(report, "metadata")
    expected = {"original_message": "hi", "step_count": 1}
    assert result["upstream_style_observation_metadata"] == expected
    assert result["frame"]["data"]["observation"]["metadata"] == expected
    assert result["frame_problems"] == []


# -- MCP ------------------------------------------------------------------------------


def test_mcp_tool_client_step_style_over_websocket(report: dict[str, Any]) -> None:
    result = scenario(report, "mcp_step_style")
    assert [t["name"] for t in result["tools"]] == ["echo_message", "echo_with_length"]
    for tool in result["tools"]:
        assert tool["description"]
        assert tool["input_schema"]["properties"]["message"]["type"] == "string"
        assert tool["input_schema"]["required"] == ["message"]
    assert result["echo_message"] == "Hello!"
    assert result["echo_with_length"] == {"message": "Test", "length": 4}
    assert result["unknown_tool"]["type"] == "RuntimeError"
    assert "(type: tool_not_found)" in result["unknown_tool"]["message"]
    raw = result["raw_call"]
    assert raw["is_call_tool_observation"] is True
    assert raw["observation"]["tool_name"] == "echo_message"
    assert raw["observation"]["error"] is None
    assert raw["observation"]["result"]["data"] == "raw"
    assert raw["reward"] is None and raw["done"] is False
    assert result["after_reset"] == "again"
    # Tool calls are not environment steps: the episode's step count stays put.
    assert result["state"] == {"episode_id": "mcp-1", "step_count": 0}
    assert result["list_is_list_tools_observation"] is True


def test_mcp_envelope_over_websocket(report: dict[str, Any]) -> None:
    result = scenario(report, "mcp_ws_envelope")
    assert result["frame_problems"] == []
    listed = result["list"]
    assert listed["type"] == "mcp"
    assert listed["data"]["jsonrpc"] == "2.0" and listed["data"]["id"] == 11
    names = [t["name"] for t in listed["data"]["result"]["tools"]]
    assert names == ["echo_message", "echo_with_length"]
    called = result["call"]["data"]
    assert called["id"] == "call-12"
    assert called["result"]["data"] == {"message": "xyz", "length": 3}
    assert called["result"]["isError"] is False


def test_mcp_over_http_post(report: dict[str, Any]) -> None:
    result = scenario(report, "mcp_http")
    listed, called, unknown = result["list"], result["call"], result["unknown_tool"]
    assert (listed["id"], called["id"], unknown["id"]) == (1, 2, 3)  # ids echoed
    assert all(r["jsonrpc"] == "2.0" for r in (listed, called, unknown))
    assert [t["name"] for t in listed["result"]["tools"]] == ["echo_message", "echo_with_length"]
    assert all("inputSchema" in t for t in listed["result"]["tools"])
    # MCPToolClient.call_tool (production mode) returns result["data"].
    assert called["result"]["data"] == {"message": "Test", "length": 4}
    assert unknown["error"]["code"] == -32602


def test_mcp_session_methods_over_http(report: dict[str, Any]) -> None:
    result = scenario(report, "mcp_http")
    session_id = result["session_id"]
    create = result["session_create"]
    assert create["id"] == 4 and create["result"] == {"session_id": session_id}
    assert isinstance(session_id, str) and session_id
    assert result["call_in_session"]["result"]["data"] == "in session"
    names = [t["name"] for t in result["list_in_session"]["result"]["tools"]]
    assert names == ["echo_message", "echo_with_length"]
    assert result["session_close"]["result"] == {"session_id": session_id, "closed": True}
    # Once closed, the session is unknown: invalid params, as the reference answers.
    for key in ("session_close_again", "call_after_close", "close_without_id"):
        assert result[key]["error"]["code"] == -32602, (key, result[key])
    assert session_id in result["call_after_close"]["error"]["message"]
    assert result["last_request_id"] == 10


def test_mcp_tool_client_production_mode(report: dict[str, Any]) -> None:
    """MCPToolClient's default mode, end to end: one session for HTTP tools and /ws."""
    result = scenario(report, "mcp_production")
    assert result["production_mode"] is True
    assert result["tools"] == ["echo_message", "echo_with_length"]
    assert result["echo_message"] == "Hello!"
    assert result["echo_with_length"] == {"message": "Test", "length": 4}
    assert result["unknown_tool"]["type"] == "RuntimeError"
    assert "no_such_tool" in result["unknown_tool"]["message"]
    # reset/step/state over the socket attached to the same session.
    reset = result["reset"]
    assert reset["observation"]["echoed_message"] == GREETING
    assert reset["reward"] is None and reset["done"] is False
    assert result["step_is_call_tool_observation"] is True
    step = result["step_via_ws"]["observation"]
    assert step["tool_name"] == "echo_message" and step["error"] is None
    assert step["result"]["data"] == "ws"
    assert result["list_via_ws"] == ["echo_message", "echo_with_length"]
    assert result["state"] == {"episode_id": "prod-1", "step_count": 0}
    assert result["ws_session_id"] == result["session_id"]
    assert result["after_ws_calls"] == "again"
    # close() detached the socket and closed the session on the server.
    assert result["session_id_after_close"] is None
    assert result["after_close"]["error"]["code"] == -32602


def test_mcp_tool_client_production_mode_at_capacity(report: dict[str, Any]) -> None:
    result = scenario(report, "mcp_production_capacity")
    assert result["first"] == "first"
    # openenv/session/create found no room (-32000): the client says so on connect.
    assert result["second"]["type"] == "RuntimeError"
    assert result["second"]["message"].startswith("Failed to create MCP session: ")
    assert "capacity" in result["second"]["message"]
    # Closing the first client freed its session.
    assert result["third"] == "third"


# -- HTTP ------------------------------------------------------------------------------


def test_http_answers_fit_the_reference_models(report: dict[str, Any]) -> None:
    result = scenario(report, "http_models")
    for key, entry in result.items():
        assert entry["status"] == 200, (key, entry)
        assert entry["valid"], (key, entry)
    assert result["POST /step (body)"]["body"]["reward"] == pytest.approx(0.2)
    assert result["POST /reset (body)"]["body"]["observation"]["echoed_message"] == GREETING


# -- the reference CLI's runtime checks ----------------------------------------------------


def test_reference_validate_passes(report: dict[str, Any]) -> None:
    result = scenario(report, "reference_validate")
    assert result["summary"]["failed_criteria"] == []
    assert result["passed"] is True
    assert result["standard_profile"] == "openenv-http/1.x"
    assert result["mode"] == "simulation"
