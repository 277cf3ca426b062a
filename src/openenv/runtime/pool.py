"""Warm pools: sandboxed workers started ahead of time, so a new isolated session is fast.

A worker's start-up (namespaces, the interpreter, imports, creating the
environment) takes a few hundred milliseconds; a session that takes a warm
worker pays only for its first reset. The pool refills in the background after
each take, keeps at most ``size`` idle workers (bounded memory), and replaces
idle workers that died.

Example::

    pool = WarmPool(EchoEnvironment, SandboxPolicy(), size=4)
    await pool.start()
    worker = await pool.acquire()      # warm if one was ready, else started now
    ...
    await pool.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from .isolated import SandboxedEnvironment, SandboxWorker, proxy_class
from .sandbox import SandboxPolicy

log = logging.getLogger("openenv.runtime")


class WarmPool:
    """Idle, ready sandboxed workers for one environment class."""

    def __init__(self, env_class: type, policy: SandboxPolicy, size: int = 2) -> None:
        self.env_class = env_class
        self.policy = policy
        self.size = size
        self.idle: list[SandboxWorker] = []
        self._starting = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.taken_warm = 0
        self.taken_cold = 0

    async def start(self) -> None:
        """Fill the pool (in the background; returns at once)."""
        self._refill()

    async def acquire(self) -> SandboxWorker:
        """A ready worker: a warm one if any is idle and alive, else a new one."""
        while self.idle:
            worker = self.idle.pop()
            if worker.alive:
                self.taken_warm += 1
                self._refill()
                return worker
            await worker.kill()
        self.taken_cold += 1
        self._refill()
        return await SandboxWorker.start(self.env_class, self.policy)

    def _refill(self) -> None:
        if self._closed:
            return
        for _ in range(self.size - len(self.idle) - self._starting):
            self._starting += 1
            task = asyncio.get_running_loop().create_task(self._add_one())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _add_one(self) -> None:
        try:
            worker = await SandboxWorker.start(self.env_class, self.policy)
        except Exception as exc:
            log.warning("could not pre-start a sandboxed %s: %s", self.env_class.__name__, exc)
            return
        finally:
            self._starting -= 1
        if self._closed:
            await worker.close()
        else:
            self.idle.append(worker)

    async def close(self) -> None:
        """Stop every idle worker and any still starting."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        idle, self.idle = self.idle, []
        await asyncio.gather(*(worker.close() for worker in idle), return_exceptions=True)


class SandboxedFactory:
    """The server's factory for isolated sessions: one warm-pooled worker per session.

    ``create_app`` uses it when ``ServerConfig.isolation == "sandbox"``; its
    :attr:`env_class` is the proxy class the server sees.
    """

    def __init__(self, env_class: type, policy: SandboxPolicy, pool_size: int) -> None:
        self.env_class = proxy_class(env_class)
        self.pool = WarmPool(env_class, policy, pool_size)

    async def __call__(self) -> SandboxedEnvironment:
        return self.env_class(await self.pool.acquire())

    async def start(self) -> None:
        await self.pool.start()

    async def close(self) -> None:
        await self.pool.close()
