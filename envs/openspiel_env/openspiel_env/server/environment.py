"""OpenSpiel games as an OpenEnv environment: the agent holds one seat, opponents the rest.

The game and its parameters are chosen at reset::

    env = OpenSpielEnvironment()
    obs = env.reset(seed=1, game="tic_tac_toe", opponent="mcts", mcts_simulations=100)
    obs = env.step(OpenSpielAction(action_id=4))          # the centre; the opponent replies
    obs.legal_actions, obs.legal_action_strings, obs.rendering

* **Chance** (cards, dice, new tiles, the falling ball) is drawn from a stream seeded by
  the episode's seed (``derive_seed(seed, "chance")``); the opponents have their own
  streams, so the same seed and the same agent moves give the same episode.
* **Opponents** (multi-player games): ``random``, ``first`` / ``last`` (lowest / highest
  legal id), or ``mcts`` (perfect-information games). After the agent's move they play,
  with chance resolved in between, until it is the agent's turn again or the game ends.
* **Reward** of a step: the change of the agent's return (``state.returns()``) over the
  agent's move and everything after it up to its next turn. Games with terminal rewards
  pay the outcome on the last step (+1/-1/0 in tic_tac_toe, chips in poker); games with
  per-step rewards (2048: merged tiles; cliff_walking: -1 a step) pay as they go. The
  rewards of an episode add up to the agent's final return.
* **Illegal moves** raise ``ValueError`` (over the wire: an error frame; the session and
  the game stay as they were). A step after the game is over raises ``EpisodeOver`` (an
  ``EPISODE_OVER`` error frame): reset to play another.
"""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

import pyspiel
from pydantic import Field

from openenv import Environment, derive_seed, tool

from ..models import OpenSpielAction, OpenSpielObservation, OpenSpielState
from .opponents import make_opponent

GAMES: dict[str, str] = {
    # one player
    "catch": "catch the falling ball: LEFT/STAY/RIGHT; +1 caught, -1 missed",
    "cliff_walking": "Sutton & Barto's cliff walk: -1 a step, -100 off the cliff",
    "2048": "slide tiles; reward = the value of the tiles merged by each move",
    "blackjack": "Hit or Stand against the dealer; +1 win, -1 loss, 0 push",
    "deep_sea": "the deep-sea exploration chain: a small cost to move right, 1 at the end",
    # two players, perfect information
    "tic_tac_toe": "3x3; +1 win, -1 loss, 0 draw",
    "connect_four": "6x7, four in a row; +1 win, -1 loss, 0 draw",
    "breakthrough": "8x8 race to the far row",
    "checkers": "8x8 checkers",
    "chess": "chess (moves as action ids; see chess_env for UCI/SAN)",
    "clobber": "5x6 clobber",
    "dots_and_boxes": "2x2 boxes",
    "go": "go, 19x19 by default (board_size)",
    "gomoku": "five in a row on 15x15",
    "hex": "11x11 hex (board_size)",
    "mancala": "kalah",
    "nim": "misere nim, piles 1;3;5;7",
    "nine_mens_morris": "nine men's morris",
    "othello": "8x8 othello",
    "oware": "oware (abapa)",
    "pentago": "pentago",
    "ultimate_tic_tac_toe": "tic-tac-toe of tic-tac-toes",
    "backgammon": "backgammon (dice)",
    "pig": "the dice game pig, first to 100",
    # hidden information
    "kuhn_poker": "3-card poker; reward = chips won or lost",
    "leduc_poker": "6-card, 2-round poker; reward = chips won or lost",
    "liars_dice": "liar's dice, one die each",
    "phantom_ttt": "tic-tac-toe without seeing the opponent's marks",
}
"""The games served, with a line each. Others are refused: some OpenSpiel games read
files named by their parameters, or are not turn-based."""

GameParam = int | float | bool | str
Opponent = Literal["random", "first", "last", "mcts"]
TERMINAL = "terminal"


class OpenSpielEnvironment(Environment[OpenSpielAction, OpenSpielObservation, OpenSpielState]):
    """One OpenSpiel game per episode; the agent plays ``agent_player``, opponents the rest.

    Reset options: ``game`` (one of :data:`GAMES`), ``game_params`` (OpenSpiel's game
    parameters, e.g. ``{"rows": 5}``), ``opponent``, ``agent_player``,
    ``mcts_simulations``. See the module docstring for rewards and errors.
    """

    runs_inline = True
    """Cheap games run on the server's event loop (no thread hop); with an MCTS opponent
    they run in a thread. ``_reset`` sets this per episode (the base class reads it at
    each call), and the reset after a game ends, whose options are not known yet, runs
    in a thread too (MCTS may open)."""

    def __init__(self) -> None:
        super().__init__()
        self.runs_inline = False  # the first reset: in a thread
        self.game: pyspiel.Game | None = None
        self.game_state: pyspiel.State | None = None
        self.opponent: Any = None
        self.agent_player = 0
        self._chance_rng = self.rng
        self._last_opponent: tuple[int, str] | None = None

    # -- the hooks -----------------------------------------------------------------------

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        game: str = "catch",
        game_params: dict[str, GameParam] | None = None,
        opponent: Opponent = "random",
        agent_player: Annotated[int, Field(ge=0, le=9)] = 0,
        mcts_simulations: Annotated[int, Field(ge=1, le=20_000)] = 200,
    ) -> OpenSpielObservation:
        """Start a game; opponents (and chance) move until it is the agent's turn."""
        loaded = load_game(game, game_params or {})
        players = loaded.num_players()
        if agent_player >= players:
            raise ValueError(
                f"agent_player={agent_player}, but {game} has {players} player(s): "
                f"seats 0..{players - 1}"
            )
        assert self.seed is not None
        self._chance_rng = random.Random(derive_seed(self.seed, "chance"))
        self.opponent = (
            make_opponent(opponent, loaded, derive_seed(self.seed, "opponent"), mcts_simulations)
            if players > 1
            else None
        )
        self.game, self.agent_player = loaded, agent_player
        self.game_state = loaded.new_initial_state()
        self._last_opponent = None
        self._state = OpenSpielState(
            episode_id=self.state.episode_id,
            step_count=0,
            game_name=game,
            game_params=dict(loaded.get_parameters()),
            agent_player=agent_player,
            opponent_policy=opponent if players > 1 else "none",
            num_players=players,
        )
        self._advance()
        observation = self._observe(phase="initial")
        if observation.done:
            observation.reward = self._agent_return()
        heavy = opponent == "mcts" and players > 1
        self.runs_inline = not heavy and not observation.done
        return observation

    def _step(
        self, action: OpenSpielAction, timeout_s: float | None = None
    ) -> OpenSpielObservation:
        """Play the agent's move, then the opponents' and chance's, up to its next turn."""
        state = self.game_state
        assert state is not None  # reset made it
        action_id = self._resolve(state, action)
        before = self._agent_return()
        state.apply_action(action_id)
        self._advance()
        after = self._agent_return()
        self.state.agent_return = after
        observation = self._observe(phase=TERMINAL if state.is_terminal() else "playing")
        observation.reward = after - before
        if observation.done:
            self.runs_inline = False  # the next reset may open with MCTS
        return observation

    @tool
    def list_games(self) -> list[dict[str, Any]]:
        """The games this environment serves: name, players, a line about each."""
        return [
            {"name": name, "players": pyspiel.load_game(name).num_players(), "about": about}
            for name, about in GAMES.items()
        ]

    # -- internals -----------------------------------------------------------------------

    def _resolve(self, state: pyspiel.State, action: OpenSpielAction) -> int:
        legal = state.legal_actions(self.agent_player)
        if action.action_str is not None:
            names = [state.action_to_string(self.agent_player, a) for a in legal]
            if action.action_str in names:
                return legal[names.index(action.action_str)]
            raise ValueError(f"illegal action {action.action_str!r}; legal: {', '.join(names)}")
        if action.action_id not in legal:
            raise ValueError(f"illegal action {action.action_id}; legal action ids: {legal}")
        assert action.action_id is not None
        return action.action_id

    def _advance(self) -> None:
        """Resolve chance and play the opponents until the agent is to move or the game ends."""
        state = self.game_state
        assert state is not None
        while not state.is_terminal():
            if state.is_chance_node():
                outcomes, probs = zip(*state.chance_outcomes(), strict=True)
                state.apply_action(self._chance_rng.choices(outcomes, probs)[0])
                continue
            player = state.current_player()
            if player == self.agent_player:
                return
            if player < 0:  # simultaneous or unknown: refused at load time
                raise RuntimeError(f"unexpected current player {player}")
            move = int(self.opponent.choose(state))
            self._last_opponent = (move, state.action_to_string(player, move))
            state.apply_action(move)

    def _agent_return(self) -> float:
        assert self.game_state is not None
        return float(self.game_state.returns()[self.agent_player])

    def _observe(self, phase: str) -> OpenSpielObservation:
        state, game, me = self.game_state, self.game, self.agent_player
        assert state is not None and game is not None
        done = state.is_terminal()
        legal = [] if done else state.legal_actions(me)
        game_type = game.get_type()
        if game_type.provides_information_state_tensor:
            tensor = state.information_state_tensor(me)
        elif game_type.provides_observation_tensor:
            tensor = state.observation_tensor(me)
        else:
            tensor = []
        if game_type.provides_observation_string:
            rendering = state.observation_string(me)
        elif game_type.provides_information_state_string:
            rendering = state.information_state_string(me)
        elif game_type.information == pyspiel.GameType.Information.PERFECT_INFORMATION:
            rendering = str(state)
        else:
            rendering = ""
        last = self._last_opponent
        return OpenSpielObservation(
            info_state=list(tensor),
            legal_actions=legal,
            legal_action_strings=[state.action_to_string(me, a) for a in legal],
            game_phase=TERMINAL if done else phase,
            current_player_id=state.current_player(),
            opponent_last_action=last[0] if last else None,
            opponent_last_action_string=last[1] if last else None,
            rendering=rendering,
            game_name=game_type.short_name,
            agent_player=me,
            returns=[float(r) for r in state.returns()] if done else [],
            done=done,
        )


def load_game(name: str, params: dict[str, GameParam]) -> pyspiel.Game:
    """``pyspiel.load_game`` for a served game, with parameters checked first.

    Raises ``ValueError`` naming the games or parameters there are.
    """
    if name not in GAMES:
        raise ValueError(f"unknown game {name!r}; choose from: {', '.join(sorted(GAMES))}")
    defaults = _default_params(name)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        known = ", ".join(f"{k}={v!r}" for k, v in sorted(defaults.items())) or "none"
        raise ValueError(f"{name} has no parameter(s) {unknown}; its parameters: {known}")
    for key, value in params.items():
        default = defaults[key]
        if isinstance(default, bool) != isinstance(value, bool) or (
            not isinstance(default, bool)
            and not isinstance(value, type(default))
            and not (isinstance(default, float) and isinstance(value, int))
        ):
            raise ValueError(
                f"{name} parameter {key!r} takes a {type(default).__name__}, got {value!r}"
            )
    coerced = {k: float(v) if isinstance(defaults[k], float) else v for k, v in params.items()}
    try:
        return pyspiel.load_game(name, coerced) if coerced else pyspiel.load_game(name)
    except pyspiel.SpielError as exc:
        raise ValueError(f"OpenSpiel refused {name}({params}): {str(exc)[:300]}") from None


_DEFAULTS: dict[str, dict[str, Any]] = {}


def _default_params(name: str) -> dict[str, Any]:
    if name not in _DEFAULTS:
        _DEFAULTS[name] = dict(pyspiel.load_game(name).get_parameters())
    return _DEFAULTS[name]
