"""Connect Four in-process: the board, wins in every direction, opponents, seeding, errors."""

from __future__ import annotations

import random
import threading

import pytest
from connect4_env import Connect4Action, Connect4Observation
from connect4_env.board import Board, best_move, four_in_a_row
from connect4_env.server import Connect4Environment
from connect4_env.server import environment as connect4_environment

from openenv.environment import EpisodeOver


def play(env: Connect4Environment, policy, **reset) -> list[Connect4Observation]:
    observations = [env.reset(**reset)]
    while not observations[-1].done:
        observations.append(env.step(policy(observations[-1])))
    return observations


def random_policy(seed: int):
    rng = random.Random(seed)
    return lambda obs: Connect4Action(column=rng.choice(obs.legal_columns))


def lookahead_agent(depth: int, seed: int = 0):
    """A scripted agent: the board from the observation, then a depth-ply search."""
    rng = random.Random(seed)
    return lambda obs: Connect4Action(column=best_move(Board.from_rows(obs.board), depth, rng))


def test_reset_and_a_first_move():
    env = Connect4Environment()
    obs = env.reset(seed=1, opponent="random")
    assert obs.board == [[0] * 7 for _ in range(6)] and obs.legal_columns == list(range(7))
    assert obs.agent_piece == "X" and obs.moves == 0 and obs.reward is None
    assert obs.rendering.splitlines()[-1] == "0 1 2 3 4 5 6"
    obs = env.step(Connect4Action(column=3))
    assert obs.board[5][3] == 1 and obs.moves == 2 and obs.reward == 0.0
    assert sum(row.count(2) for row in obs.board) == 1
    col = obs.opponent_last_column
    assert col is not None and obs.rendering.splitlines()[5].split()[col] in ("O", "X")
    assert env.state.history == [3, col] and env.state.step_count == 1


def test_agent_as_o_the_opponent_opens():
    env = Connect4Environment()
    obs = env.reset(seed=1, agent_player=1, opponent="lookahead", depth=2)
    assert obs.agent_piece == "O" and obs.moves == 1 and obs.opponent_last_column is not None
    assert sum(row.count(2) for row in obs.board) == 1


@pytest.mark.parametrize(
    "cells",
    [
        [(0, 0), (0, 1), (0, 2), (0, 3)],  # horizontal (column, row from the bottom)
        [(4, 0), (4, 1), (4, 2), (4, 3)],  # vertical
        [(0, 0), (1, 1), (2, 2), (3, 3)],  # diagonal /
        [(6, 0), (5, 1), (4, 2), (3, 3)],  # diagonal \
        [(3, 2), (4, 3), (5, 4), (6, 5)],  # up to the top corner
    ],
)
def test_four_in_a_row_in_every_direction(cells):
    discs = sum(1 << (c * 7 + r) for c, r in cells)
    assert four_in_a_row(discs)
    assert not four_in_a_row(discs & ~(1 << (cells[1][0] * 7 + cells[1][1])))


def test_no_wrap_around_between_columns():
    # column 0 rows 3-5 and column 1 row 0 are adjacent bits, but not a line
    discs = sum(1 << b for b in (3, 4, 5, 7))
    assert not four_in_a_row(discs)


def test_rewards_win_loss():
    env = Connect4Environment()
    # The agent stacks column 0; lookahead at depth 1 only takes wins, it does not block.
    episode = play(env, lambda obs: Connect4Action(column=0), seed=3, opponent="lookahead", depth=1)
    last = episode[-1]
    assert last.done and last.winner in ("agent", "opponent")
    assert last.reward == (1.0 if last.winner == "agent" else -1.0)
    assert all(obs.reward == 0.0 for obs in episode[1:-1])
    moves = env.state.step_count
    with pytest.raises(EpisodeOver):
        env.step(Connect4Action(column=1))
    assert env.state.step_count == moves and len(env.state.history) == last.moves
    # depth 2 blocks, so the agent stacking one column never wins
    last = play(env, lambda o: Connect4Action(column=o.legal_columns[0]), seed=3, depth=2)[-1]
    assert last.winner == "opponent" and last.reward == -1.0


def test_a_drawn_game_pays_nothing():
    env = Connect4Environment()
    env.reset(seed=0, opponent="random")
    # Fill the board in a pattern with no four: columns in pairs, shifted every two rows.
    board = Board()
    for column in [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 2, 3, 2, 3, 2, 3, 3, 2, 3, 2, 3, 2,
                   4, 5, 4, 5, 4, 5, 5, 4, 5, 4, 5, 4, 6, 6, 6, 6, 6, 6]:  # fmt: skip
        board.play(column)
    assert board.full() and board.winner() is None
    # Replay all but the last disc, then the agent's last move fills the board.
    env.board = Board()
    for column in [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 2, 3, 2, 3, 2, 3, 3, 2, 3, 2, 3, 2,
                   4, 5, 4, 5, 4, 5, 5, 4, 5, 4, 5, 4, 6, 6, 6, 6, 6]:  # fmt: skip
        env.board.play(column)
    env.agent = env.board.to_move
    obs = env.step(Connect4Action(column=6))
    assert obs.done and obs.winner == "draw" and obs.reward == 0.0 and obs.legal_columns == []


def test_a_full_column_is_an_error_and_changes_nothing():
    env = Connect4Environment()
    env.reset(seed=2, opponent="random")
    for _ in range(6):  # X and O alternate up column 0: full, and no four
        env.board.play(0)
    before = (list(env.board.discs), env.board.mask, env.state.step_count)
    with pytest.raises(ValueError, match="column 0 is full; legal columns: "):
        env.step(Connect4Action(column=0))
    assert (list(env.board.discs), env.board.mask, env.state.step_count) == before
    for bad in (-1, 7, "3x"):
        with pytest.raises(ValueError):
            Connect4Action(column=bad)


def test_reset_options_are_validated():
    model = Connect4Environment.reset_options_model()
    for bad in ({"opponent": "perfect"}, {"depth": 0}, {"depth": 7}, {"agent_player": 2}):
        with pytest.raises(ValueError):
            model.model_validate(bad)


@pytest.mark.parametrize(("opponent", "depth"), [("random", 1), ("lookahead", 3)])
def test_same_seed_same_moves_same_game(opponent, depth):
    def game(seed: int) -> list[dict]:
        env = Connect4Environment()
        episode = play(env, random_policy(7), seed=seed, opponent=opponent, depth=depth)
        return [obs.model_dump() for obs in episode]

    assert game(4) == game(4)
    assert any(game(s) != game(4) for s in (5, 6, 7))


def test_lookahead_blocks_and_wins():
    board = Board()
    for column in (0, 6, 1, 6, 2):  # X threatens 0-1-2-3 on the bottom row; O to move
        board.play(column)
    assert best_move(board.copy(), 2, random.Random(0)) == 3
    board = Board()
    for column in (0, 6, 1, 6, 2, 6):  # X to move and win at 3
        board.play(column)
    assert best_move(board.copy(), 1, random.Random(0)) == 3


def test_board_from_an_observation():
    env = Connect4Environment()
    obs = env.reset(seed=9, opponent="random")
    for column in (3, 3, 2):
        obs = env.step(Connect4Action(column=column))
    rebuilt = Board.from_rows(obs.board)
    assert (rebuilt.discs, rebuilt.mask, rebuilt.moves) == (
        env.board.discs,
        env.board.mask,
        env.board.moves,
    )


def test_a_scripted_lookahead_agent_beats_random_play():
    env = Connect4Environment()
    winners = [
        play(env, lookahead_agent(3, seed), seed=seed, opponent="random")[-1].winner
        for seed in range(10)
    ]
    assert winners.count("agent") >= 9


async def test_deep_lookahead_steps_in_a_thread(monkeypatch):
    threads = []

    def recorded(board, depth, rng):
        threads.append((depth, threading.get_ident()))
        return best_move(board, depth, rng)

    monkeypatch.setattr(connect4_environment, "best_move", recorded)
    env = Connect4Environment()
    await env.reset_async(seed=1, depth=5)
    assert (await env.step_async(Connect4Action(column=3))).moves == 2
    await env.reset_async(seed=1, depth=2)
    assert (await env.step_async(Connect4Action(column=3))).moves == 2
    here = threading.get_ident()
    assert [(depth, thread == here) for depth, thread in threads] == [(5, False), (2, True)]
