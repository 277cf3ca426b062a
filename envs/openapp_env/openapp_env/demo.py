"""The OpenApp environment's demo scenario (see :mod:`openenv.demos`): a task solved in
Chromium through browser actions only, with screenshots of one solved task saved."""

from __future__ import annotations

import base64
from typing import Any

from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

from .agents import chromium_missing, play_good
from .client import OpenAppEnv


def play(client: OpenAppEnv, seed: int, episode: Episode) -> None:
    """A task picked by the seed, solved through browser actions only (reward 1.0).

    The first task solved in three steps or more is saved: its goal and a screenshot
    per step as PNG files (``--out``).
    """
    first = client.reset(seed=seed)
    task_id = first.observation.task_id
    shots = [first.observation.screenshot]

    def check(text: str, result: Any) -> None:
        if result.observation.last_action_error:
            raise DemoCheckFailed(f"{task_id}: {text}: {result.observation.last_action_error}")
        shots.append(result.observation.screenshot)

    result = play_good(Recorded(client, episode), first, agent_task(seed), on_step=check)
    if result.reward != 1.0 or not result.done:
        raise DemoCheckFailed(f"{task_id}: reward {result.reward} after its known solution")
    saved = episode.artifacts
    if saved is not None and len(shots) >= 4 and not (saved.is_dir() and any(saved.iterdir())):
        saved.mkdir(parents=True, exist_ok=True)  # the first task solved in 3 steps or more
        (saved / f"{task_id}-goal.txt").write_text(result.observation.goal + "\n")
        for number, shot in enumerate(s for s in shots if s):
            (saved / f"{task_id}-{number:02d}.png").write_bytes(base64.b64decode(shot))


SCENARIOS = [
    Scenario("openapp", env="openapp_env", client=OpenAppEnv, play=play, missing=chromium_missing),
]
