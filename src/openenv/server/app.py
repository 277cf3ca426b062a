"""``create_app``: serve an environment over OpenEnv's wire protocol.

Routes: WebSocket ``/ws`` (the fast, stateful path: one connection, one session),
``GET /health``, ``/metadata``, ``/schema``, ``/state``, ``POST /reset``,
``/step`` (stateless: a fresh environment per call), ``POST /mcp`` and
``/openapi.json``. The frames themselves are defined in :mod:`openenv.protocol`;
the rules sessions live by are in :mod:`openenv.server.sessions`.

Example::

    from openenv.server import create_app
    app = create_app(EchoEnvironment)          # then: uvicorn module:app

    # or with limits
    app = create_app(EchoEnvironment, config=ServerConfig(max_sessions=64))
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import protocol
from ..discovery import metadata_for
from ..environment import Environment, EpisodeNotStarted, EpisodeOver, Seed
from ..protocol import EXTENSIONS_SUBPROTOCOL, ErrorCode, ProtocolError
from ..suggest import describe_validation_error
from ..types import EnvironmentMetadata
from . import mcp
from .auth import BearerTokenMiddleware
from .config import UNSANDBOXED_WARNING, ServerConfig, isolation_for
from .limits import BodyLimitMiddleware
from .sessions import EnvFactory, Session, SessionManager
from .transport import EXTENSION as DIRECT_EXTENSION
from .transport import ClientDisconnected, DirectChannel

log = logging.getLogger("openenv.server")

MESSAGE_KEYS = {
    "reset": {"type", "data", "id"},
    "step": {"type", "data", "id", "timeout_s"},
    "state": {"type", "id"},
    "close": {"type", "id"},
    "mcp": {"type", "data", "id"},
}
_HTTP_CODES = {404: ErrorCode.NOT_FOUND.value, 405: ErrorCode.METHOD_NOT_ALLOWED.value}
"""``code`` of HTTP errors that are no protocol error (a wrong path or method)."""
_HTTP_STATUS = {
    ErrorCode.CAPACITY_REACHED: 503,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.FACTORY_ERROR: 500,
    ErrorCode.EXECUTION_ERROR: 500,
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.MESSAGE_TOO_LARGE: 413,
    ErrorCode.NOT_RESET: 409,
    ErrorCode.EPISODE_OVER: 409,
}


class ResetRequest(BaseModel):
    """Body of ``POST /reset``; environment-specific options ride along as extra fields."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{"seed": 42}]})
    seed: Seed | None = Field(default=None, description="Seed for a reproducible episode.")
    episode_id: str | None = Field(default=None, max_length=255)


class StepRequest(BaseModel):
    """Body of ``POST /step``."""

    action: dict[str, Any] = Field(description="The action's fields, as in /schema.")
    timeout_s: float | None = Field(default=None, gt=0)
    request_id: str | None = Field(default=None, max_length=255)


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


def create_app(
    env: type[Environment[Any, Any, Any]] | EnvFactory,
    env_class: type[Environment[Any, Any, Any]] | None = None,
    *,
    config: ServerConfig | None = None,
    metadata: EnvironmentMetadata | None = None,
) -> FastAPI:
    """Build the ASGI app serving ``env``.

    ``env`` is an :class:`~openenv.Environment` subclass (instantiated once per
    session), or any factory returning an instance (sync or async), in which case
    ``env_class`` names the class so the server knows its types.

    With isolation ``"sandbox"`` (``config.isolation``, or by default for an
    environment that ``requires_sandbox``), ``env`` must be a class: each session
    then gets its own sandboxed worker process (see :mod:`openenv.runtime`). Raises
    :class:`~openenv.server.config.IsolationRequired` for isolation ``"none"`` on an
    environment that runs agent code unless ``config.unsandboxed_agent_code``.
    """
    if env_class is None:
        if not (inspect.isclass(env) and issubclass(env, Environment)):
            raise TypeError("create_app(factory) needs env_class=<your Environment subclass>")
        env_class = env
    config = config or ServerConfig()
    isolation = isolation_for(env_class, config)  # refuses none for agent code, unless told
    config = config.model_copy(update={"isolation": isolation})
    if isolation == "none" and env_class.requires_sandbox:
        log.warning(UNSANDBOXED_WARNING.format(name=env_class.__name__))
    meta = metadata or metadata_for(env_class)  # the package's, before a sandbox proxy
    sandboxes = None
    if isolation == "sandbox":
        from ..runtime.isolated import check_worker_import
        from ..runtime.pool import SandboxedFactory
        from ..runtime.sandbox import check_sandbox

        if env is not env_class:
            raise TypeError("isolation='sandbox' needs the Environment class, not a factory")
        # Everything a session would find out is checked now, so /health means sessions work:
        check_worker_import(env_class)  # the worker imports the class by its module path
        check_sandbox(config.sandbox)  # bwrap, seccomp, read-only paths: what to fix
        sandboxes = SandboxedFactory(env_class, config.sandbox, config.warm_pool_size)
        env, env_class = sandboxes, sandboxes.env_class
    manager = SessionManager(env, env_class, config)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        manager.start()
        if sandboxes is not None:
            await sandboxes.start()
        try:
            yield
        finally:
            await manager.shutdown()
            if sandboxes is not None:
                await sandboxes.close()
            else:
                await close_shared(env_class)

    app = FastAPI(
        title=f"OpenEnv: {meta.name}",
        version="1.0.0",
        description=meta.description,
        lifespan=lifespan,
    )
    app.state.sessions = manager
    app.state.config = config
    app.add_middleware(BodyLimitMiddleware, limit=config.max_message_bytes)
    if config.token:  # added last, so it runs first
        app.add_middleware(BearerTokenMiddleware, token=config.token)

    @app.exception_handler(ProtocolError)
    async def protocol_error(_: Request, exc: ProtocolError) -> JSONResponse:
        headers = {"Retry-After": "1"} if exc.code is ErrorCode.CAPACITY_REACHED else None
        return JSONResponse(
            {"detail": exc.message, **exc.frame_data()},
            status_code=_HTTP_STATUS.get(exc.code, 400),
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 (a body that is not the route's model), with our message and code.
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

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 404, 405, ...: the same {"detail", "message", "code"} as every other error body.
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        body = {"detail": exc.detail, "message": str(exc.detail), "code": code}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.get("/health", tags=["Info"])
    async def health() -> dict[str, Any]:
        return {"status": "healthy"}

    @app.get("/metadata", tags=["Info"], response_model=EnvironmentMetadata)
    async def get_metadata() -> EnvironmentMetadata:
        return meta

    @app.get("/schema", tags=["Info"])
    async def schema() -> dict[str, Any]:
        return {
            "action": env_class.action_type.model_json_schema(),
            "observation": env_class.observation_type.model_json_schema(),
            "state": env_class.state_type.model_json_schema(),
            "reset_observation": env_class.observation_type.model_json_schema(),
        }

    async def run_stateless(call: Callable[[Session], Any], kind: str) -> JSONResponse:
        async with manager.temporary() as session:
            try:
                observation = await call(session)
            except ValidationError as exc:
                error = validation_error(exc, manager, kind)
                body = {"detail": validation_errors(exc), "message": error.message}
                return JSONResponse({**body, "code": error.code.value}, status_code=422)
            except ProtocolError:
                raise
            except Exception as exc:
                raise execution_error(exc, "during an HTTP call") from None
        return JSONResponse(protocol.observation_data(observation))

    @app.post("/reset", tags=["Environment"])
    async def reset(request: ResetRequest | None = None) -> JSONResponse:
        """Reset a fresh environment (stateless: use /ws for a session)."""
        options = request.model_dump(exclude_unset=True) if request else {}
        return await run_stateless(lambda s: s.reset(options), "reset")

    @app.post("/step", tags=["Environment"])
    async def step(request: StepRequest) -> JSONResponse:
        """Reset a fresh environment, then apply one action (stateless)."""

        async def call(session: Session) -> Any:
            await session.reset({})
            return await session.step(request.action, request.timeout_s)

        return await run_stateless(call, "step")

    @app.get("/state", tags=["Environment"])
    async def state() -> JSONResponse:
        """The state of a fresh environment (stateless)."""
        async with manager.temporary() as session:
            return JSONResponse(session.state().model_dump(mode="json"))

    @app.post("/mcp", tags=["MCP"])
    async def mcp_endpoint(request: Request) -> JSONResponse:
        """MCP over JSON-RPC 2.0: ``tools/list``, ``tools/call`` (a fresh environment per call)."""
        body = await request.body()
        parsed = mcp.parse(body)
        if isinstance(parsed, dict) and "error" in parsed and parsed.get("jsonrpc") == "2.0":
            return JSONResponse(parsed)
        return JSONResponse(await mcp.handle(parsed, manager))

    @app.websocket("/ws")
    async def websocket_endpoint(websocket: WebSocket) -> None:
        await WebSocketSession(websocket, manager).run()

    return app


async def close_shared(env_class: type) -> None:
    """The environment class's shared resources, released at shutdown (never raises)."""
    closer = getattr(env_class, "close_shared", None)
    if closer is None:
        return
    try:
        await closer()
    except Exception:
        log.exception("%s.close_shared() failed", env_class.__name__)


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
    return ProtocolError(ErrorCode.EXECUTION_ERROR, protocol.describe_exception(exc))


_EPISODE_CODES = {
    EpisodeNotStarted.__name__: ErrorCode.NOT_RESET,
    EpisodeOver.__name__: ErrorCode.EPISODE_OVER,
}
"""Exceptions of the episode's rules, by name (relayed from a sandboxed worker too)."""


_DISCONNECTED = object()


class WebSocketSession:
    """Serves one WebSocket connection: one session, messages answered in order.

    Under :class:`~openenv.server.transport.DirectWebSocketProtocol` (what
    ``uvicorn_config`` selects), messages arrive by callback and replies are
    written straight to the socket; under any other ASGI server, through ASGI.
    Either way a reader watches the socket while a call runs, so a client that
    vanishes mid-step ends its session at once instead of when the step returns.
    """

    BACKLOG = 64
    """Messages queued unanswered before the server stops reading the socket."""

    def __init__(self, websocket: WebSocket, manager: SessionManager) -> None:
        self.websocket = websocket
        self.manager = manager
        self.pending: collections.deque[Any] = collections.deque()
        self.waiter: asyncio.Future[None] | None = None
        self.room = asyncio.Event()
        self.room.set()
        self.direct: DirectChannel | None = websocket.scope.get("extensions", {}).get(
            DIRECT_EXTENSION
        )
        self.handling = False
        self.gone = False
        self.ended: str | None = None

    async def run(self) -> None:
        ws = self.websocket
        offered = ws.scope.get("subprotocols") or ()
        chosen = EXTENSIONS_SUBPROTOCOL if EXTENSIONS_SUBPROTOCOL in offered else None
        await ws.accept(subprotocol=chosen)
        attach_to = ws.query_params.get("session_id")  # a session made by openenv/session/create
        try:
            if attach_to:
                session = self.manager.attach(attach_to)
            else:
                session = await self.manager.open()
                session.attached = True  # its own socket: no other may attach to it
        except ProtocolError as exc:
            await ws.send_text(protocol.encode_error(exc))
            await ws.close(code=1013 if exc.code is ErrorCode.CAPACITY_REACHED else 1011)
            return
        main = asyncio.current_task()
        session.on_end = self._on_end
        if self.direct is not None:
            self.direct.on_message = self._push_direct
        reader = asyncio.get_running_loop().create_task(self._read(main))
        try:
            await self._serve(session)
        except WebSocketDisconnect:
            pass  # the client left while we were answering; nothing more to send
        except asyncio.CancelledError:
            if not reader.done():  # cancelled from outside (shutdown), not by our reader
                raise
        finally:
            reader.cancel()
            if self.direct is not None:
                self.direct.on_message = None
            if attach_to:
                await self.manager.detach(session)
            else:
                await session.close(self.ended or "client disconnected")

    def _on_end(self, reason: str) -> None:
        # Reaping or shutdown: wake the serving loop so it closes the socket.
        self.ended = reason
        self._push(_DISCONNECTED)

    def _push(self, item: Any) -> None:
        self.pending.append(item)
        if len(self.pending) >= self.BACKLOG:
            self.room.clear()
            if self.direct is not None:
                self.direct.pause_reading()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _push_direct(self, data: str | bytes) -> None:
        self._push(data)

    async def _next(self) -> Any:
        while True:
            if self.gone or self.ended is not None:  # client left, or session reaped/shut down
                return _DISCONNECTED
            if self.pending:
                break
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        item = self.pending.popleft()
        if not self.room.is_set() and len(self.pending) < self.BACKLOG // 2:
            self.room.set()
            if self.direct is not None:
                self.direct.resume_reading()
        return item

    async def _read(self, main: asyncio.Task[Any] | None) -> None:
        # With the direct channel, only the disconnect comes this way.
        receive = self.websocket.receive
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.gone = True
                if self.handling and main is not None:
                    main.cancel()  # abandon the running call; the session is over
                self._push(_DISCONNECTED)
                return
            text = message.get("text")
            self._push(text if text is not None else message.get("bytes", b""))
            await self.room.wait()

    async def _send(self, text: str) -> None:
        if self.direct is None:
            await self.websocket.send_text(text)
            return
        try:
            self.direct.send_text(text)
        except ClientDisconnected:
            raise WebSocketDisconnect(1006) from None
        if not self.direct.writable.is_set():  # the peer is not reading: wait for room
            await self.direct.writable.wait()

    async def _serve(self, session: Session) -> None:
        ws = self.websocket
        limit = self.manager.config.max_message_bytes
        while True:
            raw = await self._next()
            session.touch()
            if raw is _DISCONNECTED:
                if self.ended is not None:
                    await ws.close(code=1000, reason=self.ended[:120])
                return
            size = len(raw)
            if isinstance(raw, str) and size * 4 > limit:  # a character is up to 4 bytes
                size = len(raw.encode())
            if size > limit:
                error = ProtocolError(
                    ErrorCode.MESSAGE_TOO_LARGE,
                    f"message of {size} bytes exceeds the limit of {limit} bytes",
                    max_message_bytes=limit,
                )
                await self._send(protocol.encode_error(error))
                continue
            self.handling = True
            try:
                reply = await self._answer(session, raw)
            finally:
                self.handling = False
            if reply is None:  # close requested
                await ws.close(code=1000)
                return
            await self._send(reply)
            if session.ended is not None:  # e.g. the step timed out
                await ws.close(code=1000, reason=session.ended[:120])
                return

    async def _answer(self, session: Session, raw: str | bytes) -> str | None:
        request_id = None
        message: Any = None
        try:
            message = protocol.decode_message(raw)
            request_id = message.get("id")
            if request_id is not None and (
                isinstance(request_id, bool) or not isinstance(request_id, str | int)
            ):
                request_id = None
                raise ProtocolError(
                    ErrorCode.VALIDATION_ERROR, '"id" must be a string or an integer'
                )
            kind = message.get("type")
            allowed = MESSAGE_KEYS.get(kind) if isinstance(kind, str) else None
            if allowed is None:
                what = f"unknown message type {kind!r}" if kind is not None else 'no "type"'
                raise ProtocolError(
                    ErrorCode.UNKNOWN_TYPE,
                    f"{what}; expected one of {', '.join(MESSAGE_KEYS)}",
                )
            extra = message.keys() - allowed
            if extra:
                raise ProtocolError(
                    ErrorCode.VALIDATION_ERROR,
                    f"unexpected field(s) {sorted(extra)} in a {kind} message",
                )
            data = message.get("data")
            if kind == "step":
                if isinstance(data, dict) and self._is_mcp_step(data):
                    return protocol.encode_frame(
                        "observation", await mcp_step(session, data), request_id
                    )
                timeout_s = message.get("timeout_s")
                if timeout_s is not None and (
                    isinstance(timeout_s, bool)
                    or not isinstance(timeout_s, int | float)
                    or timeout_s <= 0
                ):
                    raise ProtocolError(
                        ErrorCode.VALIDATION_ERROR, "timeout_s must be a positive number"
                    )
                observation = await session.step(data, timeout_s)
                return protocol.encode_observation(observation, request_id)
            if kind == "reset":
                if data is not None and not isinstance(data, dict):
                    raise ProtocolError(
                        ErrorCode.VALIDATION_ERROR, "reset data must be an object of options"
                    )
                observation = await session.reset(data or {})
                return protocol.encode_observation(observation, request_id)
            if kind == "state":
                state = session.state().model_dump(mode="json")
                return protocol.encode_frame("state", state, request_id)
            if kind == "mcp":
                if not isinstance(data, dict):
                    raise ProtocolError(
                        ErrorCode.VALIDATION_ERROR, "mcp data must be a JSON-RPC request object"
                    )

                response = await mcp.handle(data, self.manager, own=session)
                return protocol.encode_frame("mcp", response, request_id)
            return None  # close
        except ProtocolError as exc:
            return protocol.encode_error(exc, request_id)
        except ValidationError as exc:
            what = message.get("type") if isinstance(message, dict) else None
            error = validation_error(exc, self.manager, str(what))
            return protocol.encode_error(error, request_id)
        except Exception as exc:
            error = execution_error(exc, f"in session {session.id}")
            return protocol.encode_error(error, request_id)

    def _is_mcp_step(self, data: dict[str, Any]) -> bool:
        # OpenEnv's MCPToolClient sends tool calls as step actions typed
        # "list_tools" / "call_tool"; honour them when the action has no "type" of its own.
        return (
            data.get("type") in ("list_tools", "call_tool")
            and "type" not in self.manager.action_type.model_fields
            and bool(self.manager.env_class.tools())
        )


async def mcp_step(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """Answer an MCP-style step action as OpenEnv's ListTools/CallTool observations."""
    tools = type(session.env).tools()
    if data["type"] == "list_tools":
        described = [spec.describe("input_schema") for spec in tools.values()]
        listed = {"tools": described, "metadata": {}}
        return {"observation": listed, "reward": None, "done": False}
    name = data.get("tool_name")
    arguments = data.get("arguments") or {}
    # metadata inside, as in every observation OpenEnv sends (decision 0007).
    observation: dict[str, Any] = {"tool_name": name, "result": None, "error": None, "metadata": {}}
    if name not in tools:
        observation["error"] = {
            "error_type": "tool_not_found",
            "message": f"Unknown tool: {name!r}",
        }
    else:
        try:
            value = await session.call_tool(name, arguments)
            observation["result"] = mcp.tool_result(value, session.manager.config.max_message_bytes)
        except ValidationError as exc:
            observation["error"] = {"error_type": "invalid_args", "message": str(exc)}
        except ProtocolError:
            raise
        except Exception as exc:
            observation["error"] = {
                "error_type": "execution_error",
                "message": f"{type(exc).__name__}: {exc}",
            }
    return {"observation": observation, "reward": None, "done": False}
