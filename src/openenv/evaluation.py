"""``openenv eval``: a policy over many episodes, recorded, summed up.

Example::

    from openenv.evaluation import evaluate

    report = evaluate("guess_number_env", "good", episodes=20)
    report.reward_mean, report.success_rate, report.trajectories

A **policy** is one of:

* ``"good"``, ``"random"`` or ``"noop"`` — the environment's reference agents
  (``<package>/agents.py``), over its own tasks;
* a function ``policy(observation) -> action`` — called once per step until the
  episode ends (``max_steps`` at most), over seeds ``seed``, ``seed + 1``, ...;
* a function ``play(session, first, task)`` — an agent that plays a whole
  episode, as the reference agents do (:mod:`openenv.agents`).

Named as ``"module:function"``, the last two are imported. An episode succeeds
when its last observation says so (a ``solved``, ``success`` or ``won`` field that
is true) or, where it has no such field, when its return reaches
``success_at``. An episode the infrastructure broke (the server gone, a worker
dead) counts as *failed*, apart: never as a return of 0.
"""

from __future__ import annotations

import importlib
import inspect
import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .agents import Agent, LocalSession, ReferenceAgents, Task, load_agents, package_of
from .discovery import find_environment
from .errors import ConfigError, OpenEnvError, is_infrastructure
from .trajectories import TrajectoryRecorder

REFERENCE_POLICIES = ("good", "random", "noop")
SUCCESS_FIELDS = ("solved", "success", "won")


@dataclass
class EpisodeOutcome:
    """One evaluated episode."""

    task: str
    total_reward: float = 0.0
    steps: int = 0
    seconds: float = 0.0
    success: bool = False
    failure: str | None = None
    """Why the infrastructure broke the episode, if it did (then it is not scored)."""


@dataclass
class EvalReport:
    """What :func:`evaluate` measured; the scored figures leave failed episodes out."""

    env: str
    policy: str
    outcomes: list[EpisodeOutcome] = field(default_factory=list)
    trajectories: Path | None = None
    seconds: float = 0.0

    @property
    def scored(self) -> list[EpisodeOutcome]:
        return [o for o in self.outcomes if o.failure is None]

    @property
    def failed(self) -> int:
        """Episodes the infrastructure broke."""
        return len(self.outcomes) - len(self.scored)

    def _stat(self, values: list[float], how: Callable[[list[float]], float]) -> float:
        return how(values) if values else math.nan

    @property
    def reward_mean(self) -> float:
        return self._stat([o.total_reward for o in self.scored], statistics.fmean)

    @property
    def reward_min(self) -> float:
        return self._stat([o.total_reward for o in self.scored], min)

    @property
    def reward_max(self) -> float:
        return self._stat([o.total_reward for o in self.scored], max)

    @property
    def steps_mean(self) -> float:
        return self._stat([float(o.steps) for o in self.scored], statistics.fmean)

    @property
    def success_rate(self) -> float:
        return self._stat([float(o.success) for o in self.scored], statistics.fmean)

    def to_dict(self) -> dict[str, Any]:
        def number(value: float) -> float | None:
            return None if math.isnan(value) else round(value, 6)

        return {
            "env": self.env,
            "policy": self.policy,
            "episodes": len(self.outcomes),
            "failed": self.failed,
            "reward_mean": number(self.reward_mean),
            "reward_min": number(self.reward_min),
            "reward_max": number(self.reward_max),
            "steps_mean": number(self.steps_mean),
            "success_rate": number(self.success_rate),
            "seconds": round(self.seconds, 3),
            "trajectories": str(self.trajectories) if self.trajectories else None,
            "outcomes": [o.__dict__ for o in self.outcomes],
        }


def evaluate(
    env: str | Path,
    policy: str | Callable[..., Any],
    *,
    episodes: int = 10,
    seed: int = 0,
    reset_options: dict[str, Any] | None = None,
    url: str | None = None,
    token: str | None = None,
    isolation: str | None = None,
    out: str | Path | None = None,
    max_steps: int = 1000,
    success_at: float = 1.0,
    progress: Callable[[EpisodeOutcome], None] | None = None,
) -> EvalReport:
    """Run ``policy`` for ``episodes`` episodes of ``env``; record them to ``out``.

    The environment is served as ``openenv serve`` would (isolation from its
    ``openenv.yaml`` unless ``isolation``), or reached at ``url``. ``out`` is the
    trajectories file (JSONL, see :mod:`openenv.trajectories`); default
    ``openenv-eval/<env>-<time>.jsonl``. ``progress`` is called after each episode.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, not {episodes}")
    found = find_environment(env)
    name = found.name
    label = policy if isinstance(policy, str) else getattr(policy, "__name__", repr(policy))
    agent, tasks = _agent_and_tasks(found, policy, episodes, seed, reset_options or {}, max_steps)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(out) if out is not None else Path("openenv-eval") / f"{name}-{stamp}.jsonl"
    report = EvalReport(name, str(label), trajectories=path)
    started = time.perf_counter()
    metadata = {"policy": str(label)}
    with (
        TrajectoryRecorder(path, env=name, metadata=metadata) as recorder,
        _sessions(found, url, token, isolation) as open_session,
    ):
        session = None
        for task in tasks:
            if session is None:
                session = recorder.record(open_session())
            outcome = _play(session, agent, task, success_at)
            report.outcomes.append(outcome)
            if outcome.failure is not None:
                session.close()  # a fresh session for the next episode
                session = None
            if progress is not None:
                progress(outcome)
        if session is not None:
            session.close()
    report.seconds = time.perf_counter() - started
    return report


def _play(session: Any, agent: Agent, task: Task, success_at: float) -> EpisodeOutcome:
    outcome = EpisodeOutcome(task.id)
    tracker = _Tracker(session)
    started = time.perf_counter()
    try:
        first = tracker.reset(**task.reset)
        agent(tracker, first, task)
    except OpenEnvError as exc:
        if not is_infrastructure(exc):
            raise
        outcome.failure = f"{type(exc).__name__}: {exc}"
    outcome.seconds = time.perf_counter() - started
    outcome.total_reward, outcome.steps = tracker.total, tracker.steps
    outcome.success = _succeeded(tracker.last, outcome.total_reward, success_at)
    return outcome


class _Tracker:
    """The session an agent drives, summing what comes back."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.total = 0.0
        self.steps = 0
        self.last: Any = None

    def reset(self, **options: Any) -> Any:
        self.last = self.session.reset(**options)
        self.total += float(self.last.reward or 0.0)
        return self.last

    def step(self, action: Any) -> Any:
        self.last = self.session.step(action)
        self.steps += 1
        self.total += float(self.last.reward or 0.0)
        return self.last

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


def _succeeded(last: Any, total: float, success_at: float) -> bool:
    if last is None:
        return False
    observation = last.observation
    for name in SUCCESS_FIELDS:
        value = getattr(observation, name, None)
        if isinstance(observation, dict):
            value = observation.get(name)
        if isinstance(value, bool):
            return value
    return total >= success_at


def _agent_and_tasks(
    found: Any,
    policy: str | Callable[..., Any],
    episodes: int,
    seed: int,
    reset_options: dict[str, Any],
    max_steps: int,
) -> tuple[Agent, list[Task]]:
    seeded = [Task(f"seed-{s}", {**reset_options, "seed": s}) for s in range(seed, seed + episodes)]
    if isinstance(policy, str) and policy in REFERENCE_POLICIES:
        agents = load_agents(package_of(found.env_class), found.settings)
        listed = list(agents.tasks() if callable(agents.tasks) else agents.tasks)
        if reset_options:
            listed = [Task(t.id, {**t.reset, **reset_options}, t.expect) for t in listed]
        tasks = [listed[(seed + i) % len(listed)] for i in range(episodes)]
        return _reference_agent(agents, policy, found.env_class), tasks
    function = _import(policy) if isinstance(policy, str) else policy
    if not callable(function):
        raise ConfigError(f"policy {policy!r} is not callable")
    if _positional_count(function) >= 3:
        return function, seeded
    return _stepping(function, max_steps), seeded


def _reference_agent(agents: ReferenceAgents, name: str, env_class: type) -> Agent:
    agent = agents.agent(name, env_class.action_type)
    if agent is None:
        what = "known-good agent" if name == "good" else "do-nothing action (every action acts)"
        raise ConfigError(f"{env_class.__name__} has no {what}")
    return agent


def _stepping(policy: Callable[[Any], Any], max_steps: int) -> Agent:
    def play(session: Any, first: Any, task: Task) -> Any:
        result = first
        for _ in range(max_steps):
            if result.done:
                break
            result = session.step(policy(result.observation))
        return result

    play.__name__ = getattr(policy, "__name__", "policy")
    return play


def _import(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(
            f"policy {spec!r}: use good, random, noop or module:function "
            "(a function of the observation, or play(session, first, task))"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"policy {spec!r}: cannot import {module_name} ({exc})") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ConfigError(f"policy {spec!r}: {module_name} has no {attribute!r}") from None


def _positional_count(function: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds for p in parameters)


@contextmanager
def _sessions(
    found: Any, url: str | None, token: str | None, isolation: str | None
) -> Iterator[Callable[[], Any]]:
    """A function opening a new session: to ``url``, or to a server started here."""
    from .client.generic import client_for
    from .client.launch import local_runtime

    client_class = client_for(found.env_class)
    if url is not None:
        options = {"token": token} if token else {}
        yield lambda: client_class(base_url=url, **options)
        return
    runtime = local_runtime(found.root or found.name, isolation=isolation)
    try:
        base_url = runtime.start()
        yield lambda: client_class(base_url=base_url, token=runtime.token)
    finally:
        runtime.stop()


__all__ = ["EpisodeOutcome", "EvalReport", "LocalSession", "evaluate"]
