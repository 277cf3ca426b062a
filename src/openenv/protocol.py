"""The wire protocol, in one place: OpenEnv's WebSocket frames and JSON-RPC codes.

One WebSocket connection to ``/ws`` is one session is one environment instance.

=====================================  =============================================
client → server                        server → client
=====================================  =============================================
``{"type":"reset","data":{kwargs}}``   ``{"type":"observation","data":{...}}``
``{"type":"step","data":{action}}``    the same observation frame
``{"type":"state"}``                   ``{"type":"state","data":{"episode_id",...}}``
``{"type":"close"}``                   the server closes the socket with 1000
``{"type":"mcp","data":{json-rpc}}``   ``{"type":"mcp","data":{json-rpc response}}``
anything wrong                         ``{"type":"error","data":{"message","code"}}``
=====================================  =============================================

The observation frame's ``data`` is ``{"observation": {...}, "reward": r, "done": b}``
plus ``"metadata"`` when non-empty; ``observation`` holds every field of the
observation except ``reward`` and ``done`` (``metadata`` stays inside too, as
OpenEnv sends it).

Extensions (a plain OpenEnv client never sees them): a message may carry an
``"id"``, echoed in its reply so that a late reply is never taken for another
request's; a ``step`` message may carry ``"timeout_s"``. A client learns that a
server takes them when the server accepts the :data:`EXTENSIONS_SUBPROTOCOL`
WebSocket subprotocol.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, TypeVar

import orjson

from .errors import ProtocolError
from .types import Observation, StepResult

EXTENSIONS_SUBPROTOCOL = "openenv.ext.v1"
"""Offered by our client, accepted by our server: request ids and per-step timeouts."""

ObsT = TypeVar("ObsT")


class ErrorCode(str, Enum):
    """``data.code`` of an error frame. The first seven are OpenEnv's, unchanged."""

    INVALID_JSON = "INVALID_JSON"
    UNKNOWN_TYPE = "UNKNOWN_TYPE"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    EXECUTION_ERROR = "EXECUTION_ERROR"
    CAPACITY_REACHED = "CAPACITY_REACHED"
    FACTORY_ERROR = "FACTORY_ERROR"
    SESSION_ERROR = "SESSION_ERROR"
    # Ours:
    TIMEOUT = "TIMEOUT"
    """A step overran its timeout; the session is ended."""
    NOT_RESET = "NOT_RESET"
    """``step`` before the first ``reset``: an episode must be started first."""
    EPISODE_OVER = "EPISODE_OVER"
    """``step`` after the episode ended (``done``): nothing ran, no reward; reset to go on."""
    MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
    """The message exceeded the server's ``max_message_bytes``; the session goes on."""
    UNAUTHORIZED = "UNAUTHORIZED"
    """HTTP only: a missing or wrong bearer token."""
    NOT_FOUND = "NOT_FOUND"
    """HTTP only: no such route."""
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    """HTTP only: the route does not take this method."""


class JsonRpcCode(int, Enum):
    """JSON-RPC 2.0 error codes used by ``/mcp``."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    SERVER_ERROR = -32000
    """Implementation-defined: e.g. no room for a new session."""


MESSAGE_KEYS: dict[str, frozenset[str]] = {
    "reset": frozenset({"type", "data", "id"}),
    "step": frozenset({"type", "data", "id", "timeout_s"}),
    "state": frozenset({"type", "id"}),
    "close": frozenset({"type", "id"}),
    "mcp": frozenset({"type", "data", "id"}),
}
"""The client messages, and the keys each may carry (any other: ``VALIDATION_ERROR``)."""

REPLY_TYPES: dict[str, tuple[str, ...]] = {
    "reset": ("observation",),
    "step": ("observation",),
    "state": ("state",),
    "mcp": ("mcp",),
}
"""The frame type that answers each request; an ``error`` frame may answer any."""

SESSION_REFUSED_CODES = frozenset(
    {ErrorCode.CAPACITY_REACHED.value, ErrorCode.FACTORY_ERROR.value, ErrorCode.SESSION_ERROR.value}
)
"""Codes with which a server refuses or ends a session; it closes the connection after them."""

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.CAPACITY_REACHED: 503,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.FACTORY_ERROR: 500,
    ErrorCode.EXECUTION_ERROR: 500,
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.MESSAGE_TOO_LARGE: 413,
    ErrorCode.NOT_RESET: 409,
    ErrorCode.EPISODE_OVER: 409,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
}
"""The HTTP status of each error code on the HTTP routes (any other: 400)."""


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` for an environment's exception (never a traceback).

    Exceptions relayed from a sandboxed worker carry the original type's name.
    """
    return f"{getattr(exc, 'type_name', type(exc).__name__)}: {exc}"


# -- encoding (server side) -------------------------------------------------------------

_BESIDE = frozenset({"reward", "done", "metadata"})
_NOT_IN_PAYLOAD = {"reward", "done"}  # a set, not a frozenset: pydantic-core takes it ~2x faster
# metadata travels beside the observation (when non-empty) AND inside it, as OpenEnv
# sends it: public env clients read it from either place (decision 0007).


def _reward_value(reward: Any) -> float | int | None:
    # Rewards on the wire are numbers or null; booleans become 1.0 / 0.0.
    return float(reward) if isinstance(reward, bool) else reward


def observation_data(observation: Observation) -> dict[str, Any]:
    """``{"observation", "reward", "done"[, "metadata"]}`` for an observation."""
    data: dict[str, Any] = {
        "observation": observation.model_dump(mode="json", exclude=_NOT_IN_PAYLOAD),
        "reward": _reward_value(observation.reward),
        "done": observation.done,
    }
    if observation.metadata:
        data["metadata"] = observation.metadata
    return data


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=str)


def _frame(kind: bytes, data_json: bytes, request_id: Any) -> bytes:
    tail = b"}" if request_id is None else b',"id":' + _dumps(request_id) + b"}"
    return b'{"type":"' + kind + b'","data":' + data_json + tail


def encode_observation(observation: Observation, request_id: Any = None) -> bytes:
    """The ``observation`` frame for ``observation``, as UTF-8 JSON (a text frame's payload).

    The hot path: spliced from the model's own serializer, never re-parsed.
    """
    body = observation.__pydantic_serializer__.to_json(observation, exclude=_NOT_IN_PAYLOAD)
    reward = observation.reward
    metadata = observation.metadata
    return b'{"type":"observation","data":{"observation":%b,"reward":%b,"done":%b%b}%b}' % (
        body,
        b"null" if reward is None else _dumps(_reward_value(reward)),
        b"true" if observation.done else b"false",
        b',"metadata":' + _dumps(metadata) if metadata else b"",
        b"" if request_id is None else b',"id":' + _dumps(request_id),
    )


def encode_frame(kind: str, data: Any, request_id: Any = None) -> bytes:
    """Any other frame: ``state``, ``mcp``, ``error``, or an observation given as a dict."""
    return _frame(kind.encode(), _dumps(data), request_id)


def encode_error(error: ProtocolError, request_id: Any = None) -> bytes:
    return encode_frame("error", error.frame_data(), request_id)


_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGIT_RUN = b"0" * 19
"""orjson turns integers outside [-2**63, 2**64) into floats; they have 19+ digits."""


def _int64(text: str) -> int:
    value = int(text) if len(text) <= 21 else None
    if value is None or not -(2**63) <= value < 2**64:
        raise ProtocolError(
            ErrorCode.INVALID_JSON,
            f"Invalid JSON: integer {text[:30]}{'...' if len(text) > 30 else ''} "
            "does not fit in 64 bits",
        )
    return value


def decode_message(raw: str | bytes) -> dict[str, Any]:
    """Parse one client message; :class:`ProtocolError` if it is not a JSON object.

    Integers beyond 64 bits are refused rather than silently rounded to floats.
    """
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        detail = "message is not UTF-8" if "utf-8" in str(exc).lower() else str(exc)
        raise ProtocolError(ErrorCode.INVALID_JSON, f"Invalid JSON: {detail}") from None
    encoded = raw.encode() if isinstance(raw, str) else raw
    if _LONG_DIGIT_RUN in encoded.translate(_DIGITS):  # rare: re-read to check the integers
        try:
            json.loads(encoded, parse_int=_int64)
        except RecursionError:
            raise ProtocolError(ErrorCode.INVALID_JSON, "Invalid JSON: nested too deeply") from None
    if not isinstance(message, dict):
        raise ProtocolError(
            ErrorCode.INVALID_JSON,
            f"Invalid JSON: expected an object, got {type(message).__name__}",
        )
    return message


# -- decoding (client side) -------------------------------------------------------------


def decode_frame(raw: str | bytes) -> dict[str, Any]:
    """Parse one server frame."""
    frame = orjson.loads(raw)
    if not isinstance(frame, dict) or "type" not in frame:
        raise ValueError(f"not an OpenEnv frame: {str(raw)[:200]!r}")
    return frame


def parse_result(data: dict[str, Any], observation_type: type[ObsT] | None) -> StepResult[ObsT]:
    """Turn an observation frame's ``data`` into a :class:`StepResult`.

    With ``observation_type=None`` the observation stays a plain dict. Fields the
    observation type does not know are ignored, so a newer server does not break
    an older client.
    """
    payload = dict(data.get("observation") or {})
    reward = data.get("reward")
    done = bool(data.get("done", False))
    # metadata comes inside the observation (OpenEnv 0.10 and ours, decision 0007) and
    # beside it when non-empty; beside wins. Never left among the observation's fields.
    inside = payload.pop("metadata", None)
    metadata = data.get("metadata") or inside or {}
    observation: Any
    if observation_type is None:
        observation = payload
    else:
        known = observation_type.model_fields  # type: ignore[attr-defined]
        fields = {k: v for k, v in payload.items() if k in known and k not in _BESIDE}
        observation = observation_type.model_validate(  # type: ignore[attr-defined]
            {**fields, "reward": reward, "done": done, "metadata": metadata}
        )
    return StepResult(observation=observation, reward=reward, done=done, metadata=metadata)
