"""atari_env over WebSocket: in-process ALE frame for frame, errors, sessions, agents."""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import warnings

import gymnasium as gym
import numpy as np
import pytest
from atari_env import AsyncAtariEnv, AtariAction, AtariEnv
from atari_env.server import AtariEnvironment
from gymnasium.utils.env_checker import check_env

from openenv import EnvServerError
from openenv.integrations.gymnasium import to_gymnasium


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(AtariEnvironment).base_url


@pytest.fixture
def client(base_url):
    with AtariEnv(base_url=base_url) as env:
        yield env


def test_breakout_over_websocket_is_in_process_ale(client):
    reference = gym.make("ALE/Breakout-v5")
    result = client.reset(game="Breakout", seed=5)
    assert client.decode(result.observation).tobytes() == reference.reset(seed=5)[0].tobytes()
    rng = random.Random(0)
    for _ in range(40):
        action = rng.randrange(4)
        result = client.step(action)
        obs, reward, terminated, truncated, info = reference.step(action)
        assert client.decode(result.observation).tobytes() == obs.tobytes()
        assert (result.reward, result.observation.lives) == (reward, info["lives"])
        assert (result.observation.terminated, result.observation.truncated) == (
            terminated,
            truncated,
        )


def test_same_seed_same_actions_same_frames(client):
    def frames(seed: int) -> str:
        digest = hashlib.sha256()
        result = client.reset(game="Pong", seed=seed, obs_type="grayscale", resize=(84, 84))
        digest.update(client.decode(result.observation).tobytes())
        for step in range(30):
            result = client.step(step % 6)
            digest.update(client.decode(result.observation).tobytes())
        return digest.hexdigest()

    assert frames(1) == frames(1)
    assert frames(1) != frames(2)


def test_an_illegal_action_is_an_error_and_the_game_goes_on(client):
    client.reset(game="Breakout", seed=0)
    with pytest.raises(EnvServerError, match="action 7 is not one of Breakout's 4 actions") as e:
        client.step(AtariAction(action=7))
    assert e.value.code == "EXECUTION_ERROR"
    with pytest.raises(EnvServerError) as caught:
        client.step({"action": "FIRE"})
    assert caught.value.code == "VALIDATION_ERROR"
    assert client.step(AtariAction(action=1)).done is False
    assert client.state().step_count == 1


def test_an_unknown_game_lists_known_ones(client):
    with pytest.raises(EnvServerError, match=r"unknown Atari game 'Zelda'.*Breakout, Pong"):
        client.reset(game="Zelda")


def test_a_scripted_agent_plays_breakout(client):
    """FIRE to launch the ball, then random moves: 100 steps, rewards are numbers."""
    rng = random.Random(7)
    result = client.reset(game="Breakout", seed=7)
    assert client.action_meanings[1] == "FIRE"
    rewards, episode = [], []
    lives = result.observation.lives
    for step in range(100):
        action = 1 if step % 20 == 0 or result.observation.lives < lives else rng.choice([2, 3])
        lives = result.observation.lives
        result = client.step(action)
        rewards.append(result.reward)
        episode.append(result.reward)
        if result.done:
            result = client.reset(game="Breakout")
            episode = []
    assert len(rewards) == 100
    assert all(isinstance(r, float) and math.isfinite(r) and r >= 0 for r in rewards)
    assert client.state().episode_return == sum(episode)


def test_concurrent_sessions_are_independent(base_url):
    with AtariEnv(base_url=base_url) as first, AtariEnv(base_url=base_url) as second:
        pairs = [(first, gym.make("ALE/Pong-v5"), 1), (second, gym.make("ALE/Pong-v5"), 2)]
        for client, twin, seed in pairs:
            result = client.reset(game="Pong", seed=seed)
            assert client.decode(result.observation).tobytes() == twin.reset(seed=seed)[0].tobytes()
        rng = random.Random(3)
        for _ in range(25):
            for client, twin, _ in pairs:
                action = rng.randrange(6)
                result = client.step(action)
                assert client.decode(result.observation).tobytes() == twin.step(action)[0].tobytes()


async def test_async_sessions_in_parallel(base_url):
    async def play(seed: int) -> float:
        async with AsyncAtariEnv(base_url=base_url) as env:
            await env.reset(game="SpaceInvaders", seed=seed, obs_type="ram")
            total = 0.0
            for step in range(20):
                result = await env.step(step % 6)
                total += result.reward
                assert len(env.decode(result.observation)) == 128
            return total

    totals = await asyncio.gather(*(play(seed) for seed in range(3)))
    assert all(isinstance(t, float) for t in totals)


def test_the_gymnasium_adapter(base_url):
    env = to_gymnasium(
        AtariEnv(base_url=base_url), game="Breakout", resize=(84, 84), max_episode_steps=100
    )
    assert env.observation_space == gym.spaces.Box(0, 255, (84, 84, 3), np.uint8)
    assert env.action_space == gym.spaces.Discrete(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env)
    obs, info = env.reset(seed=0)
    assert obs.shape == (84, 84, 3) and info["lives"] == 5
    env.close()
