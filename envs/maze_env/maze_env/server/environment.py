"""Seeded random mazes: find the exit, seeing all of the maze or only the cells around you.

::

    env = MazeEnvironment()
    obs = env.reset(seed=3, width=8, height=8, observation="partial", view_radius=2)
    obs = env.step(MazeAction(move="down"))
    obs.view, obs.position, obs.reward

* **The maze**: ``width`` x ``height`` cells carved by a randomized depth-first search
  (a "perfect" maze: one path between any two cells), seeded by the episode's seed, so
  the same seed is the same maze. It is drawn on a grid of ``2*height+1`` rows and
  ``2*width+1`` columns ('#' wall, '.' floor). ``loops`` > 0 knocks down that fraction of
  the remaining inner walls, which makes several paths. Start: the top-left cell,
  ``[1, 1]``; exit ``E``: the bottom-right cell.
* **Observation**: ``full`` shows the whole grid and where the exit is; ``partial`` shows
  the ``(2*view_radius+1)``-square window around the agent (outside the maze reads '#')
  and not where the exit is. Both give the agent's position.
* **Reward**: ``-step_penalty`` (default 0.01) every step, plus ``exit_reward`` (default
  1.0) on the step that reaches the exit, which ends the episode. Walking into a wall
  leaves the agent in place (``bumped``) and still costs the step. After ``max_steps``
  (default ``10 * width * height``) the episode ends, ``truncated``.
* No move is illegal; anything but the four directions is refused by the action's schema.
  A step after the end raises ``EpisodeOver`` (over the wire: ``EPISODE_OVER``).
"""

from __future__ import annotations

import random
from collections import deque
from typing import Annotated, Literal

from pydantic import Field

from openenv import Environment, derive_seed

from ..models import MazeAction, MazeObservation, MazeState

DIRECTIONS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
Cell = tuple[int, int]


def generate_maze(width: int, height: int, rng: random.Random, loops: float = 0.0) -> list[str]:
    """A ``width`` x ``height``-cell maze as grid rows, carved by randomized DFS.

    Cell ``(i, j)`` is grid square ``(2i+1, 2j+1)``; the squares between are walls until
    carved. Every cell is reachable. ``loops`` removes that fraction of the inner walls left.
    """
    grid = [["#"] * (2 * width + 1) for _ in range(2 * height + 1)]
    seen = {(0, 0)}
    stack = [(0, 0)]
    grid[1][1] = "."
    while stack:
        i, j = stack[-1]
        options = [
            (i + di, j + dj)
            for di, dj in DIRECTIONS.values()
            if 0 <= i + di < height and 0 <= j + dj < width and (i + di, j + dj) not in seen
        ]
        if not options:
            stack.pop()
            continue
        ni, nj = rng.choice(options)
        grid[i + ni + 1][j + nj + 1] = "."  # the wall between: (2i+1 + 2ni+1) / 2
        grid[2 * ni + 1][2 * nj + 1] = "."
        seen.add((ni, nj))
        stack.append((ni, nj))
    if loops > 0:
        inner = [
            (r, c)
            for r in range(1, 2 * height)
            for c in range(1, 2 * width)
            if grid[r][c] == "#" and (r % 2) != (c % 2)  # between two cells, not a corner
        ]
        for r, c in inner:
            if rng.random() < loops:
                grid[r][c] = "."
    return ["".join(row) for row in grid]


def shortest_path(grid: list[str], start: Cell, goal: Cell) -> int:
    """Steps on the shortest path from ``start`` to ``goal`` (BFS over floor squares)."""
    dist = {start: 0}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            return dist[cell]
        for dr, dc in DIRECTIONS.values():
            nxt = (cell[0] + dr, cell[1] + dc)
            if grid[nxt[0]][nxt[1]] != "#" and nxt not in dist:
                dist[nxt] = dist[cell] + 1
                queue.append(nxt)
    raise ValueError("the exit cannot be reached")  # never, for a generated maze


class MazeEnvironment(Environment[MazeAction, MazeObservation, MazeState]):
    """Find the exit of a seeded random maze. See the module docstring for the rules."""

    runs_inline = True  # a step is microseconds of work: run on the server's event loop

    def __init__(self) -> None:
        super().__init__()
        self.grid = generate_maze(2, 2, random.Random(0))
        self.position: Cell = (1, 1)
        self.exit: Cell = (3, 3)
        self.partial, self.radius = False, 2
        self.step_penalty, self.exit_reward = 0.01, 1.0
        self.max_steps = 40

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        width: Annotated[int, Field(ge=2, le=40)] = 8,
        height: Annotated[int, Field(ge=2, le=40)] = 8,
        observation: Literal["full", "partial"] = "full",
        view_radius: Annotated[int, Field(ge=1, le=10)] = 2,
        loops: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0,
        max_steps: Annotated[int, Field(ge=1, le=1_000_000)] | None = None,
        step_penalty: Annotated[float, Field(ge=0.0, le=10.0)] = 0.01,
        exit_reward: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0,
    ) -> MazeObservation:
        """A new maze from the seed; the agent at the top-left cell."""
        assert self.seed is not None
        maze_rng = random.Random(derive_seed(self.seed, "maze"))
        self.grid = generate_maze(width, height, maze_rng, loops)
        self.position, self.exit = (1, 1), (2 * height - 1, 2 * width - 1)
        self.partial, self.radius = observation == "partial", view_radius
        self.step_penalty, self.exit_reward = step_penalty, exit_reward
        # the base class ends the episode there
        self.max_steps = max_steps if max_steps is not None else 10 * width * height
        self._state = MazeState(
            episode_id=self.state.episode_id,
            width=width,
            height=height,
            observation=observation,
            shortest_path=shortest_path(self.grid, self.position, self.exit),
        )
        return self._observe(bumped=False)

    def _step(self, action: MazeAction, timeout_s: float | None = None) -> MazeObservation:
        """Move one square unless a wall is in the way; pay the step; maybe get out."""
        dr, dc = DIRECTIONS[action.move]
        r, c = self.position[0] + dr, self.position[1] + dc
        bumped = self.grid[r][c] == "#"  # the border is wall: never out of range
        if not bumped:
            self.position = (r, c)
        reached = self.position == self.exit
        reward = -self.step_penalty + (self.exit_reward if reached else 0.0)
        self.state.total_reward += reward
        observation = self._observe(bumped=bumped, done=reached)
        observation.truncated = not reached and self.at_step_limit  # then the base sets done
        observation.reward = reward
        return observation

    def _observe(self, bumped: bool, done: bool = False) -> MazeObservation:
        rows = [list(row) for row in self.grid]
        rows[self.exit[0]][self.exit[1]] = "E"
        rows[self.position[0]][self.position[1]] = "A"
        if self.partial:
            r0, c0, k = self.position[0], self.position[1], self.radius
            view = [
                "".join(
                    rows[r][c] if 0 <= r < len(rows) and 0 <= c < len(rows[0]) else "#"
                    for c in range(c0 - k, c0 + k + 1)
                )
                for r in range(r0 - k, r0 + k + 1)
            ]
        else:
            view = ["".join(row) for row in rows]
        return MazeObservation(
            view=view,
            rendering="\n".join(view),
            position=list(self.position),
            exit=None if self.partial else list(self.exit),
            bumped=bumped,
            steps=self.state.step_count,
            max_steps=self.max_steps,
            done=done,
        )
