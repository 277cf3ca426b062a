"""Reference agents: what an environment package ships so that it can be validated.

Every task of an environment has three reference agents (DESIGN §7): one that
does nothing (it must earn 0), one that acts at random (it must earn little) and
a known-good one (it must earn 1.0). ``openenv validate ENV --deep`` runs them,
replays them for determinism and looks for the hidden answer where the agent
could see it; ``openenv demo`` plays the good ones.

An environment package ships them in ``<package>/agents.py`` as a module-level
``AGENTS`` (or names another object in its ``openenv.yaml``: ``agents:
package.module:NAME``)::

    from openenv.agents import Expect, ReferenceAgents, Task

    def play_good(session, first, task):
        result = first
        while not result.done:
            middle = (result.observation.lower_bound + result.observation.upper_bound) // 2
            result = session.step(GuessNumberAction(message=f"[{middle}]"))

    AGENTS = ReferenceAgents(
        tasks=[Task(f"seed-{s}", {"seed": s}) for s in range(20)],
        good=play_good,
        noop=GuessNumberAction(message="Let me think."),   # repeated until the episode ends
        secrets=lambda task, final: [str(final.observation.secret)],
    )

An agent is a function ``play(session, first, task)``: ``first`` is the result
of ``session.reset(**task.reset)`` (already done), and it calls
``session.step(action)`` until ``result.done`` (or gives up). ``session`` is a
client (:class:`openenv.client.EnvClient`) or an in-process environment
wrapped in :class:`LocalSession`: both return :class:`~openenv.types.StepResult`.
Agents use only what a client sees (observations, rewards, the package's models);
the few that need a hidden solution (a coding task's reference code) import it
from the server package and say why.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import importlib
import inspect
import random
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from .errors import AgentsNotFound, StepRefused
from .testing.sampling import sample
from .tools import ToolSpec
from .types import Action, StepResult


class Session(Protocol):
    """What an agent drives: ``reset`` and ``step``, as a client has them."""

    def reset(self, **options: Any) -> StepResult[Any]: ...

    def step(self, action: Any) -> StepResult[Any]: ...


@dataclass(frozen=True)
class Expect:
    """What the reference agents must earn on a task (their episode's return, summed).

    ``None`` turns a check off; say why in ``why`` (shown by ``openenv validate``).
    """

    noop_max: float | None = 0.0
    """The do-nothing agent earns at most this (penalties for idling are fine)."""
    random_max: float | None = 0.5
    """The random agent earns at most this."""
    good_min: float | None = 1.0
    """The known-good agent earns at least this."""
    why: str = ""
    """Why these differ from the defaults (0, 0.5, 1.0)."""


@dataclass(frozen=True)
class Task:
    """One task to validate: an id and the options of its ``reset`` (the seed among them)."""

    id: str
    reset: Mapping[str, Any] = field(default_factory=dict)
    expect: Expect | None = None
    """This task's expectations, when they differ from :attr:`ReferenceAgents.expect`."""


Agent = Callable[[Any, StepResult[Any], Task], object]
"""``play(session, first, task)``: plays the episode that ``first`` began, to its end."""

NoopAction = Action | Callable[[Task, StepResult[Any]], Action]
"""The do-nothing action (repeated until the episode ends), or a function giving it."""


@dataclass(frozen=True)
class ReferenceAgents:
    """An environment's reference agents and tasks: the contract ``openenv validate`` reads."""

    tasks: Sequence[Task] | Callable[[], Sequence[Task]]
    """The tasks (or a function listing them); the validator samples ``--tasks N`` of them."""
    good: Agent | None = None
    """The known-good agent (``None``: the environment has no solution; say why in ``expect``)."""
    noop: NoopAction | None = None
    """The do-nothing action; ``None`` when every action does something (a game's moves)."""
    random: Agent | None = None
    """The random agent; default :func:`random_agent` (actions drawn from the action model)."""
    expect: Expect = field(default_factory=Expect)
    secrets: Callable[[Task, StepResult[Any] | None], Sequence[str]] | None = None
    """The hidden answer of a task, as strings that must not appear anywhere the agent looks
    before the end. Given the good agent's last result (which may reveal it), or ``None``."""
    network_probe: Callable[[str, int], Action] | None = None
    """For environments that run the agent's code: an action that tries to open a TCP
    connection to ``host:port`` and prints :data:`NET_MARKER` if it succeeded."""
    missing: Callable[[], str | None] | None = None
    """What this machine lacks to run the environment (a browser), or ``None``."""
    max_steps: int = 200
    """The most steps any reference agent takes in one episode."""

    def task_list(self) -> list[Task]:
        tasks = self.tasks() if callable(self.tasks) else self.tasks
        return list(tasks)

    def expect_for(self, task: Task) -> Expect:
        return task.expect or self.expect

    def noop_action(self, task: Task, result: StepResult[Any]) -> Action | None:
        if self.noop is None or isinstance(self.noop, Action):
            return self.noop
        return self.noop(task, result)

    def agent(self, kind: str, action_type: type[BaseModel]) -> Agent | None:
        """The ``"good"``, ``"random"`` or ``"noop"`` agent as a ``play`` function
        (``None`` where the environment has none); ``action_type`` is what the default
        random agent draws."""
        if kind == "good":
            return self.good
        if kind == "random":
            return self.random or random_agent(action_type)
        if kind != "noop":
            raise ValueError(f"a reference agent is good, random or noop, not {kind!r}")
        if self.noop is None:
            return None

        def play_noop(session: Any, first: StepResult[Any], task: Task) -> StepResult[Any]:
            result = first
            for _ in range(self.max_steps):
                action = None if result.done else self.noop_action(task, result)
                if action is None:
                    break
                result = session.step(action)
            return result

        return play_noop


NET_MARKER = "OPENENV-NET-CONNECTED"
"""What a network probe prints when its connection succeeded (built at run time, so that
an echo of the probe's own source never contains it)."""


def seed_tasks(count: int, **options: Any) -> list[Task]:
    """``count`` tasks ``seed-0``, ``seed-1``, ...: ``reset(seed=s, **options)``."""
    return [Task(f"seed-{seed}", {"seed": seed, **options}) for seed in range(count)]


# -- running an agent on an in-process environment ----------------------------------------


class LocalSession:
    """An in-process :class:`~openenv.Environment` with a client's ``reset``/``step``.

    ``reset`` and ``step`` return :class:`~openenv.types.StepResult` as a client does,
    so the same agent drives either.
    """

    def __init__(self, env: Any) -> None:
        self.env = env

    def reset(self, **options: Any) -> StepResult[Any]:
        return _result(self.env.reset(**options))

    def step(self, action: Any) -> StepResult[Any]:
        return _result(self.env.step(action))

    def state(self) -> Any:
        return self.env.state

    def list_tools(self) -> list[dict[str, Any]]:
        return [spec.describe() for spec in self.env.instance_tools().values()]

    def call_tool(self, name: str, **arguments: Any) -> Any:
        """The tool's value, as a client gets it (an instance's own tool: its ``data``)."""
        spec = self.env.instance_tools()[name]
        value = spec.bind(self.env, arguments)()
        if inspect.isawaitable(value):
            value = asyncio.run(_awaited(value))
        if isinstance(spec, ToolSpec):
            return value
        return spec.result(value, sys.maxsize).get("data")

    def close(self) -> None:
        self.env.close()


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _result(observation: Any) -> StepResult[Any]:
    return StepResult(
        observation=observation,
        reward=getattr(observation, "reward", None),
        done=bool(getattr(observation, "done", False)),
        metadata=dict(getattr(observation, "metadata", {}) or {}),
    )


# -- the generic random agent ---------------------------------------------------------------


def random_instance(model: type[BaseModel], rng: random.Random) -> Any:
    """A random instance of ``model``, drawn from its JSON schema like the contract
    checker's actions (:mod:`openenv.testing.sampling`); may fail its validation."""
    return model.model_validate(sample(_schema_of(model), rng))


@functools.cache
def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def random_agent(action_type: type[BaseModel], *, tries: int = 20) -> Agent:
    """An agent that plays random actions of ``action_type`` until the episode ends.

    An action that is refused (invalid, or an error from the environment) is replaced
    by another, up to ``tries`` times a step; then the agent gives up.
    """

    def play(session: Any, first: StepResult[Any], task: Task) -> None:
        rng = random.Random(f"random-agent:{task.id}")
        result = first
        while not result.done:
            for _ in range(tries):
                try:
                    action = random_instance(action_type, rng)
                except ValueError:
                    continue
                try:
                    result = session.step(action)
                    break
                except StepRefused:
                    continue
            else:
                return

    return play


def choosing_agent(choose: Callable[[Any, random.Random], Action]) -> Agent:
    """An agent that plays ``choose(observation, rng)`` each turn until the episode ends,
    ``rng`` seeded by the task: a random legal move is
    ``choosing_agent(lambda obs, rng: MoveAction(move=rng.choice(obs.legal_moves)))``."""

    def play(session: Any, first: StepResult[Any], task: Task) -> StepResult[Any]:
        rng = random.Random(f"random:{task.id}")
        result = first
        while not result.done:
            result = session.step(choose(result.observation, rng))
        return result

    return play


GRID_MOVES = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


def grid_path(grid: Sequence[str], start: Sequence[int], goal: Sequence[int]) -> list[str]:
    """The moves (``up``/``down``/``left``/``right``) of a shortest path from ``start``
    to ``goal`` (row, column) on a map of strings where ``#`` is a wall (BFS)."""
    begin, end = (start[0], start[1]), (goal[0], goal[1])
    came: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {begin: None}
    queue = collections.deque([begin])
    while queue:
        cell = queue.popleft()
        for name, (dr, dc) in GRID_MOVES.items():
            row, col = cell[0] + dr, cell[1] + dc
            inside = 0 <= row < len(grid) and 0 <= col < len(grid[row])
            if inside and grid[row][col] != "#" and (row, col) not in came:
                came[(row, col)] = (cell, name)
                queue.append((row, col))
    path: list[str] = []
    cell = end
    while (previous := came[cell]) is not None:
        cell, name = previous
        path.append(name)
    return path[::-1]


# -- finding an environment's agents ----------------------------------------------------------

AGENTS_KEY = "agents"
"""The ``openenv.yaml`` key naming the agents object (``package.module:NAME``)."""


def load_agents(package: str, settings: Mapping[str, Any] | None = None) -> ReferenceAgents:
    """The environment's :class:`ReferenceAgents`: ``openenv.yaml``'s ``agents:`` entry,
    else ``<package>.agents:AGENTS``."""
    spec = (settings or {}).get(AGENTS_KEY) or f"{package}.agents:AGENTS"
    module_name, _, attr = str(spec).partition(":")
    attr = attr or "AGENTS"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AgentsNotFound(f"no module {module_name} (no reference agents)") from None
        raise
    agents = getattr(module, attr, None)
    if not isinstance(agents, ReferenceAgents):
        raise AgentsNotFound(f"{module_name}.{attr} is not an openenv.agents.ReferenceAgents")
    return agents


def package_of(env_class: type) -> str:
    """The top-level package of an environment class (``echo_env`` for its server module)."""
    return env_class.__module__.split(".")[0]
