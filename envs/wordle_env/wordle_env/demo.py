"""The Wordle environment's demo scenario (see :mod:`openenv.demos`): the reference
solver, and chatter without a guess read as an observation, not an error."""

from __future__ import annotations

import math
import random
from typing import Any

from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

from .agents import play_good
from .client import WordleEnv
from .models import WordleAction


def play(client: WordleEnv, seed: int, episode: Episode) -> None:
    """The reference solver on a seeded word: solved within six tries, return 1.0.

    Every third episode first says something with no guess in it, to show that
    invalid text is an observation (no try used, reward -0.1), not an error.
    """
    result = client.reset(seed=seed)
    expected = 1.0
    if random.Random(seed).random() < 1 / 3:
        result = episode.step(client, WordleAction(message="Hmm, let me think about it."))
        obs = result.observation
        if not obs.invalid or obs.tries_used != 0 or not math.isclose(result.reward, -0.1):
            raise DemoCheckFailed(f"chatter without a guess: {obs.error!r}, reward {result.reward}")
        expected = 0.9

    def check(guess: str, result: Any) -> None:
        obs = result.observation
        if obs.invalid or obs.guess != guess:
            raise DemoCheckFailed(f"[{guess}] was read as {obs.guess!r}: {obs.error}")

    result = play_good(Recorded(client, episode), result, agent_task(seed), on_step=check)
    obs = result.observation
    if not obs.solved:
        raise DemoCheckFailed(f"unsolved in {obs.max_tries} tries ({obs.answer}): {obs.board}")
    if not math.isclose(episode.total_reward, expected):
        raise DemoCheckFailed(f"a solved game returned {episode.total_reward}, not {expected}")


SCENARIOS = [Scenario("wordle (solver)", env="wordle_env", client=WordleEnv, play=play)]
