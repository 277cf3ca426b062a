"""The OpenSpiel environment in-process: every game, rewards, seeding, opponents, errors."""

from __future__ import annotations

import functools
import random
import threading

import pyspiel
import pytest
from openspiel_env import OpenSpielAction, OpenSpielObservation
from openspiel_env.server import GAMES, OpenSpielEnvironment
from openspiel_env.server import environment as openspiel_environment
from openspiel_env.server import opponents as opponents_module
from openspiel_env.server.opponents import OpenSpielMCTS, SmallUCT, make_opponent

from openenv.environment import EpisodeOver

SMALL_PARAMS = {"go": {"board_size": 9}, "hex": {"board_size": 5}, "gomoku": {"size": 9}}


def play(env: OpenSpielEnvironment, policy, **reset) -> list[OpenSpielObservation]:
    """One episode; ``policy(observation) -> OpenSpielAction``; every observation."""
    observations = [env.reset(**reset)]
    while not observations[-1].done:
        observations.append(env.step(policy(observations[-1])))
    return observations


def random_policy(seed: int):
    rng = random.Random(seed)
    return lambda obs: OpenSpielAction(action_id=rng.choice(obs.legal_actions))


# -- every game ---------------------------------------------------------------------------


@pytest.mark.parametrize("game", sorted(GAMES))
def test_every_game_plays_to_the_end_and_rewards_add_up_to_the_return(game):
    env = OpenSpielEnvironment()
    params = SMALL_PARAMS.get(game)
    episode = play(env, random_policy(1), seed=5, game=game, game_params=params)
    first, last = episode[0], episode[-1]
    assert first.reward is None and first.game_phase == "initial" and not first.done
    assert first.legal_actions and len(first.legal_actions) == len(first.legal_action_strings)
    assert first.game_name == game and first.info_state
    for obs in episode[1:-1]:
        assert obs.game_phase == "playing" and obs.current_player_id == 0
        assert len(obs.legal_actions) == len(obs.legal_action_strings)
    assert last.done and last.game_phase == "terminal" and last.legal_actions == []
    assert len(last.returns) == env.state.num_players
    assert sum(obs.reward for obs in episode[1:]) == pytest.approx(last.returns[0])
    assert env.state.agent_return == pytest.approx(last.returns[0])
    assert env.state.step_count == len(episode) - 1


def test_the_issue_games_and_their_shapes():
    env = OpenSpielEnvironment()
    expected = {  # game: (players, legal action strings at the start, tensor length)
        "catch": (1, ["LEFT", "STAY", "RIGHT"], 50),
        "tic_tac_toe": (2, [f"x({r},{c})" for r in range(3) for c in range(3)], 27),
        "connect_four": (2, [f"x{c}" for c in range(7)], 126),
        "kuhn_poker": (2, ["Pass", "Bet"], 11),
        "blackjack": (1, ["Hit", "Stand"], 189),
        "2048": (1, None, 16),
    }
    for game, (players, strings, size) in expected.items():
        obs = env.reset(seed=0, game=game)
        assert env.state.num_players == players, game
        assert len(obs.info_state) == size, game
        if strings is not None:
            assert obs.legal_action_strings == strings, game
    assert "Dealer: Cards: ??" in env.reset(seed=0, game="blackjack").rendering  # hole card hidden


def test_game_params():
    env = OpenSpielEnvironment()
    obs = env.reset(game="connect_four", game_params={"rows": 4, "columns": 5})
    assert len(obs.legal_actions) == 5 and len(obs.info_state) == 3 * 4 * 5
    assert env.state.game_params["rows"] == 4
    obs = env.reset(game="catch", game_params={"rows": 4, "columns": 3})
    assert len(obs.rendering.splitlines()) == 4
    assert env.reset(game="2048", game_params={"max_tile": 16}).info_state
    with pytest.raises(ValueError, match="no parameter"):
        env.reset(game="catch", game_params={"depth": 3})
    with pytest.raises(ValueError, match="takes a int"):
        env.reset(game="catch", game_params={"rows": "ten"})
    with pytest.raises(ValueError, match="takes a int"):
        env.reset(game="catch", game_params={"rows": True})


def test_2048_pays_per_step():
    env = OpenSpielEnvironment()
    episode = play(env, random_policy(2), seed=2, game="2048")
    rewards = [obs.reward for obs in episode[1:]]
    assert sum(r > 0 for r in rewards) > 10
    assert sum(rewards) == episode[-1].returns[0] > 0


# -- reset options and errors ---------------------------------------------------------------


def test_reset_options_are_validated():
    model = OpenSpielEnvironment.reset_options_model()
    assert model.model_validate({"game": "kuhn_poker", "opponent": "first"}).opponent == "first"
    bad = [
        {"opponent": "smart"},
        {"agent_player": -1},
        {"agent_player": 10},
        {"mcts_simulations": 0},
        {"game_params": {"rows": [1]}},
        {"colour": "red"},
    ]
    for options in bad:
        with pytest.raises(ValueError):
            model.model_validate(options)
    env = OpenSpielEnvironment()
    with pytest.raises(ValueError, match="unknown game 'nope'; choose from: 2048"):
        env.reset(game="nope")
    with pytest.raises(ValueError, match="unknown game"):
        env.reset(game="efg_game")  # not served: it reads a file named by a parameter
    with pytest.raises(ValueError, match="agent_player=1, but catch has 1 player"):
        env.reset(game="catch", agent_player=1)
    with pytest.raises(ValueError, match="perfect-information games only"):
        env.reset(game="kuhn_poker", opponent="mcts")


def test_illegal_moves_raise_and_leave_the_game_as_it_was():
    env = OpenSpielEnvironment()
    with pytest.raises(ValueError, match="call reset"):
        env.step(OpenSpielAction(action_id=0))
    env.reset(seed=1, game="tic_tac_toe")
    env.step(OpenSpielAction(action_id=4))
    before = env.game_state.history()
    taken = [a for a in range(9) if a not in env.game_state.legal_actions()]
    for action in (
        OpenSpielAction(action_id=taken[0]),
        OpenSpielAction(action_id=99),
        OpenSpielAction(action_str="x(9,9)"),
    ):
        with pytest.raises(ValueError, match="illegal action"):
            env.step(action)
    assert env.game_state.history() == before and env.state.step_count == 1
    with pytest.raises(ValueError, match="exactly one"):
        OpenSpielAction()
    with pytest.raises(ValueError, match="exactly one"):
        OpenSpielAction(action_id=1, action_str="x(0,1)")


def test_actions_by_string_and_the_public_clients_fields():
    env = OpenSpielEnvironment()
    env.reset(seed=3, game="blackjack")
    obs = env.step(OpenSpielAction(action_str="Stand"))
    assert obs.done and obs.reward in (-1.0, 0.0, 1.0)
    with pytest.raises(EpisodeOver):
        env.step(OpenSpielAction(action_str="Stand"))
    assert env.state.step_count == 1
    env.reset(seed=3, game="tic_tac_toe")
    # The public OpenEnv client sends game_name/game_params with every action: ignored.
    obs = env.step(OpenSpielAction(action_id=0, game_name="catch", game_params={}))
    assert obs.rendering.startswith("x")


# -- seeding ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("game", "opponent"),
    [
        ("catch", "random"),
        ("2048", "random"),
        ("blackjack", "random"),
        ("kuhn_poker", "random"),
        ("leduc_poker", "random"),
        ("connect_four", "random"),
        ("tic_tac_toe", "mcts"),
        ("backgammon", "random"),
    ],
)
def test_same_seed_same_actions_same_episode(game, opponent):
    def episode(seed: int) -> list[dict]:
        env = OpenSpielEnvironment()
        observations = play(
            env, random_policy(9), seed=seed, game=game, opponent=opponent, mcts_simulations=30
        )
        return [obs.model_dump() for obs in observations]

    assert episode(11) == episode(11)
    different = [episode(s) != episode(11) for s in (12, 13, 14)]
    assert any(different)


def test_chance_does_not_depend_on_the_opponent():
    """Chance and the opponent draw from separate streams: same seed, same deal."""
    env = OpenSpielEnvironment()
    deals = set()
    for opponent in ("random", "first", "last"):
        env.reset(seed=21, game="kuhn_poker", opponent=opponent)
        deals.add(tuple(env.game_state.history()[:2]))
    assert len(deals) == 1


# -- opponents --------------------------------------------------------------------------------


def test_agent_as_second_player_sees_the_opponents_first_move():
    env = OpenSpielEnvironment()
    obs = env.reset(seed=1, game="tic_tac_toe", agent_player=1, opponent="first")
    assert obs.opponent_last_action == 0 and obs.opponent_last_action_string == "x(0,0)"
    assert obs.rendering.startswith("x..") and obs.legal_actions == list(range(1, 9))
    assert all(s.startswith("o(") for s in obs.legal_action_strings)
    obs = env.step(OpenSpielAction(action_id=4))
    assert obs.opponent_last_action == 1  # "first": the lowest legal id
    obs = env.reset(seed=1, game="tic_tac_toe", opponent="last")
    assert env.step(OpenSpielAction(action_id=0)).opponent_last_action == 8


def test_single_player_games_have_no_opponent():
    env = OpenSpielEnvironment()
    env.reset(game="2048", opponent="mcts")
    assert env.opponent is None and env.state.opponent_policy == "none"


def test_mcts_takes_a_win_and_blocks_a_loss():
    game = pyspiel.load_game("tic_tac_toe")
    win = game.new_initial_state()
    for action in (0, 3, 1, 4):  # x: 0 1, o: 3 4; x to move: 2 wins
        win.apply_action(action)
    block = game.new_initial_state()
    for action in (0, 4, 1):  # x threatens 2; o to move must block
        block.apply_action(action)
    assert isinstance(make_opponent("mcts", game, seed=1, simulations=200), OpenSpielMCTS)
    for bot in (OpenSpielMCTS(game, 1, 300), SmallUCT(game, 1, 300)):
        assert bot.choose(win.clone()) == 2
        assert bot.choose(block.clone()) == 2


def test_own_uct_when_open_spiels_mcts_does_not_import(monkeypatch):
    monkeypatch.setattr(opponents_module, "mcts_available", lambda: False)
    env = OpenSpielEnvironment()
    env.reset(seed=4, game="connect_four", opponent="mcts", mcts_simulations=50)
    assert isinstance(env.opponent, SmallUCT)
    episode = play(env, random_policy(4), seed=4, game="connect_four", opponent="mcts")
    assert episode[-1].done


def test_mcts_beats_random_play_at_connect_four():
    env = OpenSpielEnvironment()
    results = [
        play(env, random_policy(s), seed=s, game="connect_four", opponent="mcts")[-1].returns[0]
        for s in range(3)
    ]
    assert results == [-1.0, -1.0, -1.0]


@pytest.fixture
def opponent_threads(monkeypatch) -> list[tuple[str, bool]]:
    """``(opponent class, moved on this thread)`` for each opponent move, in order."""
    threads: list[tuple[str, bool]] = []
    here = threading.get_ident()
    make = openspiel_environment.make_opponent

    def recorded(*args):
        opponent = make(*args)
        choose = opponent.choose

        def recorded_choose(state):
            threads.append((type(opponent).__name__, threading.get_ident() == here))
            return choose(state)

        opponent.choose = recorded_choose
        return opponent

    monkeypatch.setattr(openspiel_environment, "make_opponent", recorded)
    return threads


async def test_an_mcts_opening_at_reset_runs_in_a_thread(opponent_threads):
    env = OpenSpielEnvironment()
    obs = await env.reset_async(seed=2, game="tic_tac_toe", opponent="mcts", agent_player=1)
    assert obs.opponent_last_action is not None and not env.runs_inline
    assert opponent_threads == [("OpenSpielMCTS", False)]
    obs = await env.reset_async(seed=2, game="kuhn_poker", agent_player=1)
    assert obs.legal_action_strings == ["Pass", "Bet"] and env.runs_inline


async def test_step_async_runs_mcts_steps_in_a_thread(opponent_threads):
    env = OpenSpielEnvironment()
    assert OpenSpielEnvironment.runs_async("step_async")
    assert OpenSpielEnvironment.runs_async("reset_async")
    await env.reset_async(seed=1, game="tic_tac_toe", opponent="mcts", mcts_simulations=20)
    assert (await env.step_async(OpenSpielAction(action_id=4))).opponent_last_action is not None
    await env.reset_async(seed=1, game="tic_tac_toe")
    assert (await env.step_async(OpenSpielAction(action_id=4))).reward == 0.0
    mcts, cheap = opponent_threads
    assert mcts[1] is False and cheap[1] is True  # MCTS in a thread, random on the loop
    await env.reset_async(seed=3, game="blackjack")
    assert (await env.step_async(OpenSpielAction(action_str="Stand"))).done
    assert not env.runs_inline  # the reset after the end: in a thread (MCTS may open)


async def test_list_games_tool():
    games = await OpenSpielEnvironment.tools()["list_games"].call(OpenSpielEnvironment(), {})
    by_name = {g["name"]: g for g in games}
    assert set(by_name) == set(GAMES)
    assert by_name["kuhn_poker"]["players"] == 2 and by_name["2048"]["players"] == 1


# -- scripted agents ----------------------------------------------------------------------------

LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]


def _winner(board: str) -> str | None:
    for a, b, c in LINES:
        if board[a] != "." and board[a] == board[b] == board[c]:
            return board[a]
    return None


@functools.cache
def _value(board: str, me: str, to_move: str) -> int:
    """Minimax value of a tic-tac-toe board for ``me`` (+1 win, 0 draw, -1 loss)."""
    winner = _winner(board)
    if winner is not None:
        return 1 if winner == me else -1
    moves = [i for i, cell in enumerate(board) if cell == "."]
    if not moves:
        return 0
    other = "o" if to_move == "x" else "x"
    values = [_value(board[:i] + to_move + board[i + 1 :], me, other) for i in moves]
    return max(values) if to_move == me else min(values)


def perfect_tic_tac_toe(obs: OpenSpielObservation) -> OpenSpielAction:
    """Reads the board from the rendering; plays a minimax-optimal move."""
    board = obs.rendering.replace("\n", "")
    me = "x" if obs.agent_player == 0 else "o"
    other = "o" if me == "x" else "x"
    best = max(obs.legal_actions, key=lambda i: _value(board[:i] + me + board[i + 1 :], me, other))
    return OpenSpielAction(action_id=best)


@pytest.mark.parametrize("agent_player", [0, 1])
def test_perfect_play_never_loses_to_random(agent_player):
    env = OpenSpielEnvironment()
    results = [
        play(
            env,
            perfect_tic_tac_toe,
            seed=seed,
            game="tic_tac_toe",
            agent_player=agent_player,
        )[-1].returns[agent_player]
        for seed in range(20)
    ]
    assert min(results) >= 0.0 and results.count(1.0) >= 15


def test_perfect_play_never_loses_to_mcts():
    env = OpenSpielEnvironment()
    results = [
        play(env, perfect_tic_tac_toe, seed=seed, game="tic_tac_toe", opponent="mcts")[-1]
        for seed in range(4)
    ]
    assert all(last.returns[0] >= 0.0 for last in results)


CARD_VALUES = {"A": 11, "T": 10, "J": 10, "Q": 10, "K": 10} | {str(n): n for n in range(2, 10)}


def _cards(line: str) -> list[int]:
    return [CARD_VALUES[c[1:]] for c in line.split("Cards:")[1].split() if c != "??"]


def basic_strategy(obs: OpenSpielObservation) -> OpenSpielAction:
    """Hit/stand basic strategy (no doubling or splitting here) from the rendering."""
    lines = obs.rendering.splitlines()
    mine = _cards(next(line for line in lines if line.startswith("Player 0")))
    dealer = _cards(next(line for line in lines if line.startswith("Dealer")))[0]
    total, aces = sum(mine), mine.count(11)
    while total > 21 and aces:
        total, aces = total - 10, aces - 1
    if aces:  # soft hand
        hit = total <= 17 or (total == 18 and dealer >= 9)
    elif total <= 11:
        hit = True
    elif total == 12:
        hit = dealer not in (4, 5, 6)
    elif total <= 16:
        hit = dealer >= 7
    else:
        hit = False
    return OpenSpielAction(action_str="Hit" if hit else "Stand")


def test_blackjack_basic_strategy_over_100_hands():
    env = OpenSpielEnvironment()
    strategy = [
        play(env, basic_strategy, seed=s, game="blackjack")[-1].returns[0] for s in range(100)
    ]
    always_hit = [
        play(env, lambda o: OpenSpielAction(action_str="Hit"), seed=s, game="blackjack")[-1]
        for s in range(100)
    ]
    assert len(strategy) == 100 and set(strategy) <= {-1.0, 0.0, 1.0}
    assert sum(strategy) / 100 > -0.25  # the house edge is a few percent
    assert sum(strategy) > sum(o.returns[0] for o in always_hit) + 30


def test_catch_is_solved_by_following_the_ball():
    def follow(obs: OpenSpielObservation) -> OpenSpielAction:
        rows = obs.rendering.splitlines()
        ball = next(row.index("o") for row in rows if "o" in row)
        paddle = rows[-1].index("x")
        return OpenSpielAction(
            action_str="LEFT" if ball < paddle else "RIGHT" if ball > paddle else "STAY"
        )

    env = OpenSpielEnvironment()
    assert [play(env, follow, seed=s, game="catch")[-1].returns[0] for s in range(10)] == [1.0] * 10
