"""DESIGN §6, one by one: bad input gets a clear error and loses nothing.

Each test asserts the exact error code (or close code / HTTP status) and then that
the same server still serves a fresh session (``assert_server_healthy``); most also
check that the offending session itself goes on.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time

import httpx
import orjson
import pytest
from websockets.exceptions import ConnectionClosed

from openenv.server import ServerConfig
from tests.conftest import (
    ask,
    assert_server_healthy,
    close_code,
    expect_error,
    open_ws,
    send,
    wait_until,
)
from tests.envs_for_tests import AsyncToyEnv, Recorder, StrictResetEnv, ToyEnv

LIMIT = 4096


@pytest.fixture
def served(serve):
    from echo_env.server import EchoEnvironment

    return serve(EchoEnvironment, ServerConfig(max_message_bytes=LIMIT))


def assert_session_goes_on(ws) -> None:
    frame = ask(ws, {"type": "reset", "data": {}})
    assert frame["type"] == "observation", frame
    frame = ask(ws, {"type": "step", "data": {"message": "ok"}})
    assert frame["type"] == "observation", frame
    assert frame["data"]["observation"]["echoed_message"] == "ok"


# -- malformed messages ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ['{"type": "reset"', "not json at all", "", "{'type': 'reset'}", '{"type":"reset",}', "NaN"],
    ids=["truncated", "text", "empty", "single-quotes", "trailing-comma", "nan"],
)
def test_malformed_json(served, raw):
    with open_ws(served) as ws:
        data = expect_error(ask(ws, raw), "INVALID_JSON")
        assert data["message"].startswith("Invalid JSON")
        assert_session_goes_on(ws)
    assert_server_healthy(served)


@pytest.mark.parametrize("raw", ["[]", '"reset"', "42", "null", '[{"type":"reset"}]'])
def test_json_that_is_not_an_object(served, raw):
    with open_ws(served) as ws:
        data = expect_error(ask(ws, raw), "INVALID_JSON")
        assert "expected an object" in data["message"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


@pytest.mark.parametrize("kind", ["launch", "RESET", "", 5, True, ["reset"], {"x": 1}])
def test_unknown_type(served, kind):
    with open_ws(served) as ws:
        data = expect_error(ask(ws, {"type": kind, "data": {}}), "UNKNOWN_TYPE")
        assert "expected one of reset, step, state, close, mcp" in data["message"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


@pytest.mark.parametrize("message", [{"data": {"message": "x"}}, {}, {"type": None}])
def test_missing_type(served, message):
    with open_ws(served) as ws:
        data = expect_error(ask(ws, message), "UNKNOWN_TYPE")
        assert 'no "type"' in data["message"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


# -- wrong field types ------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [{"message": 5}, {"message": None}, {"message": ["a"]}, {}, {"message": {"text": "x"}}],
    ids=["int", "null", "list", "missing", "object"],
)
def test_wrong_action_field_types(served, data):
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        error = expect_error(ask(ws, {"type": "step", "data": data}), "VALIDATION_ERROR")
        assert error["errors"] and error["errors"][0]["loc"] == ["message"]
        assert "input" not in error["errors"][0]  # inputs are not echoed back
        assert_session_goes_on(ws)
    assert_server_healthy(served)


@pytest.mark.parametrize("data", ["hi", 5, ["message", "hi"], None, True])
def test_step_data_that_is_not_an_object(served, data):
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        error = expect_error(ask(ws, {"type": "step", "data": data}), "VALIDATION_ERROR")
        assert "step data must be an object" in error["message"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


@pytest.mark.parametrize(
    "message",
    [
        {"type": "reset", "data": "seed=1"},
        {"type": "reset", "data": [1]},
        {"type": "reset", "data": {"max_steps": "many"}},
        {"type": "reset", "data": {"greeting": 5}},
        {"type": "reset", "data": {"episode_id": 5}},
        {"type": "reset", "data": {"episode_id": ""}},
        {"type": "reset", "data": {"episode_id": "x" * 300}},
        {"type": "mcp", "data": "tools/list"},
        {"type": "mcp", "data": None},
    ],
)
def test_wrong_envelope_field_types(served, message):
    with open_ws(served) as ws:
        expect_error(ask(ws, message), "VALIDATION_ERROR")
        assert_session_goes_on(ws)
    assert_server_healthy(served)


@pytest.mark.parametrize("timeout_s", ["1", -1, 0, True, [1], {"s": 1}])
def test_wrong_timeout_s(served, timeout_s):
    with open_ws(served, ext=True) as ws:
        ask(ws, {"type": "reset", "data": {}})
        frame = ask(ws, {"type": "step", "data": {"message": "x"}, "timeout_s": timeout_s, "id": 3})
        error = expect_error(frame, "VALIDATION_ERROR")
        assert "timeout_s" in error["message"] and frame["id"] == 3
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_reset_with_an_option_out_of_range(served):
    with open_ws(served) as ws:
        error = expect_error(
            ask(ws, {"type": "reset", "data": {"max_steps": 0}}), "VALIDATION_ERROR"
        )
        assert error["errors"][0]["loc"] == ["max_steps"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


# -- extra fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        {"type": "reset", "data": {}, "extra": 1},
        {"type": "state", "data": {}},
        {"type": "close", "data": {}},
        {"type": "step", "data": {"message": "x"}, "action": {"message": "x"}},
        {"type": "mcp", "data": {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, "x": 1},
    ],
)
def test_extra_envelope_fields(served, message):
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        error = expect_error(ask(ws, message), "VALIDATION_ERROR")
        assert "unexpected field" in error["message"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_extra_action_fields(served):
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        frame = ask(ws, {"type": "step", "data": {"message": "x", "mesage": "typo"}})
        error = expect_error(frame, "VALIDATION_ERROR")
        assert error["errors"][0]["type"] == "extra_forbidden"
        assert error["errors"][0]["loc"] == ["mesage"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


# -- oversize messages -----------------------------------------------------------------


def test_oversize_message_is_refused_and_the_session_goes_on(served):
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        frame = ask(ws, {"type": "step", "data": {"message": "x" * (LIMIT + 100)}})
        error = expect_error(frame, "MESSAGE_TOO_LARGE")
        assert error["max_message_bytes"] == LIMIT
        frame = ask(ws, {"type": "step", "data": {"message": "after"}})
        assert frame["data"]["observation"]["echoed_message"] == "after"
        assert ask(ws, {"type": "state"})["data"]["step_count"] == 1  # the big one did not count
    assert_server_healthy(served)


def test_message_just_under_the_limit_is_accepted(served):
    envelope = '{"type":"step","data":{"message":""}}'
    text = "x" * (LIMIT - len(envelope))
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        frame = ask(ws, '{"type":"step","data":{"message":"' + text + '"}}')
    assert frame["type"] == "observation"
    assert frame["data"]["observation"]["message_length"] == len(text)


def test_oversize_is_measured_in_bytes_not_characters(served):
    """2-byte characters: fewer characters than the limit, more bytes."""
    message = "é" * (LIMIT // 2 + 100)
    assert len(message) < LIMIT < len(message.encode())
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        error = expect_error(
            ask(ws, {"type": "step", "data": {"message": message}}), "MESSAGE_TOO_LARGE"
        )
        assert error["max_message_bytes"] == LIMIT
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_far_oversize_message_closes_the_transport_with_1009(served):
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        send(ws, {"type": "step", "data": {"message": "x" * (LIMIT * 8)}})
        assert close_code(ws) == 1009
    wait_until(lambda: not served.sessions)
    assert_server_healthy(served)


def test_oversize_binary_message_is_refused(served):
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        send(ws, b'{"type":"step","data":{"message":"' + b"x" * (LIMIT + 10) + b'"}}')
        from tests.conftest import recv

        expect_error(recv(ws), "MESSAGE_TOO_LARGE")
        assert_session_goes_on(ws)
    assert_server_healthy(served)


# -- binary frames and encodings ---------------------------------------------------------


def test_valid_json_in_a_binary_frame_is_served(served):
    with open_ws(served) as ws:
        assert ask(ws, b'{"type":"reset","data":{}}')["type"] == "observation"
        frame = ask(ws, '{"type":"step","data":{"message":"h\u00e9"}}'.encode())
        assert frame["data"]["observation"]["echoed_message"] == "h\u00e9"
        assert_session_goes_on(ws)
    assert_server_healthy(served)


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\xfd", b'{"type":"reset","data":{"greeting":"\xc3\x28"}}', b"\x80" * 10],
    ids=["garbage", "bad-sequence-in-string", "continuation-bytes"],
)
def test_non_utf8_binary_frame(served, raw):
    with open_ws(served) as ws:
        error = expect_error(ask(ws, raw), "INVALID_JSON")
        assert "not UTF-8" in error["message"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_non_utf8_text_frame_closes_with_1007(served):
    """A text frame must be UTF-8 (RFC 6455): the transport closes with 1007."""
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        ws.send(b'{"type":"state","x":"\xff"}', text=True)
        assert close_code(ws) == 1007
    wait_until(lambda: not served.sessions)
    assert_server_healthy(served)


def test_empty_binary_frame(served):
    with open_ws(served) as ws:
        expect_error(ask(ws, b""), "INVALID_JSON")
        assert_session_goes_on(ws)
    assert_server_healthy(served)


# -- huge numbers, deep nesting --------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"type":"reset","data":{"seed":123456789012345678901234567890}}',
        '{"type":"reset","data":{"seed":18446744073709551616}}',
        '{"type":"reset","data":{"seed":-9223372036854775809}}',
        '{"type":"step","data":{"message":"x","metadata":{"n":' + "9" * 400 + "}}}",
        '{"type":"step","data":{"message":"x"},"id":' + "1" * 30 + "}",
    ],
    ids=["seed-100-bits", "seed-2**64", "below-int64", "400-digits", "huge-id"],
)
def test_integers_beyond_64_bits_are_refused_not_rounded(served, raw):
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        error = expect_error(ask(ws, raw), "INVALID_JSON")
        assert "does not fit in 64 bits" in error["message"] or "infinity" in error["message"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_largest_64_bit_integers_are_exact(served):
    with open_ws(served) as ws:
        frame = ask(ws, '{"type":"reset","data":{"seed":18446744073709551615}}')
        assert frame["type"] == "observation"
        frame = ask(
            ws,
            '{"type":"step","data":{"message":"1234567890123456789012345"},"id":-9223372036854775808}',
        )
        assert frame["type"] == "observation" and frame["id"] == -(2**63)
    assert_server_healthy(served)


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e999"])
def test_floats_beyond_double_range_are_refused(served, number):
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        raw = '{"type":"step","data":{"message":"x","metadata":{"n":' + number + "}}}"
        error = expect_error(ask(ws, raw), "INVALID_JSON")
        assert "infinity" in error["message"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_huge_number_in_a_typed_field(serve):
    served = serve(ToyEnv)
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        expect_error(ask(ws, '{"type":"step","data":{"number":1e300}}'), "VALIDATION_ERROR")
        expect_error(ask(ws, '{"type":"step","data":{"number":' + "7" * 25 + "}}"), "INVALID_JSON")
        frame = ask(ws, '{"type":"step","data":{"number":9223372036854775807}}')
        assert frame["data"]["observation"]["number"] == 2**63 - 1
    assert_server_healthy(served, {"message": "x"})


def test_deep_nesting_is_refused(served):
    depth = 2000
    raw = (
        '{"type":"step","data":{"message":"x","metadata":{"a":' + "[" * depth + "]" * depth + "}}}"
    )
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        error = expect_error(ask(ws, raw), "INVALID_JSON")
        assert "depth" in error["message"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_deep_nesting_with_long_numbers_is_refused(served):
    depth = 1020
    raw = '{"type":"state","x":' + "[" * depth + "1" * 20 + "]" * depth + "}"
    with open_ws(served) as ws:
        expect_error(ask(ws, raw), "INVALID_JSON")
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_moderate_nesting_is_served(served):
    depth = 500
    raw = (
        '{"type":"step","data":{"message":"x","metadata":{"a":' + "[" * depth + "]" * depth + "}}}"
    )
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        assert ask(ws, raw)["type"] == "observation"
    assert_server_healthy(served)


@pytest.mark.parametrize(
    "request_id",
    [{"a": 1}, [1, 2], True, 1.5],
    ids=["object", "list", "bool", "float"],
)
def test_unusable_request_ids_are_refused(served, request_id):
    with open_ws(served, ext=True) as ws:
        ask(ws, {"type": "reset", "data": {}})
        frame = ask(ws, {"type": "state", "id": request_id})
        error = expect_error(frame, "VALIDATION_ERROR")
        assert '"id"' in error["message"]
        assert "id" not in frame
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_deeply_nested_request_id_does_not_kill_the_session(served):
    nested = "[" * 600 + "]" * 600
    with open_ws(served, ext=True) as ws:
        ask(ws, {"type": "reset", "data": {}})
        expect_error(ask(ws, '{"type":"state","id":' + nested + "}"), "VALIDATION_ERROR")
        assert_session_goes_on(ws)
    assert_server_healthy(served)


# -- order of calls ------------------------------------------------------------------


def test_step_before_reset(served):
    with open_ws(served) as ws:
        error = expect_error(ask(ws, {"type": "step", "data": {"message": "x"}}), "NOT_RESET")
        assert "reset" in error["message"]
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_state_before_reset_returns_the_initial_state(served):
    with open_ws(served) as ws:
        frame = ask(ws, {"type": "state"})
        assert frame == {"type": "state", "data": {"episode_id": None, "step_count": 0}}
        assert_session_goes_on(ws)
    assert_server_healthy(served)


def test_close_twice(served):
    ws = open_ws(served)
    ask(ws, {"type": "reset", "data": {}})
    # Both frames in one write, so the second is on its way before the server's close.
    with ws.protocol_mutex:
        ws.protocol.send_text(b'{"type":"close"}')
        ws.protocol.send_text(b'{"type":"close"}')
        ws.socket.sendall(b"".join(ws.protocol.data_to_send()))
    assert close_code(ws) == 1000
    wait_until(lambda: not served.sessions)
    assert_server_healthy(served)


def test_close_twice_on_two_connections_in_a_row(served):
    for _ in range(2):
        ws = open_ws(served)
        send(ws, {"type": "close"})
        assert close_code(ws) == 1000
        with contextlib.suppress(ConnectionClosed):
            send(ws, {"type": "close"})  # after the close: refused locally, harmless
    wait_until(lambda: not served.sessions)
    assert_server_healthy(served)


def test_messages_after_close_are_not_answered(served):
    ws = open_ws(served)
    send(ws, {"type": "close"})
    # The server may have closed already (then sending fails here): either way, no answer.
    with contextlib.suppress(ConnectionClosed):
        send(ws, {"type": "reset", "data": {}})
    assert close_code(ws) == 1000
    assert_server_healthy(served)


@pytest.mark.parametrize("env_class", [AsyncToyEnv, ToyEnv], ids=["async", "sync-in-thread"])
def test_socket_dropped_mid_step_releases_the_session(serve, env_class):
    factory = Recorder(env_class)
    served = serve(factory, env_class=env_class)
    ws = open_ws(served)
    ask(ws, {"type": "reset", "data": {}})
    send(ws, {"type": "step", "data": {"seconds": 2.5}})
    wait_until(lambda: factory.made[0].steps_started == 1)
    # Drop the TCP connection without a close handshake.
    ws.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.socket.close()
    wait_until(lambda: not served.sessions)
    assert factory.made[0].steps_finished == 0  # released while the step was still running
    # The environment is closed exactly once: at once for an async step (it is
    # cancelled), after the thread returns for a sync one.
    wait_until(lambda: factory.close_calls == [1], timeout=5)
    assert_server_healthy(served)
    time.sleep(0.2)
    assert factory.close_calls[0] == 1
    if env_class is AsyncToyEnv:
        assert factory.made[0].steps_finished == 0  # abandoned, not run to the end


# -- seeds and reset options -------------------------------------------------------------


@pytest.mark.parametrize(
    "seed",
    [-1, "7", 1.5, 1.0, True, False, [1], {"s": 1}],
    ids=["negative", "string", "float", "integral-float", "true", "false", "list", "object"],
)
def test_invalid_seed(served, seed):
    with open_ws(served) as ws:
        error = expect_error(ask(ws, {"type": "reset", "data": {"seed": seed}}), "VALIDATION_ERROR")
        assert error["errors"][0]["loc"][0] == "seed"
        assert_session_goes_on(ws)
    response = httpx.post(served.base_url + "/reset", json={"seed": seed}, timeout=5)
    assert response.status_code == 422, response.text
    assert_server_healthy(served)


@pytest.mark.parametrize("seed", [0, 1, 2**63, 2**64 - 1, None])
def test_valid_seeds(served, seed):
    with open_ws(served) as ws:
        assert ask(ws, {"type": "reset", "data": {"seed": seed}})["type"] == "observation"
    response = httpx.post(served.base_url + "/reset", json={"seed": seed}, timeout=5)
    assert response.status_code == 200, response.text


def test_unknown_reset_options(served):
    with open_ws(served) as ws:
        frame = ask(ws, {"type": "reset", "data": {"colour": "red"}})
        error = expect_error(frame, "VALIDATION_ERROR")
        assert error["errors"][0]["loc"] == ["colour"]
        assert error["errors"][0]["type"] == "extra_forbidden"
        assert_session_goes_on(ws)
    response = httpx.post(served.base_url + "/reset", json={"colour": "red"}, timeout=5)
    assert response.status_code == 422
    assert_server_healthy(served)


def test_unknown_reset_options_refused_for_named_options_only(serve):
    served = serve(StrictResetEnv)
    with open_ws(served) as ws:
        ok = ask(ws, {"type": "reset", "data": {"level": 3}})
        assert ok["data"]["observation"]["number"] == 3
        expect_error(ask(ws, {"type": "reset", "data": {"levle": 3}}), "VALIDATION_ERROR")
        expect_error(ask(ws, {"type": "reset", "data": {"level": "hard"}}), "VALIDATION_ERROR")
    assert_server_healthy(served, {"message": "x"})


def test_reset_options_pass_through_with_var_kwargs(serve):
    served = serve(ToyEnv)
    with open_ws(served) as ws:
        frame = ask(ws, {"type": "reset", "data": {"colour": "red", "size": 3}})
    assert frame["data"]["metadata"] == {"options": {"colour": "red", "size": 3}}


# -- the same rules over HTTP ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/reset", b"{not json", 422),
        ("/reset", b"[1, 2]", 422),
        ("/reset", b'{"seed": "x"}', 422),
        ("/reset", b'{"max_steps": "many"}', 422),
        ("/step", b"{not json", 422),
        ("/step", b"{}", 422),
        ("/step", b'{"action": "hi"}', 422),
        ("/step", b'{"action": {"message": 5}}', 422),
        ("/step", b'{"action": {"message": "x", "bogus": 1}}', 422),
        ("/step", b'{"action": {"message": "x"}, "timeout_s": -1}', 422),
        ("/step", b'{"action": {"message": "x"}, "extra": 1}', 200),
        ("/step", b"\xff\xfe", 422),
    ],
)
def test_bad_http_bodies(served, path, body, status):
    response = httpx.post(
        served.base_url + path,
        content=body,
        headers={"content-type": "application/json"},
        timeout=5,
    )
    assert response.status_code == status, response.text
    if status == 422:
        assert "detail" in response.json()
        assert "Traceback" not in response.text
    assert_server_healthy(served)


@pytest.mark.parametrize("path", ["/reset", "/step", "/mcp"])
def test_oversize_http_bodies_are_refused(served, path):
    body = orjson.dumps({"action": {"message": "x" * (LIMIT * 2)}, "pad": "y" * LIMIT})
    response = httpx.post(
        served.base_url + path,
        content=body,
        headers={"content-type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "MESSAGE_TOO_LARGE"
    assert response.json()["max_message_bytes"] == LIMIT
    assert_server_healthy(served)


def test_oversize_chunked_http_body_is_refused(served):
    def chunks():
        for _ in range(8):
            yield b"x" * 1024

    response = httpx.post(
        served.base_url + "/step",
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "MESSAGE_TOO_LARGE"
    assert_server_healthy(served)
