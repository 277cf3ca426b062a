"""Session rules: capacity, idle reaping, keepalive, step timeouts, clean-up, failures."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from openenv.server import ServerConfig, create_app, uvicorn_config
from tests.conftest import (
    ask,
    assert_server_healthy,
    close_code,
    expect_error,
    open_ws,
    recv,
    send,
    wait_until,
)
from tests.envs_for_tests import SECRET, AsyncToyEnv, Recorder, ToyEnv, broken_factory

BOTH = pytest.mark.parametrize("env_class", [AsyncToyEnv, ToyEnv], ids=["async", "sync"])


def serve_recorded(serve, env_class=ToyEnv, **config):
    factory = Recorder(env_class)
    return serve(factory, ServerConfig(**config), env_class=env_class), factory


# -- capacity ------------------------------------------------------------------------


def test_default_capacity_is_at_least_1000():
    assert ServerConfig().max_sessions >= 1000
    assert create_app(ToyEnv).state.sessions.config.max_sessions >= 1000


def test_capacity_reached_over_websocket(serve):
    served, factory = serve_recorded(serve, max_sessions=2)
    first, second = open_ws(served), open_ws(served)
    ask(first, {"type": "reset", "data": {}})
    ask(second, {"type": "reset", "data": {}})
    with open_ws(served) as third:
        data = expect_error(recv(third), "CAPACITY_REACHED")
        assert data["active_sessions"] == 2 and data["max_sessions"] == 2
        assert close_code(third) == 1013
    assert len(factory.made) == 2  # no environment was made for the refused one
    # The sessions at the cap are untouched; freeing one makes room.
    assert ask(first, {"type": "step", "data": {"message": "x"}})["type"] == "observation"
    send(second, {"type": "close"})
    assert close_code(second) == 1000
    wait_until(lambda: len(served.sessions) == 1)
    with open_ws(served) as fourth:
        assert ask(fourth, {"type": "reset", "data": {}})["type"] == "observation"
    first.close()
    wait_until(lambda: not served.sessions)
    assert_server_healthy(served)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/reset", {}),
        ("POST", "/step", {"action": {"message": "x"}}),
        ("GET", "/state", None),
    ],
)
def test_http_calls_count_against_the_same_cap(serve, method, path, body):
    served, _ = serve_recorded(serve, max_sessions=2)
    held = [open_ws(served), open_ws(served)]
    for ws in held:
        ask(ws, {"type": "reset", "data": {}})
    response = httpx.request(method, served.base_url + path, json=body, timeout=5)
    assert response.status_code == 503, response.text
    payload = response.json()
    assert payload["code"] == "CAPACITY_REACHED"
    assert payload["active_sessions"] == 2 and payload["max_sessions"] == 2
    assert response.headers["retry-after"] == "1"
    held[0].close()
    wait_until(lambda: len(served.sessions) == 1)
    assert httpx.request(method, served.base_url + path, json=body, timeout=5).status_code == 200
    held[1].close()
    assert_server_healthy(served)


def test_http_mcp_at_capacity_is_a_jsonrpc_error(serve):
    served, _ = serve_recorded(serve, max_sessions=1)
    with open_ws(served):
        wait_until(lambda: len(served.sessions) == 1)
        response = httpx.post(
            served.base_url + "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            timeout=5,
        )
    body = response.json()
    assert body["id"] == 1 and body["error"]["code"] == -32603
    assert body["error"]["data"]["code"] == "CAPACITY_REACHED"


def test_in_flight_http_calls_hold_a_slot(serve):
    served, factory = serve_recorded(serve, max_sessions=1)
    results: list[int] = []
    call = threading.Thread(
        target=lambda: results.append(
            httpx.post(
                served.base_url + "/step", json={"action": {"seconds": 0.6}}, timeout=5
            ).status_code
        )
    )
    call.start()
    wait_until(lambda: factory.made and factory.made[-1].steps_started == 1)
    with open_ws(served) as ws:
        expect_error(recv(ws), "CAPACITY_REACHED")
    call.join()
    assert results == [200]
    wait_until(lambda: not served.sessions)
    assert factory.close_calls == [1]  # the stateless call's environment was closed
    assert_server_healthy(served)


# -- idle reaping and keepalive --------------------------------------------------------


def test_idle_sessions_are_reaped_by_default_after_minutes():
    idle = ServerConfig().idle_timeout_s
    assert idle is not None and 60 <= idle <= 3600


def test_idle_session_is_reaped_and_its_socket_closed(serve):
    served, factory = serve_recorded(serve, idle_timeout_s=0.3)
    ws = open_ws(served)
    ask(ws, {"type": "reset", "data": {}})
    started = time.monotonic()
    assert close_code(ws) == 1000
    assert time.monotonic() - started >= 0.3  # not before the idle limit
    assert "idle" in ws.protocol.close_rcvd.reason
    wait_until(lambda: not served.sessions)
    wait_until(lambda: factory.close_calls == [1])
    assert_server_healthy(served)


def test_active_and_busy_sessions_are_not_reaped(serve):
    served, factory = serve_recorded(serve, AsyncToyEnv, idle_timeout_s=0.3)
    with open_ws(served) as active, open_ws(served) as busy:
        ask(active, {"type": "reset", "data": {}})
        ask(busy, {"type": "reset", "data": {}})
        send(busy, {"type": "step", "data": {"seconds": 1.0}})  # longer than idle_timeout_s
        for _ in range(10):
            time.sleep(0.1)
            assert ask(active, {"type": "step", "data": {"message": "x"}})["type"] == "observation"
        assert recv(busy)["type"] == "observation"
        assert len(served.sessions) == 2
    wait_until(lambda: factory.close_calls == [1, 1])


def test_failing_messages_count_as_activity(serve):
    """Every message keeps a session from being reaped, even one that fails."""
    served, factory = serve_recorded(serve, idle_timeout_s=0.3, max_message_bytes=1024)
    ws = open_ws(served)
    failing = [
        ("not json", "INVALID_JSON"),
        ({"type": "bogus"}, "UNKNOWN_TYPE"),
        ({"type": "step", "data": {"message": "x"}}, "NOT_RESET"),  # no reset yet
        ({"type": "reset", "data": "nope"}, "VALIDATION_ERROR"),
        ({"type": "step", "data": {"message": "x" * 2000}}, "MESSAGE_TOO_LARGE"),
    ]
    deadline = time.monotonic() + 1.0  # over three times idle_timeout_s
    i = 0
    while time.monotonic() < deadline:
        message, code = failing[i % len(failing)]
        expect_error(ask(ws, message), code)
        i += 1
        time.sleep(0.08)
    assert len(served.sessions) == 1 and factory.close_calls == [0]
    # Quiet now: reaped.
    assert close_code(ws) == 1000
    assert "idle" in ws.protocol.close_rcvd.reason
    wait_until(lambda: factory.close_calls == [1])


def test_idle_reaping_can_be_switched_off(serve):
    served, _ = serve_recorded(serve, idle_timeout_s=None)
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        time.sleep(0.3)
        assert ask(ws, {"type": "step", "data": {"message": "x"}})["type"] == "observation"
    assert served.manager._reaper is None


def test_keepalive_settings_are_passed_to_uvicorn():
    app = create_app(ToyEnv, config=ServerConfig(ping_interval_s=7.5, ping_timeout_s=3.0))
    config = uvicorn_config(app)
    assert (config.ws_ping_interval, config.ws_ping_timeout) == (7.5, 3.0)
    assert config.host == "127.0.0.1"
    assert config.ws_max_size >= app.state.config.max_message_bytes
    defaults = uvicorn_config(create_app(ToyEnv))
    assert defaults.ws_ping_interval == ServerConfig().ping_interval_s > 0
    assert defaults.ws_ping_timeout == ServerConfig().ping_timeout_s > 0
    assert uvicorn_config(app, ws_ping_interval=None).ws_ping_interval is None


def test_a_peer_that_stops_answering_pings_is_dropped(serve):
    """A client that completes the handshake and then never answers a ping."""
    served, factory = serve_recorded(
        serve, ping_interval_s=0.2, ping_timeout_s=0.2, idle_timeout_s=None
    )
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=5)
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101")
    wait_until(lambda: len(served.sessions) == 1)
    # No idle limit: only the unanswered ping can end this session.
    wait_until(lambda: not served.sessions)
    # The server pinged, then gave up and closed the connection.
    received = head.split(b"\r\n\r\n", 1)[1]
    while chunk := sock.recv(4096):
        received += chunk
    assert received[0] & 0x0F == 0x9  # a ping frame came first
    wait_until(lambda: factory.close_calls == [1])  # closed once, just after it left the table
    sock.close()
    assert_server_healthy(served)


# -- step timeouts ---------------------------------------------------------------------


@BOTH
def test_hung_step_times_out_and_ends_the_session(serve, env_class):
    served, factory = serve_recorded(serve, env_class, step_timeout_s=0.3, timeout_grace_s=0)
    with open_ws(served) as other:
        ask(other, {"type": "reset", "data": {}})
        ws = open_ws(served)
        ask(ws, {"type": "reset", "data": {}})
        started = time.monotonic()
        send(ws, {"type": "step", "data": {"seconds": 1.0}})
        # Other sessions keep going while one hangs.
        assert ask(other, {"type": "step", "data": {"message": "x"}})["type"] == "observation"
        data = expect_error(recv(ws), "TIMEOUT")  # the step itself would take 1 s
        assert time.monotonic() - started >= 0.3  # not before its limit
        assert data["timeout_s"] == 0.3
        assert close_code(ws) == 1000
        assert "timed out" in ws.protocol.close_rcvd.reason
        wait_until(lambda: len(served.sessions) == 1)
        assert ask(other, {"type": "step", "data": {"message": "y"}})["type"] == "observation"
    # Closed once: at once (async) or once the thread is out of the environment (sync).
    wait_until(lambda: factory.close_calls == [1, 1], timeout=3)
    assert factory.made[1].last_timeout_s == 0.3
    if env_class is AsyncToyEnv:
        assert factory.made[1].steps_finished == 0
    assert_server_healthy(served)


@BOTH
def test_per_request_timeout_is_respected(serve, env_class):
    served, factory = serve_recorded(serve, env_class, step_timeout_s=10, timeout_grace_s=0)
    with open_ws(served, ext=True) as ws:
        ask(ws, {"type": "reset", "data": {}})
        frame = ask(ws, {"type": "step", "data": {"seconds": 2.0}, "timeout_s": 0.2, "id": 5})
        data = expect_error(frame, "TIMEOUT")
        assert frame["id"] == 5 and data["timeout_s"] == 0.2
        assert close_code(ws) == 1000
    assert factory.made[0].last_timeout_s == 0.2
    wait_until(lambda: factory.close_calls == [1], timeout=3)
    assert_server_healthy(served)


def test_per_request_timeout_cannot_exceed_the_server_ceiling(serve):
    served, factory = serve_recorded(serve, AsyncToyEnv, step_timeout_s=0.2, timeout_grace_s=0)
    with open_ws(served, ext=True) as ws:
        ask(ws, {"type": "reset", "data": {}})
        frame = ask(ws, {"type": "step", "data": {"seconds": 2}, "timeout_s": 60, "id": 1})
        assert expect_error(frame, "TIMEOUT")["timeout_s"] == 0.2
    assert factory.made[0].last_timeout_s == 0.2


def test_a_step_within_its_timeout_is_untouched(serve):
    served, factory = serve_recorded(serve, AsyncToyEnv, step_timeout_s=0.2, timeout_grace_s=0.5)
    with open_ws(served, ext=True) as ws:
        ask(ws, {"type": "reset", "data": {}})
        frame = ask(ws, {"type": "step", "data": {"seconds": 0.05}, "timeout_s": 0.5})
        assert frame["type"] == "observation"
        # The grace period lets a step that overruns slightly still answer.
        assert ask(ws, {"type": "step", "data": {"seconds": 0.3}})["type"] == "observation"
        assert ask(ws, {"type": "state"})["data"]["step_count"] == 2
    wait_until(lambda: factory.close_calls == [1])


def test_http_step_timeout(serve):
    served, factory = serve_recorded(serve, AsyncToyEnv, step_timeout_s=10, timeout_grace_s=0)
    response = httpx.post(
        served.base_url + "/step", json={"action": {"seconds": 2}, "timeout_s": 0.2}, timeout=5
    )
    assert response.status_code == 504
    assert response.json()["code"] == "TIMEOUT"
    wait_until(lambda: factory.close_calls == [1])
    assert_server_healthy(served)


def test_many_sessions_with_some_timing_out(serve):
    served, factory = serve_recorded(serve, AsyncToyEnv, step_timeout_s=0.6, timeout_grace_s=0)
    sockets = [open_ws(served) for _ in range(20)]
    for ws in sockets:
        ask(ws, {"type": "reset", "data": {}})
    for i, ws in enumerate(sockets):
        send(ws, {"type": "step", "data": {"seconds": 3.0 if i % 2 else 0.01, "message": str(i)}})
    for i, ws in enumerate(sockets):
        frame = recv(ws)
        if i % 2:
            expect_error(frame, "TIMEOUT")
        else:
            assert frame["data"]["observation"]["echoed"] == str(i)
            assert ask(ws, {"type": "step", "data": {"message": "again"}})["type"] == "observation"
    wait_until(lambda: len(served.sessions) == 10)
    for ws in sockets:
        ws.close()
    wait_until(lambda: not served.sessions)
    # A session leaves the table before its environment has finished closing.
    wait_until(lambda: factory.close_calls == [1] * 20)
    time.sleep(0.1)
    assert factory.close_calls == [1] * 20  # and only once


# -- resources freed ---------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize("ending", ["close", "disconnect", "reap", "timeout", "shutdown"])
def test_every_session_is_freed_exactly_once(serve, env_class, ending):
    served, factory = serve_recorded(
        serve,
        env_class,
        idle_timeout_s=0.3 if ending == "reap" else None,
        step_timeout_s=0.2,
        timeout_grace_s=0,
    )
    sockets = [open_ws(served) for _ in range(3)]
    for ws in sockets:
        ask(ws, {"type": "reset", "data": {}})
        ask(ws, {"type": "step", "data": {"message": "x"}})
    assert len(served.sessions) == 3
    for ws in sockets:
        if ending == "close":
            send(ws, {"type": "close"})
        elif ending == "disconnect":
            ws.close()
        elif ending == "timeout":
            send(ws, {"type": "step", "data": {"seconds": 0.5}})
    if ending == "shutdown":
        served.stop()
    else:
        wait_until(lambda: not served.sessions, timeout=3)
    wait_until(lambda: factory.close_calls == [1, 1, 1], timeout=3)
    assert not served.sessions and served.manager.active == 0
    time.sleep(0.6)  # nothing closes them a second time later
    assert factory.close_calls == [1, 1, 1]
    for ws in sockets:
        ws.close()
    if ending != "shutdown":
        assert_server_healthy(served)


def test_close_is_skipped_for_environments_without_resources(serve):
    from echo_env.server import EchoEnvironment

    served = serve(EchoEnvironment)
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
    wait_until(lambda: not served.sessions)


def test_a_failing_close_does_not_hurt_the_server(serve):
    class BadClose(ToyEnv):
        def close(self) -> None:
            super().close()
            raise RuntimeError("close failed")

    served, factory = serve_recorded(serve, BadClose)
    for _ in range(3):
        with open_ws(served) as ws:
            ask(ws, {"type": "reset", "data": {}})
    wait_until(lambda: factory.close_calls == [1, 1, 1])
    assert not served.sessions
    assert_server_healthy(served)


# -- failures in the environment ---------------------------------------------------------


@BOTH
def test_environment_exception_is_an_execution_error(serve, env_class):
    served, _ = serve_recorded(serve, env_class)
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        data = expect_error(ask(ws, {"type": "step", "data": {"fail": True}}), "EXECUTION_ERROR")
        assert data["message"] == f"ValueError: the environment broke ({SECRET})"
        assert 'File "' not in data["message"] and "Traceback" not in str(data)
        # The session goes on.
        frame = ask(ws, {"type": "step", "data": {"message": "after"}})
        assert frame["data"]["observation"]["echoed"] == "after"
    assert_server_healthy(served)


def test_environment_exception_in_reset(serve):
    served, _ = serve_recorded(serve)
    with open_ws(served) as ws:
        data = expect_error(ask(ws, {"type": "reset", "data": {"fail": True}}), "EXECUTION_ERROR")
        assert data["message"] == "RuntimeError: reset failed on request"
        assert ask(ws, {"type": "reset", "data": {}})["type"] == "observation"
    response = httpx.post(served.base_url + "/reset", json={"fail": True}, timeout=5)
    assert response.status_code == 500
    assert response.json()["code"] == "EXECUTION_ERROR"
    assert "Traceback" not in response.text
    assert_server_healthy(served)


def test_http_step_exception(serve):
    served, factory = serve_recorded(serve)
    response = httpx.post(served.base_url + "/step", json={"action": {"fail": True}}, timeout=5)
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "EXECUTION_ERROR"
    assert body["detail"] == f"ValueError: the environment broke ({SECRET})"
    assert factory.close_calls == [1]
    assert_server_healthy(served)


class ReturnsWrongThings(ToyEnv):
    """reset/step that return something other than an Observation."""

    def _reset(self, seed=None, episode_id=None, **options):
        observation = super()._reset(seed, episode_id, **options)
        return {"not": "an observation"} if options.get("wrong") else observation

    def _step(self, action, timeout_s=None):
        observation = super()._step(action, timeout_s)
        return observation.model_dump() if action.message == "dict" else None


class AsyncReturnsWrongThings(AsyncToyEnv):
    async def _step(self, action, timeout_s=None):
        return "a string"


@pytest.mark.parametrize(
    ("env_class", "returned"),
    [(ReturnsWrongThings, "NoneType"), (AsyncReturnsWrongThings, "str")],
    ids=["sync", "async"],
)
def test_a_non_observation_is_an_execution_error(serve, env_class, returned):
    served, _ = serve_recorded(serve, env_class)
    name = env_class.__name__
    with open_ws(served) as ws:
        ask(ws, {"type": "reset", "data": {}})
        data = expect_error(ask(ws, {"type": "step", "data": {"message": "x"}}), "EXECUTION_ERROR")
        assert data["message"] == f"{name}.step() returned {returned}, expected an Observation"
        if env_class is ReturnsWrongThings:
            data = expect_error(
                ask(ws, {"type": "step", "data": {"message": "dict"}}), "EXECUTION_ERROR"
            )
            assert data["message"] == f"{name}.step() returned dict, expected an Observation"
            data = expect_error(ask(ws, {"type": "reset", "data": {"wrong": 1}}), "EXECUTION_ERROR")
            assert data["message"] == f"{name}.reset() returned dict, expected an Observation"
        # The session goes on.
        assert ask(ws, {"type": "reset", "data": {}})["type"] == "observation"
        assert ask(ws, {"type": "state"})["type"] == "state"
    response = httpx.post(served.base_url + "/step", json={"action": {"message": "x"}}, timeout=5)
    assert response.status_code == 500
    assert response.json()["code"] == "EXECUTION_ERROR"
    assert (
        response.json()["detail"] == f"{name}.step() returned {returned}, expected an Observation"
    )
    wait_until(lambda: not served.sessions and served.manager.active == 0)
    assert httpx.get(served.base_url + "/health", timeout=5).status_code == 200


def test_factory_failure_over_websocket(serve):
    factory = Recorder(ToyEnv)
    factory.fail_next = 1
    served = serve(factory, env_class=ToyEnv)
    with open_ws(served) as ws:
        data = expect_error(recv(ws), "FACTORY_ERROR")
        assert "the backing service is down" in data["message"]
        assert data["factory_name"] == "record_ToyEnv"
        assert close_code(ws) == 1011
    assert not served.sessions and served.manager.active == 0
    assert_server_healthy(served)


def test_factory_failure_over_http(serve):
    factory = Recorder(ToyEnv)
    served = serve(factory, env_class=ToyEnv)
    for method, path, body in [
        ("POST", "/reset", {}),
        ("POST", "/step", {"action": {}}),
        ("GET", "/state", None),
    ]:
        factory.fail_next = 1
        response = httpx.request(method, served.base_url + path, json=body, timeout=5)
        assert response.status_code == 500, response.text
        assert response.json()["code"] == "FACTORY_ERROR"
        assert "Traceback" not in response.text
    factory.fail_next = 1
    response = httpx.post(
        served.base_url + "/mcp",
        json={"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
        timeout=5,
    )
    assert response.json()["error"]["data"]["code"] == "FACTORY_ERROR"
    assert served.manager.active == 0
    assert_server_healthy(served)


def test_async_factory_and_a_factory_that_always_fails(serve):
    async def make() -> ToyEnv:
        return ToyEnv()

    served = serve(make, env_class=ToyEnv)
    assert_server_healthy(served)
    broken = serve(broken_factory, env_class=ToyEnv)
    with open_ws(broken) as ws:
        expect_error(recv(ws), "FACTORY_ERROR")
    assert httpx.get(broken.base_url + "/health", timeout=5).status_code == 200


def test_create_app_needs_the_class_of_a_factory():
    with pytest.raises(TypeError, match="env_class"):
        create_app(broken_factory)


@BOTH
def test_shutdown_mid_step_still_closes_the_environment_once(serve, env_class):
    served, factory = serve_recorded(serve, env_class)
    ws = open_ws(served)
    ask(ws, {"type": "reset", "data": {}})
    send(ws, {"type": "step", "data": {"seconds": 0.5}})
    wait_until(lambda: factory.made[0].steps_started == 1)
    served.stop()
    wait_until(lambda: factory.close_calls == [1], timeout=3)
    time.sleep(0.2)
    assert factory.close_calls == [1]
    ws.close()
