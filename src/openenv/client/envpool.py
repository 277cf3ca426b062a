"""Many sessions as one: :class:`AsyncEnvPool` and its sync twin :class:`EnvPool`.

A pool holds ``n`` sessions, on one server or spread over several, and calls them
all at once from one event loop: a batch step costs about one round trip, not ``n``.

Example::

    from echo_env import EchoAction, EchoEnv
    from openenv import EnvPool

    with EnvPool(EchoEnv, "http://localhost:8000", n=64) as pool:
        batch = pool.reset(seeds=0)                      # sessions seeded 0, 1, ..., 63
        batch = pool.step([EchoAction(message=str(i)) for i in range(64)])
        batch.rewards                                    # float array; NaN where a session failed
        batch.failures                                   # [SessionFailure(index=..., ...)]

**Failures are not rewards.** A session whose call fails is reported at its index as
a :class:`SessionFailure`, never as a result: its reward in :attr:`Batch.rewards` is
NaN, never 0, so a trainer cannot mistake a dead server for a bad episode.
``failure.infrastructure`` tells the two kinds apart:

* infrastructure — the connection could not be opened or was lost, the server did
  not answer in time, had no room (``CAPACITY_REACHED``), could not build the
  environment (``FACTORY_ERROR``), or its sandboxed worker died (``SESSION_ERROR``,
  ``TIMEOUT``). The session is *broken*: its episode is gone.
* a refused request — the server answered with an error frame about the request
  itself (an invalid action, a step after ``done``, the environment raising). The
  session goes on as the server left it.

A ``reset`` that meets an infrastructure failure is retried on a fresh connection,
``retries`` times at most, waiting ``backoff_s``, then twice that, and so on. A
``step`` is never retried: the episode lived on the server. A broken session stays
broken (its steps fail at once, without a round trip) until it is reset: by the
next :meth:`~AsyncEnvPool.reset`, by :meth:`~AsyncEnvPool.replace`, or by autoreset.

**Autoreset** (``autoreset=True``) is Gymnasium's *next-step* mode: the step that
ends an episode comes back as it is (``done``); that session's next step ignores
its action and starts a new episode with the next seed, and its entry in
:attr:`Batch.reset` is True. A broken session is reset the same way. Next seeds
continue after the highest seed given to :meth:`~AsyncEnvPool.reset` (none if
none was given); with ``autoreset_seeds=False`` autoresets send no seed, so each
environment goes on with its own random stream, as Gymnasium's sub-environments do.
Autoresets send the options of the last full reset, or ``autoreset_options`` if given.

**Recording**: with ``recorder=`` (a :class:`~openenv.trajectories.TrajectoryRecorder`)
every session's episodes are written as they end; one the infrastructure broke is
written with its ``failure``.

**Asynchronous steps**, for trainers that do not step in lockstep:
:meth:`~AsyncEnvPool.send` starts one session's step and returns at once;
:meth:`~AsyncEnvPool.recv` returns ``(index, result)`` of whichever is ready first.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from typing_extensions import Self

from ..errors import OpenEnvError, RequestTimeout, SessionLostError, is_infrastructure
from ..types import StepResult
from .aio import AsyncEnvClient
from .sync import EnvClient

if TYPE_CHECKING:
    import numpy as np

    from ..runtime.base import Runtime
    from ..trajectories import TrajectoryRecorder

ObsT = TypeVar("ObsT")


@dataclass(frozen=True)
class SessionFailure:
    """A session's call that failed: stands at its index in a :class:`Batch`.

    ``infrastructure`` is True when the server or the connection failed (the session
    is then broken until reset), False when the server refused the request.
    ``attempts`` counts the tries (resets are retried; steps are not).
    """

    index: int
    error: OpenEnvError
    infrastructure: bool
    attempts: int = 1

    def __str__(self) -> str:
        kind = "infrastructure" if self.infrastructure else "request refused"
        return f"session {self.index}: {kind}: {self.error}"


Entry = StepResult[ObsT] | SessionFailure


@dataclass(frozen=True)
class Batch(Sequence["StepResult[ObsT] | SessionFailure"], Generic[ObsT]):
    """One result per session, in session order: a :class:`StepResult` or a
    :class:`SessionFailure`, with the whole batch as arrays.

    Example::

        batch = pool.step(actions)
        for i in np.flatnonzero(batch.done):
            print(i, batch[i].reward)
        obs = batch.arrays()["board"]          # shape (n, ...) for array-like fields
    """

    entries: tuple[StepResult[ObsT] | SessionFailure, ...]
    first: tuple[bool, ...] = field(repr=False)
    """Which entries begin an episode; see :attr:`reset`."""

    @property
    def reset(self) -> np.ndarray:
        """True where the entry is the first of an episode (a reset, or an autoreset)."""
        return _numpy().array(self.first, dtype=bool)

    @overload
    def __getitem__(self, index: int) -> StepResult[ObsT] | SessionFailure: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[StepResult[ObsT] | SessionFailure]: ...
    def __getitem__(self, index: Any) -> Any:
        return self.entries[index]

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def failed(self) -> np.ndarray:
        """True where the session's call failed."""
        return _numpy().array([isinstance(e, SessionFailure) for e in self.entries], dtype=bool)

    @property
    def failures(self) -> list[SessionFailure]:
        """The failed entries."""
        return [e for e in self.entries if isinstance(e, SessionFailure)]

    @property
    def rewards(self) -> np.ndarray:
        """Rewards as float64; NaN where the call failed or the step gave no reward."""
        return _numpy().array(
            [
                math.nan if isinstance(e, SessionFailure) or e.reward is None else float(e.reward)  # type: ignore[arg-type]
                for e in self.entries
            ],
            dtype=float,
        )

    @property
    def done(self) -> np.ndarray:
        """True where the episode ended (False where the call failed)."""
        return _numpy().array(
            [not isinstance(e, SessionFailure) and e.done for e in self.entries], dtype=bool
        )

    @property
    def observations(self) -> list[ObsT | None]:
        """Each session's observation; None where the call failed."""
        return [None if isinstance(e, SessionFailure) else e.observation for e in self.entries]

    def arrays(self) -> dict[str, np.ndarray]:
        """The observations' array-like fields stacked: ``{name: array of shape (n, ...)}``.

        A field is array-like when it is a number, a bool, or a (nested) list of
        numbers of one shape in every successful observation. Rows of failed
        sessions are NaN (the array is then float).
        """
        np = _numpy()
        rows = [_as_dict(o) for o in self.observations]
        present = [r for r in rows if r is not None]
        if not present:
            return {}
        stacked: dict[str, np.ndarray] = {}
        for name in present[0]:
            values = [r.get(name) for r in present]
            if any(isinstance(v, (str, bytes, dict)) or v is None for v in values):
                continue
            try:
                arrays = [np.asarray(v) for v in values]
            except (TypeError, ValueError):
                continue
            shape, kinds = arrays[0].shape, {a.dtype.kind for a in arrays}
            if any(a.shape != shape for a in arrays) or not kinds <= set("biuf"):
                continue
            if len(present) == len(rows):
                stacked[name] = np.stack(arrays)
                continue
            column = np.full((len(rows), *shape), np.nan)
            it = iter(arrays)
            for i, row in enumerate(rows):
                if row is not None:
                    column[i] = next(it)
            stacked[name] = column
        return stacked


def _numpy() -> Any:
    """numpy, imported when a batch is first read as arrays (servers never need it)."""
    try:
        import numpy
    except ImportError:
        raise ImportError("a Batch's arrays need numpy: pip install numpy") from None
    return numpy


def _as_dict(observation: Any) -> dict[str, Any] | None:
    if observation is None:
        return None
    if isinstance(observation, dict):
        return observation
    return observation.model_dump()  # type: ignore[no-any-return]


def async_client_class(client_class: type) -> type[AsyncEnvClient[Any, Any, Any]]:
    """The async client class for ``client_class`` (itself if it is already async).

    A sync typed client (``EchoEnv``) gets an async twin with the same action,
    observation and state types and the same parsing hooks, so a pool can be made
    from the class an environment's users already import.
    """
    if issubclass(client_class, AsyncEnvClient):
        return client_class
    if not issubclass(client_class, EnvClient):
        raise TypeError(
            f"a pool takes an EnvClient or AsyncEnvClient subclass, not {client_class!r}"
        )
    namespace: dict[str, Any] = {
        "action_type": client_class.action_type,
        "observation_type": client_class.observation_type,
        "state_type": client_class.state_type,
        "__module__": client_class.__module__,
    }
    for hook in ("_step_payload", "_parse_result", "_parse_state"):
        if getattr(client_class, hook) is not getattr(EnvClient, hook):
            namespace[hook] = getattr(client_class, hook)
    return type(f"Async{client_class.__name__}", (AsyncEnvClient,), namespace)


@dataclass
class _Session:
    client: AsyncEnvClient[Any, Any, Any]
    broken: bool = False
    done: bool = False
    started: bool = False
    in_flight: asyncio.Task[Any] | None = None


class AsyncEnvPool(Generic[ObsT]):
    """``n`` sessions of one environment as one object (asyncio).

    ``client_class`` is the environment's client (``AsyncEchoEnv``, or the sync
    ``EchoEnv``: its async twin is used); ``urls`` one server's URL or several (the
    sessions are spread over them in turn). ``options`` go to every client
    (``token``, ``message_timeout_s``, ...). See the module docstring for failures,
    retries and autoreset.

    Example::

        async with AsyncEnvPool(AsyncEchoEnv, url, n=8) as pool:
            batch = await pool.reset(seeds=0)
            pool.send(3, EchoAction(message="hi"))
            index, result = await pool.recv()
    """

    def __init__(
        self,
        client_class: type,
        urls: str | Sequence[str],
        n: int,
        *,
        autoreset: bool = False,
        autoreset_seeds: bool = True,
        autoreset_options: dict[str, Any] | None = None,
        retries: int = 2,
        backoff_s: float = 0.2,
        step_timeout_s: float | None = None,
        recorder: TrajectoryRecorder | None = None,
        **options: Any,
    ) -> None:
        if n < 1:
            raise ValueError(f"a pool needs at least one session, not n={n}")
        if retries < 0 or backoff_s < 0:
            raise ValueError("retries and backoff_s cannot be negative")
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        if not self.urls:
            raise ValueError("a pool needs at least one server URL")
        self.client_class = async_client_class(client_class)
        self.n = n
        self.autoreset = autoreset
        self.autoreset_seeds = autoreset_seeds
        self.autoreset_options = autoreset_options
        self.retries = retries
        self.backoff_s = backoff_s
        self.step_timeout_s = step_timeout_s
        self.recorder = recorder
        # Session i connects with _connections[i]: (base_url, client options).
        self._connections = [(self.urls[i % len(self.urls)], options) for i in range(n)]
        self._runtimes: list[Runtime] = []
        self._sessions = [_Session(self._client(i)) for i in range(n)]
        self._next_seed: int | None = None
        self._reset_options: dict[str, Any] = {}
        self._ready: asyncio.Queue[tuple[int, Entry[ObsT]]] = asyncio.Queue()
        self._sent = 0  # steps sent and not finished
        self._closed = False

    # -- launchers ---------------------------------------------------------------------

    @classmethod
    async def from_env(
        cls,
        client_class: type,
        env: str | Path,
        n: int,
        *,
        servers: int = 1,
        isolation: str | None = None,
        server_args: Sequence[str] = (),
        start_timeout_s: float = 60.0,
        **options: Any,
    ) -> Self:
        """Start ``servers`` local servers for ``env`` and spread ``n`` sessions over them.

        The pool owns the servers: :meth:`close` stops them. Arguments as
        :meth:`EnvClient.from_env <openenv.EnvClient.from_env>`.
        """
        from .launch import local_runtime

        runtimes = [
            local_runtime(
                env, isolation=isolation, server_args=server_args, start_timeout_s=start_timeout_s
            )
            for _ in range(servers)
        ]
        return await cls.from_runtimes(client_class, runtimes, n, **options)

    @classmethod
    async def from_docker_image(
        cls,
        client_class: type,
        image: str,
        n: int,
        *,
        servers: int = 1,
        start_timeout_s: float = 60.0,
        **options: Any,
    ) -> Self:
        """Run ``servers`` containers of ``image`` and spread ``n`` sessions over them.

        Container limits (``memory_mb``, ``pids``, ...) are taken from ``options`` as
        :meth:`EnvClient.from_docker_image <openenv.EnvClient.from_docker_image>` does.
        """
        from .launch import container_runtime

        client_options = dict(options)  # container_runtime takes the limits out
        runtimes: list[Runtime] = [
            container_runtime(
                image,
                env_vars=None,
                port=None,
                start_timeout_s=start_timeout_s,
                options=client_options if i == 0 else dict(options),
            )
            for i in range(servers)
        ]
        return await cls.from_runtimes(client_class, runtimes, n, **client_options)

    @classmethod
    async def from_runtimes(
        cls, client_class: type, runtimes: Sequence[Runtime], n: int, **options: Any
    ) -> Self:
        """Start ``runtimes`` (at once) and make a pool over them that stops them on close."""
        if not runtimes:
            raise ValueError("a pool needs at least one server")
        started = await asyncio.gather(
            *(asyncio.to_thread(r.start) for r in runtimes), return_exceptions=True
        )
        failed = [s for s in started if isinstance(s, BaseException)]
        if failed:
            await asyncio.gather(*(asyncio.to_thread(r.stop) for r in runtimes))
            raise failed[0]
        urls = [str(url) for url in started]
        tokens = {url: {"token": r.token} for url, r in zip(urls, runtimes, strict=True)}
        pool = cls(client_class, urls, n, **options)
        pool._runtimes = list(runtimes)
        pool._reconnect([(url, {**tokens[url], **opts}) for url, opts in pool._connections])
        return pool

    @classmethod
    def from_clients(cls, clients: Sequence[EnvClient[Any, Any, Any]], **kwargs: Any) -> Self:
        """A pool whose session ``i`` connects as ``clients[i]`` does (same class, URL,
        token and timeouts). The clients themselves are not used: close them apart."""
        if not clients:
            raise ValueError("a pool needs at least one client")
        pool = cls(type(clients[0]), [c.options.base_url for c in clients], len(clients), **kwargs)
        pool._reconnect([(c.options.base_url, c.options.as_kwargs()) for c in clients])
        return pool

    # -- the batch API -----------------------------------------------------------------

    async def reset(
        self,
        seeds: int | Iterable[int | None] | None = None,
        *,
        indices: Sequence[int] | None = None,
        **options: Any,
    ) -> Batch[ObsT]:
        """Start a new episode in every session, or in those of ``indices``.

        ``seeds``: one int (session ``i`` gets ``seed + i``), one seed per session
        reset, or None. ``options`` (env-specific reset options) go to every session
        reset, and to every autoreset after. With ``indices`` the batch holds those
        sessions' results, in that order.
        """
        self._check_open()
        self._check_idle()
        chosen = self._indices(indices)
        if isinstance(seeds, int):
            listed: list[int | None] = [seeds + i for i in chosen]
        elif seeds is None:
            listed = [None] * len(chosen)
        else:
            listed = list(seeds)
            if len(listed) != len(chosen):
                raise ValueError(f"{len(listed)} seeds for {len(chosen)} sessions")
        given = [s for s in listed if s is not None]
        if indices is None:
            self._next_seed = max(given) + 1 if given else None
            self._reset_options = dict(options)
        elif given:
            self._next_seed = max(self._next_seed or 0, max(given) + 1)
        entries = await asyncio.gather(
            *(self._reset_one(i, seed, options) for i, seed in zip(chosen, listed, strict=True))
        )
        return Batch(tuple(entries), first=(True,) * len(chosen))

    async def step(
        self, actions: Sequence[Any], *, indices: Sequence[int] | None = None
    ) -> Batch[ObsT]:
        """Step every session with its action (``actions[i]`` for session ``i``), or the
        sessions of ``indices`` (``actions[k]`` for session ``indices[k]``).

        With autoreset, sessions that were done or broken are reset instead (their
        actions are ignored) and flagged in :attr:`Batch.reset`.
        """
        self._check_open()
        self._check_idle()
        chosen = self._indices(indices)
        if len(actions) != len(chosen):
            raise ValueError(f"{len(actions)} actions for {len(chosen)} sessions")
        resetting = [self._needs_autoreset(i) for i in chosen]
        seeds = [self._seed() if r else None for r in resetting]  # in index order
        if not any(resetting) and type(self._sessions[0].client).step is AsyncEnvClient.step:
            return Batch(await self._step_lockstep(chosen, actions), first=(False,) * len(chosen))
        options = self._reset_options if self.autoreset_options is None else self.autoreset_options
        entries = await asyncio.gather(
            *(
                self._reset_one(i, seed, options) if reset else self._step_one(i, action)
                for i, action, reset, seed in zip(chosen, actions, resetting, seeds, strict=True)
            )
        )
        return Batch(tuple(entries), first=tuple(resetting))

    async def state(self) -> list[Any]:
        """Every session's state; a :class:`SessionFailure` where it could not be had."""
        self._check_open()
        self._check_idle()

        async def one(i: int) -> Any:
            session = self._sessions[i]
            if session.broken:
                return self._broken(i)
            try:
                return await session.client.state()
            except OpenEnvError as exc:
                return self._failed(i, exc)

        return list(await asyncio.gather(*(one(i) for i in range(self.n))))

    async def replace(self, index: int, seed: int | None = None, **options: Any) -> Entry[ObsT]:
        """End session ``index`` and reset a fresh one in its place (retried as ``reset``)."""
        self._check_open()
        session = self._session(index)
        if session.in_flight is not None:
            raise RuntimeError(f"session {index} has a step in flight: recv() it first")
        session.broken = True
        return await self._reset_one(index, seed, options or self._reset_options)

    # -- asynchronous steps ------------------------------------------------------------

    def send(self, index: int, action: Any) -> None:
        """Start session ``index``'s step with ``action``; :meth:`recv` collects it.

        With autoreset, a done or broken session is reset instead, as in :meth:`step`.
        """
        self._check_open()
        session = self._session(index)
        if session.in_flight is not None:
            raise RuntimeError(f"session {index} already has a step in flight")
        if self._needs_autoreset(index):
            options = (
                self._reset_options if self.autoreset_options is None else self.autoreset_options
            )
            call = self._reset_one(index, self._seed(), options)
        else:
            call = self._step_one(index, action)
        task = asyncio.ensure_future(call)
        session.in_flight = task
        self._sent += 1

        def finished(task: asyncio.Task[Any]) -> None:
            session.in_flight = None
            self._sent -= 1
            if not task.cancelled():
                self._ready.put_nowait((index, task.result()))

        task.add_done_callback(finished)

    async def recv(self, timeout_s: float | None = None) -> tuple[int, Entry[ObsT]]:
        """``(index, result)`` of the first step sent with :meth:`send` to finish.

        Raises :class:`~openenv.errors.RequestTimeout` if none finishes within
        ``timeout_s``, and ``RuntimeError`` if none was sent.
        """
        self._check_open()
        if self._ready.empty() and self.in_flight == 0:
            raise RuntimeError("nothing to receive: send() a step first")
        if not self._ready.empty():  # no timer to arm for a step already in
            return self._ready.get_nowait()
        try:
            async with asyncio.timeout(timeout_s):
                return await self._ready.get()
        except TimeoutError:
            raise RequestTimeout(f"no session finished its step within {timeout_s} s") from None

    @property
    def in_flight(self) -> int:
        """How many sent steps are not finished yet."""
        return self._sent

    # -- closing -----------------------------------------------------------------------

    async def close(self) -> None:
        """End every session and stop the servers the pool started. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for session in self._sessions:
            if session.in_flight is not None:
                session.in_flight.cancel()
        if self.recorder is not None:
            for index in range(self.n):
                self.recorder.end((id(self), index))
        try:
            await asyncio.gather(
                *(s.client.close() for s in self._sessions), return_exceptions=True
            )
        finally:
            await asyncio.gather(
                *(asyncio.to_thread(r.stop) for r in self._runtimes), return_exceptions=True
            )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __len__(self) -> int:
        return self.n

    @property
    def runtimes(self) -> list[Runtime]:
        """The servers this pool started (``from_env``, ``from_docker_image``) and stops."""
        return list(self._runtimes)

    # -- plumbing ----------------------------------------------------------------------

    def _client(self, index: int) -> AsyncEnvClient[Any, Any, Any]:
        url, options = self._connections[index]
        return self.client_class(base_url=url, **options)

    def _reconnect(self, connections: list[tuple[str, dict[str, Any]]]) -> None:
        """Set how each session connects (before any was opened)."""
        self._connections = connections
        self._sessions = [_Session(self._client(i)) for i in range(self.n)]

    def _indices(self, indices: Sequence[int] | None) -> list[int]:
        if indices is None:
            return list(range(self.n))
        chosen = [int(i) for i in indices]
        for index in chosen:
            self._session(index)
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"indices repeat a session: {chosen}")
        return chosen

    def _session(self, index: int) -> _Session:
        if not 0 <= index < self.n:
            raise IndexError(f"session {index} is not in this pool of {self.n}")
        return self._sessions[index]

    def _seed(self) -> int | None:
        if self._next_seed is None or not self.autoreset_seeds:
            return None
        self._next_seed += 1
        return self._next_seed - 1

    def _needs_autoreset(self, index: int) -> bool:
        session = self._sessions[index]
        return self.autoreset and session.started and (session.done or session.broken)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this pool is closed")

    def _check_idle(self) -> None:
        if self.in_flight:
            raise RuntimeError(
                f"{self.in_flight} sent step(s) still in flight: recv() them before a batch call"
            )

    def _failed(self, index: int, error: OpenEnvError, attempts: int = 1) -> SessionFailure:
        infrastructure = is_infrastructure(error)
        if infrastructure:
            self._sessions[index].broken = True
            if self.recorder is not None:
                self.recorder.fail((id(self), index), f"{type(error).__name__}: {error}")
        return SessionFailure(index, error, infrastructure, attempts)

    def _broken(self, index: int) -> SessionFailure:
        error = SessionLostError(
            f"session {index} failed earlier and has no episode: reset() or replace() it"
        )
        return SessionFailure(index, error, infrastructure=True, attempts=0)

    async def _step_one(self, index: int, action: Any) -> Entry[ObsT]:
        session = self._sessions[index]
        if session.broken:
            return self._broken(index)
        started = time.perf_counter()
        try:
            result = await session.client.step(action, timeout_s=self.step_timeout_s)
        except OpenEnvError as exc:
            return self._failed(index, exc)
        session.done = result.done
        if self.recorder is not None:
            self.recorder.step((id(self), index), action, result, time.perf_counter() - started)
        return result

    async def _step_lockstep(
        self, chosen: list[int], actions: Sequence[Any]
    ) -> tuple[Entry[ObsT], ...]:
        """Every chosen session's step, as :meth:`_step_one` each, without a task each:
        all steps are sent, then the replies read in turn (each waits only for what is
        not in yet), so the batch costs about the slowest reply, with fewer event-loop
        turns per step than one task per session."""
        entries: list[Entry[ObsT] | None] = [None] * len(chosen)
        # Every action checked before any is sent: a bad one raises with nothing in flight.
        payloads = [
            self._sessions[i].client._step_payload(a) for i, a in zip(chosen, actions, strict=True)
        ]
        sent: list[tuple[int, int, Any, Any, float]] = []
        try:
            for k, (index, payload) in enumerate(zip(chosen, payloads, strict=True)):
                session = self._sessions[index]
                if session.broken:
                    entries[k] = self._broken(index)
                    continue
                started = time.perf_counter()
                try:
                    step = await session.client._send_step(payload, timeout_s=self.step_timeout_s)
                except OpenEnvError as exc:
                    entries[k] = self._failed(index, exc)
                    continue
                sent.append((k, index, actions[k], step, started))
            while sent:
                k, index, action, step, started = sent[0]
                session = self._sessions[index]
                try:
                    result = await session.client._receive_step(step)
                except OpenEnvError as exc:
                    entries[k] = self._failed(index, exc)
                    continue
                finally:
                    sent.pop(0)
                session.done = result.done
                if self.recorder is not None:
                    seconds = time.perf_counter() - started
                    self.recorder.step((id(self), index), action, result, seconds)
                entries[k] = result
        finally:
            # Cancelled or interrupted part-way: steps sent and not read leave their
            # sessions without a known state (their replies may still come).
            for _, index, _, step, _ in sent:
                self._sessions[index].client._abandon_step(step)
        assert all(entry is not None for entry in entries)
        return tuple(entries)  # type: ignore[arg-type]

    async def _reset_one(
        self, index: int, seed: int | None, options: dict[str, Any]
    ) -> Entry[ObsT]:
        session = self._sessions[index]
        session.started = True
        failure: SessionFailure | None = None
        for attempt in range(1, self.retries + 2):
            if attempt > 1:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 2))
            if session.broken:
                # A fresh connection: whatever the old one held is gone.
                with contextlib.suppress(Exception):
                    await session.client.close()
                session.client = self._client(index)
            started = time.perf_counter()
            try:
                result = await session.client.reset(seed=seed, **options)
            except OpenEnvError as exc:
                failure = self._failed(index, exc, attempt)
                if not failure.infrastructure:
                    return failure
                continue
            session.broken, session.done = False, result.done
            if self.recorder is not None:
                seconds = time.perf_counter() - started
                self.recorder.reset((id(self), index), {"seed": seed, **options}, result, seconds)
            return result
        assert failure is not None
        return failure


T = TypeVar("T")


class LoopThread:
    """An event loop running in a daemon thread of its own, for sync code to drive
    async code on: what :class:`EnvPool` and the Gymnasium vector env stand on.

    Example::

        loop = LoopThread()
        result = loop.run(pool.step(actions))
        loop.stop()
    """

    def __init__(self, name: str = "openenv-envpool") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and wait for its value (Ctrl-C cancels it there)."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def call(self, make: Callable[[], T]) -> T:
        """``make()`` called in the loop's thread (for objects bound to the loop)."""

        async def called() -> T:
            return make()

        return self.run(called())

    @property
    def stopped(self) -> bool:
        return self.loop.is_closed()

    def stop(self) -> None:
        """Stop the loop and join its thread. Safe to call twice."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class EnvPool(Generic[ObsT]):
    """``n`` sessions of one environment as one object; the sync twin of
    :class:`AsyncEnvPool` (same arguments, same methods, not awaited).

    Its sessions run on one event loop in a thread of the pool's own, so every call
    still has all sessions in flight at once.

    Example::

        with EnvPool.from_env(EchoEnv, "echo_env", n=16) as pool:
            batch = pool.reset(seeds=0)
            batch = pool.step([EchoAction(message="hi")] * 16)
    """

    def __init__(self, client_class: type, urls: str | Sequence[str], n: int, **kwargs: Any):
        self._start(lambda: _made(lambda: AsyncEnvPool(client_class, urls, n, **kwargs)))

    @classmethod
    def from_env(cls, client_class: type, env: str | Path, n: int, **kwargs: Any) -> Self:
        """See :meth:`AsyncEnvPool.from_env`."""
        pool = cls.__new__(cls)
        pool._start(lambda: AsyncEnvPool.from_env(client_class, env, n, **kwargs))
        return pool

    @classmethod
    def from_docker_image(cls, client_class: type, image: str, n: int, **kwargs: Any) -> Self:
        """See :meth:`AsyncEnvPool.from_docker_image`."""
        pool = cls.__new__(cls)
        pool._start(lambda: AsyncEnvPool.from_docker_image(client_class, image, n, **kwargs))
        return pool

    @classmethod
    def from_clients(cls, clients: Sequence[EnvClient[Any, Any, Any]], **kwargs: Any) -> Self:
        """See :meth:`AsyncEnvPool.from_clients`."""
        pool = cls.__new__(cls)
        pool._start(lambda: _made(lambda: AsyncEnvPool.from_clients(clients, **kwargs)))
        return pool

    def _start(self, make: Callable[[], Coroutine[Any, Any, AsyncEnvPool[ObsT]]]) -> None:
        self._loop = LoopThread()
        try:
            self._pool = self._loop.run(make())
        except BaseException:
            self._loop.stop()
            raise

    @property
    def n(self) -> int:
        """How many sessions."""
        return self._pool.n

    @property
    def in_flight(self) -> int:
        """How many sent steps are not finished yet."""
        return self._pool.in_flight

    @property
    def client_class(self) -> type[AsyncEnvClient[Any, Any, Any]]:
        """The (async) client class every session uses."""
        return self._pool.client_class

    @property
    def urls(self) -> list[str]:
        """The servers the sessions are spread over."""
        return self._pool.urls

    @property
    def runtimes(self) -> list[Runtime]:
        """The servers this pool started (``from_env``, ``from_docker_image``) and stops."""
        return self._pool.runtimes

    def reset(
        self,
        seeds: int | Iterable[int | None] | None = None,
        *,
        indices: Sequence[int] | None = None,
        **options: Any,
    ) -> Batch[ObsT]:
        """See :meth:`AsyncEnvPool.reset`."""
        return self._loop.run(self._pool.reset(seeds, indices=indices, **options))

    def step(self, actions: Sequence[Any], *, indices: Sequence[int] | None = None) -> Batch[ObsT]:
        """See :meth:`AsyncEnvPool.step`."""
        return self._loop.run(self._pool.step(actions, indices=indices))

    def state(self) -> list[Any]:
        """See :meth:`AsyncEnvPool.state`."""
        return self._loop.run(self._pool.state())

    def replace(self, index: int, seed: int | None = None, **options: Any) -> Entry[ObsT]:
        """See :meth:`AsyncEnvPool.replace`."""
        return self._loop.run(self._pool.replace(index, seed, **options))

    def send(self, index: int, action: Any) -> None:
        """See :meth:`AsyncEnvPool.send`."""
        self._loop.call(lambda: self._pool.send(index, action))

    def recv(self, timeout_s: float | None = None) -> tuple[int, Entry[ObsT]]:
        """See :meth:`AsyncEnvPool.recv`."""
        return self._loop.run(self._pool.recv(timeout_s))

    def close(self) -> None:
        """See :meth:`AsyncEnvPool.close`. Safe to call twice."""
        if self._loop.stopped:
            return
        try:
            self._loop.run(self._pool.close())
        finally:
            self._loop.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self._pool.n


async def _made(build: Callable[[], T]) -> T:
    return build()  # in the loop's thread: what the pool makes belongs to that loop
