"""The Atari environment's demo scenario (see :mod:`openenv.demos`): Breakout."""

from __future__ import annotations

from typing import Any

from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

from .agents import play_good
from .client import AtariEnv


def play_breakout(client: AtariEnv, seed: int, episode: Episode) -> None:
    """Breakout for at most 200 steps, the paddle following the ball (read from RAM).

    FIRE launches the ball (again after a lost life). Checks that rewards are
    non-negative numbers, that lives never increase, and that the paddle scores
    at least one brick.
    """
    options = {"game": "Breakout", "obs_type": "ram", "max_episode_steps": 200}
    result = client.reset(seed=seed, **options)
    if client.action_meanings[:4] != ["NOOP", "FIRE", "RIGHT", "LEFT"]:
        raise DemoCheckFailed(f"unexpected Breakout actions {client.action_meanings}")

    def check(lives: int, result: Any) -> None:
        if not isinstance(result.reward, float) or result.reward < 0:
            raise DemoCheckFailed(f"Breakout paid {result.reward!r}")
        if result.observation.lives > lives:
            raise DemoCheckFailed(f"lives went up from {lives} to {result.observation.lives}")

    play_good(Recorded(client, episode), result, agent_task(seed, **options), on_step=check)
    if len(episode.rewards) > 200:
        raise DemoCheckFailed(f"the episode ran {len(episode.rewards)} steps, not at most 200")
    if episode.total_reward < 1:
        raise DemoCheckFailed(f"the paddle scored nothing in {len(episode.rewards)} steps")


SCENARIOS = [Scenario("atari (breakout)", env="atari_env", client=AtariEnv, play=play_breakout)]
