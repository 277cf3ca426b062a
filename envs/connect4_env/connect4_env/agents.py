"""Reference agents of the Connect Four environment (see :mod:`openenv.agents`).

The known-good agent looks 3 plies ahead against the random opponent and wins (+1).
Every action drops a disc, so there is no do-nothing action, and against a random
opponent a random agent wins about half its games. It uses the board and the search
of :mod:`connect4_env.board`, pure functions of what the observation shows (the
server's lookahead opponent is the same search).
"""

from __future__ import annotations

import random
from typing import Any

from openenv.agents import Expect, ReferenceAgents, Task, choosing_agent

from .models import Connect4Action


def tasks() -> list[Task]:
    return [Task(f"seed-{s}", {"seed": s, "opponent": "random", "agent_player": s % 2})
            for s in range(10)]  # fmt: skip


def play_good(session: Any, first: Any, task: Task) -> Any:
    """A 3-ply lookahead on the board rebuilt from the observation."""
    from .board import Board, best_move

    rng = random.Random(task.reset.get("seed"))
    result = first
    while not result.done:
        column = best_move(Board.from_rows(result.observation.board), 3, rng)
        result = session.step(Connect4Action(column=column))
    return result


play_random = choosing_agent(lambda obs, rng: Connect4Action(column=rng.choice(obs.legal_columns)))
"""A random legal move each turn."""


AGENTS = ReferenceAgents(
    tasks=tasks,
    good=play_good,
    random=play_random,
    expect=Expect(
        random_max=1.0,
        why="every action drops a disc (no do-nothing); against the random opponent a "
        "random agent may win (+1)",
    ),
)
