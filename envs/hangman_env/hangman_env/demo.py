"""The hangman environment's demo scenario (see :mod:`openenv.demos`)."""

from __future__ import annotations

import math
from typing import Any

from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

from .agents import play_good
from .client import HangmanEnv


def play(client: HangmanEnv, seed: int, episode: Episode) -> None:
    """The frequency agent on a seeded word: won with lives left, return 1.0."""

    def check(guess: str, message: str, result: Any) -> None:
        if result.observation.invalid or result.observation.guess != guess:
            raise DemoCheckFailed(f"{message!r} was read as {result.observation.guess!r}")

    first = client.reset(seed=seed)
    result = play_good(Recorded(client, episode), first, agent_task(seed), on_step=check)
    obs = result.observation
    if not obs.won:
        raise DemoCheckFailed(f"lost on {obs.word!r}: {obs.pattern}, wrong {obs.wrong_letters}")
    if not math.isclose(episode.total_reward, 1.0):
        raise DemoCheckFailed(f"a won game returned {episode.total_reward}, not 1.0")


SCENARIOS = [Scenario("hangman", env="hangman_env", client=HangmanEnv, play=play)]
