"""The Connect Four environment's demo scenario (see :mod:`openenv.demos`)."""

from __future__ import annotations

from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

from .agents import play_good
from .client import Connect4Env


def play(client: Connect4Env, seed: int, episode: Episode) -> None:
    """A 3-ply lookahead agent (the board rebuilt from the observation) against random play."""
    options = {"opponent": "random", "agent_player": seed % 2}
    first = client.reset(seed=seed, **options)
    result = play_good(Recorded(client, episode), first, agent_task(seed, **options))
    expected = {"agent": 1.0, "opponent": -1.0, "draw": 0.0}.get(result.observation.winner or "")
    if result.reward != expected:
        raise DemoCheckFailed(f"winner {result.observation.winner}, reward {result.reward}")


SCENARIOS = [Scenario("connect4", env="connect4_env", client=Connect4Env, play=play)]
