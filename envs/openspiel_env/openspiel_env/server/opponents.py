"""The opponents the agent plays against: random, first/last legal action, and MCTS.

Every opponent is seeded from the episode's seed (through :func:`openenv.derive_seed`),
so the same seed and the same agent moves give the same opponent moves.

MCTS is OpenSpiel's own (``open_spiel.python.algorithms.mcts``: UCT with random
rollouts, solving won/lost subtrees) when it can be imported, else :class:`SmallUCT`
below. It plays perfect-information games with terminal rewards only: on a game with
hidden information it would see the hidden cards.

Example::

    opponent = make_opponent("mcts", game, seed=7, simulations=200)
    action = opponent.choose(state)
"""

from __future__ import annotations

import math
import random
from typing import Any, Protocol

import pyspiel

OPPONENTS = ("random", "first", "last", "mcts")


class Opponent(Protocol):
    """Picks a move for whoever is to play in ``state`` (never a chance node)."""

    name: str

    def choose(self, state: pyspiel.State) -> int: ...


class RandomOpponent:
    """A uniformly random legal action, from its own seeded stream."""

    name = "random"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choose(self, state: pyspiel.State) -> int:
        return self.rng.choice(state.legal_actions())


class FirstOpponent:
    """Always the lowest legal action id (a deterministic, weak opponent)."""

    name = "first"

    def choose(self, state: pyspiel.State) -> int:
        return state.legal_actions()[0]


class LastOpponent:
    """Always the highest legal action id."""

    name = "last"

    def choose(self, state: pyspiel.State) -> int:
        return state.legal_actions()[-1]


class OpenSpielMCTS:
    """OpenSpiel's ``MCTSBot``: UCT, one random rollout per leaf, solved subtrees backed up."""

    name = "mcts"

    def __init__(self, game: pyspiel.Game, seed: int, simulations: int) -> None:
        import numpy as np
        from open_spiel.python.algorithms import mcts

        state_rng = np.random.RandomState(seed % 2**32)
        evaluator = mcts.RandomRolloutEvaluator(n_rollouts=1, random_state=state_rng)
        self.bot = mcts.MCTSBot(
            game,
            uct_c=2.0,
            max_simulations=simulations,
            evaluator=evaluator,
            solve=True,
            random_state=state_rng,
        )

    def choose(self, state: pyspiel.State) -> int:
        return int(self.bot.step(state))


class _Node:
    __slots__ = ("action", "children", "player", "total", "untried", "visits")

    def __init__(self, action: int | None, player: int, untried: list[int]) -> None:
        self.action = action
        self.player = player  # who chose the move into this node
        self.untried = untried
        self.children: list[_Node] = []
        self.visits = 0
        self.total = 0.0


class SmallUCT:
    """A small UCT (random rollouts) for when OpenSpiel's Python MCTS cannot be imported.

    Chance nodes met during a simulation are sampled; the tree stores decision nodes only.
    """

    name = "mcts"

    def __init__(self, game: pyspiel.Game, seed: int, simulations: int, uct_c: float = 1.4):
        self.rng = random.Random(seed)
        self.simulations = simulations
        self.uct_c = uct_c
        self.num_players = game.num_players()

    def _sample_chance(self, state: pyspiel.State) -> None:
        while state.is_chance_node():
            outcomes, probs = zip(*state.chance_outcomes(), strict=True)
            state.apply_action(self.rng.choices(outcomes, probs)[0])

    def choose(self, state: pyspiel.State) -> int:
        root = _Node(None, -1, list(state.legal_actions()))
        for _ in range(self.simulations):
            node, sim, path = root, state.clone(), [root]
            while not node.untried and node.children and not sim.is_terminal():
                node = max(node.children, key=lambda c, n=node: self._uct(c, n))
                sim.apply_action(node.action)
                self._sample_chance(sim)
                path.append(node)
            if node.untried and not sim.is_terminal():
                action = node.untried.pop(self.rng.randrange(len(node.untried)))
                player = sim.current_player()
                sim.apply_action(action)
                self._sample_chance(sim)
                untried = [] if sim.is_terminal() else list(sim.legal_actions())
                child = _Node(action, player, untried)
                node.children.append(child)
                path.append(child)
            while not sim.is_terminal():
                sim.apply_action(self.rng.choice(sim.legal_actions()))
                self._sample_chance(sim)
            returns = sim.returns()
            for visited in path:
                visited.visits += 1
                if visited.player >= 0:
                    visited.total += returns[visited.player]
        best = max(root.children, key=lambda c: (c.visits, c.total))
        return int(best.action)  # type: ignore[arg-type]

    def _uct(self, child: _Node, parent: _Node) -> float:
        if child.visits == 0:
            return math.inf
        exploit = child.total / child.visits
        return exploit + self.uct_c * math.sqrt(math.log(parent.visits) / child.visits)


def mcts_available() -> bool:
    """Whether OpenSpiel's Python MCTS imports (it needs numpy)."""
    try:
        from open_spiel.python.algorithms import mcts  # noqa: F401
    except ImportError:
        return False
    return True


def make_opponent(name: str, game: pyspiel.Game, seed: int, simulations: int = 200) -> Any:
    """The opponent called ``name`` (one of :data:`OPPONENTS`), seeded with ``seed``."""
    if name == "random":
        return RandomOpponent(seed)
    if name == "first":
        return FirstOpponent()
    if name == "last":
        return LastOpponent()
    if name == "mcts":
        game_type = game.get_type()
        if game_type.information != pyspiel.GameType.Information.PERFECT_INFORMATION:
            raise ValueError(
                f"opponent 'mcts' plays perfect-information games only; {game_type.short_name} "
                "has hidden information (it would see the hidden cards): choose random, "
                "first or last"
            )
        if game_type.reward_model != pyspiel.GameType.RewardModel.TERMINAL:
            raise ValueError("opponent 'mcts' needs a game with terminal rewards")
        if mcts_available():
            return OpenSpielMCTS(game, seed, simulations)
        return SmallUCT(game, seed, simulations)
    raise ValueError(f"unknown opponent {name!r}; choose from {', '.join(OPPONENTS)}")
