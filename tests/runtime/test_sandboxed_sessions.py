"""A sandboxed session behaves exactly like an in-process one.

The same conversation — seeded resets, steps, state, reset-option validation,
bad actions, environment errors, MCP tools over the WebSocket envelope, as step
actions and over ``POST /mcp``, stateless HTTP calls — is held with an in-process
server and a sandboxed one, and every frame must be identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from openenv.server import ServerConfig, create_app
from tests.conftest import Served, ask, open_ws, start_server
from tests.envs_for_tests import AsyncToyEnv, StrictResetEnv, ToyEnv
from tests.runtime.helpers import sandbox_config
from tests.runtime.sandbox_envs import TrialEnv

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def pairs() -> Iterator[dict[type, tuple[Served, Served]]]:
    """For each env class: (in-process server, sandboxed server)."""
    running: dict[type, tuple[Served, Served]] = {}
    for env in (ToyEnv, AsyncToyEnv, StrictResetEnv, TrialEnv):
        running[env] = (
            start_server(create_app(env, config=ServerConfig())),
            start_server(create_app(env, config=sandbox_config(pool=1))),
        )
    yield running
    for pair in running.values():
        for served in pair:
            served.stop()


def mcp(method: str, params: dict[str, Any] | None = None, id_: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params or {}}


ADD_ONE = {"a": 1, "b": 1}
CONVERSATION: list[dict[str, Any]] = [
    {"type": "state"},
    {"type": "step", "data": {"message": "too early"}},
    {"type": "reset", "data": {"seed": 7, "episode_id": "ep-1", "colour": "red"}},
    {"type": "step", "data": {"message": "a", "number": 3}},
    {"type": "step", "data": {"message": "bb"}, "id": "r-2"},
    {"type": "state"},
    {"type": "step", "data": {"number": "not a number"}},
    {"type": "step", "data": {"fail": True}},
    {"type": "reset", "data": {"seed": "7"}},
    {"type": "reset", "data": {"fail": True, "seed": 1}},
    {"type": "mcp", "data": mcp("tools/list")},
    {"type": "mcp", "data": mcp("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})},
    {"type": "mcp", "data": mcp("tools/call", {"name": "add", "arguments": {"a": "x"}})},
    {"type": "mcp", "data": mcp("tools/call", {"name": "explode"})},
    {"type": "mcp", "data": mcp("tools/call", {"name": "not_json"})},
    {"type": "mcp", "data": mcp("tools/call", {"name": "wait", "arguments": {"seconds": 0.01}})},
    {"type": "mcp", "data": mcp("tools/call", {"name": "nope"})},
    {"type": "step", "data": {"type": "list_tools"}},
    {"type": "step", "data": {"type": "call_tool", "tool_name": "add", "arguments": {"a": 1}}},
    {"type": "step", "data": {"type": "call_tool", "tool_name": "add", "arguments": ADD_ONE}},
    {"type": "reset", "data": {"seed": 7, "episode_id": "ep-1"}},
    {"type": "step", "data": {"message": "a", "number": 3}},
    {"type": "step", "data": {"message": "done"}},
    {"type": "state"},
]


def converse(served: Served, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with open_ws(served) as ws:
        return [ask(ws, message, timeout=20) for message in messages]


@pytest.mark.parametrize("env", [ToyEnv, AsyncToyEnv], ids=lambda e: e.__name__)
def test_the_same_conversation_gives_the_same_frames(pairs, env) -> None:
    in_process, sandboxed = pairs[env]
    expected = converse(in_process, CONVERSATION)
    got = converse(sandboxed, CONVERSATION)
    for message, want, have in zip(CONVERSATION, expected, got, strict=True):
        assert have == want, message
    # the seeded episode replays: same draws after the second seeded reset
    assert got[3]["data"] == got[-3]["data"]
    assert got[-1]["data"]["episode_id"] == "ep-1"


def test_reset_options_are_validated_as_in_process(pairs) -> None:
    in_process, sandboxed = pairs[StrictResetEnv]
    messages = [
        {"type": "reset", "data": {"level": 3, "seed": 1}},
        {"type": "reset", "data": {"levle": 3}},
        {"type": "reset", "data": {"level": "hard"}},
        {"type": "reset", "data": {"seed": -1}},
        {"type": "step", "data": {"message": "x"}},
    ]
    expected = converse(in_process, messages)
    assert converse(sandboxed, messages) == expected
    assert expected[1]["data"]["code"] == "VALIDATION_ERROR"
    assert expected[0]["data"]["observation"]["number"] == 3


def test_an_observation_subclass_goes_out_whole(pairs) -> None:
    """An env may return a subclass of its observation type; its extra fields go out."""
    in_process, sandboxed = pairs[TrialEnv]
    messages = [
        {"type": "reset", "data": {"seed": 3}},
        {"type": "step", "data": {"do": "subclass", "message": "m"}},
    ]
    expected = converse(in_process, messages)
    got = converse(sandboxed, messages)
    assert expected[1]["data"]["observation"]["detail"] == {"depth": [1, 2]}
    for frame in (expected[0], got[0]):
        frame["data"]["observation"].pop("pid")
    for frame in (expected[1], got[1]):
        frame["data"]["observation"].pop("pid")
    assert got == expected


def test_each_session_has_its_own_worker(pairs) -> None:
    _, sandboxed = pairs[ToyEnv]
    with open_ws(sandboxed) as one, open_ws(sandboxed) as two:
        first = ask(one, {"type": "reset", "data": {"seed": 1}}, timeout=20)
        second = ask(two, {"type": "reset", "data": {"seed": 1}}, timeout=20)
        assert first == second
        workers = {s.env.worker.pid for s in sandboxed.sessions.values()}
        assert len(workers) == 2


@pytest.mark.parametrize(
    "body",
    [
        mcp("tools/list"),
        mcp("tools/call", {"name": "add", "arguments": {"a": 20, "b": 22}}),
        mcp("tools/call", {"name": "explode"}),
        mcp("tools/call", {"name": "add", "arguments": {"b": 1}}),
    ],
    ids=["list", "call", "raises", "bad-arguments"],
)
def test_post_mcp_is_the_same(pairs, body) -> None:
    in_process, sandboxed = pairs[ToyEnv]
    expected = httpx.post(in_process.base_url + "/mcp", json=body, timeout=20)
    got = httpx.post(sandboxed.base_url + "/mcp", json=body, timeout=20)
    assert (got.status_code, got.json()) == (expected.status_code, expected.json())


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/reset", {"seed": 5}),
        ("POST", "/step", {"action": {"message": "hey", "number": 4}}),
        ("POST", "/step", {"action": {"fail": True}}),
        ("POST", "/reset", {"seed": 5, "fail": True}),
        ("GET", "/schema", None),
    ],
)
def test_stateless_http_is_the_same(pairs, method, path, body) -> None:
    in_process, sandboxed = pairs[ToyEnv]
    expected = httpx.request(method, in_process.base_url + path, json=body, timeout=20)
    got = httpx.request(method, sandboxed.base_url + path, json=body, timeout=20)
    assert got.status_code == expected.status_code
    have, want = got.json(), expected.json()
    if path == "/step" and got.status_code == 200:  # /step resets unseeded: draws differ
        have["observation"].pop("draw")
        want["observation"].pop("draw")
    assert have == want


def test_a_namespace_package_binds_the_folder_of_the_class(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tests`` has no ``__init__.py``: when a loaded env folder with a ``tests/`` of its
    own goes first on ``sys.path`` (as ``openenv serve ./envs/x`` does), the sandbox must
    still get the folder holding the class (the CI failure of 2026-12-06)."""
    import sys

    from openenv.runtime.isolated import package_binds

    (tmp_path / "tests").mkdir()
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    binds = package_binds(TrialEnv)
    root = __file__.rsplit("/tests/", 1)[0]
    assert binds[f"{root}/tests"] == "tests"
    assert f"{tmp_path}/tests" not in binds
    served = start_server(create_app(TrialEnv, config=sandbox_config(pool=0)))
    try:
        with open_ws(served) as ws:
            reply = ask(ws, {"type": "reset", "data": {}})
            assert reply["type"] == "observation", reply
    finally:
        served.stop()
