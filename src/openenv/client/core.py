"""What the sync and async clients share: every protocol decision, no I/O.

:class:`ClientCore` builds request frames, pairs replies with requests and turns
frames into typed results; :class:`~openenv.client.sync.EnvClient` and
:class:`~openenv.client.aio.AsyncEnvClient` only move the bytes (as httpx's
``Client`` and ``AsyncClient`` share their models).

Replies never reach the wrong request. Against a server that accepted the
:data:`~openenv.protocol.EXTENSIONS_SUBPROTOCOL`, every request carries an id and
a late reply to an abandoned request is recognised and dropped. Against a plain
OpenEnv server (no ids), a timed-out request leaves the connection unusable, so
the client drops it: that session is lost, and the next ``reset()`` opens a new one.
"""

from __future__ import annotations

import itertools
import os
import typing
import weakref
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ..errors import (  # noqa: F401 (re-exported)
    ConnectError,
    EnvServerError,
    RequestTimeout,
    SessionLostError,
    ToolError,
    WrongEnvironmentError,
)
from ..protocol import EXTENSIONS_SUBPROTOCOL, SESSION_REFUSED_CODES, decode_frame, parse_result
from ..types import Action, Observation, State, StepResult

if TYPE_CHECKING:
    from ..runtime.base import Runtime

ActT = TypeVar("ActT")
ObsT = TypeVar("ObsT")
StateT = TypeVar("StateT")


def websocket_url(base_url: str) -> str:
    """``http://host:port`` → ``ws://host:port/ws`` (``https`` → ``wss``)."""
    if "://" not in base_url:
        base_url = "http://" + base_url
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path.endswith("/ws"):
        path += "/ws"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def _generic_args(cls: type) -> tuple[Any, ...]:
    for base in getattr(cls, "__orig_bases__", ()):
        args = typing.get_args(base)
        if len(args) == 3:
            return args
    return ()


class TypedClient(Generic[ActT, ObsT, StateT]):
    """Reads a client's types from its class.

    ``class EchoEnv(EnvClient[EchoAction, EchoObservation, State])`` sets all three.

    ``observation_type = None`` keeps observations as plain dicts (see GenericEnvClient).
    """

    action_type: type[Any] | None = Action
    observation_type: type[Any] | None = Observation
    state_type: type[Any] | None = State

    runtime: Runtime | None = None
    """The server this client started and owns (``from_env``, ``from_runtime``), if any."""
    _launched: weakref.finalize | None = None  # stops ``runtime`` once (see client/launch.py)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        args = _generic_args(cls)
        names = ("action_type", "observation_type", "state_type")
        for name, arg in zip(names, args, strict=False):  # args is () when not given
            if name not in cls.__dict__ and isinstance(arg, type) and issubclass(arg, BaseModel):
                setattr(cls, name, arg)

    # Overridable hooks, named as in OpenEnv's EnvClient so ported clients keep working.

    def _step_payload(self, action: Any) -> dict[str, Any]:
        """The ``data`` of a step message for ``action``."""
        if isinstance(action, BaseModel):
            expected = self.action_type
            if expected not in (None, Action) and not isinstance(action, expected):
                raise TypeError(
                    f"{type(self).__name__}.step() takes {expected.__name__}, "
                    f"got {type(action).__name__}"
                )
            return action.model_dump(mode="json")
        if isinstance(action, dict):
            return action
        raise TypeError(f"an action is a pydantic model or a dict, got {type(action).__name__}")

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[Any]:
        """A :class:`StepResult` from an observation frame's ``data``."""
        return parse_result(payload, self.observation_type)

    def _parse_state(self, payload: dict[str, Any]) -> Any:
        """The state from a state frame's ``data``."""
        return payload if self.state_type is None else self.state_type.model_validate(payload)


class ClientCore:
    """Frames out, results in. One per connection attempt; holds no socket."""

    def __init__(self, extensions: bool) -> None:
        self.extensions = extensions
        self._next_id = 0

    def request(
        self, kind: str, data: Any = None, timeout_s: float | None = None
    ) -> tuple[dict, Any]:
        """The message for one request, and the id its reply must carry (None: no ids)."""
        message: dict[str, Any] = {"type": kind}
        if data is not None:
            message["data"] = data
        request_id = None
        if self.extensions:
            self._next_id += 1
            request_id = message["id"] = self._next_id
            if timeout_s is not None:
                message["timeout_s"] = timeout_s
        return message, request_id

    def match(
        self, raw: str | bytes, request_id: Any, expect: tuple[str, ...]
    ) -> dict[str, Any] | None:
        """The reply's ``data`` if ``raw`` answers ``request_id``; None for a stale reply.

        Raises :class:`EnvServerError` for an error frame or a frame of the wrong type.
        """
        frame = decode_frame(raw)
        if request_id is not None and frame.get("id") != request_id:
            # An error frame without an id answers no request in particular: the
            # server refused the session itself (e.g. CAPACITY_REACHED). Not stale.
            if not (frame["type"] == "error" and "id" not in frame):
                return None
        kind = frame["type"]
        if kind == "error":
            data = dict(frame.get("data") or {})
            code = str(data.pop("code", "UNKNOWN"))
            raise EnvServerError(code, str(data.pop("message", "unknown error")), data)
        if kind not in expect:
            raise EnvServerError("PROTOCOL", f"expected a {'/'.join(expect)} frame, got {kind!r}")
        return frame.get("data") or {}

    def failed(
        self, exc: BaseException, kind: str, wait_s: float, request_id: Any
    ) -> tuple[str | None, BaseException | None]:
        """What a request that raised ``exc`` means, decided here for both clients.

        Returns why the connection must be dropped (None: keep it) and the error to
        raise in place of ``exc`` (None: re-raise ``exc``).
        """
        if isinstance(exc, EnvServerError):  # refused sessions: the server closes next
            return (exc.message if exc.code in SESSION_REFUSED_CODES else None), None
        if isinstance(exc, ConnectionClosed):
            reason = exc.rcvd.reason if exc.rcvd and exc.rcvd.reason else "connection closed"
            return reason, session_lost(reason)
        timed_out = isinstance(exc, TimeoutError)
        no_reply = f"no reply to {kind} within {wait_s:g} s"
        # Timed out, cancelled or interrupted: without ids a late reply could be taken
        # for the next request's, so the connection must go.
        drop = (no_reply if timed_out else f"{kind} interrupted") if request_id is None else None
        return drop, (RequestTimeout(no_reply) if timed_out else None)


def session_lost(reason: str) -> SessionLostError:
    """The error for a call on a session that is gone."""
    return SessionLostError(f"session lost ({reason}); call reset() to start a new one")


def connect_error(url: str, exc: BaseException) -> ConnectError:
    """One clear line for every way a connection attempt can fail."""
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        hint = " (missing or wrong token?)" if status in (401, 403) else ""
        return ConnectError(f"server at {url} refused the WebSocket: HTTP {status}{hint}")
    if isinstance(exc, OSError) and exc.errno:  # asyncio and sockets word these differently
        return ConnectError(f"cannot connect to {url}: {os.strerror(exc.errno)}")
    return ConnectError(f"cannot connect to {url}: {exc}")


_jsonrpc_ids = itertools.count(1)


def jsonrpc_request(method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": next(_jsonrpc_ids), "method": method, "params": params}


def tool_value(response: dict[str, Any], name: str) -> Any:
    """The value of a ``tools/call`` JSON-RPC response; :class:`ToolError` if it failed."""
    if "error" in response:
        err = response["error"]
        raise ToolError(f"tool {name!r} failed: {err.get('message')} (JSON-RPC {err.get('code')})")
    result = response.get("result") or {}
    if result.get("isError"):
        text = " ".join(c.get("text", "") for c in result.get("content", []))
        raise ToolError(f"tool {name!r} failed: {text}")
    if "data" in result:
        return result["data"]
    structured = result.get("structuredContent")
    if isinstance(structured, dict) and "result" in structured:
        return structured["result"]
    return result


class ClientOptions:
    """Connection settings shared by both clients."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        message_timeout_s: float = 60.0,
        connect_timeout_s: float = 10.0,
        max_message_bytes: int = 64 * 1024 * 1024,
        headers: dict[str, str] | None = None,
        verify_server: bool = True,
    ) -> None:
        self.base_url = base_url
        self.ws_url = websocket_url(base_url)
        self.verify_server = verify_server
        self.message_timeout_s = message_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_message_bytes = max_message_bytes
        self.headers = dict(headers or {})
        token = token if token is not None else os.environ.get("OPENENV_TOKEN")
        if token:
            self.headers.setdefault("Authorization", f"Bearer {token}")
        self.subprotocols = [EXTENSIONS_SUBPROTOCOL]

    def as_kwargs(self) -> dict[str, Any]:
        """These options as client keyword arguments (the token is in ``headers``)."""
        return {
            "message_timeout_s": self.message_timeout_s,
            "connect_timeout_s": self.connect_timeout_s,
            "max_message_bytes": self.max_message_bytes,
            "headers": dict(self.headers),
            "verify_server": self.verify_server,
        }

    def wait_s(self, timeout_s: float | None) -> float:
        """How long to wait for a reply: the step's own timeout plus a margin, if it has one."""
        return self.message_timeout_s if timeout_s is None else timeout_s + 5.0


# -- does the server serve this client's environment? ------------------------------------

_verified: set[tuple[str, type]] = set()
"""(WebSocket URL, action type) pairs already checked: one ``GET /schema`` per server."""


def http_url(ws_url: str, path: str) -> str:
    """``ws://host:port/ws`` → ``http://host:port/<path>`` (``wss`` → ``https``)."""
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    root = parts.path.removesuffix("/ws")
    return urlunsplit((scheme, parts.netloc, f"{root}/{path}", "", ""))


def needs_verification(client: TypedClient[Any, Any, Any], options: ClientOptions) -> bool:
    """Whether ``client`` should check the server's ``/schema`` before its first session.

    Only typed clients check (not ``GenericEnvClient``), once per server and action type,
    and not with ``verify_server=False``.
    """
    action_type = client.action_type
    if not options.verify_server or action_type is None or action_type is Action:
        return False
    return (options.ws_url, action_type) not in _verified


def _fields(schema: Any) -> tuple[set[str], set[str], bool] | None:
    """(field names, required names, extra fields allowed) of an object schema, or None."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return None
    required = schema.get("required")
    required = {str(n) for n in required} if isinstance(required, list) else set()
    return set(schema["properties"]), required, schema.get("additionalProperties") is not False


def schema_mismatch(
    client: TypedClient[Any, Any, Any], options: ClientOptions, schema: Any
) -> str | None:
    """Why the server whose ``GET /schema`` answered ``schema`` cannot take ``client``'s
    actions (fields it sends that the server refuses, or fields the server requires
    that it never sends), or None when they fit or cannot be compared."""
    action_type = client.action_type
    assert action_type is not None
    ours = _fields(action_type.model_json_schema())
    theirs = _fields(schema.get("action")) if isinstance(schema, dict) else None
    if ours is None or theirs is None:  # unions, or a server without /schema: cannot tell
        _verified.add((options.ws_url, action_type))
        return None
    our_fields = ours[0]
    their_fields, their_required, extra_ok = theirs
    refused = set() if extra_ok else our_fields - their_fields
    missing = their_required - our_fields
    if not refused and not missing:
        _verified.add((options.ws_url, action_type))
        return None
    title = schema["action"].get("title") or "another action"
    listed = ", ".join(sorted(their_fields)) or "none"
    return (
        f"{type(client).__name__} is for {action_type.__name__} actions (fields "
        f"{', '.join(sorted(our_fields))}), but the server at {options.base_url} serves "
        f"{{served}} (its actions, {title}, take fields {listed}); connect the client "
        "of that environment, or pass verify_server=False to connect anyway"
    )


def served_name(metadata: Any) -> str:
    """The environment's name from a ``GET /metadata`` answer, for the mismatch message."""
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return repr(name) if isinstance(name, str) and name else "another environment"
