"""atari_env in-process: games and ids, observation types, seeding, errors, tools."""

from __future__ import annotations

import hashlib

import gymnasium as gym
import numpy as np
import pytest
from atari_env import AtariAction, AtariObservation
from atari_env.server import AtariEnvironment
from atari_env.server.environment import resolve_game

from openenv.environment import EpisodeOver
from openenv.integrations.gym_spaces import decode_png, decode_value, space_from_description


@pytest.fixture
def env():
    environment = AtariEnvironment()
    yield environment
    environment.close()


def screen(observation: AtariObservation, env: AtariEnvironment) -> np.ndarray:
    return decode_value(env.observation_space, observation.obs)


def frames_hash(env: AtariEnvironment, seed: int, actions: list[int], **options) -> str:
    digest = hashlib.sha256()
    observation = env.reset(seed=seed, **options)
    digest.update(screen(observation, env).tobytes())
    for action in actions:
        observation = env.step(AtariAction(action=action))
        digest.update(screen(observation, env).tobytes())
        digest.update(repr((observation.reward, observation.lives, observation.done)).encode())
    return digest.hexdigest()


def test_reset_describes_the_game(env):
    obs = env.reset(game="Breakout", seed=0, episode_id="e")
    assert (obs.game, obs.action_meanings) == ("Breakout", ["NOOP", "FIRE", "RIGHT", "LEFT"])
    assert (obs.lives, obs.reward, obs.done) == (5, None, False)
    assert space_from_description(obs.observation_space).shape == (210, 160, 3)
    assert obs.action_space["n"] == 4
    assert set(obs.obs) == {"png"}
    reference, _ = gym.make("ALE/Breakout-v5").reset(seed=0)
    assert screen(obs, env).tobytes() == reference.tobytes()
    assert (env.state.game, env.state.seed, env.state.episode_id) == ("Breakout", 0, "e")


@pytest.mark.parametrize(
    ("name", "display", "frameskip", "sticky"),
    [
        ("Pong", "Pong", 4, 0.25),
        ("pong", "Pong", 4, 0.25),
        ("space_invaders", "SpaceInvaders", 4, 0.25),
        ("SpaceInvaders", "SpaceInvaders", 4, 0.25),
        ("ALE/Pong-v5", "Pong", 4, 0.25),
        ("PongNoFrameskip-v4", "Pong", 1, 0.0),
        ("Pong-v0", "Pong", (2, 5), 0.25),
    ],
)
def test_games_by_name_or_gymnasium_id(name, display, frameskip, sticky):
    found, _, defaults = resolve_game(name)
    assert found == display
    assert (defaults["frameskip"], defaults["repeat_action_probability"]) == (frameskip, sticky)


def test_unknown_games_are_explained(env):
    with pytest.raises(ValueError, match=r"unknown Atari game 'Pongg'; did you mean Pong\?"):
        env.reset(game="Pongg")
    with pytest.raises(ValueError, match="known games include Breakout, Pong"):
        env.reset(game="Zelda")
    with pytest.raises(ValueError, match="mode"):
        env.reset(game="Breakout", mode=99)


def test_illegal_actions_are_refused_and_the_game_goes_on(env):
    env.reset(game="Breakout", seed=0)
    with pytest.raises(ValueError, match="action 4 is not one of Breakout's 4 actions: 0 NOOP"):
        env.step(AtariAction(action=4))
    with pytest.raises(ValueError, match="-1 is not one of"):
        env.step(AtariAction(action=-1))
    with pytest.raises(ValueError):
        AtariAction(action="1")  # strict: an index, not a string
    assert env.state.step_count == 0
    assert env.step(AtariAction(action=1)).done is False
    env.reset(game="Breakout", seed=0, full_action_space=True)
    assert env.step(AtariAction(action=17)).reward == 0.0  # DOWNLEFTFIRE exists in the full set


def test_seeded_reproducibility(env):
    rng = np.random.default_rng(0)
    actions = [int(a) for a in rng.integers(0, 4, 60)]
    first = frames_hash(env, 3, actions, game="Breakout")
    assert frames_hash(env, 3, actions, game="Breakout") == first
    other = AtariEnvironment()
    assert frames_hash(other, 3, actions, game="Breakout") == first  # another emulator
    assert frames_hash(other, 4, actions, game="Breakout") != first  # sticky actions differ
    other.close()


def test_observation_types_resize_and_formats(env):
    gray = env.reset(game="Pong", obs_type="grayscale", seed=0)
    assert screen(gray, env).shape == (210, 160)
    small = env.reset(game="Pong", obs_type="grayscale", resize=(84, 84), seed=0)
    assert screen(small, env).shape == (84, 84) and small.observation_space["shape"] == [84, 84]
    colour = env.reset(game="Pong", resize=(84, 84), frame_format="array", seed=0)
    assert set(colour.obs) == {"dtype", "shape", "b64"}
    assert screen(colour, env).shape == (84, 84, 3)
    png = env.reset(game="Pong", resize=(84, 84), seed=0)
    assert screen(png, env).tobytes() == screen(colour, env).tobytes()  # PNG is lossless
    ram = env.reset(game="Pong", obs_type="ram", seed=0, render=True)
    assert len(ram.obs) == 128 and screen(ram, env).dtype == np.uint8
    assert decode_png(ram.frame).shape == (210, 160, 3)
    with pytest.raises(ValueError, match="resize"):
        env.reset(game="Pong", obs_type="ram", resize=(84, 84))


def test_truncation_lives_and_counters(env):
    env.reset(game="Breakout", seed=0, max_episode_steps=5, frameskip=2)
    observations = [env.step(AtariAction(action=1)) for _ in range(5)]
    assert [o.truncated for o in observations] == [False] * 4 + [True]
    assert observations[-1].done and observations[-1].episode_frame_number == 10
    assert all(o.lives == 5 for o in observations)
    assert env.truncated and env.state.step_count == 5
    with pytest.raises(EpisodeOver):
        env.step(AtariAction(action=0))
    assert env.state.step_count == 5 and env.env.ale.getEpisodeFrameNumber() == 10


def test_the_emulator_is_reused_unless_its_settings_change(env):
    env.reset(game="Pong", seed=0)
    first = env.env
    env.reset(game="Pong", seed=1, resize=(84, 84), render=True)  # post-processing only
    assert env.env is first
    env.reset(game="Pong", seed=1, frameskip=2)
    assert env.env is not first


def test_reset_options_are_validated():
    model = AtariEnvironment.reset_options_model()
    assert model.model_validate({"game": "Pong", "resize": [84, 84]}).resize == (84, 84)
    for bad in (
        {"obs_type": "rgbd"},
        {"frameskip": 0},
        {"repeat_action_probability": 1.5},
        {"resize": [84]},
        {"resize": [2, 2]},
        {"frame_format": "jpeg"},
        {"colour": True},
    ):
        with pytest.raises(ValueError):
            model.model_validate(bad)


async def test_tools(env):
    tools = AtariEnvironment.tools()
    assert set(tools) == {"spaces", "list_games", "action_meanings"}
    games = await tools["list_games"].call(env, {})
    assert {"Breakout", "Pong", "SpaceInvaders"} <= set(games) and len(games) > 100
    full = await tools["action_meanings"].call(env, {"game": "Pong", "full_action_space": True})
    assert len(full) == 18
    described = await tools["spaces"].call(env, {"game": "Breakout", "resize": [84, 84]})
    assert described["observation_space"]["shape"] == [84, 84, 3]
    reset = env.reset(game="Breakout", resize=(84, 84))
    assert described["observation_space"] == reset.observation_space
    assert described["action_space"] == reset.action_space
    assert (await tools["spaces"].call(env, {}))["game"] == "Breakout"
