"""The chess environment's demo scenario (see :mod:`openenv.demos`)."""

from __future__ import annotations

from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

from .agents import play_good
from .client import ChessEnv


def play(client: ChessEnv, seed: int, episode: Episode) -> None:
    """A capture-greedy agent (moves sent in SAN) against the level-1 engine, 80 plies at most."""
    options = {"level": 1, "color": "white" if seed % 2 == 0 else "black", "max_plies": 80}
    first = client.reset(seed=seed, **options)
    result = play_good(Recorded(client, episode), first, agent_task(seed, **options))
    if result.reward not in (-1.0, 0.0, 1.0) or result.observation.result is None:
        raise DemoCheckFailed(f"game ended with reward {result.reward}, {result.observation}")


SCENARIOS = [Scenario("chess (level 1)", env="chess_env", client=ChessEnv, play=play)]
