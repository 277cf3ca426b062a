"""Reference agents of the maze environment (see :mod:`openenv.agents`).

The known-good agent plans the whole path by BFS on the full view and walks it. A
step costs 0.01 and the exit pays 1.0, so the best return is ``1 - 0.01 x the
path's length``, which a long 8x8 maze makes small: it is held to more than 0. Doing nothing
(walking into a wall) only costs.
"""

from __future__ import annotations

from typing import Any

from openenv.agents import GRID_MOVES, Expect, ReferenceAgents, Task, grid_path, seed_tasks

from .models import MazeAction


def play_good(session: Any, first: Any, task: Task) -> Any:
    """Plan the whole path by BFS on the full view, then walk it."""
    obs = first.observation
    result = first
    for move in grid_path(obs.view, obs.position, obs.exit):
        result = session.step(MazeAction(move=move))
    return result


def into_a_wall(observation: Any) -> MazeAction:
    """Doing nothing: a move into a wall beside the agent (it stays where it is)."""
    row, column = observation.position
    for move, (dr, dc) in GRID_MOVES.items():
        if observation.view[row + dr][column + dc] == "#":
            return MazeAction(move=move)
    return MazeAction(move="up")


AGENTS = ReferenceAgents(
    tasks=seed_tasks(20, width=8, height=8),
    good=play_good,
    noop=lambda task, result: into_a_wall(result.observation),
    expect=Expect(
        good_min=0.01,
        why="a step costs 0.01: the shortest path earns 1 - 0.01 x its length (> 0)",
    ),
)
