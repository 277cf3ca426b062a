"""Guess the number over the wire: `openenv serve guess_number_env`, clients, sessions."""

from __future__ import annotations

import pytest
from guess_number_env import (
    AsyncGuessNumberEnv,
    GuessNumberAction,
    GuessNumberEnv,
    GuessNumberState,
)

from openenv import EnvServerError


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(
        "guess_number_env"
    ).base_url  # `openenv serve NAME`: isolation from its openenv.yaml


def test_binary_search_wins_through_the_server(base_url):
    with GuessNumberEnv(base_url=base_url) as env:
        for seed in range(5):
            result = env.reset(seed=seed)
            while not result.done:
                obs = result.observation
                middle = (obs.lower_bound + obs.upper_bound) // 2
                result = env.step(GuessNumberAction(message=f"I guess [{middle}]"))
            assert result.observation.won and result.reward >= 0.4
            state = env.state()
            assert isinstance(state, GuessNumberState) and state.won
            assert state.guesses[-1] == result.observation.secret


def test_bad_text_is_an_observation_not_an_error(base_url):
    with GuessNumberEnv(base_url=base_url) as env:
        env.reset(secret=37)
        result = env.step(GuessNumberAction(message="a big number, I'd say"))
        assert result.observation.invalid and result.reward == pytest.approx(-0.1)
        assert result.observation.guesses_used == 0
        assert env.step(GuessNumberAction(message="37")).observation.won


def test_bad_reset_options_are_refused(base_url):
    with GuessNumberEnv(base_url=base_url) as env:
        with pytest.raises(EnvServerError):
            env.reset(low=10, high=1)
        with pytest.raises(EnvServerError):
            env.reset(max_guesses="many")
        assert env.reset(secret=5).observation.remaining == 100


def test_two_sessions_are_independent(base_url):
    with GuessNumberEnv(base_url=base_url) as first, GuessNumberEnv(base_url=base_url) as second:
        first.reset(secret=10)
        second.reset(secret=90)
        a = first.step(GuessNumberAction(message="[50]")).observation
        b = second.step(GuessNumberAction(message="[50]")).observation
        assert (a.hint, b.hint) == ("lower", "higher")
        assert second.step(GuessNumberAction(message="[90]")).observation.won
        assert first.state().guesses == [50] and not first.state().won


def test_seeded_games_replay_over_the_wire(base_url):
    def game() -> list[str]:
        with GuessNumberEnv(base_url=base_url) as env:
            prompts = [env.reset(seed=42).observation.prompt]
            for number in (50, 25, 75, 12):
                message = f"[{number}]"
                prompts.append(env.step(GuessNumberAction(message=message)).observation.prompt)
            return prompts

    assert game() == game()


async def test_async_client_and_rules_tool(base_url):
    async with AsyncGuessNumberEnv(base_url=base_url) as env:
        result = await env.reset(low=1, high=10, secret=3)
        assert await env.call_tool("rules") == result.observation.prompt
        result = await env.step(GuessNumberAction(message="[3]"))
        assert result.done and result.reward == 1.0
        with pytest.raises(EnvServerError) as over:
            await env.step(GuessNumberAction(message="[3]"))
        assert over.value.code == "EPISODE_OVER"
        assert (await env.state()).step_count == 1
