"""``create_app``: serve an environment over OpenEnv's wire protocol.

Routes: WebSocket ``/ws`` (the fast, stateful path: one connection, one session,
served by :mod:`openenv.server.websocket`), ``GET /health``, ``/metadata``,
``/schema``, ``/state``, ``POST /reset``, ``/step`` (stateless: a fresh environment
per call), ``POST /mcp`` (:mod:`openenv.server.mcp`) and ``/openapi.json``. The
frames themselves are defined in :mod:`openenv.protocol`; the rules sessions live by
are in :mod:`openenv.server.sessions`; error replies in :mod:`openenv.server.failures`.

Example::

    from openenv.server import create_app
    app = create_app(EchoEnvironment)          # then: uvicorn module:app

    # or with limits
    app = create_app(EchoEnvironment, config=ServerConfig(max_sessions=64))
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import protocol
from ..discovery import metadata_for
from ..environment import Environment, Seed
from ..errors import ProtocolError
from ..types import EnvironmentMetadata
from . import mcp
from .auth import BearerTokenMiddleware
from .config import UNSANDBOXED_WARNING, ServerConfig, isolation_for
from .failures import add_error_handlers, execution_error, validation_error, validation_errors
from .limits import BodyLimitMiddleware
from .sessions import EnvFactory, Session, SessionManager
from .websocket import WebSocketSession

log = logging.getLogger("openenv.server")


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
            await sandboxes.start()  # the zygote's template prepares it, sandboxed
        else:
            prepare = getattr(env_class, "prepare_shared", None)
            if prepare is not None:
                await asyncio.to_thread(prepare)
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

    add_error_handlers(app)

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
