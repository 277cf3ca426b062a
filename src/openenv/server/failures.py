"""From exceptions to error replies: error frames and HTTP error bodies.

Every error the server sends has ``{"message", "code"}`` (:class:`~openenv.protocol.ErrorCode`);
HTTP bodies add ``detail`` (FastAPI's key) and take their status from
:data:`~openenv.protocol.HTTP_STATUS`. Three sources:

- :class:`~openenv.errors.ProtocolError`: a request the server refuses, as is;
- pydantic's ``ValidationError``: ``VALIDATION_ERROR`` naming each field
  (:func:`validation_error`);
- anything the environment raised: :func:`execution_error` (the episode's rules become
  ``NOT_RESET`` / ``EPISODE_OVER``, the rest ``EXECUTION_ERROR``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from ..errors import EpisodeNotStarted, EpisodeOver, ProtocolError
from ..protocol import HTTP_STATUS, ErrorCode, describe_exception
from ..suggest import describe_validation_error

if TYPE_CHECKING:
    from .sessions import SessionManager

log = logging.getLogger("openenv.server")

_HTTP_CODES = {404: ErrorCode.NOT_FOUND.value, 405: ErrorCode.METHOD_NOT_ALLOWED.value}
"""``code`` of HTTP errors that are no protocol error (a wrong path or method)."""


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors without URLs or (possibly huge) inputs, safe to send back."""
    return exc.errors(include_url=False, include_input=False, include_context=False)


def validation_error(exc: ValidationError, manager: SessionManager, kind: str) -> ProtocolError:
    """``VALIDATION_ERROR`` whose message names each field and its problem
    (``action.guess: Input should be a valid string``), with pydantic's ``errors``."""
    if kind == "step":
        problem = describe_validation_error(exc, "action", manager.action_type)
    elif kind == "reset":
        problem = describe_validation_error(exc, "reset")
    else:
        problem = describe_validation_error(exc)
    return ProtocolError(ErrorCode.VALIDATION_ERROR, problem, errors=validation_errors(exc))


def execution_error(exc: BaseException, where: str) -> ProtocolError:
    """The error frame for an exception the environment raised, logged once.

    The episode's rules (:class:`~openenv.environment.EpisodeError`) answer
    ``NOT_RESET`` / ``EPISODE_OVER``. A ``ValueError`` is how environments refuse an
    action (an illegal move): routine in RL, so logged in one line at INFO; both
    are ``EXECUTION_ERROR``. Anything else is a bug: logged with its traceback.
    """
    type_name = getattr(exc, "type_name", type(exc).__name__)
    code = _EPISODE_CODES.get(type_name)
    if code is not None:
        return ProtocolError(code, str(exc))
    if isinstance(exc, ValueError) or type_name == "ValueError":
        log.info("environment refused a call %s: %s", where, exc)
    else:
        log.error("environment failed %s", where, exc_info=exc)
    return ProtocolError(ErrorCode.EXECUTION_ERROR, describe_exception(exc))


_EPISODE_CODES = {
    EpisodeNotStarted.__name__: ErrorCode.NOT_RESET,
    EpisodeOver.__name__: ErrorCode.EPISODE_OVER,
}
"""Exceptions of the episode's rules, by name (relayed from a sandboxed worker too)."""


def add_error_handlers(app: FastAPI) -> None:
    """Make every HTTP error body ``{"detail", "message", "code"}``."""
    app.add_exception_handler(ProtocolError, protocol_error_response)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, request_invalid_response)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, http_error_response)  # type: ignore[arg-type]


async def protocol_error_response(_: Request, exc: ProtocolError) -> JSONResponse:
    """A refused request; ``CAPACITY_REACHED`` says when to retry."""
    headers = {"Retry-After": "1"} if exc.code is ErrorCode.CAPACITY_REACHED else None
    return JSONResponse(
        {"detail": exc.message, **exc.frame_data()},
        status_code=HTTP_STATUS.get(exc.code, 400),
        headers=headers,
    )


async def request_invalid_response(_: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own 422 (a body that is not the route's model), with our message and code."""
    errors = jsonable_encoder(exc.errors())
    for error in errors:
        error.pop("input", None)
        error.pop("ctx", None)
        error.pop("url", None)
    message = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}"
        for e in errors[:3]
    )
    code = ErrorCode.VALIDATION_ERROR.value
    body = {"detail": errors, "message": message or "invalid request", "code": code}
    return JSONResponse(body, status_code=422)


async def http_error_response(_: Request, exc: HTTPException) -> JSONResponse:
    """404, 405, ...: the same body as every other error."""
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    body = {"detail": exc.detail, "message": str(exc.detail), "code": code}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
