"""gym_env over WebSocket: exactly in-process Gymnasium, errors that leave the session
alive, independent sessions, a scripted agent, and the Gymnasium adapters on top."""

from __future__ import annotations

import asyncio
import random
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gym_env import AsyncGymEnv, GymAction, GymEnv
from gym_env.server import GymEnvironment
from gymnasium.utils.env_checker import check_env

from openenv import EnvServerError, GenericEnvClient
from openenv.integrations.gymnasium import (
    OpenEnvGymnasiumEnv,
    to_gymnasium,
    to_gymnasium_vector,
)
from openenv.runtime.local import LocalRuntime


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(GymEnvironment).base_url


@pytest.fixture
def client(base_url):
    with GymEnv(base_url=base_url) as env:
        yield env


def same_values(a, b) -> bool:
    """Bit-exact for arrays (with dtype), == otherwise; tuples element by element."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, tuple):
        return len(a) == len(b) and all(map(same_values, a, b))
    return a == b


def heuristic(obs) -> int:
    """The classic CartPole controller: push the way the pole leans and falls."""
    return 1 if obs[2] + obs[3] > 0 else 0


def compare_trajectories(client, env_id: str, seed: int, steps: int, **make_kwargs) -> int:
    """Drive the served env and an in-process one with the same seeded random actions."""
    reference = gym.make(env_id, **make_kwargs)
    options = {"make_kwargs": make_kwargs} if make_kwargs else {}
    ours = client.reset(env_id=env_id, seed=seed, **options)
    theirs, _ = reference.reset(seed=seed)
    assert same_values(client.decode(ours.observation), theirs)
    reference.action_space.seed(seed)
    episodes = 1
    for _ in range(steps):
        action = reference.action_space.sample()
        result = client.step(action)
        obs, reward, terminated, truncated, _ = reference.step(action)
        assert same_values(client.decode(result.observation), obs)
        assert (result.reward, result.observation.terminated) == (reward, terminated)
        assert (result.observation.truncated, result.done) == (truncated, terminated or truncated)
        if result.done:  # the next episode unseeded: the random stream goes on, on both sides
            episodes += 1
            ours = client.reset(env_id=env_id, **options)
            assert same_values(client.decode(ours.observation), reference.reset()[0])
    return episodes


def test_cartpole_over_websocket_is_in_process_cartpole(client):
    assert compare_trajectories(client, "CartPole-v1", seed=42, steps=400) > 3


@pytest.mark.parametrize(
    ("env_id", "make_kwargs"),
    [
        ("FrozenLake-v1", {}),  # Discrete observations
        ("Blackjack-v1", {}),  # Tuple observations
        ("Pendulum-v1", {}),  # Box actions
        ("Taxi-v4", {}),
        ("FrozenLake-v1", {"map_name": "8x8"}),
    ],
)
def test_other_environments_over_websocket(client, env_id, make_kwargs):
    compare_trajectories(client, env_id, seed=7, steps=60, **make_kwargs)


def test_seeded_episodes_replay(client):
    def episode(seed: int) -> list[bytes]:
        rng = random.Random(0)
        result = client.reset(seed=seed)
        observations = [result.observation]
        while not result.done:
            result = client.step(rng.randint(0, 1))
            observations.append(result.observation)
        return [np.array(o.obs, np.float32).tobytes() for o in observations]

    assert episode(5) == episode(5)
    assert episode(5) != episode(6)


def test_an_illegal_action_is_an_error_frame_and_the_episode_goes_on(client):
    client.reset(seed=0)
    client.step(GymAction(action=1))
    for bad in (2, [1], "right", 1.5):
        with pytest.raises(EnvServerError) as caught:
            client.step(GymAction(action=bad))
        assert caught.value.code == "EXECUTION_ERROR"
        assert "ValueError" in caught.value.message and "action space Discrete(2)" in str(
            caught.value
        )
    result = client.step(GymAction(action=0))
    assert result.reward == 1.0 and client.state().step_count == 2


def test_an_unknown_id_is_an_error_that_lists_known_ones(client):
    with pytest.raises(EnvServerError, match=r"unknown Gymnasium environment 'Pong'.*CartPole-v1"):
        client.reset(env_id="Pong")
    assert client.reset(seed=1).observation.env_id == "CartPole-v1"  # the session is fine


def test_concurrent_sessions_are_independent(base_url):
    with GymEnv(base_url=base_url) as first, GymEnv(base_url=base_url) as second:
        twins = {1: gym.make("CartPole-v1"), 2: gym.make("CartPole-v1")}
        for seed, (client, twin) in zip(
            (1, 2), ((first, twins[1]), (second, twins[2])), strict=True
        ):
            assert same_values(
                client.decode(client.reset(seed=seed).observation), twin.reset(seed=seed)[0]
            )
        rng = random.Random(3)
        for _ in range(40):  # interleaved, with different actions
            for client, twin in ((first, twins[1]), (second, twins[2])):
                action = rng.randint(0, 1)
                result = client.step(action)
                obs, *_ = twin.step(action)
                assert same_values(client.decode(result.observation), obs)
                if result.done:
                    client.reset()
                    twin.reset()


def test_the_heuristic_agent_survives_200_steps(client):
    for seed in (0, 1, 2):
        result = client.reset(seed=seed)
        steps = 0
        while not result.done:
            result = client.step(heuristic(client.decode(result.observation)))
            steps += 1
        assert steps >= 200, (seed, steps)
        assert client.state().episode_return == steps


async def test_async_client_and_parallel_sessions(base_url):
    async def run(seed: int) -> list[float]:
        async with AsyncGymEnv(base_url=base_url) as env:
            result = await env.reset(env_id="Acrobot-v1", seed=seed)
            observations = [env.decode(result.observation)]
            for i in range(10):
                result = await env.step(i % 3)
                observations.append(env.decode(result.observation))
            assert (await env.spaces())["env_id"] == "Acrobot-v1"
            return observations

    results = await asyncio.gather(*(run(seed) for seed in range(4)))
    reference = gym.make("Acrobot-v1")
    for seed, observations in enumerate(results):
        expected = [reference.reset(seed=seed)[0]]
        expected += [reference.step(i % 3)[0] for i in range(10)]
        assert all(map(same_values, observations, expected))


def test_spaces_and_list_env_ids_tools(client):
    described = client.spaces(env_id="MountainCar-v0")
    assert described["observation_space"]["shape"] == [2]
    assert "MountainCar-v0" in client.call_tool("list_env_ids", contains="Mountain")


# -- the Gymnasium adapter ------------------------------------------------------------------


def checked(env: OpenEnvGymnasiumEnv) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # check_env's advice (infinite bounds, no spec)
        check_env(env)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "Blackjack-v1", "FrozenLake-v1"])
def test_the_adapter_passes_check_env(base_url, env_id):
    env = to_gymnasium(GymEnv(base_url=base_url), env_id=env_id)
    assert env.observation_space == gym.make(env_id).observation_space
    assert env.action_space == gym.make(env_id).action_space
    checked(env)
    env.close()


def test_the_adapter_renders_and_works_with_a_generic_client(base_url):
    env = to_gymnasium(
        GenericEnvClient(base_url=base_url), env_id="CartPole-v1", render_mode="rgb_array"
    )
    checked(env)
    env.reset(seed=0)
    reference = gym.make("CartPole-v1", render_mode="rgb_array")
    reference.reset(seed=0)
    assert env.render().tobytes() == reference.render().tobytes()
    assert env.metadata["render_fps"] == 50
    env.close()
    with pytest.raises(ValueError, match="render_mode 'human'"):
        to_gymnasium(GymEnv(base_url=base_url), render_mode="human")


def test_the_adapter_is_in_process_gymnasium(base_url):
    env = to_gymnasium(GymEnv(base_url=base_url), env_id="CartPole-v1")
    reference = gym.make("CartPole-v1")
    assert same_values(env.reset(seed=9)[0], reference.reset(seed=9)[0])
    for step in range(300):
        ours = env.step(step % 2)
        theirs = reference.step(step % 2)
        assert same_values(ours[0], theirs[0]) and ours[1:4] == theirs[1:4]
        if ours[2] or ours[3]:
            assert same_values(env.reset()[0], reference.reset()[0])
    with pytest.raises(EnvServerError, match="not in the action space"):
        env.step(5)
    env.close()


def test_the_vector_env(base_url):
    envs = to_gymnasium_vector(lambda: GymEnv(base_url=base_url), 3, env_id="CartPole-v1")
    assert isinstance(envs, gym.vector.VectorEnv)
    reference = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")] * 3)
    assert envs.observation_space == reference.observation_space
    assert same_values(envs.reset(seed=0)[0], reference.reset(seed=0)[0])
    rng = np.random.default_rng(0)
    dones = 0
    for _ in range(60):  # long enough for autoresets (next_step, as SyncVectorEnv)
        actions = rng.integers(0, 2, 3)
        ours, theirs = envs.step(actions), reference.step(actions)
        assert same_values(ours[0], theirs[0])
        for a, b in zip(ours[1:4], theirs[1:4], strict=True):
            assert np.array_equal(a, b)
        dones += int(ours[2].sum() + ours[3].sum())
    assert dones > 0
    envs.close()
    reference.close()


def test_the_vector_env_same_step_autoreset(base_url):
    clients = [GymEnv(base_url=base_url) for _ in range(2)]
    envs = to_gymnasium_vector(clients, autoreset_mode="same_step", env_id="CartPole-v1")
    envs.reset(seed=1)
    finals = 0
    for _ in range(80):
        _, _, terminated, truncated, infos = envs.step(np.array([1, 1]))
        if terminated.any() or truncated.any():
            finals += 1
            assert "final_obs" in infos and infos["final_obs"][terminated | truncated][0].shape == (
                4,
            )
    assert finals > 0
    envs.close()


def test_openenv_serve_gym_env():
    """`openenv serve gym_env`: the entry point, openenv.yaml, a subprocess server."""
    runtime = LocalRuntime("gym_env", require_token=False)
    try:
        with GymEnv(base_url=runtime.start()) as env:
            result = env.reset(seed=0)
            assert result.observation.env_id == "CartPole-v1"
            assert env.step(1).reward == 1.0
    finally:
        runtime.stop()
