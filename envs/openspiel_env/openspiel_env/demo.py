"""The OpenSpiel environment's demo scenarios (see :mod:`openenv.demos`): tic-tac-toe
against MCTS, and blackjack."""

from __future__ import annotations

from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

from . import agents
from .client import OpenSpielEnv


def play_tic_tac_toe(client: OpenSpielEnv, seed: int, episode: Episode) -> None:
    """Minimax from the rendered board against OpenSpiel's MCTS; perfect play never loses."""
    seat = seed % 2  # half the games as x (first), half as o
    options = {"game": "tic_tac_toe", "opponent": "mcts", "mcts_simulations": 50}
    result = client.reset(seed=seed, agent_player=seat, **options)
    task = agent_task(seed, agent_player=seat, **options)
    result = agents.play_tic_tac_toe(Recorded(client, episode), result, task)
    if result.reward not in (0.0, 1.0):
        raise DemoCheckFailed(f"perfect play lost to MCTS: {result.observation.rendering!r}")


def play_blackjack(client: OpenSpielEnv, seed: int, episode: Episode) -> None:
    """OpenSpiel's blackjack, actions by name; the hand ends with +1, 0 or -1."""
    first = client.reset(seed=seed, game="blackjack")
    task = agent_task(seed, game="blackjack")
    result = agents.play_blackjack(Recorded(client, episode), first, task)
    if result.reward not in (-1.0, 0.0, 1.0) or result.observation.returns != [result.reward]:
        returns = result.observation.returns
        raise DemoCheckFailed(f"blackjack paid {result.reward}, returns {returns}")


SCENARIOS = [
    Scenario(
        "openspiel (tic_tac_toe vs mcts)",
        env="openspiel_env",
        client=OpenSpielEnv,
        play=play_tic_tac_toe,
    ),
    Scenario(
        "blackjack (basic strategy)",
        env="openspiel_env",
        client=OpenSpielEnv,
        play=play_blackjack,
    ),
]
