"""The Gymnasium environment's demo scenario (see :mod:`openenv.demos`): CartPole."""

from __future__ import annotations

from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

from .agents import play_good
from .client import GymEnv

CARTPOLE_SOLVED_STEPS = 195
"""CartPole's classic bar: the pole kept up this many steps (as :mod:`gym_env.agents`)."""


def play_cartpole(client: GymEnv, seed: int, episode: Episode) -> None:
    """CartPole-v1 with the classic controller: push the way the pole leans and falls.

    Checks that the pole stays up for at least 195 steps (it usually lasts the
    500-step limit), and that every step pays 1.0, as CartPole does.
    """
    first = client.reset(env_id="CartPole-v1", seed=seed)
    play_good(Recorded(client, episode), first, agent_task(seed, env_id="CartPole-v1"))
    if any(reward != 1.0 for reward in episode.rewards):
        raise DemoCheckFailed(f"CartPole paid {set(episode.rewards)} for steps, not 1.0")
    steps = len(episode.rewards)
    if steps < CARTPOLE_SOLVED_STEPS:
        raise DemoCheckFailed(
            f"the pole fell after {steps} steps (seed {seed}); "
            f"the heuristic keeps it up for at least {CARTPOLE_SOLVED_STEPS}"
        )


SCENARIOS = [Scenario("cartpole", env="gym_env", client=GymEnv, play=play_cartpole)]
