"""The maze in-process: generation, views, rewards, seeding, and two scripted solvers."""

from __future__ import annotations

import random
from collections import deque

import pytest
from maze_env import MazeAction, MazeObservation
from maze_env.server import MazeEnvironment, generate_maze
from maze_env.server.environment import DIRECTIONS, shortest_path

from openenv.environment import EpisodeOver


def play(env, policy, **reset) -> list[MazeObservation]:
    observations = [env.reset(**reset)]
    while not observations[-1].done:
        observations.append(env.step(policy(observations[-1])))
    return observations


def bfs_agent(obs: MazeObservation) -> MazeAction:
    """Scripted solver for the full view: BFS from the agent to the exit, first move."""
    grid, start, goal = obs.view, tuple(obs.position), tuple(obs.exit)
    parent: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            break
        for name, (dr, dc) in DIRECTIONS.items():
            nxt = (cell[0] + dr, cell[1] + dc)
            if grid[nxt[0]][nxt[1]] != "#" and nxt not in parent:
                parent[nxt] = (cell, name)
                queue.append(nxt)
    cell, move = goal, "up"
    while parent[cell] is not None:
        cell, move = parent[cell]  # type: ignore[misc]
    return MazeAction(move=move)


class RightHandAgent:
    """Scripted solver for the partial view (radius 1): keep a hand on the right wall."""

    RIGHT = {"up": "right", "right": "down", "down": "left", "left": "up"}
    LEFT = {v: k for k, v in RIGHT.items()}
    BACK = {"up": "down", "down": "up", "left": "right", "right": "left"}

    def __init__(self) -> None:
        self.heading = "right"

    def __call__(self, obs: MazeObservation) -> MazeAction:
        centre = len(obs.view) // 2
        for move in (
            self.RIGHT[self.heading],
            self.heading,
            self.LEFT[self.heading],
            self.BACK[self.heading],
        ):
            dr, dc = DIRECTIONS[move]
            if obs.view[centre + dr][centre + dc] != "#":
                self.heading = move
                return MazeAction(move=move)
        raise AssertionError("walled in")


def test_generated_mazes_are_perfect_and_seeded():
    for width, height in [(2, 2), (5, 3), (12, 9)]:
        grid = generate_maze(width, height, random.Random(1))
        assert len(grid) == 2 * height + 1 and all(len(r) == 2 * width + 1 for r in grid)
        assert set(grid[0]) == set(grid[-1]) == {"#"}
        floor = sum(row.count(".") for row in grid)
        cells = width * height
        assert floor == cells + (cells - 1)  # a spanning tree: every cell, cells-1 passages
        assert all(grid[2 * i + 1][2 * j + 1] == "." for i in range(height) for j in range(width))
    assert generate_maze(8, 8, random.Random(4)) == generate_maze(8, 8, random.Random(4))
    assert generate_maze(8, 8, random.Random(4)) != generate_maze(8, 8, random.Random(5))
    looped = generate_maze(8, 8, random.Random(4), loops=0.5)
    assert sum(r.count(".") for r in looped) > 64 + 63


def test_reset_full_view():
    env = MazeEnvironment()
    obs = env.reset(seed=3, width=5, height=4)
    assert len(obs.view) == 9 and len(obs.view[0]) == 11
    assert obs.view[1][1] == "A" and obs.view[7][9] == "E"
    assert obs.position == [1, 1] and obs.exit == [7, 9] and obs.rendering == "\n".join(obs.view)
    assert (obs.reward, obs.done, obs.steps, obs.max_steps) == (None, False, 0, 200)
    assert env.state.shortest_path == shortest_path(env.grid, (1, 1), (7, 9))


def test_partial_view_is_a_window():
    env = MazeEnvironment()
    obs = env.reset(seed=3, observation="partial", view_radius=2)
    assert len(obs.view) == 5 and all(len(r) == 5 for r in obs.view)
    assert obs.view[2][2] == "A" and obs.exit is None
    assert obs.view[0] == "#####" and obs.view[1] == "#####"  # above the top wall: '#'
    grid = env.grid  # the window covers grid rows -1..3 and columns -1..3
    assert obs.view[2] == "##A" + grid[1][2:4] and obs.view[3] == "#" + grid[2][0:4]


def test_walls_bump_and_steps_cost():
    env = MazeEnvironment()
    env.reset(seed=1)
    obs = env.step(MazeAction(move="up"))  # the outer wall
    assert obs.bumped and obs.position == [1, 1] and obs.reward == pytest.approx(-0.01)
    assert env.state.step_count == 1


def test_the_exit_pays_and_ends():
    env = MazeEnvironment()
    episode = play(env, bfs_agent, seed=2, width=6, height=6)
    assert episode[-1].position == episode[-1].exit and not episode[-1].truncated
    assert len(episode) - 1 == env.state.shortest_path
    assert episode[-1].reward == pytest.approx(0.99)
    assert env.state.total_reward == pytest.approx(1.0 - 0.01 * env.state.shortest_path)
    with pytest.raises(EpisodeOver):
        env.step(MazeAction(move="up"))
    assert env.position == env.exit and env.state.step_count == env.state.shortest_path


def test_max_steps_truncates():
    env = MazeEnvironment()
    episode = play(env, lambda o: MazeAction(move="up"), seed=2, max_steps=3, step_penalty=0.5)
    assert len(episode) == 4 and episode[-1].truncated and episode[-1].done
    assert not any(obs.truncated or obs.done for obs in episode[:-1])
    assert env.state.total_reward == pytest.approx(-1.5) and env.truncated
    with pytest.raises(EpisodeOver):
        env.step(MazeAction(move="up"))


def test_same_seed_same_actions_same_episode():
    def episode(seed: int) -> list[dict]:
        rng = random.Random(0)
        env = MazeEnvironment()
        moves = list(DIRECTIONS)
        policy = lambda o: MazeAction(move=rng.choice(moves))  # noqa: E731
        return [o.model_dump() for o in play(env, policy, seed=seed, max_steps=30, loops=0.2)]

    assert episode(7) == episode(7)
    assert episode(7) != episode(8)


def test_reset_options_are_validated():
    model = MazeEnvironment.reset_options_model()
    for bad in (
        {"width": 1},
        {"height": 41},
        {"observation": "fog"},
        {"view_radius": 0},
        {"loops": 2},
        {"max_steps": 0},
    ):
        with pytest.raises(ValueError):
            model.model_validate(bad)
    with pytest.raises(ValueError):
        MazeAction(move="jump")


@pytest.mark.parametrize("seed", range(5))
def test_bfs_solves_the_maze_by_the_shortest_path(seed):
    env = MazeEnvironment()
    episode = play(env, bfs_agent, seed=seed, width=10, height=10, loops=0.1 * (seed % 2))
    assert episode[-1].position == episode[-1].exit
    assert len(episode) - 1 == env.state.shortest_path


@pytest.mark.parametrize("seed", range(5))
def test_a_wall_follower_escapes_with_a_partial_view(seed):
    env = MazeEnvironment()
    episode = play(env, RightHandAgent(), seed=seed, observation="partial", view_radius=1)
    assert not episode[-1].truncated and episode[-1].reward == pytest.approx(0.99)
    assert not any(obs.bumped for obs in episode[1:])


async def test_steps_run_on_the_event_loop():
    assert MazeEnvironment.runs_async("step_async")
    env = MazeEnvironment()
    env.reset(seed=1)
    assert (await env.step_async(MazeAction(move="up"))).bumped
