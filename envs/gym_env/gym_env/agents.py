"""Reference agents of the Gymnasium environment (see :mod:`openenv.agents`).

The tasks are CartPole-v1, which pays 1.0 for every step the pole stays up (500 at
most). The known-good agent is the classic controller (push the way the pole leans
and falls); it keeps the pole up for at least 195 steps, CartPole's "solved" bar.
Every CartPole action pushes the cart: there is no do-nothing action.
"""

from __future__ import annotations

from typing import Any

from openenv.agents import Expect, ReferenceAgents, Task, seed_tasks

from .models import GymAction

CARTPOLE_SOLVED_STEPS = 195
"""CartPole's classic bar: the pole kept up this many steps."""


def cartpole_action(observation: Any) -> int:
    """Push the way the pole leans and falls (0 left, 1 right)."""
    _, _, angle, angular_velocity = observation.obs
    return 1 if angle + angular_velocity > 0 else 0


def play_good(session: Any, first: Any, task: Task) -> Any:
    """The classic CartPole controller, until the episode ends."""
    result = first
    while not result.done:
        result = session.step(GymAction(action=cartpole_action(result.observation)))
    return result


def play_random(session: Any, first: Any, task: Task) -> Any:
    """A random push each step (what CartPole's random baseline does: ~20 steps)."""
    import random

    rng = random.Random(f"random:{task.id}")
    result = first
    while not result.done:
        result = session.step(GymAction(action=rng.randint(0, 1)))
    return result


AGENTS = ReferenceAgents(
    tasks=seed_tasks(20, env_id="CartPole-v1"),
    good=play_good,
    random=play_random,
    expect=Expect(
        noop_max=None,
        random_max=100.0,
        good_min=CARTPOLE_SOLVED_STEPS,
        why="CartPole pays 1 a step while the pole is up (500 at most): solved is >= 195 "
        "steps, random play lasts ~20; every action pushes the cart (no do-nothing)",
    ),
    max_steps=600,
)
