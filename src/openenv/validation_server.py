"""``openenv validate URL``'s criteria of a running server: OpenEnv's six, then ours.

OpenEnv's own (``openenv validate URL --json`` of ``openenv==0.10.0``, its
``openenv.cli._validation.validate_running_environment``), with the same ids,
descriptions, ``expected`` and ``actual`` values and pass rules, so a tool reading
the reference's report reads ours:

=============================  ==================================================
id                             passes when
=============================  ==================================================
openapi_version_available      ``GET /openapi.json`` is 200 with a string ``info.version``
health_endpoint                ``GET /health`` is 200 ``{"status": "healthy"}``
metadata_endpoint              ``GET /metadata`` is 200 with string ``name`` and ``description``
schema_endpoint                ``GET /schema`` is 200 with ``action``, ``observation``, ``state``
                               objects
mcp_endpoint                   ``POST /mcp`` (body ``{}``) is 200 with ``"jsonrpc": "2.0"``
mode_endpoint_consistency      the OpenAPI paths have ``/reset``, ``/step`` and ``/state``
                               (simulation mode) or none of them (production mode)
=============================  ==================================================

Ours, beyond them (the contract checks of level 1 add ``concurrent_sessions_independent``
and ``reset_seed_reproducible``):

=============================  ==================================================
typed_errors                   on one WebSocket session: invalid JSON is answered
                               ``INVALID_JSON``, an unknown message type ``UNKNOWN_TYPE``,
                               a step whose data is not an object ``VALIDATION_ERROR``,
                               and the session still resets after; ``POST /step`` with a
                               bad action is a 4xx with a JSON body
auth_enforced                  with a token given: ``GET /schema`` and the WebSocket
                               are refused without it and with a wrong one, and
                               accepted with it (``skip`` when no token is given)
=============================  ==================================================

With a token, every request here carries ``Authorization: Bearer <token>`` (but those
of ``auth_enforced`` that test its absence).
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlparse

import httpx

from .validation import Check

REQUEST_TIMEOUT_S = 10.0
LEVEL = 1

OPENENV_CRITERIA = (
    "openapi_version_available",
    "health_endpoint",
    "metadata_endpoint",
    "schema_endpoint",
    "mcp_endpoint",
    "mode_endpoint_consistency",
)
"""The ids of OpenEnv's own criteria for a running server, in its order."""

OUR_CRITERIA = (
    "typed_errors",
    "concurrent_sessions_independent",
    "reset_seed_reproducible",
    "auth_enforced",
)
"""Our criteria for a running server, after OpenEnv's."""


def normalize_url(base_url: str) -> str:
    """As the reference does: ``http://`` if no scheme, no trailing slash."""
    target = base_url.strip()
    if "://" not in target:
        target = f"http://{target}"
    parsed = urlparse(target)
    if not parsed.scheme or not parsed.netloc:
        raise ValueError(f"Invalid runtime URL: {base_url}")
    return target.rstrip("/")


def _criterion(
    criterion_id: str,
    description: str,
    passed: bool,
    *,
    details: str | None = None,
    expected: Any = None,
    actual: Any = None,
) -> Check:
    return Check(
        LEVEL,
        criterion_id,
        "pass" if passed else "fail",
        details or "",
        id=criterion_id,
        description=description,
        expected=expected,
        actual=actual,
    )


def _failed_request(exc: Exception) -> str:
    return f"Request failed: {type(exc).__name__}: {exc}"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def openenv_criteria(
    base_url: str, token: str | None = None, timeout_s: float = REQUEST_TIMEOUT_S
) -> tuple[list[Check], dict[str, str]]:
    """OpenEnv's six criteria, and the report fields they settle (``standard_version``,
    ``standard_profile``, ``mode``), exactly as the reference computes them."""
    url = normalize_url(base_url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    checks: list[Check] = []
    info = {
        "standard_version": "unknown",
        "standard_profile": "openenv-http/unknown",
        "mode": "unknown",
    }
    with httpx.Client(headers=headers, timeout=timeout_s, trust_env=False) as http:
        paths = _openapi(http, url, checks, info)
        _health(http, url, checks)
        _metadata(http, url, checks)
        _schema(http, url, checks)
        _mcp(http, url, checks)
    _mode(paths, checks, info)
    return checks, info


def _openapi(http: httpx.Client, url: str, checks: list[Check], info: dict[str, str]) -> Any:
    cid, text = "openapi_version_available", "GET /openapi.json returns OpenAPI info.version"
    expected = {"status_code": 200, "info.version": "string"}
    try:
        response = http.get(f"{url}/openapi.json")
    except httpx.HTTPError as exc:
        checks.append(_criterion(cid, text, False, details=_failed_request(exc), expected=expected))
        return {}
    body = _json(response)
    ok = (
        response.status_code == 200
        and isinstance(body, dict)
        and isinstance(body.get("info"), dict)
        and isinstance(body["info"].get("version"), str)
    )
    if not ok:
        actual = {
            "status_code": response.status_code,
            "body_type": type(body).__name__ if body is not None else "non_json",
        }
        checks.append(
            _criterion(
                cid,
                text,
                False,
                details="Response missing required OpenAPI info.version field",
                expected=expected,
                actual=actual,
            )
        )
        return {}
    version = str(body["info"]["version"])
    info["standard_version"] = version
    info["standard_profile"] = (
        "openenv-http/1.x" if version.startswith("1.") else "openenv-http/unknown"
    )
    actual = {"status_code": response.status_code, "info.version": version}
    checks.append(_criterion(cid, text, True, expected=expected, actual=actual))
    return body.get("paths", {})


def _health(http: httpx.Client, url: str, checks: list[Check]) -> None:
    cid, text = "health_endpoint", "GET /health returns healthy status"
    expected = {"status_code": 200, "status": "healthy"}
    try:
        response = http.get(f"{url}/health")
    except httpx.HTTPError as exc:
        checks.append(_criterion(cid, text, False, details=_failed_request(exc), expected=expected))
        return
    body = _json(response)
    ok = response.status_code == 200 and isinstance(body, dict) and body.get("status") == "healthy"
    actual = {
        "status_code": response.status_code,
        "status": body.get("status") if isinstance(body, dict) else None,
    }
    checks.append(_criterion(cid, text, ok, expected=expected, actual=actual))


def _metadata(http: httpx.Client, url: str, checks: list[Check]) -> None:
    cid, text = "metadata_endpoint", "GET /metadata returns name and description"
    expected = {"status_code": 200, "fields": ["name", "description"]}
    try:
        response = http.get(f"{url}/metadata")
    except httpx.HTTPError as exc:
        checks.append(_criterion(cid, text, False, details=_failed_request(exc), expected=expected))
        return
    body = _json(response)
    ok = (
        response.status_code == 200
        and isinstance(body, dict)
        and isinstance(body.get("name"), str)
        and isinstance(body.get("description"), str)
    )
    actual = {
        "status_code": response.status_code,
        "name": body.get("name") if isinstance(body, dict) else None,
        "description": body.get("description") if isinstance(body, dict) else None,
    }
    checks.append(_criterion(cid, text, ok, expected=expected, actual=actual))


def _schema(http: httpx.Client, url: str, checks: list[Check]) -> None:
    cid, text = "schema_endpoint", "GET /schema returns action, observation, and state schemas"
    expected = {"status_code": 200, "fields": ["action", "observation", "state"]}
    try:
        response = http.get(f"{url}/schema")
    except httpx.HTTPError as exc:
        checks.append(_criterion(cid, text, False, details=_failed_request(exc), expected=expected))
        return
    body = _json(response)
    has = {
        key: isinstance(body, dict) and isinstance(body.get(key), dict)
        for key in ("action", "observation", "state")
    }
    ok = response.status_code == 200 and all(has.values())
    actual = {"status_code": response.status_code, **{f"has_{k}": v for k, v in has.items()}}
    checks.append(_criterion(cid, text, ok, expected=expected, actual=actual))


def _mcp(http: httpx.Client, url: str, checks: list[Check]) -> None:
    cid, text = "mcp_endpoint", "POST /mcp is reachable and returns JSON-RPC payload"
    expected = {"status_code": 200, "jsonrpc": "2.0"}
    try:
        response = http.post(f"{url}/mcp", json={})
    except httpx.HTTPError as exc:
        checks.append(_criterion(cid, text, False, details=_failed_request(exc), expected=expected))
        return
    body = _json(response)
    ok = response.status_code == 200 and isinstance(body, dict) and body.get("jsonrpc") == "2.0"
    actual = {
        "status_code": response.status_code,
        "jsonrpc": body.get("jsonrpc") if isinstance(body, dict) else None,
    }
    checks.append(_criterion(cid, text, ok, expected=expected, actual=actual))


def _mode(paths: Any, checks: list[Check], info: dict[str, str]) -> None:
    cid, text = "mode_endpoint_consistency", "OpenAPI endpoint set matches OpenEnv mode contract"
    if not (isinstance(paths, dict) and paths):
        checks.append(
            _criterion(
                cid,
                text,
                False,
                details="Cannot determine mode without OpenAPI paths",
                expected={"openapi.paths": "present"},
                actual={"openapi.paths": "missing"},
            )
        )
        return
    actual = {path: path in paths for path in ("/reset", "/step", "/state")}
    if actual["/reset"]:
        info["mode"] = "simulation"
        ok = actual["/step"] and actual["/state"]
    else:
        info["mode"] = "production"
        ok = not actual["/step"] and not actual["/state"]
    expected = dict.fromkeys(actual, info["mode"] == "simulation")
    checks.append(_criterion(cid, text, ok, expected=expected, actual=actual))


# -- ours ------------------------------------------------------------------------------------


def _ws_url(url: str) -> str:
    from .client.core import websocket_url

    return websocket_url(url)


def _connect(url: str, headers: dict[str, str], timeout_s: float) -> Any:
    from websockets.sync.client import connect

    return connect(
        _ws_url(url),
        additional_headers=headers,
        open_timeout=timeout_s,
        proxy=None,
        compression=None,
    ).__enter__()


def typed_errors(
    base_url: str, token: str | None = None, timeout_s: float = REQUEST_TIMEOUT_S
) -> Check:
    """Bad input is answered with typed errors, and the session goes on."""
    cid = "typed_errors"
    description = "Bad input is answered with typed errors; the session goes on"
    url = normalize_url(base_url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    probes: list[tuple[str, str, str | None]] = [
        ("invalid JSON", "{not json", "INVALID_JSON"),
        ("unknown message type", json.dumps({"type": "__no_such_type__"}), "UNKNOWN_TYPE"),
        ("reset", json.dumps({"type": "reset", "data": {}}), None),
        ("step data not an object", json.dumps({"type": "step", "data": 42}), "VALIDATION_ERROR"),
        ("reset after the errors", json.dumps({"type": "reset", "data": {}}), None),
    ]
    expected = {name: code or "observation" for name, _, code in probes}
    expected["POST /step with a bad action"] = "4xx, JSON body"
    actual: dict[str, Any] = {}
    problems: list[str] = []
    try:
        ws = _connect(url, headers, timeout_s)
    except Exception as exc:
        return _criterion(
            cid,
            description,
            False,
            details=f"cannot open a WebSocket session: {type(exc).__name__}: {exc}",
            expected=expected,
        )
    try:
        for name, message, code in probes:
            ws.send(message)
            try:
                frame = json.loads(ws.recv(timeout=timeout_s))
            except Exception as exc:
                actual[name] = f"{type(exc).__name__}: {exc}"
                problems.append(f"{name}: no answer ({actual[name]})")
                break
            kind = frame.get("type") if isinstance(frame, dict) else None
            data = frame.get("data") if isinstance(frame, dict) else None
            got = (data or {}).get("code") if kind == "error" and isinstance(data, dict) else kind
            actual[name] = got
            want = code or "observation"
            if got != want:
                problems.append(f"{name}: answered {got!r}, expected {want!r}")
    finally:
        ws.close()
    name = "POST /step with a bad action"
    try:
        response = httpx.post(
            f"{url}/step",
            json={"action": 42},
            headers=headers,
            timeout=timeout_s,
            trust_env=False,
        )
        body = _json(response)
        actual[name] = {"status_code": response.status_code, "json": body is not None}
        if not (400 <= response.status_code < 500 and body is not None):
            problems.append(f"{name}: answered {response.status_code}, expected a 4xx with JSON")
    except httpx.HTTPError as exc:
        problems.append(f"{name}: {_failed_request(exc)}")
    return _criterion(
        cid,
        description,
        not problems,
        details="; ".join(problems) if problems else None,
        expected=expected,
        actual=actual,
    )


def auth_enforced(
    base_url: str, token: str | None = None, timeout_s: float = REQUEST_TIMEOUT_S
) -> Check:
    """With a token: refused without it (or with a wrong one), accepted with it."""
    cid = "auth_enforced"
    description = "With a bearer token set, requests without it are refused, with it accepted"
    if not token:
        return Check(
            LEVEL,
            cid,
            "skip",
            "skipped: no token given (--token or $OPENENV_TOKEN)",
            id=cid,
            description=description,
        )
    url = normalize_url(base_url)
    wrong = "wrong-" + secrets.token_hex(8)
    cases = {
        "no token": {},
        "a wrong token": {"Authorization": f"Bearer {wrong}"},
        "the token": {"Authorization": f"Bearer {token}"},
    }
    expected = {
        "GET /schema": {"no token": "401/403", "a wrong token": "401/403", "the token": 200},
        "WebSocket reset": {
            "no token": "refused",
            "a wrong token": "refused",
            "the token": "observation",
        },
    }
    actual: dict[str, dict[str, Any]] = {"GET /schema": {}, "WebSocket reset": {}}
    problems = []
    for case, headers in cases.items():
        allowed = case == "the token"
        try:
            status: Any = httpx.get(
                f"{url}/schema", headers=headers, timeout=timeout_s, trust_env=False
            ).status_code
        except httpx.HTTPError as exc:
            status = _failed_request(exc)
        actual["GET /schema"][case] = status
        if allowed and status != 200:
            problems.append(f"GET /schema with the token answered {status}")
        elif not allowed and status not in (401, 403):
            problems.append(f"GET /schema with {case} answered {status}, expected 401 or 403")
        outcome = _ws_reset(url, headers, timeout_s)
        actual["WebSocket reset"][case] = outcome
        if allowed and outcome != "observation":
            problems.append(f"a WebSocket reset with the token got {outcome}")
        elif not allowed and outcome == "observation":
            problems.append(f"a WebSocket session opened with {case}")
    return _criterion(
        cid,
        description,
        not problems,
        details="; ".join(problems) if problems else None,
        expected=expected,
        actual=actual,
    )


def _ws_reset(url: str, headers: dict[str, str], timeout_s: float) -> str:
    """``observation`` when a session opens and resets, else how it was refused."""
    try:
        ws = _connect(url, headers, timeout_s)
    except Exception as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        return f"refused ({status})" if status else f"refused ({type(exc).__name__})"
    try:
        ws.send(json.dumps({"type": "reset", "data": {}}))
        frame = json.loads(ws.recv(timeout=timeout_s))
    except Exception as exc:
        return f"refused ({type(exc).__name__})"
    finally:
        ws.close()
    kind = frame.get("type") if isinstance(frame, dict) else None
    if kind == "error":
        return f"refused ({(frame.get('data') or {}).get('code')})"
    return str(kind)
