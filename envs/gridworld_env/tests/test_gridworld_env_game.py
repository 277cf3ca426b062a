"""The grid world in-process: moves, walls, slip, the reward and its shaping, seeding."""

from __future__ import annotations

import random
from collections import deque

import pytest
from gridworld_env import GridWorldAction, GridWorldObservation
from gridworld_env.server import LAYOUTS, GridWorldEnvironment
from gridworld_env.server.environment import DIRECTIONS

from openenv.environment import EpisodeOver


def shortest_path_move(obs: GridWorldObservation) -> GridWorldAction:
    """A scripted agent: BFS on the observed grid from the agent to the goal, first move."""
    grid, start, goal = obs.grid, tuple(obs.position), tuple(obs.goal)
    parent: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            break
        for name, (dr, dc) in DIRECTIONS.items():
            nxt = (cell[0] + dr, cell[1] + dc)
            if (
                0 <= nxt[0] < len(grid)
                and 0 <= nxt[1] < len(grid[0])
                and grid[nxt[0]][nxt[1]] != "#"
                and nxt not in parent
            ):
                parent[nxt] = (cell, name)
                queue.append(nxt)
    cell, move = goal, "up"
    while parent[cell] is not None:
        cell, move = parent[cell]  # type: ignore[misc]
    return GridWorldAction(move=move)


def play(env, policy, **reset) -> list[GridWorldObservation]:
    observations = [env.reset(**reset)]
    while not observations[-1].done:
        observations.append(env.step(policy(observations[-1])))
    return observations


def test_reset_shows_the_map():
    env = GridWorldEnvironment()
    obs = env.reset(seed=1, layout="open")
    assert obs.position == [0, 0] and obs.goal == [4, 4] and obs.grid[0] == "A...."
    assert obs.grid[4] == "....G" and obs.rendering == "\n".join(obs.grid)
    assert (obs.reward, obs.done, obs.steps, obs.max_steps) == (None, False, 0, 100)
    assert env.reset(layout="four_rooms").grid[1].startswith("#A")


def test_moves_walls_and_edges():
    env = GridWorldEnvironment()
    env.reset(layout="open")
    obs = env.step(GridWorldAction(move="up"))  # off the map: stays
    assert obs.bumped and obs.position == [0, 0] and obs.reward == pytest.approx(-0.01)
    obs = env.step(GridWorldAction(move="right"))
    assert not obs.bumped and obs.position == [0, 1] and obs.moved == "right"
    env.reset(layout="u_turn")
    obs = env.step(GridWorldAction(move="down"))  # a wall
    assert obs.bumped and obs.position == [1, 1] and obs.steps == 1


def test_reaching_the_goal_pays_and_ends():
    env = GridWorldEnvironment()
    episode = play(env, shortest_path_move, layout="open")
    assert len(episode) - 1 == 8  # Manhattan distance on an open 5x5
    assert episode[-1].done and not episode[-1].truncated and episode[-1].position == [4, 4]
    assert episode[-1].reward == pytest.approx(1.0 - 0.01)
    assert all(obs.reward == pytest.approx(-0.01) for obs in episode[1:-1])
    with pytest.raises(EpisodeOver):
        env.step(GridWorldAction(move="up"))
    assert env.position == (4, 4) and env.state.step_count == 8


def test_max_steps_truncates():
    env = GridWorldEnvironment()
    episode = play(env, lambda obs: GridWorldAction(move="left"), layout="open", max_steps=5)
    assert len(episode) == 6 and episode[-1].truncated and episode[-1].done
    assert not any(obs.truncated or obs.done for obs in episode[:-1])
    assert env.state.total_reward == pytest.approx(-0.05) and env.truncated
    with pytest.raises(EpisodeOver):
        env.step(GridWorldAction(move="left"))


def test_shaping_is_potential_based():
    env = GridWorldEnvironment()
    env.reset(layout="u_turn", shaping=0.1, step_penalty=0.0, goal_reward=0.0)
    obs = env.step(GridWorldAction(move="right"))  # one closer along the corridor
    assert obs.reward == pytest.approx(0.1)
    obs = env.step(GridWorldAction(move="left"))  # one further
    assert obs.reward == pytest.approx(-0.1)
    obs = env.step(GridWorldAction(move="down"))  # a wall: no change
    assert obs.reward == pytest.approx(0.0)
    # Over an episode the shaping adds up to shaping * (d(start) - d(end)), whatever the path.
    rng = random.Random(3)
    episode = play(
        env,
        lambda o: GridWorldAction(move=rng.choice(list(DIRECTIONS))),
        layout="u_turn",
        shaping=0.1,
        step_penalty=0.0,
        goal_reward=0.0,
        max_steps=30,
    )
    start_d = 14
    end_d = env.dist[tuple(episode[-1].position)]
    assert sum(o.reward for o in episode[1:]) == pytest.approx(0.1 * (start_d - end_d))


def test_slip_moves_sideways_and_is_seeded():
    def moves(seed: int) -> list[tuple[str | None, bool]]:
        env = GridWorldEnvironment()
        env.reset(seed=seed, layout="open", slip=0.5, max_steps=1000)
        out = []
        for _ in range(60):
            obs = env.step(GridWorldAction(move="down" if len(out) % 2 else "up"))
            out.append((obs.moved, obs.slipped))
            if obs.done:
                break
        return out

    first = moves(1)
    assert first == moves(1) and first != moves(2)
    slipped = [m for m, s in first if s]
    assert 10 < len(slipped) < 50 and set(slipped) <= {"left", "right"}
    env = GridWorldEnvironment()
    env.reset(layout="open", slip=1.0)
    assert env.step(GridWorldAction(move="down")).moved in ("left", "right")


def test_same_seed_same_actions_same_episode():
    def episode(seed: int) -> list[dict]:
        env = GridWorldEnvironment()
        rng = random.Random(0)
        return [
            o.model_dump()
            for o in play(
                env,
                lambda o: GridWorldAction(move=rng.choice(list(DIRECTIONS))),
                seed=seed,
                layout="four_rooms",
                slip=0.2,
                random_start=True,
                max_steps=40,
            )
        ]

    assert episode(5) == episode(5)
    assert episode(5) != episode(6)


def test_random_start_is_a_reachable_floor_cell():
    env = GridWorldEnvironment()
    starts = {
        tuple(env.reset(seed=s, layout="four_rooms", random_start=True).position) for s in range(30)
    }
    assert len(starts) > 20
    assert all(env.floor[r][c] == "." and (r, c) != env.goal for r, c in starts)


def test_custom_grids_and_validation():
    env = GridWorldEnvironment()
    obs = env.reset(grid=["S#G", "..."])
    assert obs.grid == ["A#G", "..."] and env.state.layout == "custom"
    assert len(play(env, shortest_path_move, grid=["S#G", "..."])) - 1 == 4
    for grid, message in [
        (["S#G", ".#."], "cannot be reached"),
        (["S.", "..."], "equal length"),
        (["S..", "..."], "exactly one S"),
        (["S.G", "..X"], "unknown cell"),
        ([], "1 to 40 rows"),
    ]:
        with pytest.raises(ValueError, match=message):
            env.reset(grid=grid)
    with pytest.raises(ValueError, match="unknown layout"):
        env.reset(layout="maze")
    model = GridWorldEnvironment.reset_options_model()
    for bad in ({"slip": 1.5}, {"max_steps": 0}, {"shaping": -1}, {"grid": "S.G"}):
        with pytest.raises(ValueError):
            model.model_validate(bad)
    with pytest.raises(ValueError):
        GridWorldAction(move="north")


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_shortest_path_agent_reaches_the_goal(layout):
    env = GridWorldEnvironment()
    episode = play(env, shortest_path_move, seed=0, layout=layout)
    d = env.dist[env.start]
    assert episode[-1].position == episode[-1].goal and len(episode) - 1 == d
    assert sum(o.reward for o in episode[1:]) == pytest.approx(1.0 - 0.01 * d)


def test_the_replanning_agent_reaches_the_goal_despite_slips():
    env = GridWorldEnvironment()
    reached = [
        not play(env, shortest_path_move, seed=s, layout="four_rooms", slip=0.2)[-1].truncated
        for s in range(10)
    ]
    assert all(reached)


async def test_steps_run_on_the_event_loop():
    assert GridWorldEnvironment.runs_async("step_async")
    env = GridWorldEnvironment()
    env.reset(layout="open")
    assert (await env.step_async(GridWorldAction(move="right"))).position == [0, 1]
