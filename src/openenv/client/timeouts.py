"""A timeout for a session's requests that costs no timer per request.

``asyncio.timeout`` arms an event-loop timer on entry and cancels it on exit: about
6 µs a request on uvloop, more than the rest of our client's work for a step (the
EnvPool benchmark, docs/benchmarks.md). A session makes one request at a time, each
with a deadline seconds away and seldom reached, so one timer serves them all: it is
armed for the first deadline, and when it fires before the current request's
deadline it is armed again for that (the coalescing Trio's deadlines use). Most
requests then only store a float.

Example::

    timeout = LazyTimeout()
    async with timeout.at(loop.time() + 30.0):
        reply = await ws.recv()  # TimeoutError if not in within 30 s
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class LazyTimeout:
    """A reusable timeout scope for one sequence of requests (one at a time, one loop).

    Behaves as ``asyncio.timeout_at(when)`` for the code inside :meth:`at`: when the
    deadline passes, the task is cancelled and ``TimeoutError`` comes out of the
    scope. Scopes must not nest or overlap (a session's lock ensures it).
    """

    __slots__ = ("_cancelling", "_expired", "_handle", "_loop", "_task", "_when")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[object] | None = None  # inside a scope, or None
        self._when = 0.0
        self._cancelling = 0
        self._expired = False

    def at(self, when: float) -> LazyTimeout:
        """The scope of one request that must finish by ``when`` (event-loop time)."""
        if self._task is not None:
            raise RuntimeError("LazyTimeout scopes cannot overlap")
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("LazyTimeout must be used inside a task")
        loop = task.get_loop()
        if self._loop is not loop:  # first use, or a new loop: the old timer is void
            self.cancel()
            self._loop = loop
        self._task, self._when, self._expired = task, when, False
        self._cancelling = task.cancelling()
        # Armed for a later time (an earlier, longer request's deadline): too late.
        if self._handle is None or self._handle.when() > when:
            if self._handle is not None:
                self._handle.cancel()
            self._handle = loop.call_at(when, self._on_timer)
        return self

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        # The timer stays armed: the next request's deadline is usually later, and
        # _on_timer moves it there. No request in flight: it fires and does nothing.
        if self._expired and task is not None:
            self._expired = False
            if task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc

    def cancel(self) -> None:
        """Disarm the timer (the session is closed)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _on_timer(self) -> None:
        self._handle = None
        task = self._task
        if task is None or self._loop is None:
            return  # between requests: nothing to time
        # Early by more than the loop's clock resolution (uvloop's is 1 ms): not yet.
        if self._when - self._loop.time() > 0.001:
            self._handle = self._loop.call_at(self._when, self._on_timer)
            return
        self._expired = True
        task.cancel()
