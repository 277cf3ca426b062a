"""The maze environment's demo scenario (see :mod:`openenv.demos`)."""

from __future__ import annotations

from openenv.agents import grid_path
from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

from .agents import play_good
from .client import MazeEnv


def play(client: MazeEnv, seed: int, episode: Episode) -> None:
    """Plan the whole path by BFS on the full view, walk it; it must be the shortest."""
    first = client.reset(seed=seed, width=8, height=8)
    goal = tuple(first.observation.exit)
    path = grid_path(first.observation.view, first.observation.position, goal)
    result = play_good(Recorded(client, episode), first, agent_task(seed, width=8, height=8))
    shortest = client.state().shortest_path
    if not result.done or result.observation.position != list(goal) or len(path) != shortest:
        raise DemoCheckFailed(f"BFS took {len(path)} steps, shortest {shortest}")
    if abs(episode.total_reward - (1.0 - 0.01 * len(path))) > 1e-9:
        raise DemoCheckFailed(f"maze paid {episode.total_reward} for {len(path)} steps")


SCENARIOS = [Scenario("maze (bfs)", env="maze_env", client=MazeEnv, play=play)]
