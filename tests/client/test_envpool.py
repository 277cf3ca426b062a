"""EnvPool / AsyncEnvPool: many sessions as one batch, failures that are never rewards."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from openenv import AsyncEnvClient, AsyncEnvPool, EnvClient, EnvPool, SessionFailure
from openenv.client.envpool import async_client_class
from openenv.errors import (
    ConnectError,
    EnvServerError,
    RequestTimeout,
    SessionLostError,
    is_infrastructure,
)
from openenv.server import ServerConfig
from tests.conftest import Served, wait_until
from tests.envs_for_tests import AsyncToyEnv, ToyAction, ToyEnv, ToyObservation, ToyState

pytestmark = pytest.mark.timeout(60)


class ToyClient(EnvClient[ToyAction, ToyObservation, ToyState]):
    pass


class AsyncToyClient(AsyncEnvClient[ToyAction, ToyObservation, ToyState]):
    pass


def say(*messages: str) -> list[ToyAction]:
    return [ToyAction(message=m) for m in messages]


def test_a_batch_steps_every_session_and_gives_arrays(serve: Callable[..., Served]) -> None:
    served = serve(ToyEnv)
    with EnvPool(ToyClient, served.base_url, n=4) as pool:
        first = pool.reset(seeds=10)
        assert len(first) == 4 and first.reset.all() and not first.failed.any()
        batch = pool.step(say("a", "bb", "ccc", "done"))
        assert [r.observation.echoed for r in batch] == ["a", "bb", "ccc", "done"]  # type: ignore[union-attr]
        assert batch.rewards.tolist() == [0.1, 0.2, 0.3, 0.4]
        assert batch.done.tolist() == [False, False, False, True]
        assert not batch.reset.any()
        arrays = batch.arrays()
        assert arrays["step_count"].tolist() == [1, 1, 1, 1]
        assert arrays["draw"].shape == (4,) and "echoed" not in arrays
        states = pool.state()
        assert [s.step_count for s in states] == [1, 1, 1, 1]
        # Each session is its own: four sessions on the server, one per index.
        assert served.manager.active == 4


def test_seeds_reach_each_session_and_repeat(serve: Callable[..., Served]) -> None:
    served = serve(ToyEnv)
    with EnvPool(ToyClient, served.base_url, n=3) as pool:
        a = [r.observation.draw for r in pool.reset(seeds=[5, 6, 5])]  # type: ignore[union-attr]
        b = [r.observation.draw for r in pool.reset(seeds=5)]  # type: ignore[union-attr]
    assert a[0] == a[2] == b[0] and a[1] == b[1] and a[0] != a[1]


def test_sessions_spread_over_several_servers(serve: Callable[..., Served]) -> None:
    one, two = serve(ToyEnv), serve(ToyEnv)
    with EnvPool(ToyClient, [one.base_url, two.base_url], n=5) as pool:
        pool.reset()
        assert (one.manager.active, two.manager.active) == (3, 2)
    wait_until(lambda: one.manager.active == two.manager.active == 0)  # closed


def test_autoreset_is_next_step_with_the_next_seeds(serve: Callable[..., Served]) -> None:
    served = serve(ToyEnv)
    with EnvPool(ToyClient, served.base_url, n=3, autoreset=True) as pool:
        pool.reset(seeds=[3, 7, 4])
        ended = pool.step(say("done", "x", "done"))
        assert ended.done.tolist() == [True, False, True]
        after = pool.step(say("ignored", "y", "ignored"))
        assert after.reset.tolist() == [True, False, True]
        assert [r.observation.step_count for r in after] == [0, 2, 0]  # type: ignore[union-attr]
        # The two autoresets took seeds 8 and 9, in index order (after the highest, 7).
        with EnvPool(ToyClient, served.base_url, n=2) as check:
            expected = [r.observation.draw for r in check.reset(seeds=[8, 9])]  # type: ignore[union-attr]
        assert [after[0].observation.draw, after[2].observation.draw] == expected  # type: ignore[union-attr]


def test_a_refused_request_is_a_failure_and_the_session_goes_on(
    serve: Callable[..., Served],
) -> None:
    served = serve(ToyEnv)
    with EnvPool(GenericToy, served.base_url, n=2) as pool:
        pool.reset()
        batch = pool.step([{"message": "ok"}, {"message": 3}])  # 3 is not a string
        failure = batch[1]
        assert isinstance(failure, SessionFailure) and not failure.infrastructure
        assert isinstance(failure.error, EnvServerError)
        assert failure.error.code == "VALIDATION_ERROR"
        assert math.isnan(batch.rewards[1]) and batch.rewards[0] == 0.2
        assert batch.failed.tolist() == [False, True]
        again = pool.step([{"message": "a"}, {"message": "b"}])
        assert not again.failed.any()  # the refused session still has its episode
        assert [r.observation["step_count"] for r in again] == [2, 1]  # type: ignore[index,union-attr]
        raised = pool.step([{"message": "a"}, {"message": "b", "fail": True}])
        assert isinstance(raised[1], SessionFailure) and not raised[1].infrastructure


class GenericToy(EnvClient[dict[str, Any], dict[str, Any], dict[str, Any]]):
    action_type = None
    observation_type = None
    state_type = None


def test_a_dead_server_is_an_infrastructure_failure_never_a_zero(
    serve: Callable[..., Served],
) -> None:
    alive, doomed = serve(ToyEnv), serve(ToyEnv)
    port = doomed.port
    with EnvPool(ToyClient, [alive.base_url, doomed.base_url], n=4, backoff_s=0.01) as pool:
        pool.reset(seeds=0)
        doomed.stop()
        batch = pool.step(say("a", "a", "a", "a"))
        assert batch.failed.tolist() == [False, True, False, True]
        assert batch.rewards[[0, 2]].tolist() == [0.1, 0.1]
        assert np.isnan(batch.rewards[[1, 3]]).all()  # not 0.0
        for failure in batch.failures:
            assert failure.infrastructure and isinstance(failure.error, SessionLostError)
        # Broken sessions fail at once until reset; the others go on.
        batch = pool.step(say("b", "b", "b", "b"))
        assert batch.failed.tolist() == [False, True, False, True]
        assert batch[1].attempts == 0  # type: ignore[union-attr]
        # Replacing while the server is down: retried, then reported, still not a reward.
        failure = pool.replace(1)
        assert isinstance(failure, SessionFailure) and failure.attempts == 3
        assert isinstance(failure.error, ConnectError)
        # The server is back: replace gives a fresh episode there.
        serve(ToyEnv, port=port)
        result = pool.replace(1, seed=1)
        assert not isinstance(result, SessionFailure) and result.observation.step_count == 0
        batch = pool.step(say("c", "c", "c", "c"))
        assert batch.failed.tolist() == [False, False, False, True]


def test_autoreset_replaces_a_broken_session(serve: Callable[..., Served]) -> None:
    # 3 s: ample for the quick step on a busy machine; the other sleeps 60 (cancelled).
    served = serve(AsyncToyEnv, ServerConfig(step_timeout_s=3, timeout_grace_s=0.5))
    with EnvPool(ToyClient, served.base_url, n=2, autoreset=True, backoff_s=0.01) as pool:
        pool.reset(seeds=0)
        slow = [ToyAction(message="a"), ToyAction(message="b", seconds=60)]
        batch = pool.step(slow)
        failure = batch[1]
        assert isinstance(failure, SessionFailure) and failure.infrastructure
        assert isinstance(failure.error, EnvServerError) and failure.error.code == "TIMEOUT"
        batch = pool.step(say("c", "ignored"))
        assert batch.reset.tolist() == [False, True] and not batch.failed.any()
        assert batch[1].observation.step_count == 0  # type: ignore[union-attr]


def test_a_reset_retries_when_the_server_is_full(serve: Callable[..., Served]) -> None:
    served = serve(ToyEnv, ServerConfig(max_sessions=1))
    with EnvPool(ToyClient, served.base_url, n=2, retries=1, backoff_s=0.01) as pool:
        batch = pool.reset()
        failures = batch.failures
        assert len(failures) == 1 and failures[0].attempts == 2
        assert failures[0].infrastructure
        assert isinstance(failures[0].error, EnvServerError)
        assert failures[0].error.code == "CAPACITY_REACHED"


class HeldEnv(AsyncToyEnv):
    """A step whose message is "hold" waits until the test lets it go (``release``)."""

    release = threading.Event()

    async def _step(  # type: ignore[override]
        self, action: ToyAction, timeout_s: float | None = None
    ) -> ToyObservation:
        self.steps_started += 1
        if action.message == "hold":
            async with asyncio.timeout(30):
                while not HeldEnv.release.is_set():
                    await asyncio.sleep(0.01)
        return self._observe(action)


def test_send_and_recv_return_whichever_is_ready(serve: Callable[..., Served]) -> None:
    served = serve(HeldEnv)
    HeldEnv.release.clear()
    with EnvPool(ToyClient, served.base_url, n=3) as pool:
        pool.reset()
        pool.send(0, ToyAction(message="hold"))
        pool.send(2, ToyAction(message="quick"))
        assert pool.in_flight in (1, 2)
        index, result = pool.recv(timeout_s=30)  # session 0 cannot answer before we let it
        assert index == 2 and result.observation.echoed == "quick"  # type: ignore[union-attr]
        with pytest.raises(RuntimeError, match="already has a step in flight"):
            pool.send(0, ToyAction(message="again"))
        with pytest.raises(RuntimeError, match="in flight"):
            pool.step(say("a", "b", "c"))
        with pytest.raises(RequestTimeout):
            pool.recv(timeout_s=0.05)  # session 0 is still held
        HeldEnv.release.set()
        index, result = pool.recv(timeout_s=30)
        assert index == 0 and result.observation.echoed == "hold"  # type: ignore[union-attr]
        with pytest.raises(RuntimeError, match="nothing to receive"):
            pool.recv()


async def test_a_batch_cancelled_part_way_leaves_no_session_stuck(
    serve: Callable[..., Served],
) -> None:
    served = serve(HeldEnv)
    HeldEnv.release.clear()
    async with AsyncEnvPool(AsyncToyClient, served.base_url, n=3) as pool:
        await pool.reset()
        # Session 0's step is held by the server; 1 and 2 answer. The batch is cancelled
        # while it waits for 0, with 1 and 2 sent and not yet read.
        batch = asyncio.ensure_future(pool.step(say("hold", "quick", "quick")))

        def all_steps_started() -> bool:
            return sum(s.env.steps_started for s in list(served.manager.sessions.values())) == 3

        await asyncio.to_thread(wait_until, all_steps_started, 30)
        batch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await batch
        HeldEnv.release.set()
        # Every session can be used again at once: none is left held by the lost batch.
        async with asyncio.timeout(30):
            first = await pool.reset(seeds=0)
            assert not first.failed.any(), first.failures
            again = await pool.step(say("a", "b", "c"))
        assert [r.observation.echoed for r in again] == ["a", "b", "c"]  # type: ignore[union-attr]


def test_a_bad_action_raises_before_any_step_is_sent(serve: Callable[..., Served]) -> None:
    served = serve(ToyEnv)
    with EnvPool(ToyClient, served.base_url, n=3) as pool:
        pool.reset()
        with pytest.raises(TypeError, match="an action is a pydantic model or a dict"):
            pool.step([ToyAction(message="a"), 42, ToyAction(message="c")])
        # Nothing was sent, and every session's episode goes on where it was.
        batch = pool.step(say("a", "b", "c"))
        assert not batch.failed.any(), batch.failures
        assert [s.step_count for s in pool.state()] == [1, 1, 1]


class GatheringEnv(AsyncToyEnv):
    """A step waits (up to 5 s) until ``action.number`` steps have arrived, over all sessions."""

    arrived = 0

    async def _step(  # type: ignore[override]
        self, action: ToyAction, timeout_s: float | None = None
    ) -> ToyObservation:
        type(self).arrived += 1
        async with asyncio.timeout(5):
            while type(self).arrived < action.number:
                await asyncio.sleep(0.01)
        return self._observe(action)


async def test_the_async_pool_has_every_session_in_flight_at_once(
    serve: Callable[..., Served],
) -> None:
    served = serve(GatheringEnv)
    async with AsyncEnvPool(AsyncToyClient, served.base_url, n=8) as pool:
        await pool.reset()
        # Each step returns only once all eight have reached the server: a pool that
        # sent them one after another would see its first step fail.
        batch = await pool.step([ToyAction(message=str(i), number=8) for i in range(8)])
        assert not batch.failed.any(), batch.failures
        assert [s.step_count for s in await pool.state()] == [1] * 8
    with pytest.raises(RuntimeError, match="closed"):
        await pool.reset()


def test_from_env_starts_and_stops_its_servers() -> None:
    from echo_env import EchoAction, EchoEnv

    pool = EnvPool.from_env(EchoEnv, "echo_env", n=4, servers=2, isolation="none", retries=1)
    try:
        runtimes = pool.runtimes
        assert len(runtimes) == 2 and len(set(pool.urls)) == 2
        pool.reset()
        batch = pool.step([EchoAction(message=f"m{i}") for i in range(4)])
        assert [r.observation.echoed_message for r in batch] == ["m0", "m1", "m2", "m3"]  # type: ignore[union-attr]
    finally:
        pool.close()
    assert not any(r.health() for r in runtimes)
    pool.close()  # twice is fine


def test_the_async_twin_keeps_types_and_hooks() -> None:
    class Custom(ToyClient):
        def _parse_state(self, data: dict[str, Any]) -> Any:
            return ("custom", data)

    twin = async_client_class(Custom)
    assert issubclass(twin, AsyncEnvClient)
    assert (twin.action_type, twin.observation_type, twin.state_type) == (
        ToyAction,
        ToyObservation,
        ToyState,
    )
    assert twin._parse_state(None, {"a": 1}) == ("custom", {"a": 1})  # type: ignore[arg-type]
    assert async_client_class(AsyncToyClient) is AsyncToyClient
    with pytest.raises(TypeError, match="EnvClient or AsyncEnvClient"):
        async_client_class(dict)


def test_bad_arguments_are_refused(serve: Callable[..., Served]) -> None:
    served = serve(ToyEnv)
    with pytest.raises(ValueError, match="at least one session"):
        EnvPool(ToyClient, served.base_url, n=0)
    with EnvPool(ToyClient, served.base_url, n=2) as pool:
        with pytest.raises(ValueError, match="3 seeds for 2 sessions"):
            pool.reset(seeds=[1, 2, 3])
        with pytest.raises(ValueError, match="1 actions for 2 sessions"):
            pool.step(say("a"))
        with pytest.raises(IndexError):
            pool.send(2, ToyAction())


def test_what_counts_as_infrastructure() -> None:
    assert is_infrastructure(SessionLostError("gone"))
    assert is_infrastructure(RequestTimeout("late"))
    assert is_infrastructure(EnvServerError("SESSION_ERROR", "worker died"))
    assert not is_infrastructure(EnvServerError("VALIDATION_ERROR", "bad"))
    assert not is_infrastructure(EnvServerError("EPISODE_OVER", "done"))
