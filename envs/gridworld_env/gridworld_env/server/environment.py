"""A small grid world: walk from the start to the goal around walls; moves may slip.

::

    env = GridWorldEnvironment()
    obs = env.reset(seed=1, layout="four_rooms", slip=0.1)
    obs = env.step(GridWorldAction(move="right"))
    obs.position, obs.rendering, obs.reward

**Reward** of a step (all three parts are reset options)::

    reward = -step_penalty                               # every step (default 0.01)
             + goal_reward       if the goal is reached   # default 1.0; the episode ends
             + shaping * (d(before) - d(after))           # default shaping = 0: off

``d`` is the shortest-path distance to the goal (walls respected). The shaping term is
potential-based (Ng, Harada & Russell 1999, with potential ``-shaping * d`` and no
discount), so it pays for getting closer and charges for moving away without changing
which policies are optimal; over a whole episode it adds up to
``shaping * (d(start) - d(end))``.

**Moves**: with probability ``slip`` a move goes sideways instead (left or right of the
intended direction, half each), drawn from the seeded rng. A move into a wall or off the
map leaves the agent where it was (``bumped``); it still costs a step. There are no
illegal moves: anything but the four directions is refused by the action's schema.

**End**: at the goal (``done``), or after ``max_steps`` steps (``done`` and ``truncated``).
A step after the end raises ``EpisodeOver`` (over the wire: ``EPISODE_OVER``).
"""

from __future__ import annotations

from collections import deque
from typing import Annotated

from pydantic import Field

from openenv import Environment

from ..models import GridWorldAction, GridWorldObservation, GridWorldState

LAYOUTS: dict[str, tuple[str, ...]] = {
    "open": (
        "S....",
        ".....",
        ".....",
        ".....",
        "....G",
    ),
    "u_turn": (
        "#########",
        "#S......#",
        "#######.#",
        "#G......#",
        "#########",
    ),
    "four_rooms": (  # Sutton, Precup & Singh (1999)
        "#############",
        "#S....#.....#",
        "#.....#.....#",
        "#...........#",
        "#.....#.....#",
        "#.....#.....#",
        "##.####.....#",
        "#.....###.###",
        "#.....#.....#",
        "#.....#.....#",
        "#...........#",
        "#.....#....G#",
        "#############",
    ),
}
"""Built-in maps: '#' wall, '.' floor, 'S' start, 'G' goal."""

DIRECTIONS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
SIDEWAYS = {
    "up": ("left", "right"),
    "down": ("right", "left"),
    "left": ("down", "up"),
    "right": ("up", "down"),
}
MAX_SIDE = 40

Cell = tuple[int, int]


def parse_grid(rows: list[str] | tuple[str, ...]) -> tuple[list[str], Cell, Cell]:
    """The map with S and G replaced by floor, and where S and G were; ``ValueError`` if bad."""
    rows = list(rows)
    if not rows or len(rows) > MAX_SIDE or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError(f"a grid is 1 to {MAX_SIDE} rows of equal length")
    if not 1 <= len(rows[0]) <= MAX_SIDE:
        raise ValueError(f"a grid row is 1 to {MAX_SIDE} cells")
    found: dict[str, list[Cell]] = {"S": [], "G": []}
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            if ch not in "#.SG":
                raise ValueError(f"unknown cell {ch!r} at row {r}, column {c}; use # . S G")
            if ch in found:
                found[ch].append((r, c))
    if len(found["S"]) != 1 or len(found["G"]) != 1:
        raise ValueError("a grid has exactly one S (start) and one G (goal)")
    floor = [row.replace("S", ".").replace("G", ".") for row in rows]
    return floor, found["S"][0], found["G"][0]


def distances(floor: list[str], goal: Cell) -> dict[Cell, int]:
    """Shortest-path distance to ``goal`` from every cell that can reach it (BFS)."""
    dist = {goal: 0}
    queue = deque([goal])
    while queue:
        r, c = queue.popleft()
        for dr, dc in DIRECTIONS.values():
            nr, nc = r + dr, c + dc
            if (
                0 <= nr < len(floor)
                and 0 <= nc < len(floor[0])
                and floor[nr][nc] != "#"
                and (nr, nc) not in dist
            ):
                dist[(nr, nc)] = dist[(r, c)] + 1
                queue.append((nr, nc))
    return dist


class GridWorldEnvironment(Environment[GridWorldAction, GridWorldObservation, GridWorldState]):
    """Walk to the goal. Reset options pick the map, slip, shaping and the episode length."""

    runs_inline = True  # a step is microseconds of work: run on the server's event loop

    def __init__(self) -> None:
        super().__init__()
        self.floor, self.start, self.goal = parse_grid(LAYOUTS["open"])
        self.dist = distances(self.floor, self.goal)
        self.position = self.start
        self.slip = 0.0
        self.step_penalty, self.goal_reward, self.shaping = 0.01, 1.0, 0.0
        self.max_steps = 100

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        layout: str = "four_rooms",
        grid: list[Annotated[str, Field(max_length=MAX_SIDE)]] | None = None,
        slip: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0,
        random_start: bool = False,
        max_steps: Annotated[int, Field(ge=1, le=100_000)] = 100,
        step_penalty: Annotated[float, Field(ge=0.0, le=10.0)] = 0.01,
        goal_reward: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0,
        shaping: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0,
    ) -> GridWorldObservation:
        """Place the agent at the start (or, with ``random_start``, on a seeded random cell).

        ``layout`` names a built-in map (:data:`LAYOUTS`); ``grid`` gives your own rows
        instead ('#' wall, '.' floor, one 'S', one 'G').
        """
        if grid is None and layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
        floor, start, goal = parse_grid(grid if grid is not None else LAYOUTS[layout])
        dist = distances(floor, goal)
        if start not in dist:
            raise ValueError("the goal cannot be reached from the start")
        self.floor, self.start, self.goal, self.dist = floor, start, goal, dist
        if random_start:
            cells = sorted(cell for cell in dist if cell != goal)
            start = self.rng.choice(cells) if cells else start
        self.position = start
        self.slip, self.max_steps = slip, max_steps  # the base class ends the episode there
        self.step_penalty, self.goal_reward, self.shaping = step_penalty, goal_reward, shaping
        self._state = GridWorldState(
            episode_id=self.state.episode_id,
            layout="custom" if grid is not None else layout,
            slip=slip,
            shaping=shaping,
        )
        return self._observe(moved=None, slipped=False, bumped=False)

    def _step(
        self, action: GridWorldAction, timeout_s: float | None = None
    ) -> GridWorldObservation:
        """Move (perhaps sideways), pay the step, and maybe reach the goal."""
        direction = action.move
        slipped = self.slip > 0 and self.rng.random() < self.slip
        if slipped:
            direction = SIDEWAYS[direction][self.rng.random() < 0.5]
        dr, dc = DIRECTIONS[direction]
        before = self.position
        r, c = before[0] + dr, before[1] + dc
        bumped = not (
            0 <= r < len(self.floor) and 0 <= c < len(self.floor[0]) and self.floor[r][c] != "#"
        )
        if not bumped:
            self.position = (r, c)
        reached = self.position == self.goal
        reward = -self.step_penalty + (self.goal_reward if reached else 0.0)
        reward += self.shaping * (self.dist[before] - self.dist[self.position])
        self.state.total_reward += reward
        observation = self._observe(moved=direction, slipped=slipped, bumped=bumped, done=reached)
        observation.truncated = not reached and self.at_step_limit  # then the base sets done
        observation.reward = reward
        return observation

    def _observe(
        self, moved: str | None, slipped: bool, bumped: bool, done: bool = False
    ) -> GridWorldObservation:
        rows = [list(row) for row in self.floor]
        rows[self.goal[0]][self.goal[1]] = "G"
        rows[self.position[0]][self.position[1]] = "A"
        grid = ["".join(row) for row in rows]
        return GridWorldObservation(
            position=list(self.position),
            goal=list(self.goal),
            grid=grid,
            rendering="\n".join(grid),
            moved=moved,
            slipped=slipped,
            bumped=bumped,
            steps=self.state.step_count,
            max_steps=self.max_steps,
            done=done,
        )
