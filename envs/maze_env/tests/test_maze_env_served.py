"""The maze over the wire: clients, refused actions, concurrent sessions."""

from __future__ import annotations

import asyncio

import pytest
from maze_env import AsyncMazeEnv, MazeAction, MazeEnv, MazeObservation, MazeState
from maze_env.server import MazeEnvironment

from openenv import EnvServerError
from openenv.runtime.local import LocalRuntime


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(MazeEnvironment).base_url


def test_an_episode_over_the_wire(base_url):
    with MazeEnv(base_url=base_url) as env:
        result = env.reset(seed=4, width=4, height=4, episode_id="m")
        assert isinstance(result.observation, MazeObservation)
        assert result.observation.view == MazeEnvironment().reset(seed=4, width=4, height=4).view
        result = env.step(MazeAction(move="up"))
        assert result.observation.bumped and result.reward == pytest.approx(-0.01)
        state = env.state()
        assert isinstance(state, MazeState)
        assert (state.episode_id, state.step_count, state.width) == ("m", 1, 4)
        env.reset(seed=4, width=4, height=4, max_steps=1)
        assert env.step(MazeAction(move="up")).observation.truncated
        with pytest.raises(EnvServerError) as over:
            env.step(MazeAction(move="up"))
        assert over.value.code == "EPISODE_OVER" and env.state().step_count == 1


def test_refused_actions_and_options_leave_the_episode(base_url):
    with MazeEnv(base_url=base_url) as env:
        env.reset(seed=1, observation="partial")
        env.step(MazeAction(move="left"))
        with pytest.raises(EnvServerError) as caught:
            env.step({"move": "teleport"})
        assert caught.value.code == "VALIDATION_ERROR"
        with pytest.raises(EnvServerError):
            env.reset(width=100)
        result = env.step(MazeAction(move="left"))
        assert result.observation.exit is None and env.state().step_count == 2


def test_two_sessions_on_one_server_are_independent(base_url):
    with MazeEnv(base_url=base_url) as a, MazeEnv(base_url=base_url) as b:
        first = a.reset(seed=1, width=5, height=5)
        other = b.reset(seed=2, width=5, height=5, observation="partial", view_radius=1)
        assert first.observation.view != other.observation.view
        for move in ("right", "down", "right"):
            a.step(MazeAction(move=move))
        assert b.state().step_count == 0 and a.state().step_count == 3
        assert b.state().observation == "partial"


async def test_async_clients_concurrently(base_url):
    async def maze(seed: int) -> list[str]:
        async with AsyncMazeEnv(base_url=base_url) as env:
            return (await env.reset(seed=seed, width=6, height=6)).observation.view

    first, second, again = await asyncio.gather(maze(1), maze(2), maze(1))
    assert first == again != second


def test_served_by_name_as_openenv_serve_does():
    runtime = LocalRuntime("maze_env", require_token=False)
    try:
        with MazeEnv(base_url=runtime.start()) as env:
            env.reset(seed=0, width=3, height=3)
            assert env.step(MazeAction(move="up")).observation.bumped
    finally:
        runtime.stop()
