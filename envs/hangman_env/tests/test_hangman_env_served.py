"""Hangman over the wire: `openenv serve hangman_env`, typed clients, concurrent sessions."""

from __future__ import annotations

import pytest
from hangman_env import AsyncHangmanEnv, HangmanAction, HangmanEnv, HangmanState
from hangman_env.agent import FrequencyAgent

from openenv import EnvServerError


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(
        "hangman_env"
    ).base_url  # `openenv serve NAME`: isolation from its openenv.yaml


def test_the_agent_wins_through_the_server(base_url):
    agent = FrequencyAgent()
    with HangmanEnv(base_url=base_url) as env:
        for seed in range(3):
            result = env.reset(seed=seed)
            total = 0.0
            while not result.done:
                obs = result.observation
                guess = agent.next_guess(obs.pattern, obs.guessed_letters, obs.wrong_words)
                result = env.step(HangmanAction(message=f"Let me try [{guess}]"))
                total += result.reward
            assert result.observation.won and total == pytest.approx(1.0)
            state = env.state()
            assert isinstance(state, HangmanState) and state.won and state.lives_left > 0


def test_bad_text_is_an_observation_not_an_error(base_url):
    with HangmanEnv(base_url=base_url) as env:
        env.reset(word="rabbit")
        result = env.step(HangmanAction(message="I'd rather not say"))
        assert result.observation.invalid and result.reward == pytest.approx(-0.1)
        assert result.observation.lives_left == 6
        assert env.step(HangmanAction(message="[rabbit]")).observation.won


def test_bad_reset_options_are_refused(base_url):
    with HangmanEnv(base_url=base_url) as env:
        with pytest.raises(EnvServerError):
            env.reset(word="two words")
        with pytest.raises(EnvServerError):
            env.reset(lives=100)
        assert env.reset(word="rabbit").observation.pattern == "______"


def test_two_sessions_are_independent(base_url):
    with HangmanEnv(base_url=base_url) as first, HangmanEnv(base_url=base_url) as second:
        first.reset(word="rabbit")
        second.reset(word="carrot")
        a = first.step(HangmanAction(message="[r]")).observation
        b = second.step(HangmanAction(message="[r]")).observation
        assert (a.pattern, b.pattern) == ("r_____", "__rr__")
        assert second.step(HangmanAction(message="[z]")).observation.lives_left == 5
        assert first.state().lives_left == 6 and first.state().guessed_letters == ["r"]


def test_seeded_games_replay_over_the_wire(base_url):
    def game() -> list[str]:
        with HangmanEnv(base_url=base_url) as env:
            prompts = [env.reset(seed=42).observation.prompt]
            for letter in "etaoin":
                prompts.append(env.step(HangmanAction(message=f"[{letter}]")).observation.prompt)
            return prompts

    assert game() == game()


async def test_async_client_and_rules_tool(base_url):
    async with AsyncHangmanEnv(base_url=base_url) as env:
        result = await env.reset(word="otter", lives=3)
        assert await env.call_tool("rules") == result.observation.prompt
        result = await env.step(HangmanAction(message="t"))
        assert result.observation.pattern == "_tt__" and not result.done
        result = await env.step(HangmanAction(message="[otter]"))
        assert result.done and result.observation.won
        with pytest.raises(EnvServerError) as over:
            await env.step(HangmanAction(message="e"))
        assert over.value.code == "EPISODE_OVER"
        assert (await env.state()).step_count == 2
