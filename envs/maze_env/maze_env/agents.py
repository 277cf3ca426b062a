"""Reference agents of the maze environment (see :mod:`openenv.agents`).

The known-good agent plans the whole path by BFS on the full view and walks it. A
step costs 0.01 and the exit pays 1.0, so the best return is ``1 - 0.01 x the
path's length``, which a long 8x8 maze makes small: it is held to more than 0. Doing nothing
(walking into a wall) only costs.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from openenv.agents import Expect, ReferenceAgents, Task, seed_tasks

from .models import MazeAction

MOVES = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


def bfs_path(grid: list[str], start: tuple[int, ...], goal: tuple[int, ...]) -> list[str]:
    """The moves of a shortest path from ``start`` to ``goal`` ('#' are walls)."""
    came: dict[tuple[int, ...], tuple[tuple[int, ...], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        for name, (dr, dc) in MOVES.items():
            nxt = (cell[0] + dr, cell[1] + dc)
            if grid[nxt[0]][nxt[1]] != "#" and nxt not in came:
                came[nxt] = (cell, name)
                queue.append(nxt)
    path: list[str] = []
    cell = goal
    while (previous := came[cell]) is not None:
        cell, name = previous
        path.append(name)
    return path[::-1]


def play_good(session: Any, first: Any, task: Task) -> Any:
    """Plan the whole path by BFS on the full view, then walk it."""
    obs = first.observation
    result = first
    for move in bfs_path(obs.view, tuple(obs.position), tuple(obs.exit)):
        result = session.step(MazeAction(move=move))
    return result


def into_a_wall(observation: Any) -> MazeAction:
    """Doing nothing: a move into a wall beside the agent (it stays where it is)."""
    row, column = observation.position
    for move, (dr, dc) in MOVES.items():
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
