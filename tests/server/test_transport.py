"""Both WebSocket transports behave the same: the direct channel and plain ASGI.

``uvicorn_config`` selects :class:`~openenv.server.transport.DirectWebSocketProtocol`;
any other ASGI server (here uvicorn's stock ``websockets-sansio``) reaches the app
through plain ASGI. Every behaviour of the session loop is checked on both.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from openenv.server import ServerConfig
from openenv.server.transport import EXTENSION, DirectWebSocketProtocol
from tests.conftest import (
    Served,
    ask,
    assert_server_healthy,
    close_code,
    open_ws,
    recv,
    send,
    wait_until,
)
from tests.envs_for_tests import AsyncToyEnv

TRANSPORTS = {"direct": {}, "asgi": {"ws": "websockets-sansio"}}


@pytest.fixture(params=sorted(TRANSPORTS))
def served(request: pytest.FixtureRequest, serve: Callable[..., Served]) -> Served:
    config = ServerConfig(max_message_bytes=4096)
    return serve(AsyncToyEnv, config, uvicorn_kwargs=TRANSPORTS[request.param])


def test_default_transport_is_the_direct_one(serve: Callable[..., Served]) -> None:
    served = serve(AsyncToyEnv)
    assert served.server.config.ws is DirectWebSocketProtocol
    assert EXTENSION == "openenv.websocket.direct"


def test_reset_step_state_close(served: Served) -> None:
    ws = open_ws(served)
    assert ask(ws, {"type": "reset", "data": {"seed": 1}})["type"] == "observation"
    frame = ask(ws, {"type": "step", "data": {"number": 3}})
    assert frame["type"] == "observation"
    assert ask(ws, {"type": "state"})["data"]["step_count"] == 1
    send(ws, {"type": "close"})
    assert close_code(ws) == 1000
    wait_until(lambda: not served.sessions)


def test_pipelined_messages_are_answered_in_order(served: Served) -> None:
    ws = open_ws(served, ext=True)
    send(ws, {"type": "reset", "id": 0})
    for i in range(1, 201):  # well past the backlog: reading pauses, then resumes
        send(ws, {"type": "step", "data": {"number": i}, "id": i})
    ids = [recv(ws)["id"] for _ in range(201)]
    assert ids == list(range(201))
    assert ask(ws, {"type": "state"})["data"]["step_count"] == 200


def test_oversize_message_is_refused_and_the_session_goes_on(served: Served) -> None:
    ws = open_ws(served)
    ws.send(orjson.dumps({"type": "state", "pad": "x" * 5000}).decode())
    assert recv(ws)["data"]["code"] == "MESSAGE_TOO_LARGE"
    assert ask(ws, {"type": "state"})["type"] == "state"


def test_invalid_utf8_text_frame_fails_the_connection(served: Served) -> None:
    ws = open_ws(served)
    ws.send(b'{"type":"state","x":"\xff"}', text=True)
    assert close_code(ws) == 1007
    assert_server_healthy(served)


def test_binary_frame_with_json_is_answered(served: Served) -> None:
    ws = open_ws(served)
    ws.send(b'{"type": "state"}')
    assert recv(ws)["type"] == "state"


def test_client_vanishing_mid_step_ends_the_session(served: Served) -> None:
    ws = open_ws(served)
    ask(ws, {"type": "reset"})
    send(ws, {"type": "step", "data": {"seconds": 30}})
    wait_until(lambda: served.sessions)
    ws.close()
    wait_until(lambda: not served.sessions, timeout=5)
    assert_server_healthy(served)
