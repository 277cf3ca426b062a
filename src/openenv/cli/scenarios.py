"""The demo's scenarios: for each environment, how one episode is played.

A scenario is a function that plays one episode; add one with :func:`scenario`::

    @scenario("echo", env="echo_env", client="echo_env:EchoEnv")
    def play_echo(client, seed: int, episode: Episode) -> None:
        client.reset(seed=seed)
        result = episode.step(client, EchoAction(message="hi"))   # timed and recorded

Clients and environment packages are imported inside the functions: only the
scenarios that run need their environment installed.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class DemoCheckFailed(AssertionError):
    """The environment answered something other than what the scenario expected."""


@dataclass
class Episode:
    """What one episode recorded: a reward and a latency per step."""

    rewards: list[float] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    artifacts: Path | None = None
    """Where this episode may save files (screenshots); set for each scenario's first episode."""

    def step(self, client: Any, action: Any) -> Any:
        """``client.step(action)``, timed; the reward is recorded (``None`` counts as 0)."""
        start = time.perf_counter()
        result = client.step(action)
        self.latencies_s.append(time.perf_counter() - start)
        self.rewards.append(float(result.reward or 0.0))
        return result

    @property
    def total_reward(self) -> float:
        return sum(self.rewards)


Play = Callable[[Any, int, Episode], None]


@dataclass(frozen=True)
class Scenario:
    """One row of the demo: which environment to serve, which client, how to play."""

    name: str
    env: str
    client: str
    play: Play
    isolation: str = "none"
    seeds_from: str | None = None
    """Play the same episodes (seeds) as this scenario; default: its own name."""

    @property
    def seed_name(self) -> str:
        return self.seeds_from or self.name


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str, *, env: str, client: str, isolation: str = "none", seeds_from: str | None = None
) -> Callable[[Play], Play]:
    """Register ``play(client, seed, episode)`` as the demo of ``env``.

    ``env`` is what :func:`openenv.discovery.find_environment` takes; ``client`` is
    ``"module:ClientClass"``, imported only when the demo runs; ``isolation`` is
    ``"none"`` or ``"sandbox"``.
    """

    def register(play: Play) -> Play:
        SCENARIOS[name] = Scenario(name, env, client, play, isolation, seeds_from)
        return play

    return register


# -- scenarios -----------------------------------------------------------------------------

ECHO_WORDS = ("hello", "world", "reward", "agent", "policy", "echo", "step", "rl", "openenv")


def echo_message(rng: random.Random) -> str:
    """The demo's echo policy: one to four random words."""
    return " ".join(rng.choices(ECHO_WORDS, k=rng.randint(1, 4)))


@scenario(
    "echo (sandboxed)",
    env="echo_env",
    client="echo_env:EchoEnv",
    isolation="sandbox",
    seeds_from="echo",  # the same episodes, so the same rewards, as unsandboxed
)
@scenario("echo", env="echo_env", client="echo_env:EchoEnv")  # applied first: listed first
def play_echo(client: Any, seed: int, episode: Episode) -> None:
    """Say random words until the episode ends; checks echo and reward = len(message) / 10."""
    from echo_env import EchoAction

    rng = random.Random(seed)
    result = client.reset(seed=seed)
    while not result.done:
        message = echo_message(rng)
        result = episode.step(client, EchoAction(message=message))
        if result.observation.echoed_message != message:
            raise DemoCheckFailed(f"sent {message!r}, echoed {result.observation.echoed_message!r}")
        if not math.isclose(result.reward, len(message) / 10):
            raise DemoCheckFailed(
                f"reward {result.reward} for {message!r}, expected {len(message) / 10}"
            )


@scenario(
    "coding (sandboxed)", env="coding_env", client="coding_env:CodingEnv", isolation="sandbox"
)
def play_coding(client: Any, seed: int, episode: Episode) -> None:
    """A task picked by the seed: try the solution in the REPL, then submit it.

    Every third episode submits the task's known-wrong solution instead, to show
    partial credit: its reward must be below 1.0, the right one's exactly 1.0.
    """
    from coding_env import CodeAction
    from coding_env.server.tasks import TASKS

    result = client.reset(seed=seed)
    task = TASKS[result.observation.task_id]
    tried = episode.step(client, CodeAction(code=task.solution + f"\nprint({task.entry_point!r})"))
    if tried.observation.stdout.strip() != repr(task.entry_point) and tried.observation.exit_code:
        raise DemoCheckFailed(f"{task.id}: the solution did not run: {tried.observation.stderr}")
    wrong = random.Random(seed).random() < 1 / 3
    code = task.wrong_solution if wrong else task.solution
    result = episode.step(client, CodeAction(code=code, submit=True))
    if not result.done or (result.reward < 1.0) != wrong:
        which = "wrong" if wrong else "right"
        raise DemoCheckFailed(f"{task.id}: reward {result.reward} for the {which} solution")


@scenario(
    "terminal (sandboxed)",
    env="terminal_env",
    client="terminal_env:TerminalEnv",
    isolation="sandbox",
)
def play_terminal(client: Any, seed: int, episode: Episode) -> None:
    """A task picked by the seed: look around, run the known solution, evaluate (reward 1.0)."""
    from terminal_env import TerminalAction
    from terminal_env.server.tasks import TASKS

    result = client.reset(seed=seed)
    task = TASKS[result.observation.task_id]
    episode.step(client, TerminalAction(command="ls -la"))
    done = episode.step(client, TerminalAction(command=task.solution))
    if done.observation.timed_out:
        raise DemoCheckFailed(f"{task.id}: the solution timed out")
    result = episode.step(client, TerminalAction(evaluate=True))
    if result.reward != 1.0 or not result.done:
        raise DemoCheckFailed(f"{task.id}: reward {result.reward} after the known solution")


@scenario("openapp", env="openapp_env", client="openapp_env:OpenAppEnv")
def play_openapp(client: Any, seed: int, episode: Episode) -> None:
    """A task picked by the seed, solved through browser actions only (reward 1.0).

    The first episode saves a screenshot per step as PNG files (``--out``).
    """
    import base64

    from openapp_env import OpenAppAction
    from openapp_env.server.environment import TASKS, prepare

    result = client.reset(seed=seed)
    task = TASKS[result.observation.task_id]
    db, params = prepare(task, seed)
    db.close()
    shots = [result.observation.screenshot]
    for text in task.solution(params):
        result = episode.step(client, OpenAppAction(action=text))
        if result.observation.last_action_error:
            raise DemoCheckFailed(f"{task.id}: {text}: {result.observation.last_action_error}")
        shots.append(result.observation.screenshot)
    if result.reward != 1.0 or not result.done:
        raise DemoCheckFailed(f"{task.id}: reward {result.reward} after its known solution")
    if episode.artifacts is not None:
        episode.artifacts.mkdir(parents=True, exist_ok=True)
        for number, shot in enumerate(s for s in shots if s):
            path = episode.artifacts / f"{task.id}-{number:02d}.png"
            path.write_bytes(base64.b64decode(shot))
