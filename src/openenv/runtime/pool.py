"""Warm pools: sandboxed workers started ahead of time, so a new isolated session is fast.

A worker's start-up (namespaces, the interpreter, imports, creating the
environment) takes a hundred milliseconds or more; a session that takes a warm
worker pays only for its first reset. The pool:

* refills in the background after each take (starting :data:`REFILL_DELAY_S` later,
  so the new session's first reset does not compete with its replacement's start);
* keeps at most ``size`` idle workers and at most ``size`` starting ones (bounded
  memory and bounded start-up work);
* watches its idle workers: one that dies is dropped and replaced, never handed out;
* hands a session that finds the pool empty the next worker already starting,
  when there is one not yet promised to another session, instead of starting yet
  another (a burst of sessions is served in start-up order, with no overshoot);
* on :meth:`close`, kills every idle worker and every one still starting.

``size=0`` disables pre-starting: each session starts its own worker (cold).

Example::

    pool = WarmPool(EchoEnvironment, SandboxPolicy(), size=4)
    await pool.start()
    worker = await pool.acquire()      # warm if one was ready, else started now
    ...
    await pool.close()
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging

from ..errors import PoolClosed
from .isolated import SandboxedEnvironment, SandboxWorker, proxy_class
from .sandbox import SandboxPolicy
from .zygote import Zygote, ZygoteUnavailable, forks_workers

log = logging.getLogger("openenv.runtime")

REFILL_DELAY_S = 0.02
"""After a take, the refill starts this much later: a worker's start-up (new namespaces,
the interpreter) briefly competes for the CPU, and the session that just took a worker
is about to send its first reset. Measured on 2 cores: connect to first reset 10 ms
with an immediate refill, 3 ms with this delay (``benchmarks/isolation.py``)."""


class WarmPool:
    """Idle, ready sandboxed workers for one environment class."""

    def __init__(self, env_class: type, policy: SandboxPolicy, size: int = 2) -> None:
        if size < 0:
            raise ValueError("pool size must be >= 0")
        self.env_class = env_class
        self.policy = policy
        self.size = size
        self.idle: collections.deque[SandboxWorker] = collections.deque()
        self._watchers: dict[SandboxWorker, asyncio.Task[None]] = {}
        self._starting: set[asyncio.Task[None]] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self._waiters: collections.deque[asyncio.Future[SandboxWorker | None]] = collections.deque()
        self._refill_timer: asyncio.TimerHandle | None = None
        self._closed = False
        self.taken_warm = 0
        """Sessions given a worker that was idle and ready."""
        self.taken_starting = 0
        """Sessions given a worker the pool was already starting."""
        self.taken_cold = 0
        """Sessions that started their own worker (nothing idle or starting)."""
        self.replaced = 0
        """Idle workers found dead and replaced."""
        self.start_failures = 0
        self.zygote: Zygote | None = Zygote(env_class, policy) if forks_workers(policy) else None
        """The template workers are forked from (None: each starts a fresh interpreter)."""

    @property
    def starting(self) -> int:
        return len(self._starting)

    def stats(self) -> dict[str, int]:
        return {
            "size": self.size,
            "idle": len(self.idle),
            "starting": self.starting,
            "taken_warm": self.taken_warm,
            "taken_starting": self.taken_starting,
            "taken_cold": self.taken_cold,
            "replaced": self.replaced,
            "start_failures": self.start_failures,
            "forked": self.zygote.forked if self.zygote is not None else 0,
        }

    async def start(self) -> None:
        """Fill the pool (in the background; returns at once)."""
        self._refill()

    async def wait_full(self, timeout_s: float = 60.0) -> None:
        """Wait until ``size`` workers are idle (tests, benchmarks, readiness checks)."""
        async with asyncio.timeout(timeout_s):
            while len(self.idle) < self.size:
                self._refill()
                await asyncio.sleep(0.01)

    async def acquire(self) -> SandboxWorker:
        """A ready worker: an idle one, else one already starting, else a new one."""
        if self._closed:
            raise PoolClosed("the server is shutting down")
        while self.idle:
            worker = self.idle.popleft()  # the oldest: its start-up work is long done
            self._unwatch(worker)
            if worker.alive:
                self.taken_warm += 1
                self._refill_soon()
                return worker
            self.replaced += 1
            await worker.kill()
        if self.starting > len(self._waiters):
            worker = await self._wait_for_starting()
            if worker is not None:
                self.taken_starting += 1
                self._refill_soon()
                return worker
        self.taken_cold += 1
        self._refill()
        return await self._start_worker()

    async def _start_worker(self) -> SandboxWorker:
        """A new worker: forked by the zygote, or (where its template cannot start) a
        fresh interpreter."""
        zygote = self.zygote
        if zygote is not None:
            try:
                await zygote.start()
            except ZygoteUnavailable as exc:
                if self.zygote is zygote:  # said once, by the first start that found out
                    log.warning(
                        "sandboxed %s: workers start afresh, not forked (%s)",
                        self.env_class.__name__,
                        exc,
                    )
                    self.zygote = None
                    await zygote.close()
            else:
                return await SandboxWorker.start(self.env_class, self.policy, zygote=zygote)
        return await SandboxWorker.start(self.env_class, self.policy)

    async def _wait_for_starting(self) -> SandboxWorker | None:
        """The next worker the pool finishes starting; ``None`` if that start failed."""
        waiter: asyncio.Future[SandboxWorker | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                self._put_idle(waiter.result())  # handed over just as we were cancelled
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    def _refill_soon(self) -> None:
        if self._refill_timer is None and not self._closed:
            self._refill_timer = asyncio.get_running_loop().call_later(REFILL_DELAY_S, self._refill)

    def _refill(self) -> None:
        if self._refill_timer is not None:
            self._refill_timer.cancel()
            self._refill_timer = None
        if self._closed:
            return
        for _ in range(self.size - len(self.idle) - self.starting):
            task = asyncio.get_running_loop().create_task(self._add_one())
            self._starting.add(task)

    async def _add_one(self) -> None:
        task = asyncio.current_task()
        try:
            worker = await self._start_worker()
        except Exception as exc:
            self.start_failures += 1
            log.warning("could not pre-start a sandboxed %s: %s", self.env_class.__name__, exc)
            self._starting.discard(task)  # type: ignore[arg-type]
            self._hand_over(None)
            return
        except BaseException:
            self._starting.discard(task)  # type: ignore[arg-type]
            raise
        self._starting.discard(task)  # type: ignore[arg-type]
        if self._closed:
            await worker.close()
        elif not self._hand_over(worker):
            self._put_idle(worker)

    def _hand_over(self, worker: SandboxWorker | None) -> bool:
        """Give ``worker`` (or the news that a start failed) to the first waiting session."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return True
        return False

    def _put_idle(self, worker: SandboxWorker) -> None:
        if self._closed or len(self.idle) >= self.size or not worker.alive:
            task = asyncio.get_running_loop().create_task(worker.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
            return
        self.idle.append(worker)
        self._watchers[worker] = asyncio.get_running_loop().create_task(self._watch(worker))

    async def _watch(self, worker: SandboxWorker) -> None:
        """Drop an idle worker the moment it dies, and start its replacement."""
        await worker.process.wait()
        self._watchers.pop(worker, None)
        with contextlib.suppress(ValueError):
            self.idle.remove(worker)
            self.replaced += 1
            log.warning("an idle sandboxed %s died; replacing it", self.env_class.__name__)
        await worker.kill()  # reap, clean up its cgroup
        self._refill()

    def _unwatch(self, worker: SandboxWorker) -> None:
        watcher = self._watchers.pop(worker, None)
        if watcher is not None:
            watcher.cancel()

    async def close(self) -> None:
        """Stop every idle worker and every one still starting."""
        self._closed = True
        if self._refill_timer is not None:
            self._refill_timer.cancel()
            self._refill_timer = None
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(PoolClosed("the server is shutting down"))
        starting = list(self._starting)
        for task in starting:
            task.cancel()
        watchers = list(self._watchers.values())
        for task in watchers:
            task.cancel()
        await asyncio.gather(*starting, *watchers, return_exceptions=True)
        idle, self.idle = list(self.idle), collections.deque()
        self._watchers.clear()
        await asyncio.gather(
            *(worker.close() for worker in idle), *list(self._closing), return_exceptions=True
        )
        if self.zygote is not None:
            await self.zygote.close()


class SandboxedFactory:
    """The server's factory for isolated sessions: one warm-pooled worker per session.

    ``create_app`` uses it when ``ServerConfig.isolation == "sandbox"``; its
    :attr:`env_class` is the proxy class the server sees.
    """

    def __init__(self, env_class: type, policy: SandboxPolicy, pool_size: int) -> None:
        self.env_class = proxy_class(env_class)
        self.pool = WarmPool(env_class, policy, pool_size)

    async def __call__(self) -> SandboxedEnvironment:
        return await self.env_class.create(await self.pool.acquire())

    async def start(self) -> None:
        await self.pool.start()

    async def close(self) -> None:
        await self.pool.close()
