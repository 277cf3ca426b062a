"""The optional bearer token: every route, WebSocket upgrades included."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from openenv import GenericEnvClient
from openenv.server import ServerConfig
from tests.conftest import ask, assert_server_healthy, open_ws
from tests.envs_for_tests import ToyEnv

TOKEN = "s3cret-token"
GOOD = {"Authorization": f"Bearer {TOKEN}"}
WRONG_HEADERS = [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": TOKEN},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": "Bearer"},
    {"Authorization": f"Bearer {TOKEN.upper()}"},  # the token is case-sensitive
    {"Authorization": f"Bearer{TOKEN}"},
    {"Authorization": f"Bearers {TOKEN}"},
    {"X-Token": TOKEN},
]
# The scheme is case-insensitive (RFC 7235), as OpenEnv clients may send it.
SCHEME_SPELLINGS = ["Bearer", "bearer", "BEARER", "bEaReR"]
ROUTES = [
    ("GET", "/health", None),
    ("GET", "/metadata", None),
    ("GET", "/schema", None),
    ("GET", "/state", None),
    ("GET", "/openapi.json", None),
    ("GET", "/docs", None),
    ("POST", "/reset", {}),
    ("POST", "/step", {"action": {"message": "x"}}),
    ("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    ("GET", "/no-such-route", None),
]


@pytest.fixture
def guarded(serve):
    return serve(ToyEnv, ServerConfig(token=TOKEN))


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_http_route_needs_the_token(guarded, method, path, body):
    for headers in WRONG_HEADERS:
        response = httpx.request(
            method, guarded.base_url + path, json=body, headers=headers, timeout=5
        )
        assert response.status_code == 401, (headers, response.text)
        assert response.json() == {
            "detail": "missing or wrong bearer token",
            "message": "missing or wrong bearer token",
            "code": "UNAUTHORIZED",
        }
        assert response.headers["www-authenticate"] == "Bearer"
    response = httpx.request(method, guarded.base_url + path, json=body, headers=GOOD, timeout=5)
    expected = 404 if path == "/no-such-route" else 200
    assert response.status_code == expected, response.text


@pytest.mark.parametrize("headers", WRONG_HEADERS)
def test_websocket_upgrade_needs_the_token(guarded, headers):
    with pytest.raises(InvalidStatus) as refused:
        open_ws(guarded, additional_headers=headers)
    assert refused.value.response.status_code == 403
    assert not guarded.sessions
    assert_server_healthy(guarded, headers=GOOD)


def test_websocket_with_the_token(guarded):
    with open_ws(guarded, additional_headers=GOOD) as ws:
        assert ask(ws, {"type": "reset", "data": {}})["type"] == "observation"
        assert ask(ws, {"type": "step", "data": {"message": "x"}})["type"] == "observation"


@pytest.mark.parametrize("scheme", SCHEME_SPELLINGS)
def test_the_scheme_is_case_insensitive(guarded, scheme):
    headers = {"Authorization": f"{scheme} {TOKEN}"}
    for method, path, body in ROUTES[:-1]:
        response = httpx.request(
            method, guarded.base_url + path, json=body, headers=headers, timeout=5
        )
        assert response.status_code == 200, (scheme, path, response.text)
    assert_server_healthy(guarded, headers=headers)


def test_no_token_means_open_routes(serve):
    served = serve(ToyEnv, ServerConfig(token=None))
    assert httpx.get(served.base_url + "/health", timeout=5).status_code == 200
    assert_server_healthy(served)


def test_server_config_reads_openenv_token(monkeypatch):
    assert ServerConfig().token is None
    monkeypatch.setenv("OPENENV_TOKEN", "from-env")
    assert ServerConfig().token == "from-env"
    assert ServerConfig(token="explicit").token == "explicit"
    monkeypatch.setenv("OPENENV_TOKEN", "")
    assert ServerConfig().token is None


def test_server_guarded_by_openenv_token(serve, monkeypatch):
    monkeypatch.setenv("OPENENV_TOKEN", "env-token")
    served = serve(ToyEnv)
    assert httpx.get(served.base_url + "/health", timeout=5).status_code == 401
    headers = {"Authorization": "Bearer env-token"}
    assert httpx.get(served.base_url + "/health", headers=headers, timeout=5).status_code == 200


def test_client_sends_the_token(guarded):
    with GenericEnvClient(base_url=guarded.base_url, token=TOKEN) as env:
        assert env.reset().observation["step_count"] == 0
        assert env.step({"message": "hi"}).observation["echoed"] == "hi"


def test_client_reads_openenv_token(guarded, monkeypatch):
    monkeypatch.setenv("OPENENV_TOKEN", TOKEN)
    with GenericEnvClient(base_url=guarded.base_url) as env:
        env.reset()
        assert env.step({"message": "hi"}).observation["echoed"] == "hi"


def test_client_without_the_token_gets_a_clear_error(guarded):
    client = GenericEnvClient(base_url=guarded.base_url)
    with pytest.raises(ConnectionError, match=r"HTTP 403 \(missing or wrong token\?\)"):
        client.reset()
    client = GenericEnvClient(base_url=guarded.base_url, token="nope")
    with pytest.raises(ConnectionError, match="HTTP 403"):
        client.reset()
