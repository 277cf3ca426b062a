"""Wordle over the wire: `openenv serve wordle_env`, typed clients, concurrent sessions."""

from __future__ import annotations

import pytest
from wordle_env import AsyncWordleEnv, WordleAction, WordleEnv, WordleState
from wordle_env.solver import WordleSolver

from openenv import EnvServerError


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(
        "wordle_env"
    ).base_url  # `openenv serve NAME`: isolation from its openenv.yaml


def test_the_solver_wins_through_the_server(base_url):
    with WordleEnv(base_url=base_url) as env:
        for seed in range(3):
            result = env.reset(seed=seed)
            solver = WordleSolver()
            while not result.done:
                guess = solver.next_guess()
                result = env.step(WordleAction(message=f"I think it's [{guess}]"))
                solver.update(guess, result.observation.feedback)
            assert result.observation.solved and result.observation.answer == guess
            state = env.state()
            assert isinstance(state, WordleState) and state.solved and state.guesses[-1] == guess


def test_bad_text_is_an_observation_not_an_error(base_url):
    with WordleEnv(base_url=base_url) as env:
        env.reset(word="slate")
        result = env.step(WordleAction(message="¯\\_(ツ)_/¯ no idea"))
        assert result.observation.invalid and result.reward == pytest.approx(-0.1)
        assert result.observation.error.startswith("no guess found")
        assert env.step(WordleAction(message="[slate]")).observation.solved


def test_bad_reset_options_are_refused(base_url):
    with WordleEnv(base_url=base_url) as env:
        with pytest.raises(EnvServerError):
            env.reset(word="toolong")
        with pytest.raises(EnvServerError):
            env.reset(max_tries=0)
        assert env.reset(word="crane").observation.tries_left == 6  # the session goes on


def test_two_sessions_are_independent(base_url):
    with WordleEnv(base_url=base_url) as first, WordleEnv(base_url=base_url) as second:
        first.reset(word="slate")
        second.reset(word="crane")
        a = first.step(WordleAction(message="[crane]")).observation
        b = second.step(WordleAction(message="[crane]")).observation
        assert (a.feedback, b.feedback) == ("XXGXG", "GGGGG")
        assert b.solved and not a.solved
        assert first.step(WordleAction(message="[slate]")).observation.solved
        assert first.state().guesses == ["crane", "slate"] and second.state().guesses == ["crane"]


def test_seeded_games_replay_over_the_wire(base_url):
    def game() -> list[str]:
        with WordleEnv(base_url=base_url) as env:
            prompts = [env.reset(seed=42).observation.prompt]
            for word in ("crane", "moist", "built"):
                prompts.append(env.step(WordleAction(message=f"[{word}]")).observation.prompt)
            return prompts

    assert game() == game()


async def test_async_client_and_rules_tool(base_url):
    async with AsyncWordleEnv(base_url=base_url) as env:
        result = await env.reset(word="slate", max_tries=3)
        assert await env.call_tool("rules") == result.observation.prompt
        result = await env.step(WordleAction(message="SLATE"))
        assert result.done and result.reward == pytest.approx(1.0)
        with pytest.raises(EnvServerError) as over:
            await env.step(WordleAction(message="[crane]"))
        assert over.value.code == "EPISODE_OVER"
        assert (await env.state()).step_count == 1


def test_reward_components_travel_with_each_step(base_url):
    with WordleEnv(base_url=base_url) as env:
        assert "reward_components" not in env.reset(word="slate").metadata
        result = env.step(WordleAction(message="[crane]"))
        assert result.metadata["reward_components"] == {"progress_gain": 0.3, "mistakes": 0.0}
        assert result.observation.metadata == result.metadata
