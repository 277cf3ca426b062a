"""The chess environment over the wire: clients, error frames, concurrent sessions."""

from __future__ import annotations

import asyncio

import pytest
from chess_env import AsyncChessEnv, ChessAction, ChessEnv, ChessObservation, ChessState
from chess_env.server import ChessEnvironment

from openenv import EnvServerError
from openenv.runtime.local import LocalRuntime


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(ChessEnvironment).base_url


def test_a_game_over_the_wire(base_url):
    with ChessEnv(base_url=base_url) as env:
        result = env.reset(fen="6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1", level=2, episode_id="g")
        assert isinstance(result.observation, ChessObservation) and not result.done
        result = env.step(ChessAction(move="a1a8"))
        assert result.done and result.reward == 1.0 and result.observation.result == "1-0"
        state = env.state()
        assert isinstance(state, ChessState)
        assert (state.episode_id, state.step_count, state.result) == ("g", 1, "1-0")
        with pytest.raises(EnvServerError) as over:
            env.step(ChessAction(move="Kf1"))
        assert over.value.code == "EPISODE_OVER" and env.state().step_count == 1


def test_an_illegal_move_is_an_error_frame_and_the_game_goes_on(base_url):
    with ChessEnv(base_url=base_url) as env:
        env.reset(seed=1, level=1)
        with pytest.raises(EnvServerError, match="illegal move 'e2e5'") as caught:
            env.step(ChessAction(move="e2e5"))
        assert caught.value.code == "EXECUTION_ERROR"
        with pytest.raises(EnvServerError):
            env.step({"move": ""})  # refused by the action's schema
        with pytest.raises(EnvServerError):
            env.reset(level=9)
        result = env.step(ChessAction(move="e4"))  # the game from before the errors
        assert result.observation.ply == 2 and env.state().step_count == 1


def test_two_sessions_on_one_server_are_independent(base_url):
    with ChessEnv(base_url=base_url) as white, ChessEnv(base_url=base_url) as black:
        w = white.reset(seed=5, level=0, color="white")
        b = black.reset(seed=5, level=0, color="black")
        assert w.observation.ply == 0 and b.observation.ply == 1
        alone = ChessEnvironment()
        alone.reset(seed=5, level=0, color="white")
        for move in ("e4", "Nf3", "Bc4"):
            if w.done:
                break
            w = white.step(ChessAction(move=move))
            expected = alone.step(ChessAction(move=move))
            assert w.observation.fen == expected.fen
        assert black.state().step_count == 0 and black.state().agent_color == "black"


async def test_async_clients_play_concurrently(base_url):
    async def opening(seed: int) -> str:
        async with AsyncChessEnv(base_url=base_url) as env:
            await env.reset(seed=seed, level=2)
            result = await env.step(ChessAction(move="d4"))
            return result.observation.fen

    first, second, again = await asyncio.gather(opening(1), opening(2), opening(1))
    assert first == again and "3P4" in second  # d4 played in both


def test_served_by_name_as_openenv_serve_does():
    runtime = LocalRuntime("chess_env", require_token=False)
    try:
        with ChessEnv(base_url=runtime.start()) as env:
            result = env.reset(seed=0, level=1, color="black")
            assert result.observation.last_move is not None
            result = env.step(ChessAction(move=result.observation.legal_moves[0]))
            assert result.reward == 0.0 or result.done
    finally:
        runtime.stop()
