"""Session rules, in one place: capacity, timeouts, idle reaping, and clean-up.

A :class:`Session` owns one environment instance for its whole life. The
:class:`SessionManager` creates sessions against a capacity limit (WebSocket
sessions and in-flight stateless HTTP calls share it), reaps idle ones, and makes
sure every session's environment is closed exactly once — on close, disconnect,
timeout, reaping or server shutdown. One session's failure never touches another.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..environment import Environment
from ..errors import CapacityError, ProtocolError
from ..protocol import ErrorCode
from ..tools import ToolLike
from ..types import Observation, State
from .config import ServerConfig

log = logging.getLogger("openenv.server")

EnvFactory = Callable[[], "Environment[Any, Any, Any] | Awaitable[Environment[Any, Any, Any]]"]


WATCHDOG_PERIOD_S = 0.05
"""How often running calls are checked against their deadlines."""


class Session:
    """One environment instance and the rules around calling it."""

    def __init__(self, manager: SessionManager, env: Environment[Any, Any, Any]) -> None:
        self.id = uuid.uuid4().hex
        self.env = env
        self.manager = manager
        self.created_at = self.last_active = time.monotonic()
        self.attached = False  # a WebSocket serves it (its own, or one attached by id)
        self.close_when_detached = False
        self.end_reason: str | None = None
        """Why the session ended (None while it is open)."""
        self.on_end: Callable[[str], None] | None = None
        self._in_thread: Future[Any] | None = None  # sync call still running
        self._busy = False
        self._task: asyncio.Task[Any] | None = None
        self._expired = False
        self.deadline = float("inf")
        # Kept: on Python 3.11, finding the running loop costs a getpid() system call.
        self._loop = asyncio.get_running_loop()

    # -- calls -------------------------------------------------------------------------

    async def reset(self, options: dict[str, Any]) -> Observation:
        # The environment validates the options (a ValidationError is VALIDATION_ERROR).
        if "reset_async" in self.manager.async_methods:
            call: Awaitable[Observation] = self.env.reset_async(**options)
        else:
            call = self._in_worker(functools.partial(self.env.reset, **options))
        return self._checked(await self._guarded(call, self.manager.step_limit(None)), "reset")

    async def step(self, action_data: Any, timeout_s: float | None = None) -> Observation:
        if not isinstance(action_data, dict):
            raise ProtocolError(
                ErrorCode.VALIDATION_ERROR,
                f"step data must be an object of action fields, got {type(action_data).__name__}",
            )
        action = self.manager.env_class.validate_action(action_data)
        limit = self.manager.step_limit(timeout_s)
        if "step_async" in self.manager.async_methods:
            call: Awaitable[Observation] = self.env.step_async(action, timeout_s=limit)
        else:
            call = self._in_worker(functools.partial(self.env.step, action, timeout_s=limit))
        return self._checked(await self._guarded(call, limit), "step")

    def _checked(self, observation: Any, method: str) -> Observation:
        if not isinstance(observation, Observation):
            raise ProtocolError(
                ErrorCode.EXECUTION_ERROR,
                f"{type(self.env).__name__}.{method}() returned {type(observation).__name__}, "
                "expected an Observation",
            )
        return observation

    def state(self) -> State:
        self.touch()
        return self.env.state

    def touch(self) -> None:
        """Note activity: any message, even a failing one, keeps a session from being reaped."""
        self.last_active = time.monotonic()

    def tools(self) -> Mapping[str, ToolLike]:
        """The MCP tools of this session's environment instance, by name."""
        return self.env.instance_tools()

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """Run a tool under the same rules as a step: the step timeout (which ends the
        session), and a worker thread for a synchronous tool, never the event loop.

        Returns what the tool returned; its MCP result is ``self.tools()[name].result(...)``.
        """
        spec = self.tools()[name]
        bound = spec.bind(self.env, arguments)
        if spec.is_async(self.env):
            call: Awaitable[Any] = bound()
        elif self.env.runs_inline:
            call = _inline(bound)
        else:
            call = self._in_worker(bound)
        return await self._guarded(call, self.manager.step_limit(None))

    async def _guarded(self, call: Awaitable[Any], limit: float) -> Any:
        """Run one call under the session's timeout; a timeout ends the session.

        The deadline is enforced by the manager's watchdog (see
        :meth:`SessionManager.watch`), not a timer per call: a call costs a clock
        read and a set insertion, and a deadline is met within ``WATCHDOG_PERIOD_S``.
        """
        manager = self.manager
        now = time.monotonic()
        self.last_active = now
        self.deadline = now + limit + manager.config.timeout_grace_s
        self._task = asyncio.current_task(self._loop)
        self._expired = False
        self._busy = True
        manager.watch(self)
        try:
            return await call
        except asyncio.CancelledError:
            if not self._expired:
                raise
            assert self._task is not None
            self._task.uncancel()
        except ProtocolError as exc:
            if exc.ends_session:
                await self.close(exc.message)
            raise
        finally:
            manager.busy.discard(self)
            self._busy = False
            self.last_active = time.monotonic()
        await self.close(f"timed out after {limit:g} s")
        raise ProtocolError(
            ErrorCode.TIMEOUT,
            f"the environment did not answer within {limit:g} s; session ended",
            timeout_s=limit,
        )

    def expire(self) -> None:
        """Called by the watchdog when the running call is past its deadline."""
        if self._busy and self._task is not None and not self._expired:
            self._expired = True
            self._task.cancel()

    def _in_worker(self, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        future = self.manager.executor.submit(fn)
        self._in_thread = future
        # A timeout abandons the call, never the thread's result.
        return asyncio.shield(asyncio.wrap_future(future))

    # -- life cycle --------------------------------------------------------------------

    @property
    def idle_for(self) -> float:
        return 0.0 if self._busy else time.monotonic() - self.last_active

    async def close(self, reason: str = "closed") -> None:
        """End the session and close its environment (once; safe to call again)."""
        if self.end_reason is not None:
            return
        self.end_reason = reason
        self.manager.forget(self)
        if self.on_end is not None:
            self.on_end(reason)
        await self.manager.close_env(self.env, self._in_thread)


async def _inline(fn: Callable[[], Any]) -> Any:
    return fn()


class SessionManager:
    """Creates, counts, reaps and closes sessions for one environment type."""

    def __init__(
        self,
        factory: EnvFactory,
        env_class: type[Environment[Any, Any, Any]],
        config: ServerConfig,
    ) -> None:
        self.factory = factory
        self.env_class = env_class
        self.action_type = env_class.action_type
        self.config = config
        self.async_methods = {m for m in ("reset_async", "step_async") if env_class.runs_async(m)}
        self.sessions: dict[str, Session] = {}
        self._pending = 0  # sessions whose environment is being created
        self._executor: ThreadPoolExecutor | None = None
        self._reaper: asyncio.Task[None] | None = None
        self.busy: set[Session] = set()  # sessions inside a call, watched for deadlines
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self.config.sync_workers, thread_name_prefix="openenv-env"
            )
        return self._executor

    @property
    def active(self) -> int:
        return len(self.sessions) + self._pending

    def step_limit(self, requested: float | None) -> float:
        """The timeout a call gets: what it asked, capped by the server's ``step_timeout_s``."""
        ceiling = self.config.step_timeout_s
        return ceiling if requested is None else min(float(requested), ceiling)

    async def open(self) -> Session:
        """A new session with a fresh environment, or :class:`CapacityError`."""
        if self.active >= self.config.max_sessions:
            raise CapacityError(self.active, self.config.max_sessions)
        self._pending += 1
        try:
            env = self.factory()
            if inspect.isawaitable(env):
                env = await env
        except Exception as exc:
            log.exception("environment factory failed")
            raise ProtocolError(
                ErrorCode.FACTORY_ERROR,
                f"could not create the environment: {type(exc).__name__}: {exc}",
                factory_name=getattr(self.factory, "__name__", repr(self.factory)),
            ) from None
        finally:
            self._pending -= 1
        session = Session(self, env)
        self.sessions[session.id] = session
        return session

    def attach(self, session_id: str) -> Session:
        """Give a WebSocket the session ``session_id`` (made by ``openenv/session/create``).

        One socket at a time; when it leaves, the session lives on (see :meth:`detach`).
        """
        session = self.sessions.get(session_id)
        if session is None:
            raise ProtocolError(ErrorCode.SESSION_ERROR, f"Unknown session_id: {session_id}")
        if session.attached:
            raise ProtocolError(
                ErrorCode.SESSION_ERROR, f"session {session_id} already has a WebSocket attached"
            )
        session.attached = True
        session.touch()
        return session

    async def detach(self, session: Session) -> None:
        """The attached socket left: keep the session, unless a close was asked meanwhile."""
        session.attached = False
        session.on_end = None
        session.touch()
        if session.close_when_detached:
            await session.close("closed via openenv/session/close")

    @contextlib.asynccontextmanager
    async def temporary(self) -> Any:
        """A session for one stateless HTTP call; it counts against capacity while it lasts."""
        session = await self.open()
        try:
            yield session
        finally:
            await session.close("http call done")

    def forget(self, session: Session) -> None:
        self.sessions.pop(session.id, None)

    async def close_env(self, env: Environment[Any, Any, Any], running: Future[Any] | None) -> None:
        """Close ``env`` once any call still running in a thread has finished."""
        loop = asyncio.get_running_loop()

        def close_now() -> None:
            try:
                env.close()
            except Exception:
                log.exception("closing %s failed", type(env).__name__)

        if running is not None and not running.done():
            # The thread is still inside the environment: close after it returns. The
            # callback runs in that thread, needing no event loop (so also after shutdown).
            running.add_done_callback(lambda _: close_now())
            return
        if env.runs_async("close_async"):
            try:
                await env.close_async()
            except Exception:
                log.exception("closing %s failed", type(env).__name__)
            return
        if type(env).close is Environment.close:
            return  # nothing to release
        await loop.run_in_executor(self.executor, close_now)

    # -- reaping and shutdown ------------------------------------------------------------

    def start(self) -> None:
        if self.config.idle_timeout_s is not None and self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    def watch(self, session: Session) -> None:
        """Watch ``session``'s running call for its deadline (starts the watchdog once)."""
        self.busy.add(session)
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch_forever())

    async def _watch_forever(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_PERIOD_S)
            if self.busy:
                now = time.monotonic()
                for session in [s for s in self.busy if s.deadline <= now]:
                    session.expire()

    async def _reap_forever(self) -> None:
        idle = self.config.idle_timeout_s
        assert idle is not None
        period = max(0.05, min(idle / 4, 30.0))
        while True:
            await asyncio.sleep(period)
            await self.reap_idle()

    async def reap_idle(self) -> int:
        """Close sessions idle longer than ``idle_timeout_s``; return how many."""
        idle = self.config.idle_timeout_s
        if idle is None:
            return 0
        stale = [s for s in list(self.sessions.values()) if s.idle_for > idle]
        for session in stale:
            log.info("reaping session %s after %.0f s idle", session.id, session.idle_for)
            await session.close(f"idle for more than {idle:g} s")
        return len(stale)

    async def shutdown(self) -> None:
        """Close every session, then the worker threads."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for session in list(self.sessions.values()):
            await session.close("server shutting down")
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
