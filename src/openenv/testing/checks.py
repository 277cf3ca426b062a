"""The environment contract as checks anyone can run: :func:`check_env` and :func:`run_checks`.

In the spirit of Gymnasium's ``check_env``: it plays an environment with actions
drawn from its schema and checks what every environment here promises:

======================  ==========================================================
check                   what it asserts
======================  ==========================================================
schemas                 action/observation/state schemas are valid JSON schemas;
                        actions, observations and states survive a JSON
                        round trip (in-process)
step before reset       refused with ``NOT_RESET``
reset                   a valid observation; state has the episode id, 0 steps
steps                   every observation and state matches its schema, the step
                        count follows successful steps, refusals are typed errors
same seed               same seed + same actions, in a fresh session -> the
                        identical episode
different seeds         episodes differ across seeds; if none does, the seed is
                        reported as (possibly) ignored (a warning)
step after done         refused with ``EPISODE_OVER``, nothing counted
sessions independent    two interleaved sessions each play the reference episode
reset options typed     a bad seed, an unknown option, a wrongly typed option are
                        ``VALIDATION_ERROR``; the session still works after
bad actions             an unknown field, a wrong type, a non-object are
                        ``VALIDATION_ERROR``; the session still works after
close twice             closing a session twice is harmless
======================  ==========================================================

Each result is ``pass``, ``fail``, ``warn`` (worth a look, not a contract
breach) or ``skip`` (could not be checked here, with the reason).

Example::

    from openenv.testing import check_env

    check_env(EchoEnvironment)                  # in-process; raises EnvCheckFailed
    check_env("http://127.0.0.1:8000")           # a running server
    report = run_checks("wordle_env", served=True)
    print(report)                                # a table; report.ok, report.to_dict()
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonschema

from ..environment import Environment
from ..errors import EnvCheckFailed, EnvServerError
from ..protocol import ErrorCode
from ..types import nondeterministic_fields
from .sampling import sample
from .targets import InProcess, Remote, Session, Target

Status = Literal["pass", "fail", "warn", "skip"]
KNOWN_CODES = frozenset(code.value for code in ErrorCode)
UNKNOWN_NAME = "__openenv_check_unknown__"


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: ``status`` is ``pass``, ``fail``, ``warn`` or ``skip``."""

    name: str
    status: Status
    detail: str = ""


@dataclass
class CheckReport:
    """All checks of one target; ``ok`` when none failed."""

    target: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if result.status == "fail"]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "ok": self.ok, "results": [asdict(r) for r in self.results]}

    def __str__(self) -> str:
        width = max((len(r.name) for r in self.results), default=0)
        lines = [f"check_env {self.target}: {'ok' if self.ok else 'FAILED'}"]
        lines += [f"  {r.status:4}  {r.name:{width}}  {r.detail}".rstrip() for r in self.results]
        return "\n".join(lines)


class _Outcome(Exception):
    def __init__(self, status: Status, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _fail(detail: str) -> _Outcome:
    return _Outcome("fail", detail)


def check_env(target: Any, **options: Any) -> CheckReport:
    """Run every check on ``target``; raise :class:`EnvCheckFailed` if any fails.

    ``target`` is an :class:`~openenv.Environment` subclass (driven in this process),
    a server's URL, or an environment's name or folder (served with ``served=True``,
    else its class in-process). ``options`` are :func:`run_checks`'s.
    """
    report = run_checks(target, **options)
    if not report.ok:
        raise EnvCheckFailed(report)
    return report


def run_checks(
    target: Any,
    *,
    served: bool = False,
    seeds: Sequence[int] = (0, 1, 2),
    steps: int = 6,
    episode_limit: int = 200,
    timeout_s: float = 60.0,
    token: str | None = None,
    progress: Callable[[str], object] | None = None,
) -> CheckReport:
    """Run every check on ``target`` and return the report (never raises for a breach).

    ``seeds``: the seeds played (at least two); ``steps``: sampled actions per
    episode; ``episode_limit``: steps a served episode may take to reach ``done``;
    ``timeout_s``: the most one check (and one call) may take; ``progress`` is called
    with each check's name as it starts.
    """
    if len(seeds) < 2:
        raise ValueError("run_checks needs at least two seeds")
    return asyncio.run(
        _run(target, served, list(seeds), steps, episode_limit, timeout_s, token, progress)
    )


CHECK_NAMES = (
    "schemas",
    "step before reset",
    "reset",
    "steps",
    "same seed",
    "different seeds",
    "step after done",
    "sessions independent",
    "reset options typed",
    "bad actions",
    "close twice",
)


async def _run(
    target: Any,
    served: bool,
    seeds: list[int],
    steps: int,
    episode_limit: int,
    timeout_s: float,
    token: str | None,
    progress: Callable[[str], object] | None,
) -> CheckReport:
    async with _target(target, served, timeout_s, token) as resolved:
        checker = _Checker(resolved, seeds, steps, episode_limit)
        report = CheckReport(resolved.name)
        for name in CHECK_NAMES:
            if progress is not None:
                progress(name)
            method = getattr(checker, "check_" + name.replace(" ", "_"))
            report.results.append(await _one(name, method, timeout_s))
        return report


async def _one(name: str, method: Callable[[], Awaitable[str]], timeout_s: float) -> CheckResult:
    try:
        detail = await asyncio.wait_for(method(), timeout_s)
    except _Outcome as outcome:
        return CheckResult(name, outcome.status, outcome.detail)
    except asyncio.TimeoutError:
        return CheckResult(name, "fail", f"did not finish within {timeout_s:g} s")
    except Exception as exc:
        return CheckResult(name, "fail", f"{type(exc).__name__}: {exc}")
    return CheckResult(name, "pass", detail)


@contextlib.asynccontextmanager
async def _target(
    target: Any, served: bool, timeout_s: float, token: str | None
) -> AsyncIterator[Target]:
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        yield await asyncio.to_thread(Remote, target, timeout_s, token)
        return
    if not served:
        env_class = target if inspect.isclass(target) else _find(target)
        in_process = InProcess(env_class, timeout_s)
        try:
            yield in_process
        finally:
            await in_process.aclose()
        return
    runtime = await asyncio.to_thread(_start_server, target)
    try:
        yield await asyncio.to_thread(Remote, runtime.base_url, timeout_s, runtime.token)
    finally:
        await asyncio.to_thread(runtime.stop)


def _find(target: str | Path) -> type[Environment[Any, Any, Any]]:
    from ..discovery import find_environment

    return find_environment(target).env_class


def _start_server(target: Any) -> Any:
    if inspect.isclass(target):
        from ..server import create_app
        from ..server.run import BackgroundServer

        runtime: Any = BackgroundServer(create_app(target))
    else:
        from ..runtime.local import LocalRuntime

        runtime = LocalRuntime(target)  # isolation from its openenv.yaml
    runtime.start()
    return runtime


Outcome = tuple[str, Any]
"""``("observation", data)`` or ``("refused", code)``: one call's result, comparable."""


class _Checker:
    """The checks, one method each; they share the reference episode."""

    def __init__(self, target: Target, seeds: list[int], steps: int, episode_limit: int) -> None:
        self.target = target
        self.seeds = seeds
        self.steps = steps
        self.episode_limit = episode_limit
        self.schemas = target.schemas
        self.validators = {
            kind: jsonschema.Draft202012Validator(self.schemas[kind])
            for kind in ("action", "observation", "state")
        }
        self.actions = _actions(target, steps)
        self.nondeterministic = nondeterministic_fields(self.schemas["observation"])
        self.reference: list[Outcome] | None = None

    # -- helpers -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        session = await self.target.open()
        try:
            yield session
        finally:
            with contextlib.suppress(Exception):
                await session.close()

    def valid(self, kind: str, value: Any, where: str) -> None:
        error = jsonschema.exceptions.best_match(self.validators[kind].iter_errors(value))
        if error is not None:
            path = ".".join(map(str, error.absolute_path)) or "(root)"
            raise _fail(f"{where}: the {kind} does not match its schema at {path}: {error.message}")

    def observed(self, data: dict[str, Any], where: str) -> dict[str, Any]:
        self.valid("observation", data.get("observation"), where)
        reward = data.get("reward")
        if reward is not None and (isinstance(reward, bool) or not isinstance(reward, int | float)):
            raise _fail(f"{where}: reward {reward!r} is not a number or null")
        if not isinstance(data.get("done"), bool):
            raise _fail(f"{where}: done {data.get('done')!r} is not a boolean")
        return data

    async def expect_refusal(self, call: Awaitable[Any], code: str, what: str) -> None:
        try:
            await call
        except EnvServerError as refused:
            if refused.code != code:
                raise _fail(
                    f"{what}: answered {refused.code} ({refused.message}), expected {code}"
                ) from None
            return
        raise _fail(f"{what}: accepted, expected {code}")

    async def expect_rule(self, session: Session, code: str, what: str) -> str:
        """Every well-formed sampled action is refused with ``code`` (an episode rule)."""
        for action in self.actions:
            try:
                await session.step(action)
            except EnvServerError as refused:
                if refused.code == "VALIDATION_ERROR":
                    continue  # a malformed draw says nothing about the episode's rules
                if refused.code != code:
                    raise _fail(
                        f"{what}: answered {refused.code} ({refused.message}), expected {code}"
                    ) from None
                return code
            raise _fail(f"{what} was accepted, expected {code}")
        raise _Outcome("skip", "every sampled action was malformed (VALIDATION_ERROR)")

    async def play(
        self, session: Session, seed: int, episode_id: str, check: bool = False
    ) -> list[Outcome]:
        """Reset with ``seed`` and play the sampled actions until done; the outcomes."""
        trajectory: list[Outcome] = []
        first = await session.reset(seed=seed, episode_id=episode_id)
        trajectory.append(("observation", self.observed(first, f"reset(seed={seed})")))
        if first["done"]:
            return trajectory
        expected_steps = 0
        for number, action in enumerate(self.actions, 1):
            try:
                data = await session.step(action)
            except EnvServerError as refused:
                if refused.code not in KNOWN_CODES:
                    raise _fail(
                        f"step {number}: error code {refused.code!r} is not a known one"
                    ) from None
                trajectory.append(("refused", refused.code))
            else:
                expected_steps += 1
                trajectory.append(("observation", self.observed(data, f"step {number}")))
            if check:
                state = await session.state()
                self.valid("state", state, f"state after step {number}")
                if state.get("step_count") != expected_steps:
                    raise _fail(
                        f"after step {number} ({expected_steps} accepted) state.step_count is "
                        f"{state.get('step_count')!r}"
                    )
            if trajectory[-1][0] == "observation" and trajectory[-1][1]["done"]:
                break
        return trajectory

    async def reference_episode(self) -> list[Outcome]:
        if self.reference is None:
            async with self.session() as session:
                self.reference = await self.play(session, self.seeds[0], "check-0")
        return self.reference

    # -- the checks ------------------------------------------------------------------------

    async def check_schemas(self) -> str:
        for kind in self.validators:
            try:
                jsonschema.Draft202012Validator.check_schema(self.schemas[kind])
            except jsonschema.exceptions.SchemaError as exc:
                raise _fail(
                    f"the {kind} schema is not a valid JSON schema: {exc.message}"
                ) from None
        for action in self.actions:
            self.valid("action", action, "a sampled action")
        if isinstance(self.target, InProcess):
            model = self.target.env_class.action_type
            for action in self.actions:
                dumped = model.model_validate(action).model_dump(mode="json")
                again = model.model_validate(dumped).model_dump(mode="json")
                if dumped != again:
                    raise _fail(
                        f"action {action!r} does not survive a round trip: {dumped} != {again}"
                    )
        return f"3 schemas; {len(self.actions)} sampled actions round-trip"

    async def check_step_before_reset(self) -> str:
        async with self.session() as session:
            return await self.expect_rule(session, "NOT_RESET", "a step before any reset")

    async def check_reset(self) -> str:
        async with self.session() as session:
            data = self.observed(
                await session.reset(seed=self.seeds[0], episode_id="check-r"), "reset"
            )
            state = await session.state()
            self.valid("state", state, "state after reset")
            if state.get("episode_id") != "check-r" or state.get("step_count") != 0:
                raise _fail(
                    "after reset(episode_id='check-r') the state says episode_id="
                    f"{state.get('episode_id')!r}, step_count={state.get('step_count')!r}"
                )
            again = await session.reset()
            if (await session.state()).get("episode_id") in (None, "check-r"):
                raise _fail("a reset without episode_id kept the old id (or none)")
            self.observed(again, "reset()")
        if data["done"]:
            raise _Outcome("warn", "the episode is over at reset (done=True)")
        return "observation and state match their schemas"

    async def check_steps(self) -> str:
        async with self.session() as session:
            trajectory = await self.play(session, self.seeds[0], "check-0", check=True)
        self.reference = self.reference or trajectory
        accepted = sum(kind == "observation" for kind, _ in trajectory[1:])
        refused = len(trajectory) - 1 - accepted
        if accepted == 0 and refused:
            raise _Outcome(
                "warn",
                f"all {refused} sampled actions were refused ({trajectory[1][1]}): the checker "
                "could not play this environment, so the episode checks below are weak",
            )
        return f"{accepted} accepted, {refused} refused"

    async def check_same_seed(self) -> str:
        reference = await self.reference_episode()
        async with self.session() as session:
            again = await self.play(session, self.seeds[0], "check-0")
        difference = _difference(reference, again, self.nondeterministic)
        if difference:
            raise _fail(f"seed {self.seeds[0]} played twice: {difference}")
        return f"seed {self.seeds[0]}: {len(reference)} identical outcomes"

    async def check_different_seeds(self) -> str:
        reference = await self.reference_episode()
        for seed in self.seeds[1:]:
            async with self.session() as session:
                other = await self.play(session, seed, "check-0")
            if _difference(reference, other, self.nondeterministic):
                return f"seed {seed} differs from seed {self.seeds[0]}"
        raise _Outcome(
            "warn",
            f"seeds {', '.join(map(str, self.seeds))} gave identical episodes: the seed is "
            "accepted but has no visible effect (fine only for a deterministic environment)",
        )

    async def check_step_after_done(self) -> str:
        async with self.session() as session:
            await session.reset(seed=self.seeds[0], episode_id="check-done")
            # In-process the next accepted step ends the episode (max_steps); served, the
            # sampled actions play until the episode ends by itself, or the limit.
            forced = session.end_at_next_step()
            limit = len(self.actions) if forced else self.episode_limit
            done, taken = False, 0
            while not done and taken < limit:
                action = self.actions[taken % len(self.actions)]
                taken += 1
                try:
                    done = (await session.step(action))["done"]
                except EnvServerError:
                    continue
            if not done:
                raise _Outcome(
                    "skip",
                    f"no episode ended within {limit} sampled actions (all refused or "
                    "not ending), so none to step after",
                )
            count = (await session.state()).get("step_count")
            await self.expect_rule(session, "EPISODE_OVER", "a step after done")
            if (await session.state()).get("step_count") != count:
                raise _fail("a step after done was counted")
        return "EPISODE_OVER, nothing counted"

    async def check_sessions_independent(self) -> str:
        reference = await self.reference_episode()
        async with self.session() as first, self.session() as second:
            trajectories: list[list[Outcome]] = [[], []]
            for index, session in enumerate((first, second)):
                data = await session.reset(seed=self.seeds[0], episode_id="check-0")
                trajectories[index].append(("observation", data))
            for action in self.actions[: len(reference) - 1]:
                for index, session in enumerate((first, second)):
                    try:
                        trajectories[index].append(("observation", await session.step(action)))
                    except EnvServerError as refused:
                        trajectories[index].append(("refused", refused.code))
            for index, trajectory in enumerate(trajectories):
                difference = _difference(reference, trajectory, self.nondeterministic)
                if difference:
                    raise _fail(
                        f"interleaved with another session, session {index + 1}: {difference}"
                    )
            before = await second.state()
            await first.reset(seed=self.seeds[1], episode_id="check-other")
            if await second.state() != before:
                raise _fail("resetting one session changed another's state")
        return "two interleaved sessions each played the reference episode"

    async def check_reset_options_typed(self) -> str:
        async with self.session() as session:
            for bad in ({"seed": "abc"}, {"seed": -1}, {"seed": 1.5}):
                await self.expect_refusal(session.reset(**bad), "VALIDATION_ERROR", f"reset({bad})")
            checked = 3
            options = self.target.reset_options
            accepts_any = options is not None and options.get("additionalProperties") is not False
            unknown = {UNKNOWN_NAME: 1}
            note = ""
            if accepts_any:
                note = (
                    "; _reset takes **options, so unknown options are the environment's to refuse"
                )
            else:
                try:
                    await session.reset(**unknown)
                except EnvServerError as refused:
                    if refused.code != "VALIDATION_ERROR":
                        raise _fail(f"an unknown option answered {refused.code}") from None
                    checked += 1
                else:
                    if options is not None:
                        raise _fail("an unknown reset option was accepted")
                    note = "; an unknown reset option was accepted (it may take **options)"
            for name, wrong in _wrong_values(options):
                await self.expect_refusal(
                    session.reset(**{name: wrong}), "VALIDATION_ERROR", f"reset({name}={wrong!r})"
                )
                checked += 1
            self.observed(await session.reset(seed=self.seeds[0]), "reset after refusals")
        if note.startswith("; an unknown"):
            raise _Outcome("warn", f"{checked} bad resets refused{note}")
        return f"{checked} bad resets refused{note}"

    async def check_bad_actions(self) -> str:
        async with self.session() as session:
            await session.reset(seed=self.seeds[0])
            action = dict(self.actions[0])
            bad: list[tuple[str, Any]] = [
                ("an unknown field", {**action, UNKNOWN_NAME: 1}),
                ("a list instead of an object", [action]),
            ]
            for name, wrong in _wrong_values(self.schemas["action"]):
                bad.append((f"{name}={wrong!r}", {**action, name: wrong}))
            for what, payload in bad:
                await self.expect_refusal(session.step(payload), "VALIDATION_ERROR", what)
            state = await session.state()
            if state.get("step_count") != 0:
                raise _fail(f"refused actions were counted: step_count={state.get('step_count')}")
            try:
                self.observed(await session.step(action), "a step after refusals")
            except EnvServerError as refused:
                if refused.code not in KNOWN_CODES - {"SESSION_ERROR"}:
                    raise _fail(f"the session broke after bad actions: {refused}") from None
        return f"{len(bad)} malformed actions refused; the session goes on"

    async def check_close_twice(self) -> str:
        session = await self.target.open()
        await session.reset(seed=self.seeds[0])
        await session.close()
        await session.close()
        return "harmless"


def _wrong_values(schema: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """One wrongly typed value per property whose type is plain (not ``Any``)."""
    wrong: list[tuple[str, Any]] = []
    for name, prop in (schema or {}).get("properties", {}).items():
        if name in ("metadata", "seed", "episode_id"):
            continue
        types = _types_of(prop, (schema or {}).get("$defs", {}))
        if not types:
            continue
        if "object" not in types and "array" not in types:
            wrong.append((name, {UNKNOWN_NAME: [1]}))
        elif "string" not in types:
            wrong.append((name, "not of this type"))
    return wrong


def _types_of(schema: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    if "$ref" in schema:
        return _types_of(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs)
    if "enum" in schema or "const" in schema:
        return {"enum"}
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            parts = [_types_of(part, defs) for part in schema[key]]
            return set() if any(not part for part in parts) else set().union(*parts)
    kind = schema.get("type")
    if kind is None:
        return set()
    return set(kind) if isinstance(kind, list) else {kind}


def _actions(target: Target, count: int) -> list[dict[str, Any]]:
    """The actions played: the schema's ``examples`` first, then draws from the schema.

    In-process, draws the action model refuses (a rule across fields that JSON
    schema does not express) are drawn again.
    """
    schema = target.schemas["action"]
    rng = random.Random(f"openenv check_env {target.name}")
    actions = [dict(example) for example in schema.get("examples", [])][:count]
    model = target.env_class.action_type if isinstance(target, InProcess) else None
    for _ in range(count * 50):
        if len(actions) >= count:
            break
        action = sample(schema, rng)
        if model is not None:
            try:
                model.model_validate(action)
            except ValueError:
                continue
        actions.append(action)
    return actions or [sample(schema, rng)]


def _difference(expected: list[Outcome], actual: list[Outcome], ignored: set[str]) -> str:
    """Where two episodes part (``""`` when identical), ignoring observation fields
    the schema marks ``nondeterministic`` (timings, paths on this machine)."""
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        where = "reset" if index == 0 else f"step {index}"
        if want[0] != got[0]:
            return f"{where} was {want[0]} then {got[0]}"
        if want[0] == "observation":
            want, got = _without(want, ignored), _without(got, ignored)
        path = first_difference(want[1], got[1])
        if path is not None:
            return f"{where} differs at {path}"
    if len(expected) != len(actual):
        return f"{len(expected)} outcomes then {len(actual)}"
    return ""


def _without(outcome: Outcome, ignored: set[str]) -> Outcome:
    if not ignored:
        return outcome
    data = dict(outcome[1])
    data["observation"] = {k: v for k, v in data["observation"].items() if k not in ignored}
    return outcome[0], data


def first_difference(want: Any, got: Any, path: str = "") -> str | None:
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got), key=str):
            found = first_difference(want.get(key), got.get(key), f"{path}.{key}" if path else key)
            if found is not None:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for index, (a, b) in enumerate(zip(want, got, strict=True)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    if want != got:
        return f"{path or '(value)'}: {_short(want)} then {_short(got)}"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
