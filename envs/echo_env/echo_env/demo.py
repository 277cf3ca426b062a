"""The echo environment's demo scenarios (see :mod:`openenv.demos`): the same episodes
unsandboxed, with every session in its own sandbox, and served from a container."""

from __future__ import annotations

import math
import random

from openenv.demos import DemoCheckFailed, Episode, Scenario

from .agents import echo_message
from .client import EchoEnv
from .models import EchoAction


def play(client: EchoEnv, seed: int, episode: Episode) -> None:
    """Say random words until the episode ends; checks echo and reward = len(message) / 10."""
    rng = random.Random(seed)
    result = client.reset(seed=seed)
    while not result.done:
        message = echo_message(rng)
        result = episode.step(client, EchoAction(message=message))
        if result.observation.echoed_message != message:
            raise DemoCheckFailed(f"sent {message!r}, echoed {result.observation.echoed_message!r}")
        if not math.isclose(result.reward, len(message) / 10):
            raise DemoCheckFailed(
                f"reward {result.reward} for {message!r}, expected {len(message) / 10}"
            )


SCENARIOS = [
    Scenario("echo", env="echo_env", client=EchoEnv, play=play),
    Scenario(
        "echo (sandboxed)",
        env="echo_env",
        client=EchoEnv,
        play=play,
        isolation="sandbox",
        seeds_from="echo",  # the same episodes, so the same rewards, as unsandboxed
    ),
    Scenario(
        "echo (container)",
        env="echo_env",
        client=EchoEnv,
        play=play,
        isolation="container",  # its image, built by openenv build the first time
        seeds_from="echo",
    ),
]
