"""Reference agents of the OpenSpiel environment (see :mod:`openenv.agents`).

The tasks are tic-tac-toe against OpenSpiel's MCTS, half as ``x``, half as ``o``.
The known-good agent plays minimax from the rendered board: perfect play never
loses, and MCTS draws, so it is held to at least 0 (a draw), not 1.0. Every action
is a move: there is no do-nothing action. :func:`blackjack_basic_strategy` is the
demo's blackjack player.
"""

from __future__ import annotations

import functools
from typing import Any

from openenv.agents import Expect, ReferenceAgents, Task, choosing_agent

from .models import OpenSpielAction

TTT_LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))


@functools.cache
def ttt_value(board: str, me: str, to_move: str) -> int:
    """Minimax value of a tic-tac-toe board ('x', 'o', '.') for ``me``: +1, 0 or -1."""
    for a, b, c in TTT_LINES:
        if board[a] != "." and board[a] == board[b] == board[c]:
            return 1 if board[a] == me else -1
    if "." not in board:
        return 0
    other = "o" if to_move == "x" else "x"
    values = [
        ttt_value(board[:i] + to_move + board[i + 1 :], me, other)
        for i, cell in enumerate(board)
        if cell == "."
    ]
    return max(values) if to_move == me else min(values)


def tasks() -> list[Task]:
    return [
        Task(f"tic_tac_toe-seed-{s}", {"seed": s, "game": "tic_tac_toe", "opponent": "mcts",
                                       "mcts_simulations": 50, "agent_player": s % 2})
        for s in range(10)
    ]  # fmt: skip


def play_tic_tac_toe(session: Any, first: Any, task: Task) -> Any:
    """Minimax from the rendered board."""
    me, other = ("x", "o") if task.reset.get("agent_player", 0) == 0 else ("o", "x")
    result = first
    while not result.done:
        board = result.observation.rendering.replace("\n", "")
        move = max(
            result.observation.legal_actions,
            key=lambda i: ttt_value(board[:i] + me + board[i + 1 :], me, other),
        )
        result = session.step(OpenSpielAction(action_id=move))
    return result


BLACKJACK_VALUES = {"A": 11, "T": 10, "J": 10, "Q": 10, "K": 10} | {str(n): n for n in range(2, 10)}


def blackjack_basic_strategy(rendering: str) -> str:
    """Basic strategy: "Hit" or "Stand" (OpenSpiel's blackjack has no doubling or splitting)."""

    def cards(prefix: str) -> list[int]:
        line = next(x for x in rendering.splitlines() if x.startswith(prefix))
        return [BLACKJACK_VALUES[c[1:]] for c in line.split("Cards:")[1].split() if c != "??"]

    mine, dealer = cards("Player 0"), cards("Dealer")[0]
    total, soft_aces = sum(mine), mine.count(11)
    while total > 21 and soft_aces:
        total, soft_aces = total - 10, soft_aces - 1
    if soft_aces:
        hit = total <= 17 or (total == 18 and dealer >= 9)
    else:
        hit = (
            total <= 11
            or (total == 12 and dealer not in (4, 5, 6))
            or (total <= 16 and dealer >= 7)
        )
    return "Hit" if hit else "Stand"


def play_blackjack(session: Any, first: Any, task: Task) -> Any:
    """Basic strategy, actions by name."""
    result = first
    while not result.done:
        move = blackjack_basic_strategy(result.observation.rendering)
        result = session.step(OpenSpielAction(action_str=move))
    return result


play_random = choosing_agent(
    lambda obs, rng: OpenSpielAction(action_id=rng.choice(obs.legal_actions))
)
"""A random legal move each turn."""


AGENTS = ReferenceAgents(
    tasks=tasks,
    good=play_tic_tac_toe,
    random=play_random,
    expect=Expect(
        random_max=0.0,
        good_min=0.0,
        why="tic-tac-toe against MCTS: perfect play never loses but MCTS draws (0); random "
        "play does not beat MCTS; every action is a move (no do-nothing)",
    ),
)
