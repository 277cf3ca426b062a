"""The grid world over the wire: clients, refused actions, concurrent sessions."""

from __future__ import annotations

import asyncio

import pytest
from gridworld_env import (
    AsyncGridWorldEnv,
    GridWorldAction,
    GridWorldEnv,
    GridWorldObservation,
    GridWorldState,
)
from gridworld_env.server import GridWorldEnvironment

from openenv import EnvServerError
from openenv.runtime.local import LocalRuntime


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(GridWorldEnvironment).base_url


def test_an_episode_over_the_wire(base_url):
    with GridWorldEnv(base_url=base_url) as env:
        result = env.reset(layout="open", episode_id="g")
        assert isinstance(result.observation, GridWorldObservation)
        for move in ["right"] * 4 + ["down"] * 4:
            result = env.step(GridWorldAction(move=move))
        assert result.done and result.reward == pytest.approx(0.99)
        state = env.state()
        assert isinstance(state, GridWorldState)
        assert (state.episode_id, state.step_count, state.layout) == ("g", 8, "open")
        assert state.total_reward == pytest.approx(1.0 - 0.08)
        with pytest.raises(EnvServerError) as over:
            env.step(GridWorldAction(move="up"))
        assert over.value.code == "EPISODE_OVER" and env.state().step_count == 8


def test_refused_actions_and_options_leave_the_episode(base_url):
    with GridWorldEnv(base_url=base_url) as env:
        env.reset(layout="open")
        env.step(GridWorldAction(move="right"))
        with pytest.raises(EnvServerError) as caught:
            env.step({"move": "north"})
        assert caught.value.code == "VALIDATION_ERROR"
        with pytest.raises(EnvServerError) as caught:
            env.reset(slip=2.0)
        assert caught.value.code == "VALIDATION_ERROR"
        result = env.step(GridWorldAction(move="right"))
        assert result.observation.position == [0, 2] and env.state().step_count == 2


def test_a_reset_the_environment_refuses_starts_no_episode(base_url):
    with GridWorldEnv(base_url=base_url) as env:
        env.reset(layout="open")
        env.step(GridWorldAction(move="right"))
        with pytest.raises(EnvServerError, match="unknown layout") as caught:
            env.reset(layout="labyrinth")
        assert caught.value.code == "EXECUTION_ERROR"
        with pytest.raises(EnvServerError) as caught:
            env.step(GridWorldAction(move="right"))
        assert caught.value.code == "NOT_RESET"
        assert env.reset(layout="open").observation.position == [0, 0]


def test_two_sessions_on_one_server_are_independent(base_url):
    with GridWorldEnv(base_url=base_url) as a, GridWorldEnv(base_url=base_url) as b:
        a.reset(seed=1, layout="open", slip=0.5)
        b.reset(seed=1, layout="u_turn")
        alone = GridWorldEnvironment()
        alone.reset(seed=1, layout="open", slip=0.5)
        for move in ("down", "right", "down", "right"):
            got = a.step(GridWorldAction(move=move))
            assert got.observation.position == alone.step(GridWorldAction(move=move)).position
            b.step(GridWorldAction(move="left"))
        assert b.state().layout == "u_turn" and b.state().step_count == 4


async def test_async_clients_concurrently(base_url):
    async def walk(seed: int) -> list[int]:
        async with AsyncGridWorldEnv(base_url=base_url) as env:
            await env.reset(seed=seed, layout="four_rooms", slip=0.3)
            for _ in range(10):
                result = await env.step(GridWorldAction(move="right"))
            return result.observation.position

    first, _, again = await asyncio.gather(walk(1), walk(2), walk(1))
    assert first == again


def test_served_by_name_as_openenv_serve_does():
    runtime = LocalRuntime("gridworld_env", require_token=False)
    try:
        with GridWorldEnv(base_url=runtime.start()) as env:
            env.reset(layout="open")
            assert env.step(GridWorldAction(move="down")).observation.position == [1, 0]
    finally:
        runtime.stop()
