"""LazyTimeout: asyncio.timeout_at's behaviour for a session's requests, one timer for all."""

from __future__ import annotations

import asyncio

import pytest

from openenv.client.timeouts import LazyTimeout

GUARD_S = 30.0  # a broken timeout fails the test by then instead of hanging it


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, GUARD_S))


def test_a_request_past_its_deadline_raises_timeout_error_and_leaves_the_task_uncancelled():
    async def main() -> int:
        timeout = LazyTimeout()
        loop = asyncio.get_running_loop()
        with pytest.raises(TimeoutError):
            async with timeout.at(loop.time() + 0.05):
                await asyncio.Event().wait()  # never set
        return asyncio.current_task().cancelling()

    assert run(main()) == 0


def test_a_later_request_with_an_earlier_deadline_is_not_held_to_the_first_timer():
    async def main() -> None:
        timeout = LazyTimeout()
        loop = asyncio.get_running_loop()
        async with timeout.at(loop.time() + 3600):  # arms the timer an hour away
            await asyncio.sleep(0)
        with pytest.raises(TimeoutError):
            async with timeout.at(loop.time() + 0.05):
                await asyncio.Event().wait()

    run(main())


def test_a_timer_left_from_an_earlier_request_does_not_cut_the_next_one_short():
    async def main() -> None:
        timeout = LazyTimeout()
        loop = asyncio.get_running_loop()
        first_deadline = loop.time() + 0.01
        async with timeout.at(first_deadline):
            pass  # done at once; the timer stays armed for first_deadline
        async with timeout.at(loop.time() + 3600):
            while loop.time() < first_deadline + 0.05:  # the old timer fires in here
                await asyncio.sleep(0.01)
        # and firing it did not leave a cancellation pending on the task
        await asyncio.sleep(0.05)

    run(main())


def test_a_timer_firing_between_requests_cancels_nothing():
    async def main() -> None:
        timeout = LazyTimeout()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 0.01
        async with timeout.at(deadline):
            pass
        while loop.time() < deadline + 0.05:
            await asyncio.sleep(0.01)  # the timer fires out here: no request in flight

    run(main())


def test_a_cancellation_from_outside_stays_a_cancellation():
    async def main() -> None:
        timeout = LazyTimeout()
        started = asyncio.Event()

        async def request() -> None:
            async with timeout.at(asyncio.get_running_loop().time() + 3600):
                started.set()
                await asyncio.Event().wait()

        task = asyncio.ensure_future(request())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())


def test_scopes_cannot_overlap():
    async def main() -> None:
        timeout = LazyTimeout()
        loop = asyncio.get_running_loop()
        async with timeout.at(loop.time() + 10):
            with pytest.raises(RuntimeError, match="overlap"):
                timeout.at(loop.time() + 10)

    run(main())


def test_each_request_gets_its_own_deadline_after_many_requests():
    async def main() -> None:
        timeout = LazyTimeout()
        loop = asyncio.get_running_loop()
        for _ in range(1000):
            async with timeout.at(loop.time() + 3600):
                await asyncio.sleep(0)
        with pytest.raises(TimeoutError):
            async with timeout.at(loop.time() + 0.05):
                await asyncio.Event().wait()

    run(main())


def test_it_works_on_uvloop_too():
    uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        timeout = LazyTimeout()
        loop = asyncio.get_running_loop()
        first_deadline = loop.time() + 0.01
        async with timeout.at(first_deadline):
            pass
        async with timeout.at(loop.time() + 3600):
            while loop.time() < first_deadline + 0.05:
                await asyncio.sleep(0.01)
        with pytest.raises(TimeoutError):
            async with timeout.at(loop.time() + 0.05):
                await asyncio.Event().wait()

    uvloop.run(asyncio.wait_for(main(), GUARD_S))
