"""``openenv validate``: an environment checked at three levels (OpenEnv's RFC 008).

* **Level 0, the package** (a folder only) — :mod:`openenv.validation_package`:
  ``openenv.yaml`` valid, the package and its models importable, tests present, and
  (``build=True``) its image builds.
* **A running server** (a URL only) — :mod:`openenv.validation_server`: OpenEnv's own
  six criteria (``openapi_version_available``, ``health_endpoint``,
  ``metadata_endpoint``, ``schema_endpoint``, ``mcp_endpoint``,
  ``mode_endpoint_consistency``), then ours: ``typed_errors``,
  ``concurrent_sessions_independent``, ``reset_seed_reproducible``, ``auth_enforced``.
* **Level 1, the contract** — :func:`openenv.testing.run_checks`: schemas, reset and
  step, seeds, errors, sessions.
* **Level 2, rewards** — per task, the environment's reference agents
  (:mod:`openenv.agents`): doing nothing earns 0, a random agent earns little, the
  known-good agent earns 1.0 — or the environment declares why not.
* **Level 3, integrity** — the same seed and the same actions give the same
  observations and rewards in a fresh session; the hidden answer does not appear
  in observations, state, tool results or error messages before the end; an
  environment that runs the agent's code refuses it the network.

Example::

    from openenv.validation import validate

    report = validate("wordle_env", deep=True, tasks=3, timeout_s=120)
    report.ok                  # no check failed
    report.to_dict()           # {"target", "ok", "checks": [{level, name, ...}],
                               #  "passed", "summary", "criteria": [{id, passed, ...}]}

The environment runs in this process when it can (its hooks are synchronous and it
needs no sandbox), else it is served (``openenv serve``, isolation from its
``openenv.yaml``). A URL is validated where it runs; levels 2 and 3 then use the
agents of the environment that ``GET /metadata`` names, if installed here.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from .agents import (
    NET_MARKER,
    AgentsNotFound,
    ReferenceAgents,
    StepRefused,
    Task,
    load_agents,
    package_of,
)
from .types import StepResult

Status = Literal["pass", "fail", "warn", "skip"]
Progress = Callable[[str], object]

DEFAULT_TASKS = 3
DEFAULT_TIMEOUT_S = 300.0
PUBLIC_IP = "1.1.1.1"
"""A public address the network probe tries (port 80); a sandbox must refuse it."""

LEVELS = {
    1: "contract: schemas, reset/step, seeds, errors, sessions (openenv.testing)",
    2: "rewards: do-nothing earns 0, random earns little, the known-good agent earns 1.0",
    3: "integrity: determinism, no answer leaks, no network from agent code",
}


@dataclass(frozen=True)
class Check:
    """One check's outcome at one level.

    A check with an ``id`` is also a criterion of the report (OpenEnv's report shape,
    see :meth:`ValidationReport.criteria`); ``description``, ``expected`` and ``actual``
    are that criterion's.
    """

    level: int
    name: str
    status: Status
    detail: str = ""
    id: str | None = None
    description: str = ""
    expected: Any = None
    actual: Any = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "level": self.level,
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
        }
        if self.id:
            data["id"] = self.id
        return data

    def criterion(self) -> dict[str, Any]:
        """This check as one of the report's ``criteria`` (OpenEnv's shape, plus ``status``
        and ``level``): ``passed`` unless it failed; a skipped check is not ``required``."""
        data: dict[str, Any] = {
            "id": self.id,
            "description": self.description or self.name,
            "passed": self.status != "fail",
            "required": self.status != "skip",
            "status": self.status,
            "level": self.level,
        }
        if self.detail:
            data["details"] = self.detail
        if self.expected is not None:
            data["expected"] = self.expected
        if self.actual is not None:
            data["actual"] = self.actual
        return data


STATIC_LEVEL = 0
LEVEL_CRITERIA = {
    0: ("package_checks", "Level 0: the package's static checks"),
    1: ("contract_checks", "Level 1: the OpenEnv contract checks (openenv.testing.run_checks)"),
    2: ("reward_checks", "Level 2: the reference agents earn the expected rewards"),
    3: ("integrity_checks", "Level 3: determinism, no answer leaks, no network for agent code"),
}
"""Per level, the criterion that sums up its checks that are not criteria of their own."""

CHECK_IDS = {
    "sessions independent": "concurrent_sessions_independent",
    "same seed": "reset_seed_reproducible",
}
"""Level-1 checks (openenv.testing) that are criteria of their own."""


@dataclass
class ValidationReport:
    """Every check of one target; ``ok`` when none failed.

    :meth:`to_dict` is a superset of OpenEnv's ``openenv validate URL --json`` report:
    ``passed``, ``summary`` and ``criteria`` (``[{id, description, passed, required,
    details?, expected?, actual?}]``) beside our ``ok``, ``failed_levels`` and ``checks``.
    """

    target: str
    env: str | None = None
    checks: list[Check] = field(default_factory=list)
    validation_type: str = "environment"
    """``running_environment`` (a URL), ``local_environment`` (a folder) or ``environment``."""
    server: dict[str, str] = field(default_factory=dict)
    """For a URL: ``standard_version``, ``standard_profile`` and ``mode``, as OpenEnv says."""

    @property
    def ok(self) -> bool:
        return not any(check.status == "fail" for check in self.checks)

    def failed_levels(self) -> list[int]:
        return sorted({check.level for check in self.checks if check.status == "fail"})

    def criteria(self) -> list[dict[str, Any]]:
        """Each check with an id, then per level one criterion for the checks without."""
        found = [check.criterion() for check in self.checks if check.id]
        for level, (cid, description) in LEVEL_CRITERIA.items():
            rest = [check for check in self.checks if check.level == level and not check.id]
            if rest:
                found.append(_summed(level, cid, description, rest).criterion())
        return found

    def to_dict(self) -> dict[str, Any]:
        criteria = self.criteria()
        return {
            "target": self.target,
            "validation_type": self.validation_type,
            **self.server,
            "passed": all(c["passed"] for c in criteria if c["required"]),
            "summary": summary(criteria),
            "criteria": criteria,
            "env": self.env,
            "ok": self.ok,
            "failed_levels": self.failed_levels(),
            "checks": [check.to_dict() for check in self.checks],
        }


def _summed(level: int, cid: str, description: str, checks: list[Check]) -> Check:
    statuses = [check.status for check in checks]
    failed = [check.name for check in checks if check.status == "fail"]
    if failed:
        status: Status = "fail"
        detail = "failed: " + ", ".join(failed)
    elif all(s == "skip" for s in statuses):
        status, detail = "skip", checks[0].detail if len(checks) == 1 else "all skipped"
    else:
        status = "warn" if "warn" in statuses else "pass"
        counts = {s: statuses.count(s) for s in ("pass", "warn", "skip") if s in statuses}
        detail = ", ".join(f"{n} {s}" for s, n in counts.items())
    return Check(level, cid, status, detail, id=cid, description=description)


def summary(criteria: list[dict[str, Any]]) -> dict[str, Any]:
    """OpenEnv's ``summary`` of a criteria list."""
    required = [c for c in criteria if c.get("required", True)]
    return {
        "passed_count": sum(1 for c in criteria if c.get("passed", False)),
        "total_count": len(criteria),
        "failed_criteria": [c.get("id", "unknown") for c in criteria if not c.get("passed")],
        "required_passed_count": sum(1 for c in required if c.get("passed", False)),
        "required_total_count": len(required),
    }


# -- the entry point -------------------------------------------------------------------------


def validate(
    target: Any,
    *,
    deep: bool = False,
    tasks: int = DEFAULT_TASKS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    agents: ReferenceAgents | None = None,
    progress: Progress | None = None,
    contract: bool = True,
    token: str | None = None,
    build: bool = False,
) -> ValidationReport:
    """Validate ``target`` (an env name or folder, an Environment subclass, or a URL).

    A folder first gets the package's static checks (level 0,
    :mod:`openenv.validation_package`; ``build`` also builds its image); a URL first
    gets OpenEnv's six criteria of a running server and ours
    (:mod:`openenv.validation_server`), with ``token`` (default ``$OPENENV_TOKEN``) on
    every request. Level 1 always; levels 2 and 3 with ``deep``, on at most ``tasks``
    tasks and within ``timeout_s`` seconds in all (what did not fit is reported as
    skipped). ``agents`` overrides the environment's own reference agents;
    ``contract=False`` leaves level 1 out.
    """
    deadline = time.monotonic() + timeout_s
    report = ValidationReport(_label(target))
    note = progress or (lambda _: None)
    blocked = False
    if _is_url(target):
        token = token or os.environ.get("OPENENV_TOKEN") or None
        _server_criteria(report, target, token, timeout_s, note)
    elif _is_folder(target):
        from .validation_package import blocks_contract, package_checks

        report.validation_type = "local_environment"
        note("level 0: package checks")
        static = package_checks(Path(target), build=build)
        report.checks += static
        blocked = blocks_contract(static)
    if contract and blocked:
        why = "skipped: the package does not load (see the level 0 checks)"
        report.checks.append(Check(1, "contract", "skip", why))
    elif contract:
        _level_one(report, target, timeout_s, progress, token)
    if _is_url(target):
        _our_criteria(report, target, token, timeout_s, note)
    if not deep or blocked:
        return report
    try:
        env = _resolve(target, agents, token)
    except AgentsNotFound as exc:
        report.checks.append(Check(2, "reference agents", "skip", f"skipped: {exc}"))
        return report
    report.env = env.name
    why = env.agents.missing() if env.agents.missing else None
    if why:
        report.checks.append(Check(2, "reference agents", "skip", f"skipped: {why}"))
        return report
    with env.opener() as opener:
        _Deep(report, env, opener, tasks, deadline, progress).run()
    return report


def _label(target: Any) -> str:
    return target.__qualname__ if inspect.isclass(target) else str(target)


def _is_folder(target: Any) -> bool:
    return isinstance(target, (str, Path)) and not _is_url(target) and Path(target).is_dir()


def _server_criteria(
    report: ValidationReport, url: str, token: str | None, timeout_s: float, note: Progress
) -> None:
    from .validation_server import REQUEST_TIMEOUT_S, openenv_criteria

    report.validation_type = "running_environment"
    note("OpenEnv's criteria of a running server")
    checks, info = openenv_criteria(url, token, min(REQUEST_TIMEOUT_S, timeout_s))
    report.checks += checks
    report.server = info


def _our_criteria(
    report: ValidationReport, url: str, token: str | None, timeout_s: float, note: Progress
) -> None:
    from .validation_server import REQUEST_TIMEOUT_S, auth_enforced, typed_errors

    wait = min(REQUEST_TIMEOUT_S, timeout_s)
    note("typed errors")
    report.checks.append(typed_errors(url, token, wait))
    for name, cid in CHECK_IDS.items():  # a criterion of a URL report even when not run
        if not any(check.id == cid for check in report.checks):
            why = "skipped: the contract checks were not run"
            if any(c.name == "contract" and c.status == "fail" for c in report.checks):
                why = "not run: the contract checks could not run (see 'contract')"
            status: Status = "fail" if why.startswith("not run") else "skip"
            report.checks.append(Check(1, name, status, why, id=cid))
    note("auth")
    report.checks.append(auth_enforced(url, token, wait))


def _level_one(
    report: ValidationReport, target: Any, timeout_s: float, progress: Any, token: str | None
) -> None:
    from .testing import run_checks

    options: dict[str, Any] = {"seeds": (0, 1), "timeout_s": min(60.0, timeout_s)}
    if progress is not None:
        options["progress"] = lambda name: progress(f"level 1: {name}")
    if _is_url(target):
        check_target: Any = target
        if token:
            options["token"] = token
    else:
        check_target = target
        if "served" in inspect.signature(run_checks).parameters and _needs_server(target):
            options["served"] = True
    try:
        result = run_checks(check_target, **options)
    except Exception as exc:
        report.checks.append(Check(1, "contract", "fail", f"{type(exc).__name__}: {exc}"))
        return
    for item in result.results:
        report.checks.append(
            Check(1, item.name, item.status, item.detail, id=CHECK_IDS.get(item.name))
        )


def _is_url(target: Any) -> bool:
    return isinstance(target, str) and target.startswith(("http://", "https://"))


def _needs_server(target: Any) -> bool:
    """Environments that need a sandbox or are asynchronous are served, not run here."""
    if inspect.isclass(target):
        return False
    from .discovery import find_environment

    try:
        found = find_environment(target)
    except Exception:
        return False
    return not _runs_here(found.env_class, found.isolation)


def _runs_here(env_class: type, isolation: str | None) -> bool:
    if getattr(env_class, "requires_sandbox", False) or isolation == "sandbox":
        return False
    return not any(
        inspect.iscoroutinefunction(getattr(env_class, hook, None)) for hook in ("_reset", "_step")
    )


# -- where the sessions come from ------------------------------------------------------------


@dataclass
class _Env:
    name: str
    env_class: type
    agents: ReferenceAgents
    opener: Callable[[], contextlib.AbstractContextManager[Callable[[], Any]]]
    sandboxed: bool


def _resolve(target: Any, agents: ReferenceAgents | None, token: str | None = None) -> _Env:
    from .discovery import find_environment

    if _is_url(target):
        import httpx

        name = str(httpx.get(f"{target.rstrip('/')}/metadata", timeout=30).json().get("name"))
        try:
            found = find_environment(name)
        except Exception:
            raise AgentsNotFound(f"no agents for {name} installed") from None
        env_class, settings, sandboxed = found.env_class, found.settings, found.isolation
        return _Env(
            name,
            env_class,
            agents or load_agents(package_of(env_class), settings),
            lambda: _remote(target, env_class, token),
            sandboxed == "sandbox",
        )
    if inspect.isclass(target):
        name, env_class, settings, isolation = target.__name__, target, {}, None
    else:
        found = find_environment(target)
        name, env_class, settings, isolation = (
            found.name,
            found.env_class,
            found.settings,
            found.isolation,
        )
    reference = agents or load_agents(package_of(env_class), settings)
    if _runs_here(env_class, isolation) or inspect.isclass(target):
        return _Env(name, env_class, reference, lambda: _in_process(env_class), False)
    return _Env(
        name, env_class, reference, lambda: _served(target, env_class), isolation == "sandbox"
    )


@contextlib.contextmanager
def _in_process(env_class: type) -> Iterator[Callable[[], Any]]:
    from .agents import LocalSession

    yield lambda: LocalSession(env_class())


@contextlib.contextmanager
def _served(target: Any, env_class: type) -> Iterator[Callable[[], Any]]:
    from .runtime.local import LocalRuntime

    runtime = LocalRuntime(target)  # isolation from its openenv.yaml
    try:
        base_url = runtime.start()
        with _remote(base_url, env_class, runtime.token) as opener:
            yield opener
    finally:
        runtime.stop()


@contextlib.contextmanager
def _remote(base_url: str, env_class: type, token: str | None) -> Iterator[Callable[[], Any]]:
    from .client.generic import client_for

    client_class = client_for(env_class)
    options = {"token": token} if token else {}
    yield lambda: client_class(base_url=base_url, **options).connect()


# -- one recorded episode --------------------------------------------------------------------


class _OutOfTime(Exception):
    pass


class _StepCap(Exception):
    pass


@dataclass
class Trajectory:
    """What one reference agent did and saw in one episode."""

    agent: str
    task: str
    first: Any = None
    actions: list[Any] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    """The reset observation, then one per step (as JSON data, reward and done beside)."""
    results: list[StepResult[Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    state: Any = None
    done: bool = False
    error: str | None = None
    """Why the episode could not be played (an exception), if it could not."""

    @property
    def total(self) -> float:
        return sum(float(r.reward or 0.0) for r in self.results[1:])

    @property
    def last(self) -> StepResult[Any] | None:
        return self.results[-1] if self.results else None


def _data(result: StepResult[Any]) -> dict[str, Any]:
    obs = result.observation
    data = obs.model_dump(mode="json") if isinstance(obs, BaseModel) else dict(obs)
    for key in ("reward", "done", "metadata"):
        data.pop(key, None)
    return {"observation": data, "reward": result.reward, "done": result.done}


class _Recorder:
    """A session that records each step, refuses steps past the cap or the deadline, and
    turns an environment's refusal into :class:`~openenv.agents.StepRefused`."""

    def __init__(self, session: Any, record: Trajectory, max_steps: int, deadline: float) -> None:
        self.session = session
        self.record = record
        self.max_steps = max_steps
        self.deadline = deadline
        self.steps = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def reset(self, **options: Any) -> StepResult[Any]:
        result = self.session.reset(**options)
        self.record.results.append(result)
        self.record.observations.append(_data(result))
        return result

    def step(self, action: Any) -> StepResult[Any]:
        if time.monotonic() > self.deadline:
            raise _OutOfTime
        if self.steps >= self.max_steps:
            raise _StepCap
        try:
            result = self.session.step(action)
        except (ValueError, ValidationError) as exc:  # in-process refusals
            self.record.errors.append(str(exc))
            raise StepRefused(str(exc)) from exc
        except Exception as exc:
            from .client import EnvServerError

            if isinstance(exc, EnvServerError) and exc.code != "SESSION_ERROR":
                self.record.errors.append(exc.message)
                raise StepRefused(exc.message) from exc
            raise
        self.steps += 1
        self.record.actions.append(action)
        self.record.results.append(result)
        self.record.observations.append(_data(result))
        self.record.done = result.done
        return result


# -- levels 2 and 3 --------------------------------------------------------------------------


class _Deep:
    def __init__(
        self,
        report: ValidationReport,
        env: _Env,
        opener: Callable[[], Any],
        tasks: int,
        deadline: float,
        progress: Progress | None,
    ) -> None:
        self.report = report
        self.env = env
        self.agents = env.agents
        self.open = opener
        self.task_count = max(1, tasks)
        self.deadline = deadline
        self.progress = progress or (lambda _: None)
        self.runs: dict[tuple[str, str], Trajectory] = {}

    def add(self, level: int, name: str, status: Status, detail: str = "") -> None:
        self.report.checks.append(Check(level, name, status, detail))

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    def run(self) -> None:
        all_tasks = self.agents.task_list()
        if not all_tasks:
            self.add(2, "reference agents", "fail", "the environment lists no tasks")
            return
        chosen = sample(all_tasks, self.task_count)
        self.add(2, "reference agents", "pass", f"{len(chosen)} of {len(all_tasks)} tasks")
        played: list[Task] = []
        for task in chosen:
            if self.out_of_time():
                break
            for kind in ("noop", "random", "good"):
                self.progress(f"level 2: {kind} agent on {task.id}")
                self.runs[kind, task.id] = self.play(kind, task)
            played.append(task)
        self.level_two(chosen, played)
        self.determinism(played)
        self.leaks(played)
        self.network(chosen)

    # -- playing ----------------------------------------------------------------------------

    def play(self, kind: str, task: Task, replay: list[Any] | None = None) -> Trajectory:
        record = Trajectory(kind, task.id)
        session = self.open()
        try:
            recorder = _Recorder(session, record, self.agents.max_steps, self.deadline)
            first = recorder.reset(**dict(task.reset))
            with contextlib.suppress(Exception):
                state = session.state()
                record.state = (
                    state.model_dump(mode="json") if isinstance(state, BaseModel) else state
                )
            if replay is not None:
                for action in replay:
                    if record.done:
                        break
                    recorder.step(action)
            else:
                agent = self.agents.agent(kind, self.env.env_class.action_type)
                if agent is not None:
                    agent(recorder, first, task)
        except (_StepCap, StepRefused):
            pass
        except _OutOfTime:
            record.error = "out of time"
        except Exception as exc:
            record.error = f"{type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):
                session.close()
        return record

    # -- level 2 ----------------------------------------------------------------------------

    def level_two(self, chosen: list[Task], played: list[Task]) -> None:
        late = "" if len(played) == len(chosen) else f"; out of time after {len(played)} tasks"
        specs = (
            ("do-nothing earns 0", "noop", "noop_max", "at most"),
            ("random agent earns little", "random", "random_max", "at most"),
            ("good agent solves", "good", "good_min", "at least"),
        )
        for name, kind, bound_name, relation in specs:
            if not played:
                self.add(2, name, "skip", "skipped: out of time before the first task")
                continue
            if kind == "noop" and self.agents.noop is None:
                self.add(2, name, "skip", _why(self.agents, "no do-nothing action"))
                continue
            if kind == "good" and self.agents.good is None:
                self.add(2, name, "skip", _why(self.agents, "no known-good agent"))
                continue
            bad, seen, unchecked, timed = [], [], [], []
            for task in played:
                run = self.runs[kind, task.id]
                bound = getattr(self.agents.expect_for(task), bound_name)
                if run.error == "out of time":
                    timed.append(task.id)
                    continue
                if run.error:
                    bad.append(f"{task.id}: {run.error}")
                    continue
                seen.append(f"{task.id}={_num(run.total)}")
                if bound is None:
                    unchecked.append(task.id)
                    continue
                ok = (
                    run.total <= bound + 1e-9
                    if relation == "at most"
                    else run.total >= bound - 1e-9
                )
                if not ok:
                    bad.append(f"{task.id} earned {_num(run.total)}, expected {relation} {bound:g}")
            if timed:
                late += f"; out of time in {', '.join(timed)}"
            if bad:
                self.add(2, name, "fail", "; ".join(bad) + late)
            elif len(timed) == len(played):
                self.add(2, name, "skip", "skipped: out of time" + late)
            elif len(unchecked) + len(timed) == len(played):
                self.add(
                    2,
                    name,
                    "skip",
                    _why(self.agents, "not expected to hold") + f" ({', '.join(seen)})",
                )
            else:
                note = (
                    f"; {_why(self.agents, '')}" if unchecked or self._declared(bound_name) else ""
                )
                self.add(2, name, "pass", ", ".join(seen) + note + late)

    def _declared(self, bound_name: str) -> bool:
        from .agents import Expect

        return getattr(self.agents.expect, bound_name) != getattr(Expect(), bound_name)

    # -- level 3 ----------------------------------------------------------------------------

    def determinism(self, played: list[Task]) -> None:
        name = "deterministic under a seed"
        volatile = _nondeterministic(self.env.env_class.observation_type)
        differences, replayed = [], 0
        for task in played:
            for kind in ("good", "random", "noop"):
                first = self.runs.get((kind, task.id))
                if first is None or first.error or self.out_of_time():
                    continue
                self.progress(f"level 3: replay {kind} agent on {task.id}")
                again = self.play(kind, task, replay=list(first.actions))
                if again.error == "out of time":
                    continue
                replayed += 1
                where = _difference(first.observations, again.observations, volatile)
                if again.error:
                    where = again.error
                if where:
                    differences.append(f"{task.id} ({kind} agent): {where}")
                    break
        if differences:
            self.add(3, name, "fail", "; ".join(differences))
        elif replayed == 0:
            self.add(3, name, "skip", "skipped: no episode to replay (out of time)")
        else:
            self.add(3, name, "pass", f"{replayed} episodes replayed in fresh sessions, identical")

    def leaks(self, played: list[Task]) -> None:
        name = "no answer leaks"
        if self.agents.secrets is None:
            self.add(3, name, "skip", "skipped: the environment declares no hidden answer")
            return
        if not played:
            self.add(3, name, "skip", "skipped: out of time before the first task")
            return
        self.progress("level 3: answer leaks")
        baseline = self.tool_texts(None)  # no episode: what every task's tools say anyway
        seen = {task.id: self.visible(task) for task in played}
        tools = {task.id: self.tool_texts(task) for task in played}
        leaks = []
        for task in played:
            good = self.runs.get(("good", task.id))
            try:
                secrets = [s for s in self.agents.secrets(task, good.last if good else None) if s]
            except Exception as exc:
                leaks.append(f"{task.id}: cannot get the answer ({type(exc).__name__}: {exc})")
                continue
            others = " ".join(
                seen[other.id] + tools[other.id] for other in played if other.id != task.id
            )
            control = others + baseline
            for secret in secrets:
                pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", re.I)
                if pattern.search(control):
                    continue  # shown for other tasks too: the rules' text, not this answer
                for where, text in (
                    ("observations, state or errors", seen[task.id]),
                    ("tool results", tools[task.id]),
                ):
                    if pattern.search(text):
                        leaks.append(f"{task.id}: the answer {secret!r} appears in {where}")
        if leaks:
            self.add(3, name, "fail", "; ".join(leaks))
        else:
            self.add(
                3, name, "pass", f"{len(played)} tasks: the answer is not shown before the end"
            )

    def visible(self, task: Task) -> str:
        """All the agent saw before the end of the do-nothing and random episodes."""
        parts: list[str] = []
        for kind in ("noop", "random"):
            run = self.runs.get((kind, task.id))
            if run is None:
                continue
            observations = run.observations[:-1] if run.done else run.observations
            if kind == "random":
                observations = observations[:1]  # a random guess may hit the answer: reset only
            parts += [json.dumps(o) for o in observations]
            parts += [json.dumps(run.state, default=str), *run.errors]
        return "\n".join(parts)

    def tool_texts(self, task: Task | None) -> str:
        """``tools/list`` and the results of the tools that take no arguments, during
        ``task``'s episode (or with no episode)."""
        texts = []
        session = self.open()
        try:
            if task is not None:
                session.reset(**dict(task.reset))
            tools = session.list_tools()
            texts.append(json.dumps(tools, default=str))
            for tool in tools:
                required = (tool.get("inputSchema") or {}).get("required") or []
                if required:
                    continue
                try:
                    texts.append(json.dumps(session.call_tool(tool["name"]), default=str))
                except Exception as exc:
                    texts.append(str(exc))
        except Exception as exc:
            texts.append(str(exc))
        finally:
            with contextlib.suppress(Exception):
                session.close()
        return "\n".join(texts)

    def network(self, chosen: list[Task]) -> None:
        name = "sandbox denies network"
        probe = self.agents.network_probe
        if probe is None:
            self.add(3, name, "skip", "skipped: the environment runs no agent code")
            return
        if self.out_of_time():
            self.add(3, name, "skip", "skipped: out of time")
            return
        self.progress("level 3: network probes")
        with _Listener() as listener:
            record = Trajectory("network", chosen[0].id)
            session = self.open()
            problems = []
            try:
                recorder = _Recorder(session, record, 10, self.deadline + 60)
                recorder.reset(**dict(chosen[0].reset))
                for host, port in (("127.0.0.1", listener.port), (PUBLIC_IP, 80)):
                    try:
                        result = recorder.step(probe(host, port))
                    except StepRefused:
                        continue
                    if NET_MARKER in json.dumps(_data(result)):
                        problems.append(f"connected to {host}:{port}")
                    if result.done:
                        recorder.reset(**dict(chosen[0].reset))
            except Exception as exc:
                problems.append(f"the probe failed: {type(exc).__name__}: {exc}")
            finally:
                with contextlib.suppress(Exception):
                    session.close()
            if listener.accepted:
                problems.append(f"the validator's port {listener.port} was reached")
        if problems:
            self.add(3, name, "fail", "; ".join(problems))
        elif not self.env.sandboxed:
            self.add(3, name, "warn", "refused, but the environment does not run sandboxed here")
        else:
            self.add(3, name, "pass", f"127.0.0.1:<validator port> and {PUBLIC_IP}:80 refused")


class _Listener:
    """A TCP port on 127.0.0.1 that counts the connections it accepts."""

    def __enter__(self) -> _Listener:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def __exit__(self, *exc: object) -> None:
        self.stop = True
        self.thread.join(2)
        self.sock.close()


# -- helpers ---------------------------------------------------------------------------------


def sample(tasks: list[Task], count: int) -> list[Task]:
    """``count`` tasks spread evenly over the list (all of them if there are fewer)."""
    if count >= len(tasks):
        return list(tasks)
    return [tasks[i * len(tasks) // count] for i in range(count)]


def _why(agents: ReferenceAgents, default: str) -> str:
    return agents.expect.why or default


def _num(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def _nondeterministic(model: type) -> frozenset[str]:
    """Fields marked ``json_schema_extra=NONDETERMINISTIC`` (timings, paths)."""
    fields = getattr(model, "model_fields", {})
    return frozenset(
        name
        for name, info in fields.items()
        if isinstance(info.json_schema_extra, dict)
        and info.json_schema_extra.get("nondeterministic")
    )


def _strip(value: Any, volatile: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v, volatile) for k, v in value.items() if k not in volatile}
    if isinstance(value, list):
        return [_strip(v, volatile) for v in value]
    return value


def _difference(first: list[Any], second: list[Any], volatile: frozenset[str]) -> str | None:
    """Where two recorded episodes first differ, in words (``None`` when identical)."""
    for index, (a, b) in enumerate(zip(first, second, strict=False)):
        a, b = _strip(a, volatile), _strip(b, volatile)
        if a != b:
            where = "reset" if index == 0 else f"step {index}"
            for key in ("reward", "done"):
                if a.get(key) != b.get(key):
                    return f"{where}: {key} {a.get(key)!r} then {b.get(key)!r}"
            keys = sorted(
                k
                for k in set(a["observation"]) | set(b["observation"])
                if a["observation"].get(k) != b["observation"].get(k)
            )
            return f"{where}: observation field(s) {', '.join(keys[:5])} differ"
    if len(first) != len(second):
        return f"{len(first) - 1} steps, then {len(second) - 1}"
    return None


def describe_target(target: str | Path) -> str:
    return str(target)
