"""The chess environment in-process: moves, rewards, the engine's levels, seeding, errors."""

from __future__ import annotations

import random
import threading

import chess
import pytest
from chess_env import ChessAction, ChessObservation
from chess_env.engine import Engine, capture_gain, evaluate
from chess_env.server import ChessEnvironment

from openenv.environment import EpisodeOver

BACK_RANK_WIN = "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1"  # white to play Ra8#
BACK_RANK_LOSS = "6k1/1p3ppp/8/8/8/8/8/R5K1 b - - 0 1"  # black plays ...b6?, white mates


def test_reset_shows_the_start_position():
    env = ChessEnvironment()
    obs = env.reset(seed=1)
    assert obs.fen == chess.STARTING_FEN and obs.turn == "white" and obs.agent_color == "white"
    assert len(obs.legal_moves) == len(obs.legal_moves_san) == 20
    assert "e2e4" in obs.legal_moves and "Nf3" in obs.legal_moves_san
    assert obs.board.splitlines()[0] == "8 r n b q k b n r"
    assert obs.board.splitlines()[-1] == "  a b c d e f g h"
    assert (obs.reward, obs.done, obs.last_move, obs.ply) == (None, False, None, 0)
    assert (env.state.level, env.state.agent_color) == (1, "white")


def test_playing_black_the_engine_opens():
    env = ChessEnvironment()
    obs = env.reset(seed=1, color="black", level=0)
    assert obs.turn == "black" and obs.ply == 1 and obs.last_move is not None
    assert obs.last_move_san is not None and obs.agent_color == "black"
    colors = {ChessEnvironment().reset(seed=s, color="random").agent_color for s in range(12)}
    assert colors == {"white", "black"}
    assert ChessEnvironment().reset(seed=3, color="random").agent_color == (
        ChessEnvironment().reset(seed=3, color="random").agent_color
    )


def test_moves_in_uci_and_san():
    env = ChessEnvironment()
    env.reset(seed=1, level=0)
    obs = env.step(ChessAction(move="e2e4"))
    assert obs.ply == 2 and obs.turn == "white" and obs.reward == 0.0
    obs = env.step(ChessAction(move="Nf3"))
    assert env.board.piece_at(chess.F3) == chess.Piece(chess.KNIGHT, chess.WHITE)
    env.reset(fen="8/4P1k1/8/8/8/8/8/4K3 w - - 0 1", level=0)
    obs = env.step(ChessAction(move="e8=Q"))
    assert env.board.piece_at(chess.E8) == chess.Piece(chess.QUEEN, chess.WHITE)
    env.reset(fen="8/4P1k1/8/8/8/8/8/4K3 w - - 0 1", level=0)
    env.step(ChessAction(move="e7e8n"))
    assert env.board.piece_at(chess.E8) == chess.Piece(chess.KNIGHT, chess.WHITE)
    env.reset(fen="r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1", level=0)
    env.step(ChessAction(move="O-O"))
    assert env.board.piece_at(chess.G1) == chess.Piece(chess.KING, chess.WHITE)


@pytest.mark.parametrize("move", ["e2e5", "e7e5", "Ke2", "hello", "e2e4e", "0000", "--", "a1a1"])
def test_illegal_moves_raise_and_leave_the_position(move):
    env = ChessEnvironment()
    env.reset(seed=1, level=0)
    env.step(ChessAction(move="d4"))
    fen = env.board.fen()
    with pytest.raises(ValueError, match=r"illegal move .*legal moves \(UCI\): "):
        env.step(ChessAction(move=move))
    assert env.board.fen() == fen and env.state.step_count == 1


def test_rewards_win_loss_draw():
    env = ChessEnvironment()
    env.reset(fen=BACK_RANK_WIN, level=3)
    obs = env.step(ChessAction(move="Ra8#"))
    assert obs.done and obs.reward == 1.0 and obs.result == "1-0"
    assert obs.termination == "checkmate" and obs.legal_moves == []
    with pytest.raises(EpisodeOver):
        env.step(ChessAction(move="Kf1"))
    assert env.state.step_count == 1 and env.state.result == "1-0"

    obs = env.reset(fen=BACK_RANK_LOSS, level=1, color="black")
    assert obs.turn == "black" and obs.last_move is None  # black to move: the agent's turn
    obs = env.step(ChessAction(move="b6"))
    assert obs.done and obs.reward == -1.0 and obs.last_move_san == "Ra8#"
    assert env.state.result == "1-0"

    obs = env.reset(seed=2, level=0, max_plies=2)
    obs = env.step(ChessAction(move="e4"))
    assert obs.done and obs.reward == 0.0 and obs.termination == "max_plies"
    assert obs.result == "1/2-1/2"

    obs = env.reset(fen="7k/5Q2/6K1/8/8/8/8/8 b - - 0 1")  # black to move: stalemate
    assert obs.done and obs.termination == "stalemate" and obs.reward == 0.0


def test_repetition_and_fifty_moves_end_the_game_as_draws():
    env = ChessEnvironment()
    env.reset(seed=1, level=0, color="black")
    env.board = chess.Board()
    for san in ("Nf3", "Nf6", "Ng1", "Ng8", "Nf3", "Nf6", "Ng1"):
        env.board.push_san(san)
    obs = env.step(ChessAction(move="Ng8"))  # the start position, for the third time
    assert obs.done and obs.termination == "threefold_repetition" and obs.reward == 0.0
    env.reset(fen="8/8/8/4k3/8/8/8/R3K3 w - - 99 80", level=0)
    obs = env.step(ChessAction(move="Ra2"))
    assert obs.done and obs.termination == "fifty_moves" and obs.result == "1/2-1/2"


def test_reset_options_are_validated():
    model = ChessEnvironment.reset_options_model()
    for bad in ({"level": 4}, {"level": -1}, {"color": "red"}, {"max_plies": 0}):
        with pytest.raises(ValueError):
            model.model_validate(bad)
    env = ChessEnvironment()
    with pytest.raises(ValueError, match="bad fen"):
        env.reset(fen="not a position")
    with pytest.raises(ValueError, match="not a legal position"):
        env.reset(fen="8/8/8/8/8/8/8/8 w - - 0 1")  # no kings


@pytest.mark.parametrize("level", [0, 2])
def test_same_seed_same_moves_same_game(level):
    def game(seed: int) -> list[dict]:
        env = ChessEnvironment()
        rng = random.Random(5)
        observations = [env.reset(seed=seed, level=level, color="black")]
        for _ in range(6):
            if observations[-1].done:
                break
            move = rng.choice(observations[-1].legal_moves)
            observations.append(env.step(ChessAction(move=move)))
        return [o.model_dump() for o in observations]

    assert game(8) == game(8)
    if level == 0:
        assert any(game(s) != game(8) for s in (9, 10, 11))


# -- the engine -------------------------------------------------------------------------------


def test_level_1_takes_the_most_material():
    board = chess.Board("4k3/8/5q2/8/4N3/2r5/8/4K3 w - - 0 1")  # Nxf6 (a queen) or Nxc3 (a rook)
    move = Engine(level=1, seed=0).choose(board)
    assert move == chess.Move.from_uci("e4f6")
    assert capture_gain(board, move) == 900


@pytest.mark.parametrize("level", [1, 2, 3])
def test_levels_1_to_3_mate_in_one(level):
    board = chess.Board(BACK_RANK_WIN)
    assert Engine(level=level, seed=0).choose(board) == chess.Move.from_uci("a1a8")


@pytest.mark.parametrize("level", [2, 3])
def test_searching_levels_do_not_take_a_defended_pawn_with_the_queen(level):
    # Qxd5 wins a pawn but loses the queen to exd5.
    board = chess.Board("4k3/8/4p3/3p4/8/3Q4/8/4K3 w - - 0 1")
    assert Engine(level=1, seed=0).choose(board) == chess.Move.from_uci("d3d5")  # greedy
    assert Engine(level=level, seed=0).choose(board) != chess.Move.from_uci("d3d5")


def test_evaluation_is_from_the_side_to_move():
    board = chess.Board("4k3/8/8/8/8/8/8/Q3K3 w - - 0 1")
    assert evaluate(board) > 800
    board.turn = chess.BLACK
    assert evaluate(board) < -800


def test_engine_levels_are_checked():
    with pytest.raises(ValueError, match="level"):
        Engine(level=7, seed=0)


async def test_searching_levels_step_in_a_thread(monkeypatch):
    threads = []
    choose = Engine.choose

    def recorded(engine, board):
        threads.append((engine.level, threading.get_ident()))
        return choose(engine, board)

    monkeypatch.setattr(Engine, "choose", recorded)
    env = ChessEnvironment()
    assert ChessEnvironment.runs_async("step_async")
    await env.reset_async(seed=1, level=2)
    assert (await env.step_async(ChessAction(move="e4"))).last_move is not None
    await env.reset_async(seed=1, level=0)
    assert (await env.step_async(ChessAction(move="e4"))).ply == 2
    here = threading.get_ident()
    assert [(level, thread == here) for level, thread in threads] == [(2, False), (0, True)]
    await env.reset_async(fen=BACK_RANK_WIN, level=0)
    assert (await env.step_async(ChessAction(move="Ra8#"))).done
    assert not env.runs_inline  # the reset after the end: in a thread


# -- a scripted agent ---------------------------------------------------------------------------


def greedy_agent(obs: ChessObservation) -> ChessAction:
    """Captures the most material it can, else plays its first legal move."""
    board = chess.Board(obs.fen)
    moves = [chess.Move.from_uci(m) for m in obs.legal_moves]
    return ChessAction(move=max(moves, key=lambda m: capture_gain(board, m)).uci())


@pytest.mark.parametrize("color", ["white", "black"])
def test_a_scripted_agent_plays_a_whole_game_against_level_0(color):
    env = ChessEnvironment()
    obs = env.reset(seed=4, level=0, color=color)
    steps = 0
    while not obs.done:
        obs = env.step(greedy_agent(obs))
        steps += 1
    assert obs.reward in (-1.0, 0.0, 1.0) and obs.result is not None and steps > 5
    assert obs.termination is not None and env.state.step_count == steps
