"""Demo scenarios: what an environment package ships so that ``openenv demo`` plays it.

A scenario names an environment and its client, and a function that plays one
episode through that client, checking what comes back. An environment package lists
its scenarios in ``<package>/demo.py`` as a module-level ``SCENARIOS`` and registers
that list under the entry point group :data:`ENTRY_POINT_GROUP` in its
``pyproject.toml``::

    [project.entry-points."openenv.demos"]
    echo_env = "echo_env.demo:SCENARIOS"

A scenario drives the package's own reference agents (``<package>/agents.py``,
:mod:`openenv.agents`) through :class:`Recorded`, so that each step is timed, and
adds the demo's checks::

    from openenv.demos import DemoCheckFailed, Episode, Recorded, Scenario, agent_task

    from .agents import play_good
    from .client import GuessNumberEnv

    def play(client: GuessNumberEnv, seed: int, episode: Episode) -> None:
        first = client.reset(seed=seed)
        result = play_good(Recorded(client, episode), first, agent_task(seed))
        if not result.observation.won:
            raise DemoCheckFailed(f"binary search lost: {result.observation}")

    SCENARIOS = [
        Scenario("guess the number", env="guess_number_env", client=GuessNumberEnv, play=play),
    ]

``openenv demo`` serves ``env`` in-process, opens ``client`` on it and calls ``play``
once per episode with a seed of its own (:func:`openenv.derive_seed`); any exception
fails the scenario (:class:`DemoCheckFailed` for a wrong answer). A demo module
imports no server internals at load time: the demo lists every installed scenario
before it serves any.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .agents import Task
from .errors import DemoCheckFailed

__all__ = [
    "ENTRY_POINT_GROUP",
    "DemoCheckFailed",
    "Episode",
    "Play",
    "Recorded",
    "Scenario",
    "agent_task",
]

ENTRY_POINT_GROUP = "openenv.demos"
"""The entry point group naming each package's scenarios (a :class:`Scenario` or a list)."""


@dataclass
class Episode:
    """What one episode recorded: a reward and a latency per step.

    Example::

        result = episode.step(client, EchoAction(message="hi"))   # timed and recorded
        episode.total_reward                                       # 0.2
    """

    rewards: list[float] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    artifacts: Path | None = None
    """Where the scenario may save files (screenshots), shared by its episodes (``--out``)."""

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
"""``play(client, seed, episode)``: plays one episode; raises when a check fails."""


class Recorded:
    """A client whose steps ``episode`` times and records: what a scenario hands to the
    environment's reference agents, so that their steps count in the demo.

    Example::

        result = play_good(Recorded(client, episode), first, agent_task(seed))
    """

    def __init__(self, client: Any, episode: Episode) -> None:
        self.client = client
        self.episode = episode

    def reset(self, **options: Any) -> Any:
        return self.client.reset(**options)

    def step(self, action: Any) -> Any:
        return self.episode.step(self.client, action)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def agent_task(seed: int, **reset: Any) -> Task:
    """The :class:`openenv.agents.Task` of a demo episode: ``reset(seed=seed, **reset)``.

    Example::

        agent_task(3, level=1)      # Task("seed-3", {"seed": 3, "level": 1})
    """
    return Task(f"seed-{seed}", {"seed": seed, **reset})


@dataclass(frozen=True)
class Scenario:
    """One row of the demo: which environment to serve, which client, how to play.

    Example::

        Scenario("echo", env="echo_env", client=EchoEnv, play=play_echo)
        Scenario("echo (sandboxed)", env="echo_env", client=EchoEnv, play=play_echo,
                 isolation="sandbox", seeds_from="echo")
    """

    name: str
    """Shown in the demo's table; ``openenv demo -e`` takes it (or it lower-cased, dashed)."""
    env: str
    """What :func:`openenv.discovery.find_environment` takes: the environment's name."""
    client: Callable[..., Any]
    """The typed client class, constructed as ``client(base_url=...)``."""
    play: Play
    isolation: Literal["none", "sandbox", "container"] = "none"
    """``"sandbox"``: every session in its own sandbox (skipped where sandboxes cannot run);
    ``"container"``: the server in a container of the environment's image (``openenv
    build``; skipped where no container engine answers)."""
    seeds_from: str | None = None
    """Play the same episodes (seeds) as this scenario; default: its own name."""
    missing: Callable[[], str | None] | None = None
    """What this machine lacks for the scenario (``None``: nothing); it is then skipped."""

    @property
    def seed_name(self) -> str:
        return self.seeds_from or self.name
