"""Connect Four over the wire: clients, error frames, concurrent sessions."""

from __future__ import annotations

import asyncio

import pytest
from connect4_env import (
    AsyncConnect4Env,
    Connect4Action,
    Connect4Env,
    Connect4Observation,
    Connect4State,
)
from connect4_env.server import Connect4Environment

from openenv import EnvServerError
from openenv.runtime.local import LocalRuntime


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(Connect4Environment).base_url


def test_a_game_over_the_wire(base_url):
    with Connect4Env(base_url=base_url) as env:
        result = env.reset(seed=1, opponent="lookahead", depth=2, episode_id="c")
        assert isinstance(result.observation, Connect4Observation)
        while not result.done:
            result = env.step(Connect4Action(column=result.observation.legal_columns[0]))
        assert result.observation.winner == "opponent" and result.reward == -1.0
        state = env.state()
        assert isinstance(state, Connect4State)
        assert state.episode_id == "c" and len(state.history) == result.observation.moves
        with pytest.raises(EnvServerError) as over:
            env.step(Connect4Action(column=6))
        assert over.value.code == "EPISODE_OVER"


def test_errors_are_error_frames_and_the_game_goes_on(base_url):
    with Connect4Env(base_url=base_url) as env:
        env.reset(seed=1, opponent="random")
        with pytest.raises(EnvServerError) as caught:
            env.step({"column": 7})
        assert caught.value.code == "VALIDATION_ERROR"
        with pytest.raises(EnvServerError):
            env.reset(depth=9)
        result = env.step(Connect4Action(column=3))
        assert result.observation.moves == 2 and env.state().step_count == 1


def test_a_full_column_over_the_wire(base_url):
    with Connect4Env(base_url=base_url) as env:
        env.reset(seed=1, opponent="lookahead", depth=1)
        result = env.step(Connect4Action(column=3))
        while 3 in result.observation.legal_columns:  # the agent (and the opponent) fill it
            result = env.step(Connect4Action(column=3))
        assert not result.done
        with pytest.raises(EnvServerError, match="column 3 is full") as caught:
            env.step(Connect4Action(column=3))
        assert caught.value.code == "EXECUTION_ERROR"
        assert env.step(Connect4Action(column=0)).observation.board[5][0] != 0


def test_two_sessions_on_one_server_are_independent(base_url):
    with Connect4Env(base_url=base_url) as a, Connect4Env(base_url=base_url) as b:
        a.reset(seed=5, opponent="random")
        b.reset(seed=5, opponent="lookahead", depth=3, agent_player=1)
        alone = Connect4Environment()
        alone.reset(seed=5, opponent="random")
        for column in (3, 2, 4):
            got = a.step(Connect4Action(column=column))
            expected = alone.step(Connect4Action(column=column))
            assert got.observation.board == expected.board
        assert b.state().step_count == 0 and len(b.state().history) == 1


async def test_async_clients_play_concurrently(base_url):
    async def game(seed: int) -> list[int]:
        async with AsyncConnect4Env(base_url=base_url) as env:
            result = await env.reset(seed=seed, opponent="random")
            while not result.done:
                result = await env.step(Connect4Action(column=result.observation.legal_columns[-1]))
            return (await env.state()).history

    first, second, again = await asyncio.gather(game(1), game(2), game(1))
    assert first == again and second[0] == 6


def test_served_by_name_as_openenv_serve_does():
    runtime = LocalRuntime("connect4_env", require_token=False)
    try:
        with Connect4Env(base_url=runtime.start()) as env:
            env.reset(seed=0)
            assert env.step(Connect4Action(column=3)).observation.moves == 2
    finally:
        runtime.stop()
