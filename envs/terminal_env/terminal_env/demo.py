"""The terminal environment's demo scenario (see :mod:`openenv.demos`): each task's
known solution typed into a sandboxed shell, then evaluated."""

from __future__ import annotations

from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task
from openenv.runtime.programs import missing_for_sandboxed_programs

from .agents import play_good
from .client import TerminalEnv


def play(client: TerminalEnv, seed: int, episode: Episode) -> None:
    """A task picked by the seed: look around, run the known solution, evaluate (reward 1.0)."""
    first = client.reset(seed=seed)
    task_id = first.observation.task_id
    result = play_good(Recorded(client, episode), first, agent_task(seed), look=True)
    if result.reward != 1.0 or not result.done:
        raise DemoCheckFailed(f"{task_id}: reward {result.reward} after the known solution")


SCENARIOS = [
    Scenario(
        "terminal (sandboxed)",
        env="terminal_env",
        client=TerminalEnv,
        play=play,
        isolation="sandbox",
        missing=missing_for_sandboxed_programs,
    ),
]
