"""The OpenSpiel environment over the wire: clients, error frames, concurrent sessions."""

from __future__ import annotations

import asyncio

import pytest
from openspiel_env import (
    AsyncOpenSpielEnv,
    OpenSpielAction,
    OpenSpielEnv,
    OpenSpielObservation,
    OpenSpielState,
)
from openspiel_env.server import OpenSpielEnvironment

from openenv import EnvServerError
from openenv.runtime.local import LocalRuntime


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(OpenSpielEnvironment).base_url


def test_an_episode_over_the_wire(base_url):
    with OpenSpielEnv(base_url=base_url) as env:
        result = env.reset(seed=3, game="tic_tac_toe", opponent="first", episode_id="ep")
        assert isinstance(result.observation, OpenSpielObservation)
        assert result.reward is None and result.observation.legal_actions == list(range(9))
        result = env.step(OpenSpielAction(action_id=4))
        assert result.observation.opponent_last_action_string == "o(0,0)"
        assert result.observation.rendering == "o..\n.x.\n..."
        state = env.state()
        assert isinstance(state, OpenSpielState)
        assert (state.episode_id, state.step_count, state.game_name) == ("ep", 1, "tic_tac_toe")
        assert (state.opponent_policy, state.num_players) == ("first", 2)
        for action in (8, 2, 6):  # o takes 1, then 3: x wins on the 2-4-6 diagonal
            result = env.step(OpenSpielAction(action_id=action))
        assert result.done and result.reward == 1.0 and result.observation.returns == [1.0, -1.0]
        with pytest.raises(EnvServerError) as over:
            env.step(OpenSpielAction(action_id=0))
        assert over.value.code == "EPISODE_OVER" and env.state().step_count == 4


def test_an_illegal_move_is_an_error_frame_and_the_session_goes_on(base_url):
    with OpenSpielEnv(base_url=base_url) as env:
        env.reset(seed=1, game="connect_four")
        with pytest.raises(EnvServerError, match="illegal action 9") as caught:
            env.step(OpenSpielAction(action_id=9))
        assert caught.value.code == "EXECUTION_ERROR"
        with pytest.raises(EnvServerError, match="unknown game"):
            env.reset(game="connect_five")
        with pytest.raises(EnvServerError):
            env.reset(opponent="perfect")  # validated against reset's signature
        result = env.reset(seed=1, game="connect_four")
        result = env.step(OpenSpielAction(action_str="x3"))
        assert not result.done and env.state().step_count == 1


def test_two_sessions_on_one_server_are_independent(base_url):
    with OpenSpielEnv(base_url=base_url) as a, OpenSpielEnv(base_url=base_url) as b:
        ra = a.reset(seed=7, game="2048")
        rb = b.reset(seed=7, game="kuhn_poker", agent_player=1)
        alone = OpenSpielEnvironment()
        expected = alone.reset(seed=7, game="2048")
        assert ra.observation.info_state == expected.info_state
        for _ in range(10):
            ra = a.step(OpenSpielAction(action_id=ra.observation.legal_actions[0]))
            expected = alone.step(OpenSpielAction(action_id=expected.legal_actions[0]))
            assert ra.observation.info_state == expected.info_state
            assert ra.reward == expected.reward
        assert b.state().game_name == "kuhn_poker" and b.state().step_count == 0
        assert rb.observation.legal_action_strings == ["Pass", "Bet"]
        assert a.state().step_count == 10


async def test_async_clients_play_concurrently(base_url):
    async def episode(seed: int) -> list[float]:
        async with AsyncOpenSpielEnv(base_url=base_url) as env:
            result = await env.reset(seed=seed, game="blackjack")
            while not result.done:
                result = await env.step(OpenSpielAction(action_str="Stand"))
            return result.observation.returns

    first, second, again = await asyncio.gather(episode(1), episode(2), episode(1))
    assert first == again and len(second) == 1


def test_served_by_name_as_openenv_serve_does():
    runtime = LocalRuntime("openspiel_env", require_token=False)
    try:
        with OpenSpielEnv(base_url=runtime.start()) as env:
            result = env.reset(seed=0, game="tic_tac_toe", opponent="mcts", mcts_simulations=50)
            result = env.step(OpenSpielAction(action_id=4))
            assert result.observation.opponent_last_action is not None
            assert {t["name"] for t in env.list_tools()} == {"list_games"}
            assert len(env.call_tool("list_games")) >= 6
    finally:
        runtime.stop()
