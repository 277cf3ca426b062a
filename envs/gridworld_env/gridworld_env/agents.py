"""Reference agents of the grid world (see :mod:`openenv.agents`).

The known-good agent walks a shortest path found by BFS on the map the observation
shows. A step costs 0.01 and the goal pays 1.0, so the best return is
``1 - 0.01 x the path's length``; the agent is held to at least 0.8. Doing nothing
(walking into the top wall) only costs.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from openenv.agents import Expect, ReferenceAgents, Task

from .models import GridWorldAction

MOVES = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


def shortest_path(grid: list[str], start: tuple[int, int], goal: tuple[int, int]) -> list[str]:
    """The moves of a shortest path from ``start`` to ``goal`` ('#' are walls)."""
    came: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        for name, (dr, dc) in MOVES.items():
            nxt = (cell[0] + dr, cell[1] + dc)
            inside = 0 <= nxt[0] < len(grid) and 0 <= nxt[1] < len(grid[nxt[0]])
            if inside and grid[nxt[0]][nxt[1]] != "#" and nxt not in came:
                came[nxt] = (cell, name)
                queue.append(nxt)
    path: list[str] = []
    cell = goal
    while (previous := came[cell]) is not None:
        cell, name = previous
        path.append(name)
    return path[::-1]


def tasks() -> list[Task]:
    return [
        Task(f"{layout}-seed-{s}", {"seed": s, "layout": layout, "random_start": True})
        for s in range(4)
        for layout in ("four_rooms", "u_turn", "open")
    ]


def play_good(session: Any, first: Any, task: Task) -> Any:
    """BFS on the map, then walk the path."""
    obs = first.observation
    result = first
    for move in shortest_path(obs.grid, tuple(obs.position), tuple(obs.goal)):
        if result.done:
            break
        result = session.step(GridWorldAction(move=move))
    return result


AGENTS = ReferenceAgents(
    tasks=tasks,
    good=play_good,
    noop=GridWorldAction(move="up"),
    expect=Expect(
        good_min=0.8,
        why="a step costs 0.01: the shortest path earns 1 - 0.01 x its length",
    ),
)
