"""Reference agents of the Atari environment (see :mod:`openenv.agents`).

The tasks are Breakout, RAM observations, 200 steps. The known-good agent launches
the ball and keeps the paddle under it (positions read from RAM); it breaks at
least one brick (1 point). Doing nothing (NOOP: the ball is never launched) scores 0.
Breakout has no "solution" in 200 steps, and a random agent may break a brick too.
"""

from __future__ import annotations

from typing import Any

from openenv.agents import Expect, ReferenceAgents, Task, seed_tasks

from .models import AtariAction

BREAKOUT_RAM = {"paddle_x": 72, "ball_x": 99, "ball_y": 101}
"""Where Breakout keeps the paddle and the ball in the console's 128 bytes of RAM."""


def play_good(session: Any, first: Any, task: Task, on_step: Any = None) -> Any:
    """FIRE to launch the ball (again after a lost life), then follow it with the paddle."""
    result = first
    lives, launch = result.observation.lives, True
    while not result.done:
        ram = result.observation.obs
        paddle, ball_x, ball_y = (ram[BREAKOUT_RAM[k]] for k in ("paddle_x", "ball_x", "ball_y"))
        if launch or ball_y == 0:
            action, launch = 1, False  # FIRE
        else:
            action = 2 if ball_x > paddle + 8 else 3 if ball_x < paddle + 8 else 0
        result = session.step(AtariAction(action=action))
        if on_step is not None:
            on_step(lives, result)
        launch = result.observation.lives < lives
        lives = result.observation.lives
    return result


def missing() -> str | None:
    try:
        import ale_py  # noqa: F401
    except ImportError as exc:
        return f"ale_py is not installed ({exc})"
    return None


AGENTS = ReferenceAgents(
    tasks=seed_tasks(10, game="Breakout", obs_type="ram", max_episode_steps=200),
    good=play_good,
    noop=AtariAction(action=0),
    expect=Expect(
        random_max=None,
        why="Breakout pays a point a brick and has no solution in 200 steps: the good agent "
        "must score (>= 1), a random one may too",
    ),
    missing=missing,
    max_steps=250,
)
