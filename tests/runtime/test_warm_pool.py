"""The warm pool: refills in the background, stays within its size, replaces dead
workers, cleans up everything on close, and works with size 0 (cold starts)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest

from openenv.runtime.isolated import EnvironmentFailed, SandboxWorker
from openenv.runtime.pool import PoolClosed, WarmPool
from openenv.runtime.processes import process_tree
from openenv.runtime.sandbox import SandboxPolicy
from openenv.server import create_app
from tests.conftest import ask, open_ws, start_server
from tests.runtime.helpers import (
    descendants,
    our_cgroups,
    sandbox_config,
    settled,
    stray_sandboxes,
    worker_roots,
)
from tests.runtime.sandbox_envs import BrokenInitEnv, TrialEnv

pytestmark = pytest.mark.timeout(60)


def workers() -> int:
    """Live workers below us: spawned (a bwrap monitor each) or forked by a zygote."""
    return len(worker_roots(descendants()))


POLICIES = {"forked": SandboxPolicy(), "spawned": SandboxPolicy(zygote=False)}


async def until(predicate, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def no_leaks(baseline: dict[int, object], strays: set[int] | None = None) -> None:
    """Our descendants are back to ``baseline``, with no zombie, no stray, no cgroup left."""
    await until(lambda: set(descendants()) <= set(baseline))
    assert not [p for p in descendants().values() if p.state == "Z"]
    if strays is not None:
        assert stray_sandboxes() <= strays
    await until(lambda: not our_cgroups(), timeout=5)


@pytest.fixture(params=list(POLICIES))
async def pool(request: pytest.FixtureRequest) -> AsyncIterator[WarmPool]:
    """A pool of 2, forking its workers from a zygote or spawning each afresh."""
    baseline = descendants()
    pool = WarmPool(TrialEnv, POLICIES[request.param], size=2)
    yield pool
    await pool.close()
    await no_leaks(baseline)


async def test_the_pool_fills_and_refills_in_the_background(pool: WarmPool) -> None:
    await pool.start()  # returns at once
    assert len(pool.idle) == 0 and pool.starting == 2
    await pool.wait_full()
    assert workers() == 2

    worker = await pool.acquire()
    try:
        assert worker.alive and pool.taken_warm == 1 and len(pool.idle) == 1
        await until(lambda: pool.starting == 1)  # refilling, a moment after the take
        await pool.wait_full()
        assert len(pool.idle) == 2 and workers() == 3
        reply = await worker.call({"op": "reset", "kwargs": {"seed": 1}})
        assert reply["observation"]["pid"] > 0
    finally:
        await worker.close()
    await until(lambda: workers() == 2)


async def test_idle_workers_never_exceed_the_size(pool: WarmPool) -> None:
    most = 0

    async def watch() -> None:
        nonlocal most
        while True:
            most = max(most, len(pool.idle))
            assert pool.starting + len(pool.idle) <= pool.size
            await asyncio.sleep(0.002)

    watcher = asyncio.get_running_loop().create_task(watch())
    taken = []
    try:
        await pool.start()
        await pool.wait_full()
        for _ in range(3):  # 2 warm, then one already starting or started now
            taken.append(await pool.acquire())
        await pool.wait_full()
        await asyncio.sleep(0.2)  # nothing more gets started
        assert len(pool.idle) == 2 and pool.starting == 0
        assert workers() == 2 + 3
    finally:
        watcher.cancel()
        await asyncio.gather(*(worker.close() for worker in taken))
    assert most == 2


async def test_a_dead_idle_worker_is_replaced_not_handed_out(pool: WarmPool) -> None:
    await pool.start()
    await pool.wait_full()
    victim = pool.idle[0]
    os.kill(process_tree(victim.pid)[-1], signal.SIGKILL)  # its python
    await until(lambda: pool.replaced == 1)
    assert victim not in pool.idle
    await pool.wait_full()
    handed = [await pool.acquire(), await pool.acquire()]
    try:
        assert victim not in handed and all(w.alive for w in handed)
        for worker in handed:
            await worker.call({"op": "reset", "kwargs": {}})
    finally:
        await asyncio.gather(*(worker.close() for worker in handed))


async def test_a_dead_worker_is_skipped_even_before_the_pool_notices(pool: WarmPool) -> None:
    await pool.start()
    await pool.wait_full()
    victim = pool.idle[0]
    for watcher in pool._watchers.values():  # blind the pool: only acquire's check is left
        watcher.cancel()
    os.kill(process_tree(victim.pid)[-1], signal.SIGKILL)
    await until(lambda: not victim.alive)
    worker = await pool.acquire()
    try:
        assert worker is not victim and worker.alive
    finally:
        await worker.close()


async def test_close_kills_idle_and_starting_workers() -> None:
    baseline = descendants()
    # Spawned: a forked worker may be ready before the count below sees it starting.
    pool = WarmPool(TrialEnv, POLICIES["spawned"], size=3)
    await pool.start()
    await until(lambda: workers() == 3, timeout=10)  # all three are starting
    assert pool.starting == 3
    await pool.close()
    assert pool.starting == 0 and not pool.idle
    await no_leaks(baseline)

    pool = WarmPool(TrialEnv, SandboxPolicy(), size=2)
    await pool.start()
    await pool.wait_full()
    await pool.close()
    await no_leaks(baseline)
    with pytest.raises(PoolClosed):
        await pool.acquire()


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("after_s", [0, 0.001, 0.005, 0.02, 0.06])
async def test_closing_at_any_moment_of_start_up_leaves_nothing(
    after_s: float, policy: str
) -> None:
    baseline, strays = descendants(), stray_sandboxes()
    pool = WarmPool(TrialEnv, POLICIES[policy], size=3)
    await pool.start()
    await asyncio.sleep(after_s)
    await pool.close()
    await no_leaks(baseline, strays)


async def test_size_zero_starts_a_worker_per_session() -> None:
    baseline = descendants()
    pool = WarmPool(TrialEnv, SandboxPolicy(), size=0)
    await pool.start()
    assert pool.starting == 0 and not pool.idle
    worker = await pool.acquire()
    try:
        assert worker.alive and pool.taken_cold == 1 and pool.starting == 0 and not pool.idle
        await worker.call({"op": "reset", "kwargs": {}})
    finally:
        await worker.close()
        await pool.close()
    await no_leaks(baseline)


async def test_a_burst_takes_workers_already_starting(pool: WarmPool) -> None:
    await pool.start()  # two starting, none ready
    workers = await asyncio.gather(*(pool.acquire() for _ in range(3)))
    try:
        assert len({w.pid for w in workers}) == 3
        assert pool.taken_starting == 2 and pool.taken_cold == 1
    finally:
        await asyncio.gather(*(w.close() for w in workers))


async def test_an_environment_that_cannot_be_built() -> None:
    baseline = descendants()
    pool = WarmPool(BrokenInitEnv, SandboxPolicy(), size=1)
    await pool.start()
    with pytest.raises(EnvironmentFailed) as failed:
        await pool.acquire()  # waits for the start in flight, which fails, then tries itself
    assert type(failed.value).__name__ == "ValueError"
    assert str(failed.value) == "cannot build this environment"
    await until(lambda: pool.start_failures >= 1)
    await pool.close()
    await no_leaks(baseline)
    with pytest.raises(EnvironmentFailed):
        await SandboxWorker.start(BrokenInitEnv, SandboxPolicy())
    await no_leaks(baseline)


def test_pool_size_zero_server_and_factory_error() -> None:
    served = start_server(create_app(TrialEnv, config=sandbox_config(pool=0)))
    try:
        with open_ws(served) as ws:
            frame = ask(ws, {"type": "reset", "data": {}}, timeout=20)
            assert frame["type"] == "observation"
        assert served.manager.factory.pool.taken_cold == 1
        settled(served)
    finally:
        served.stop()
    broken = start_server(create_app(BrokenInitEnv, config=sandbox_config(pool=0)))
    try:
        with open_ws(broken) as ws:
            frame = ask(ws, {"type": "reset", "data": {}}, timeout=20)
        assert frame["type"] == "error" and frame["data"]["code"] == "FACTORY_ERROR", frame
        assert "ValueError: cannot build this environment" in frame["data"]["message"]
    finally:
        broken.stop()
