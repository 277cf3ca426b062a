"""The guess-the-number environment's demo scenario (see :mod:`openenv.demos`)."""

from __future__ import annotations

import math
from typing import Any

from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

from .agents import play_good
from .client import GuessNumberEnv


def play(client: GuessNumberEnv, seed: int, episode: Episode) -> None:
    """Binary search on a seeded secret in 1..100: found within 7 guesses.

    Checks the reward: ``1 - (guesses - 1) / max_guesses`` on the winning step, 0 before.
    """

    def check(middle: int, result: Any) -> None:
        if result.observation.guess != middle or result.observation.wasted:
            raise DemoCheckFailed(f"[{middle}] was read as {result.observation.guess!r}")

    first = client.reset(seed=seed)
    result = play_good(Recorded(client, episode), first, agent_task(seed), on_step=check)
    obs = result.observation
    if not obs.won or obs.guesses_used > 7:
        raise DemoCheckFailed(f"binary search took {obs.guesses_used} guesses for {obs.secret}")
    expected = 1 - (obs.guesses_used - 1) / obs.max_guesses
    if not math.isclose(episode.total_reward, expected):
        raise DemoCheckFailed(f"reward {episode.total_reward}, expected {expected}")


SCENARIOS = [
    Scenario(
        "guess the number (binary search)",
        env="guess_number_env",
        client=GuessNumberEnv,
        play=play,
    ),
]
