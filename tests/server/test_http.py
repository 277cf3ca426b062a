"""The HTTP half of the contract: info routes, stateless reset/step/state, POST /mcp."""

from __future__ import annotations

import httpx
import orjson
import pytest

from openenv import EnvironmentMetadata
from tests.conftest import assert_server_healthy
from tests.envs_for_tests import ToyEnv


@pytest.fixture
def http(echo_server):
    with httpx.Client(base_url=echo_server.base_url, timeout=5) as client:
        yield client


@pytest.fixture
def toy(serve):
    served = serve(ToyEnv)
    with httpx.Client(base_url=served.base_url, timeout=5) as client:
        yield client


def rpc(client: httpx.Client, body, **kwargs) -> dict:
    if isinstance(body, bytes | str):
        response = client.post("/mcp", content=body, headers={"content-type": "application/json"})
    else:
        response = client.post("/mcp", json=body, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


# -- info routes ------------------------------------------------------------------------


def test_health(http):
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}


def test_metadata(http):
    body = http.get("/metadata").json()
    assert set(body) >= {
        "name",
        "description",
        "readme_content",
        "version",
        "author",
        "documentation_url",
    }
    assert body["name"] == "echo_env"
    assert body["version"] == "0.1.0"
    assert "0.1 per character" in body["description"]


def test_metadata_defaults_to_the_class_docstring(serve):
    served = serve(ToyEnv)
    body = httpx.get(served.base_url + "/metadata", timeout=5).json()
    assert body["name"] == "ToyEnv"
    assert body["description"].startswith("A synchronous toy environment")
    assert body["readme_content"] is None


def test_metadata_never_takes_a_base_class_docstring(serve):
    class Undocumented(ToyEnv):
        pass

    body = httpx.get(serve(Undocumented).base_url + "/metadata", timeout=5).json()
    assert (body["name"], body["description"]) == ("Undocumented", "")


def test_metadata_given_to_create_app(serve):
    meta = EnvironmentMetadata(
        name="custom",
        description="d",
        readme_content="# R",
        documentation_url="https://example.org",
    )
    served = serve(ToyEnv, metadata=meta)
    assert httpx.get(served.base_url + "/metadata", timeout=5).json() == meta.model_dump()


def test_schema(http):
    schema = http.get("/schema").json()
    assert set(schema) == {"action", "observation", "state", "reset_observation"}
    assert schema["action"]["properties"]["message"]["type"] == "string"
    assert schema["action"]["required"] == ["message"]
    assert schema["action"]["additionalProperties"] is False
    observation = schema["observation"]["properties"]
    assert {"echoed_message", "message_length", "reward", "done", "metadata"} <= set(observation)
    assert {"episode_id", "step_count"} <= set(schema["state"]["properties"])
    assert schema["reset_observation"] == schema["observation"]
    for part in schema.values():
        assert part["type"] == "object"


def test_openapi_version_starts_with_1(http):
    spec = http.get("/openapi.json").json()
    assert spec["info"]["version"].startswith("1.")
    paths = set(spec["paths"])
    assert {"/health", "/metadata", "/schema", "/reset", "/step", "/state", "/mcp"} <= paths


# -- stateless reset / step / state ---------------------------------------------------


def test_post_reset(http):
    response = http.post("/reset", json={})
    assert response.status_code == 200
    assert response.json() == {
        "observation": {
            "echoed_message": "Echo environment ready!",
            "message_length": 23,
            "metadata": {},
        },
        "reward": None,
        "done": False,
    }


def test_post_reset_without_body_and_with_options(http):
    assert http.post("/reset").status_code == 200
    body = http.post("/reset", json={"seed": 5, "episode_id": "e", "greeting": "hey"}).json()
    assert body["observation"] == {"echoed_message": "hey", "message_length": 3, "metadata": {}}


def test_post_reset_is_reproducible(toy):
    first = toy.post("/reset", json={"seed": 11}).json()
    second = toy.post("/reset", json={"seed": 11}).json()
    other = toy.post("/reset", json={"seed": 12}).json()
    assert first == second
    assert first["observation"]["draw"] != other["observation"]["draw"]


def test_post_reset_metadata_inside_and_beside(toy):
    # As OpenEnv 0.10 sends it (decision 0007): inside always, beside when non-empty.
    body = toy.post("/reset", json={"colour": "red"}).json()
    assert body["metadata"] == {"options": {"colour": "red"}}
    assert body["observation"]["metadata"] == {"options": {"colour": "red"}}
    body = toy.post("/step", json={"action": {"message": "x"}}).json()
    assert "metadata" not in body
    assert body["observation"]["metadata"] == {}


def test_post_step(http):
    response = http.post("/step", json={"action": {"message": "hello"}})
    assert response.status_code == 200
    assert response.json() == {
        "observation": {"echoed_message": "hello", "message_length": 5, "metadata": {}},
        "reward": 0.5,
        "done": False,
    }


def test_post_step_with_timeout_and_request_id(http):
    response = http.post(
        "/step", json={"action": {"message": "x"}, "timeout_s": 5, "request_id": "r-1"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"action": {"message": 7}}, ["message"]),
        ({"action": {}}, ["message"]),
        ({"action": {"message": "x", "extra": 1}}, ["extra"]),
    ],
)
def test_post_step_bad_action_is_422_with_detail(http, body, loc):
    response = http.post("/step", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"] == loc
    assert "msg" in detail[0] and "input" not in detail[0]


@pytest.mark.parametrize("body", [{}, {"action": "hi"}, {"action": None}, {"timeout_s": 1}])
def test_post_step_bad_envelope_is_422(http, body):
    response = http.post("/step", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_get_state(http):
    response = http.get("/state")
    assert response.status_code == 200
    assert response.json() == {"episode_id": None, "step_count": 0}


def test_http_calls_leave_no_session_behind(echo_server, http):
    for _ in range(5):
        http.post("/reset", json={})
        http.post("/step", json={"action": {"message": "x"}})
        http.get("/state")
        rpc(http, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert not echo_server.sessions and echo_server.manager.active == 0


# -- POST /mcp ----------------------------------------------------------------------


def test_mcp_tools_list(http):
    body = rpc(http, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert body["jsonrpc"] == "2.0" and body["id"] == 1
    tools = {t["name"]: t for t in body["result"]["tools"]}
    assert set(tools) == {"echo_message", "echo_with_length"}
    schema = tools["echo_message"]["inputSchema"]
    assert schema["type"] == "object" and schema["required"] == ["message"]
    assert tools["echo_message"]["description"] == "Echo a message back unchanged."


def test_mcp_tools_call(http):
    body = rpc(
        http,
        {
            "jsonrpc": "2.0",
            "id": "abc",
            "method": "tools/call",
            "params": {"name": "echo_message", "arguments": {"message": "hi"}},
        },
    )
    assert body["id"] == "abc"
    result = body["result"]
    assert result["isError"] is False
    assert result["content"] == [{"type": "text", "text": "hi"}]
    assert result["structuredContent"] == {"result": "hi"}
    assert result["data"] == "hi"


def test_mcp_structured_result(http):
    body = rpc(
        http,
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "echo_with_length", "arguments": {"message": "hey"}},
        },
    )
    assert body["result"]["data"] == {"message": "hey", "length": 3}
    assert orjson.loads(body["result"]["content"][0]["text"]) == {"message": "hey", "length": 3}


@pytest.mark.parametrize("request_id", [0, 7, -3, "x", "a-b-c"])
def test_mcp_ids_echoed(http, request_id):
    assert (
        rpc(http, {"jsonrpc": "2.0", "id": request_id, "method": "tools/list"})["id"] == request_id
    )
    body = rpc(http, {"jsonrpc": "2.0", "id": request_id, "method": "nope"})
    assert body["id"] == request_id and body["error"]["code"] == -32601


def test_mcp_initialize_and_ping(http):
    init = rpc(http, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
    assert "tools" in init["result"]["capabilities"]
    assert init["result"]["protocolVersion"]
    assert rpc(http, {"jsonrpc": "2.0", "id": 2, "method": "ping"})["result"] == {}


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"jsonrpc": "2.0", "id": 1,', b"\xff"])
def test_mcp_parse_error(http, body):
    reply = rpc(http, body)
    assert reply["error"]["code"] == -32700
    assert reply["id"] is None


@pytest.mark.parametrize(
    "body",
    [
        [],
        [{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}],
        b'"tools/list"',
        b"42",
        {"id": 1, "method": "tools/list"},
        {"jsonrpc": "1.0", "id": 1, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 1},
        {"jsonrpc": "2.0", "id": 1, "method": 5},
        {"jsonrpc": "2.0", "id": {"x": 1}, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": True, "method": "tools/list"},
    ],
)
def test_mcp_invalid_request(http, body):
    assert rpc(http, body)["error"]["code"] == -32600


def test_mcp_method_not_found(http):
    body = rpc(http, {"jsonrpc": "2.0", "id": 4, "method": "resources/list"})
    assert body["error"]["code"] == -32601
    assert "resources/list" in body["error"]["message"]


@pytest.mark.parametrize(
    "params",
    [
        {"name": "no_such_tool", "arguments": {}},
        {"arguments": {"message": "x"}},
        {"name": "", "arguments": {}},
        {"name": "echo_message", "arguments": {}},
        {"name": "echo_message", "arguments": {"message": 5}},
        {"name": "echo_message", "arguments": {"message": "x", "extra": 1}},
        {"name": "echo_message", "arguments": ["x"]},
        "not-an-object",
    ],
    ids=[
        "unknown-tool",
        "no-name",
        "empty-name",
        "missing-arg",
        "wrong-type",
        "extra-arg",
        "arguments-list",
        "params-string",
    ],
)
def test_mcp_invalid_params(http, params):
    body = rpc(http, {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": params})
    assert body["id"] == 9
    assert body["error"]["code"] == -32602, body


def test_mcp_unknown_tool_names_the_known_ones(http):
    body = rpc(
        http,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "ech", "arguments": {}},
        },
    )
    assert "echo_message" in body["error"]["message"]


def test_mcp_bad_arguments_are_described(http):
    body = rpc(
        http,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "echo_message", "arguments": {"message": 5}},
        },
    )
    assert body["error"]["data"][0]["loc"] == ["message"]


def test_mcp_internal_error_for_a_non_json_result(toy):
    body = rpc(
        toy,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "not_json", "arguments": {}},
        },
    )
    assert body["id"] == 1
    assert body["error"]["code"] == -32603
    assert "not JSON" in body["error"]["message"]


def test_mcp_a_raising_tool_is_an_error_result(toy):
    body = rpc(
        toy, {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "explode"}}
    )
    assert body["result"]["isError"] is True
    assert body["result"]["content"][0]["text"] == "RuntimeError: tool exploded"


def test_mcp_async_tool_and_typed_arguments(toy):
    body = rpc(
        toy,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "wait", "arguments": {"seconds": 0.01}},
        },
    )
    assert body["result"]["data"] == 0.01
    body = rpc(
        toy,
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 2, "b": 40}},
        },
    )
    assert body["result"]["data"] == 42


def test_mcp_oversize_body(serve):
    from openenv.server import ServerConfig

    served = serve(ToyEnv, ServerConfig(max_message_bytes=2048))
    response = httpx.post(
        served.base_url + "/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 1, "b": 2, "pad": "x" * 4000}},
        },
        timeout=5,
    )
    assert response.status_code == 413
    assert response.json()["code"] == "MESSAGE_TOO_LARGE"
    assert_server_healthy(served, {"message": "x"})
