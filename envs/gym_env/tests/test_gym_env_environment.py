"""gym_env in-process: reset options, seeding, errors, settings, tools."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gym_env import GymAction, GymObservation
from gym_env.server import GymEnvironment
from gym_env.server import environment as gym_module

from openenv.discovery import metadata_for
from openenv.environment import EpisodeNotStarted, EpisodeOver
from openenv.integrations.gym_spaces import decode_array, decode_png, space_from_description


@pytest.fixture
def env():
    environment = GymEnvironment()
    yield environment
    environment.close()


def test_reset_makes_the_default_environment(env):
    obs = env.reset(seed=3, episode_id="e")
    assert isinstance(obs, GymObservation)
    assert obs.env_id == "CartPole-v1" and (obs.reward, obs.done) == (None, False)
    reference, _ = gym.make("CartPole-v1").reset(seed=3)
    assert np.array(obs.obs, np.float32).tobytes() == reference.tobytes()
    assert (
        space_from_description(obs.observation_space) == gym.make("CartPole-v1").observation_space
    )
    assert obs.action_space == {"type": "Discrete", "n": 2, "start": 0, "dtype": "int64"}
    state = env.state
    assert (state.episode_id, state.step_count, state.env_id, state.seed) == (
        "e",
        0,
        "CartPole-v1",
        3,
    )
    assert env.reset(spaces=False).observation_space is None


def test_steps_carry_reward_flags_and_info(env):
    env.reset(env_id="CartPole-v1", seed=0)
    total = 0.0
    for _ in range(500):
        obs = env.step(GymAction(action=1))  # always right: falls within a few dozen steps
        total += obs.reward
        if obs.done:
            break
    assert obs.terminated and not obs.truncated and obs.done
    assert env.state.episode_return == total == env.state.step_count
    with pytest.raises(EpisodeOver):
        env.step(GymAction(action=1))
    assert env.state.episode_return == total == env.state.step_count


def test_truncation_by_max_episode_steps(env):
    env.reset(env_id="Pendulum-v1", seed=0, max_episode_steps=3)
    flags = [env.step(GymAction(action=[0.0])) for _ in range(3)]
    assert [(o.terminated, o.truncated, o.done) for o in flags] == [
        (False, False, False),
        (False, False, False),
        (False, True, True),
    ]


def test_step_before_reset_and_illegal_actions(env):
    with pytest.raises(EpisodeNotStarted, match="reset"):
        env.step(GymAction(action=0))
    env.reset(seed=0)
    for bad, message in [
        (2, r"not in the action space Discrete\(2\)"),
        (-1, "not in the action space"),
        (0.5, "expected an integer"),
        ("left", "expected an integer"),
        ([0], "expected an integer"),
    ]:
        with pytest.raises(ValueError, match=message):
            env.step(GymAction(action=bad))
    assert env.state.step_count == 0  # refused actions are not steps
    assert env.step(GymAction(action=0)).reward == 1.0


def test_unknown_ids_are_explained(env):
    with pytest.raises(ValueError, match=r"did you mean CartPole-v1.*known ids include"):
        env.reset(env_id="CartPol-v1")
    with pytest.raises(ValueError, match="unknown Gymnasium environment 'NoSuchGame-v9'"):
        env.reset(env_id="NoSuchGame-v9")
    with pytest.raises(ValueError, match="would import a module"):
        env.reset(env_id="os:CartPole-v1")
    with pytest.raises(ValueError, match="render_mode"):
        env.reset(make_kwargs={"render_mode": "human"})
    with pytest.raises(ValueError, match="refused the options"):
        env.reset(make_kwargs={"no_such_option": 1})


def test_a_failed_reset_keeps_the_env_but_starts_no_episode(env):
    env.reset(seed=1)
    made = env.env
    with pytest.raises(ValueError):
        env.reset(env_id="NoSuchGame-v9")
    assert env.config is not None and env.config.env_id == "CartPole-v1" and env.env is made
    with pytest.raises(EpisodeNotStarted):  # the base class: a failed reset ends the episode
        env.step(GymAction(action=0))
    env.reset(seed=1)
    assert env.env is made and env.step(GymAction(action=0)).reward == 1.0


def test_the_env_is_reused_unless_the_options_change(env):
    env.reset(seed=1)
    first = env.env
    env.reset(seed=2)
    assert env.env is first
    env.reset(seed=2, max_episode_steps=10)
    assert env.env is not first
    env.reset(env_id="FrozenLake-v1", make_kwargs={"is_slippery": False})
    assert env.config.make_kwargs == (("is_slippery", False),)
    # Not slippery: RIGHT (2) always moves right.
    assert [env.step(GymAction(action=2)).obs for _ in range(3)] == [1, 2, 3]


def test_unseeded_resets_continue_the_random_stream_as_gymnasium_does(env):
    reference = gym.make("CartPole-v1")
    ours = [env.reset(seed=11).obs, env.reset().obs, env.reset().obs]
    theirs = [reference.reset(seed=11)[0], reference.reset()[0], reference.reset()[0]]
    assert [np.array(o, np.float32).tobytes() for o in ours] == [t.tobytes() for t in theirs]
    assert env.state.seed is None
    fresh = GymEnvironment()
    fresh.reset()  # a new env with no seed gets a random one, kept to replay the episode
    assert isinstance(fresh.state.seed, int)
    fresh.close()


def test_array_encoding_and_frames(env):
    obs = env.reset(seed=0, array_encoding="base64", render=True)
    assert decode_array(obs.obs).dtype == np.float32
    reference = gym.make("CartPole-v1", render_mode="rgb_array")
    reference.reset(seed=0)
    assert decode_png(obs.frame).tobytes() == reference.render().tobytes()
    stepped = env.step(GymAction(action=1))
    reference.step(1)
    assert decode_png(stepped.frame).tobytes() == reference.render().tobytes()
    assert env.reset(seed=0).frame is None


def test_other_space_types(env):
    blackjack = env.reset(env_id="Blackjack-v1", seed=0)
    assert blackjack.observation_space["type"] == "Tuple" and len(blackjack.obs) == 3
    continuous = env.reset(env_id="MountainCarContinuous-v0", seed=0)
    assert continuous.action_space["type"] == "Box"
    assert env.step(GymAction(action=[0.5])).reward is not None
    with pytest.raises(ValueError, match="not in the action space"):
        env.step(GymAction(action=[1.5]))


def test_reset_options_are_validated():
    model = GymEnvironment.reset_options_model()
    assert model.model_validate({"env_id": "Acrobot-v1", "max_episode_steps": 5}).env_id
    for bad in (
        {"max_episode_steps": 0},
        {"array_encoding": "hex"},
        {"env_id": ""},
        {"colour": "red"},
        {"seed": -1},
    ):
        with pytest.raises(ValueError):
            model.model_validate(bad)


async def test_tools(env):
    tools = GymEnvironment.tools()
    assert set(tools) == {"spaces", "list_env_ids"}
    described = await tools["spaces"].call(env, {"env_id": "Pendulum-v1"})
    assert described["action_space"]["type"] == "Box"
    assert (described["observation_field"], described["action_field"]) == ("obs", "action")
    assert described["frame_field"] == "frame" and described["render_option"] == "render"
    env.reset(env_id="Acrobot-v1")
    assert (await tools["spaces"].call(env, {}))["env_id"] == "Acrobot-v1"
    listed = await tools["list_env_ids"].call(env, {"contains": "cartpole"})
    assert "CartPole-v1" in listed and all("cartpole" in i.lower() for i in listed)


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPENENV_GYM_ENV_ID", "Acrobot-v1")
    monkeypatch.setenv("OPENENV_GYM_ALLOW", "Acrobot-*, CartPole-v1")
    gym_module.settings.cache_clear()
    try:
        env = GymEnvironment()
        assert env.reset(seed=0).env_id == "Acrobot-v1"
        env.reset(env_id="CartPole-v1")
        with pytest.raises(ValueError, match="not allowed"):
            env.reset(env_id="Pendulum-v1")
        assert gym_module.known_ids() == ["Acrobot-v1", "CartPole-v1"]
        env.close()
    finally:
        monkeypatch.undo()
        gym_module.settings.cache_clear()
    assert gym_module.settings().default_env_id == "CartPole-v1"  # from openenv.yaml


def test_metadata():
    meta = metadata_for(GymEnvironment)
    assert meta.name == "gym_env" and meta.version == "0.1.0"
    assert meta.description.startswith("Any registered Gymnasium environment")


async def test_quick_steps_run_on_the_event_loop(env, monkeypatch):
    assert GymEnvironment.runs_async("step_async") and GymEnvironment.runs_async("reset_async")
    assert env.runs_inline is False  # the first reset goes to a thread
    await env.reset_async(seed=0)
    assert env.runs_inline is False  # the first step of an episode goes to a thread
    await env.step_async(GymAction(action=1))
    assert env.runs_inline is True  # CartPole steps in microseconds: the next one runs inline
    while not (await env.step_async(GymAction(action=1))).done:
        pass
    assert env.runs_inline is False  # the episode ended: the reset goes to a thread
    await env.reset_async(seed=0, render=True)
    await env.step_async(GymAction(action=1))
    assert env.runs_inline is False  # rendering steps always go to a thread
    monkeypatch.setattr(gym_module, "INLINE_STEP_S", 0.0)
    await env.reset_async(seed=0)
    await env.step_async(GymAction(action=1))
    assert env.runs_inline is False
