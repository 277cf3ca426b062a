"""Reference agents of the grid world (see :mod:`openenv.agents`).

The known-good agent walks a shortest path found by BFS on the map the observation
shows. A step costs 0.01 and the goal pays 1.0, so the best return is
``1 - 0.01 x the path's length``; the agent is held to at least 0.8. Doing nothing
(walking into the top wall) only costs.
"""

from __future__ import annotations

from typing import Any

from openenv.agents import Expect, ReferenceAgents, Task, grid_path

from .models import GridWorldAction


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
    for move in grid_path(obs.grid, obs.position, obs.goal):
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
