"""Reference agents of the chess environment (see :mod:`openenv.agents`).

Chess against an engine has no scripted solution: the "good" agent is the demo's
capture-greedy player against the level-1 engine, held to what it reliably does
(it does not lose its game within the tasks' 40 plies more often than it wins).
Every action is a move, so there is no do-nothing action. It uses
:func:`chess_env.engine.capture_gain`, a pure function of the board (no hidden
information) that the server's engine uses too.
"""

from __future__ import annotations

import random
from typing import Any

from openenv.agents import Expect, ReferenceAgents, Task, choosing_agent

from .models import ChessAction


def tasks() -> list[Task]:
    return [
        Task(f"seed-{s}", {"seed": s, "level": 1, "color": "white" if s % 2 == 0 else "black",
                           "max_plies": 40})
        for s in range(10)
    ]  # fmt: skip


def play_good(session: Any, first: Any, task: Task) -> Any:
    """Capture-greedy: the move that wins the most material at once (SAN on the wire)."""
    import chess

    from .engine import capture_gain

    rng = random.Random(task.reset.get("seed"))
    result = first
    while not result.done:
        board = chess.Board(result.observation.fen)
        moves = [chess.Move.from_uci(m) for m in result.observation.legal_moves]
        rng.shuffle(moves)
        move = max(moves, key=lambda m: capture_gain(board, m))
        result = session.step(ChessAction(move=board.san(move)))
    return result


play_random = choosing_agent(lambda obs, rng: ChessAction(move=rng.choice(obs.legal_moves)))
"""A random legal move each turn."""


AGENTS = ReferenceAgents(
    tasks=tasks,
    good=play_good,
    random=play_random,
    expect=Expect(
        random_max=0.0,
        good_min=-1.0,
        why="a game against an engine has no scripted solution: the greedy agent's games are "
        "checked for a result in -1/0/+1 only; random play never beats the engine; every "
        "action is a move (no do-nothing)",
    ),
)
