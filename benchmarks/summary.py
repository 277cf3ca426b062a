"""One table of the issue's sandboxed-session figures, each against its target.

``python -m benchmarks.run --summary`` measures, in one run on this machine, ours
against the reference OpenEnv 0.10 and the raw-websockets floor, with the
measurement code of the other benchmarks (nothing here measures on its own):

1. sustained sandboxed session starts per second: ``openenv serve echo_env
   --isolation sandbox`` (its default warm pool), a few clients at once each
   looping connect → reset (first observation) → close
   (:func:`benchmarks.loadgen.session_churn`);
2. sandboxed sessions opened back to back, one at a time, on the same server:
   connect → first observation p50 (:func:`benchmarks.loadgen.connect_latency`);
3. 64 ``coding_env`` sessions opened at once (``openenv serve coding_env``:
   sandboxed, as it runs by default): time until all are at their first
   observation (:func:`benchmarks.coding.hold_level`, each then steps ``print(1)``
   once, checked);
4. an idle pooled sandboxed worker's memory, PSS (the server of rows 1 and 2, its
   pool full, before any session: :func:`benchmarks.isolation.idle_worker_memory`);
5. server CPU per step with 64 sessions, ours / the reference's async counter env,
   every server on the same event loop, asyncio and uvloop
   (:meth:`benchmarks.run.Runner.multi_round`);
6. 64-session throughput, ours / the reference's async env, both loops (the same);
7. 64-session throughput, ours / the raw-websockets floor, both loops (the same);
8. only with ``--with-512`` (minutes): 512 concurrent sandboxed coding sessions,
   all stepping ``print(1)``, while two busy loops (``python -c 'while True:
   pass'``, started and killed here) load the cores: sessions kept of 512
   (:meth:`benchmarks.coding.Runner.ladder`, one level).

Each row is marked pass/FAIL against its target; a row whose measurement had
errors fails and says why. ``--json PATH`` writes every figure. Servers bind
127.0.0.1 only; every count and wait is bounded; every subprocess (servers, load
workers, busy loops) is stopped on the way out, Ctrl-C and SIGTERM included.

    python -m benchmarks.run --summary --quick             # smoke run, under 2 minutes
    python -m benchmarks.run --summary --json summary.json # the full run (2.5-3 min, 2 cores)
    python -m benchmarks.run --summary --with-512          # adds row 8 (~1 min more, ~5 GiB)
    python -m benchmarks.run --summary --only ours,floor   # no reference: rows 5, 6 n/a
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from benchmarks import coding, isolation, loadgen, run

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Counts of one summary run."""

    churn_sessions: int = 200
    churn_clients: int = 8
    back_to_back: int = 100
    coding_at_once: int = 64
    loops: tuple[str, ...] = ("asyncio", "uvloop")
    multi_sessions: int = 64
    multi_steps: int = 500
    warmup_steps: int = 40
    repeats: int = 10
    """Rounds of rows 5-7. This machine's speed drifts by ±25% over seconds: many short
    rounds, in alternating order, put a round's servers closer together in time."""
    quiet_wait_s: float = 5.0
    hold_sessions: int = 512
    hold_steps: int = 20
    busy_loops: int = 2


FULL = Settings()
QUICK = Settings(churn_sessions=40, back_to_back=20, multi_steps=100, repeats=1, quiet_wait_s=0)
TINY = Settings(
    churn_sessions=6,
    churn_clients=2,
    back_to_back=3,
    coding_at_once=3,
    loops=("asyncio",),
    multi_sessions=8,
    multi_steps=250,  # 2,000 steps: a server's CPU is read in 10 ms ticks
    warmup_steps=8,
    repeats=1,
    quiet_wait_s=0,
    hold_sessions=4,
    hold_steps=2,
)
"""The smallest run that still measures every row (the tests run it)."""

COMPARED = ("ours", "reference", "floor")


# -- rows and targets ------------------------------------------------------------------------


@dataclass(frozen=True)
class RowSpec:
    """One row of the table: which figure, against which target."""

    number: str
    key: str
    label: str
    better: str  # "low": value <= target passes; "high": value >= target passes
    target: float
    fmt: Callable[[float], str]


@dataclass
class Row:
    """One evaluated row."""

    number: str
    key: str
    label: str
    now: str
    target: str
    passed: bool | None
    detail: str = ""


def _ratio_text(value: float) -> str:
    return f"{value:.2f}x"


def row_specs(settings: Settings) -> list[RowSpec]:
    """The rows of the table, in order, for these settings."""
    s = settings
    specs = [
        RowSpec(
            "1",
            "session_starts_per_s",
            f"sandboxed session starts/s, echo_env ({s.churn_clients} clients looping "
            f"connect → reset → close, {s.churn_sessions} sessions)",
            "high",
            50.0,
            lambda v: f"{v:,.1f}/s",
        ),
        RowSpec(
            "2",
            "back_to_back_p50_ms",
            f"{s.back_to_back} sandboxed sessions back to back, echo_env: "
            "connect → first observation, p50",
            "low",
            30.0,
            lambda v: f"{v:,.1f} ms",
        ),
        RowSpec(
            "3",
            "coding_at_once_s",
            f"{s.coding_at_once} sandboxed coding_env sessions at once: "
            "until all are at their first observation",
            "low",
            1.5,
            lambda v: f"{v:,.2f} s",
        ),
        RowSpec(
            "4",
            "idle_worker_pss_mib",
            "idle sandboxed worker memory, PSS (echo_env, pooled)",
            "low",
            10.0,
            lambda v: f"{v:,.1f} MiB",
        ),
    ]
    m = s.multi_sessions
    for loop in s.loops:
        specs.append(
            RowSpec(
                "5",
                f"cpu_ratio_reference_{loop}",
                f"server CPU per step, {m} sessions, ours / reference async env ({loop})",
                "low",
                0.5,
                _ratio_text,
            )
        )
    for loop in s.loops:
        specs.append(
            RowSpec(
                "6",
                f"tput_ratio_reference_{loop}",
                f"{m}-session throughput, ours / reference async env ({loop})",
                "high",
                2.0,
                _ratio_text,
            )
        )
    for loop in s.loops:
        specs.append(
            RowSpec(
                "7",
                f"tput_ratio_floor_{loop}",
                f"{m}-session throughput, ours / raw-websockets floor ({loop})",
                "high",
                0.8,
                _ratio_text,
            )
        )
    n = s.hold_sessions
    specs.append(
        RowSpec(
            "8",
            "coding_sessions_kept",
            f"{n} sandboxed coding_env sessions at once, {s.busy_loops} busy loops: kept",
            "high",
            float(n),
            lambda v: f"{v:,.0f}/{n:,}",
        )
    )
    return specs


def _target_text(spec: RowSpec) -> str:
    if spec.key == "coding_sessions_kept":
        return f"{spec.target:,.0f}/{spec.target:,.0f}"
    return ("≤ " if spec.better == "low" else "≥ ") + spec.fmt(spec.target)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def evaluate(
    figures: dict[str, Any],
    settings: Settings,
    errors: dict[str, list[str]] | None = None,
    details: dict[str, str] | None = None,
) -> list[Row]:
    """Every row with its figure, target and verdict.

    A row passes when its figure meets the target and its measurement had no
    errors; it fails when the figure misses the target or anything went wrong;
    it is ``None`` (not run, or no figure) otherwise. ``details`` add a note per
    row key (``figures`` may carry none for it: then the note says why).
    """
    errors = errors or {}
    details = details or {}
    rows = []
    for spec in row_specs(settings):
        value = _number(figures.get(spec.key))
        problems = errors.get(spec.key) or []
        if value is None:
            passed = False if problems else None
            now = "—"
        else:
            met = value <= spec.target if spec.better == "low" else value >= spec.target
            passed = met and not problems
            now = spec.fmt(value)
        note = "; ".join(
            part for part in (details.get(spec.key, ""), *(f"error: {p}" for p in problems)) if part
        )
        rows.append(Row(spec.number, spec.key, spec.label, now, _target_text(spec), passed, note))
    return rows


def _verdict(passed: bool | None, rich: bool = True) -> str:
    if passed is None:
        return "[dim]n/a[/dim]" if rich else "n/a"
    if passed:
        return "[green]pass[/green]" if rich else "pass"
    return "[red]FAIL[/red]" if rich else "**FAIL**"


def render_table(rows: Sequence[Row], title: str = "Sandboxed sessions: summary") -> Table:
    """The rows as a Rich table: figure | now | target | result | detail."""
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("figure")
    table.add_column("now", justify="right")
    table.add_column("target", justify="right")
    table.add_column("result")
    table.add_column("detail", style="dim", overflow="fold")
    for row in rows:
        table.add_row(row.number, row.label, row.now, row.target, _verdict(row.passed), row.detail)
    return table


def render_markdown(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| # | figure | now | target | result | detail |",
        "|---:|---|---:|---:|---|---|",
    ]
    for r in rows:
        detail = r.detail.replace("|", "\\|")
        lines.append(
            f"| {r.number} | {r.label} | {r.now} | {r.target} | {_verdict(r.passed, False)} "
            f"| {detail} |"
        )
    return "\n".join(lines) + "\n"


def round_order(servers: Sequence[T], index: int) -> Sequence[T]:
    """The order of round ``index`` (from 0): as given, reversed in odd rounds, so no
    server is always measured first, or always right after the same one."""
    return servers[::-1] if index % 2 else servers


def paired_ratio(
    ours: Sequence[dict[str, Any]], other: Sequence[dict[str, Any]], key: str
) -> dict[str, Any]:
    """``key`` of ours over the other server's, round by round: the median of the
    rounds' ratios, and the medians of both figures over the same rounds.

    Rounds are interleaved (ours, reference, floor, then floor, reference, ours, ...),
    so a round's pair shares the machine's state. Rounds where other processes used the cores
    (``disturbed``, marked by :meth:`benchmarks.run.Runner.multi_round`) for either
    server are left out, unless every round was: on a shared machine, a quiet round
    of one server against a busy one of the other says little.
    """
    pairs = []
    for a, b in zip(ours, other, strict=False):
        x, y = _number(a.get(key)), _number(b.get(key))
        if x is not None and y:
            pairs.append((a, b, x, y))
    quiet = [p for p in pairs if not p[0].get("disturbed") and not p[1].get("disturbed")]
    used = quiet or pairs
    if not used:
        return {"ratio": None, "ours": None, "other": None, "rounds": 0, "quiet": 0}
    return {
        "ratio": statistics.median(x / y for _, _, x, y in used),
        "ours": statistics.median(x for _, _, x, _ in used),
        "other": statistics.median(y for _, _, _, y in used),
        "rounds": len(used),
        "quiet": len(quiet),
    }


# -- the run -----------------------------------------------------------------------------------


@contextlib.contextmanager
def busy_loops(count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` processes spinning ``while True: pass``; killed on the way out."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", "while True: pass"],
                    stdin=subprocess.DEVNULL,
                    preexec_fn=loadgen.die_with_parent,
                )
            )
        yield procs
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)


@contextlib.contextmanager
def pinned(enabled: bool) -> Iterator[tuple[list[int] | None, list[int] | None]]:
    """As ``benchmarks.run`` does: the servers on the last core, this process (the load
    generator and its workers) on the others; this process's cores restored after."""
    cores = sorted(os.sched_getaffinity(0))
    if not enabled or len(cores) < 2:
        yield None, None
        return
    server_cpus, load_cpus = cores[-1:], cores[:-1]
    os.sched_setaffinity(0, load_cpus)
    try:
        yield server_cpus, load_cpus
    finally:
        os.sched_setaffinity(0, cores)


class Summary:
    """Runs the stages, each filling ``figures`` (numbers), ``errors`` and ``details``
    (notes) by row key, and ``raw`` (everything the measurements returned)."""

    def __init__(
        self,
        settings: Settings,
        console: Console,
        *,
        load_loop: str = "auto",
        load_client: str = "raw",
        load_processes: int = 1,
        pin: bool = True,
        with_512: bool = False,
        compared: Sequence[str] = COMPARED,
    ) -> None:
        self.settings = settings
        self.compared = ["ours", *(n for n in COMPARED if n != "ours" and n in compared)]
        self.console = console
        self.load_loop = load_loop
        self.load_client = load_client
        self.load_processes = load_processes
        self.pin = pin
        self.with_512 = with_512
        self.figures: dict[str, Any] = {}
        self.errors: dict[str, list[str]] = {}
        self.details: dict[str, str] = {}
        self.raw: dict[str, Any] = {}
        if not with_512:
            self.details["coding_sessions_kept"] = "not run (--with-512)"

    def log(self, text: str) -> None:
        self.console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {text}")

    def error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message[:300])

    def stage(self, title: str, keys: Sequence[str], body: Callable[[], None]) -> None:
        """Run one stage; an exception fails its rows (Ctrl-C and SIGTERM go on up)."""
        self.log(f"[bold]{title}[/bold]")
        started = time.monotonic()
        try:
            body()
        except Exception as exc:
            for key in keys:
                self.error(key, f"{type(exc).__name__}: {exc}")
            self.log(f"[red]{title} failed[/red]: {type(exc).__name__}: {exc}")
        self.log(f"[dim]{title}: {time.monotonic() - started:.0f} s[/dim]")

    def run(self) -> None:
        s = self.settings
        self.stage(
            "echo_env, sandboxed: idle worker memory, back-to-back and sustained session starts",
            ("idle_worker_pss_mib", "back_to_back_p50_ms", "session_starts_per_s"),
            self.echo_stage,
        )
        for loop in s.loops:
            self.stage(
                f"{', '.join(self.compared)} on {loop}: {s.multi_sessions} sessions stepping",
                [f"{k}_{loop}" for k in ("cpu_ratio_reference", "tput_ratio_reference")]
                + [f"tput_ratio_floor_{loop}"],
                lambda loop=loop: self.servers_stage(loop),
            )
        self.stage(
            "coding_env, sandboxed: sessions at once"
            + (f", then {s.hold_sessions} under busy loops" if self.with_512 else ""),
            ("coding_at_once_s", *(("coding_sessions_kept",) if self.with_512 else ())),
            self.coding_stage,
        )

    # -- rows 1, 2, 4 ------------------------------------------------------------------------

    def echo_stage(self) -> None:
        s = self.settings
        server = coding.start_ours("sandbox", 1024, env="echo_env")
        try:
            idle_processes = coding.wait_stable(server.pid, 60)  # the warm pool full
            memory = isolation.idle_worker_memory(server.pid)
            self.raw["idle_worker_memory"] = memory
            self.figures["idle_worker_pss_mib"] = memory["pss_mib"]
            self.figures["idle_worker_uss_mib"] = memory["uss_mib"]
            self.figures["idle_worker_rss_mib"] = memory["rss_mib"]
            templates = memory.get("templates") or []
            self.details["idle_worker_pss_mib"] = (
                f"mean of {len(memory['workers'])} pooled workers; "
                f"USS {memory['uss_mib']:.1f}, RSS {memory['rss_mib']:.1f} MiB"
                + "".join(f"; zygote template PSS {t['pss_mib']:.1f} MiB" for t in templates)
            )
            self.log(f"idle worker PSS {memory['pss_mib']:.1f} MiB")

            n = s.back_to_back
            conn = loadgen.connect_latency(
                server.url, n, 30.0 + 2.0 * n, self.load_loop, expect_total=None
            )
            self.raw["back_to_back"] = conn.summary()
            lat = conn.latency
            if conn.ok:
                self.figures["back_to_back_p50_ms"] = lat.p50 * 1e3
                self.figures["back_to_back_p90_ms"] = lat.p90 * 1e3
                self.details["back_to_back_p50_ms"] = (
                    f"p90 {lat.p90 * 1e3:,.1f} ms, max {lat.max * 1e3:,.1f} ms"
                )
            if conn.failures:
                self.error("back_to_back_p50_ms", f"{conn.failures} of {n} failed: {conn.errors}")
            self.log(f"{n} back to back: p50 {lat.p50 * 1e3:.1f} ms, p90 {lat.p90 * 1e3:.1f} ms")

            coding.settle(server.pid, idle_processes, 30)  # the sessions' workers gone
            coding.wait_stable(server.pid, 30)  # and the pool refilled
            churn = loadgen.session_churn(
                server.url,
                s.churn_sessions,
                s.churn_clients,
                60.0 + 1.0 * s.churn_sessions,
                self.load_loop,
                expect_total=None,
            )
            self.raw["session_churn"] = churn.summary()
            if churn.ok:
                self.figures["session_starts_per_s"] = churn.sessions_per_s
                self.figures["session_start_p50_ms"] = churn.latency.p50 * 1e3
                self.details["session_starts_per_s"] = (
                    f"{churn.ok} in {churn.wall_s:.2f} s; connect → first observation "
                    f"p50 {churn.latency.p50 * 1e3:,.0f} ms"
                )
            failures = s.churn_sessions - churn.ok
            if failures:
                self.error(
                    "session_starts_per_s",
                    f"{failures} of {s.churn_sessions} failed: {churn.errors}",
                )
            self.log(
                f"{s.churn_sessions} sessions by {s.churn_clients} clients: "
                f"{churn.sessions_per_s:.1f}/s"
            )
        finally:
            server.stop()

    # -- rows 5, 6, 7 ------------------------------------------------------------------------

    def servers_stage(self, loop: str) -> None:
        s = self.settings
        settings = dataclasses.replace(
            run.QUICK,
            repeats=s.repeats,
            multi_sessions=s.multi_sessions,
            multi_steps=s.multi_steps,
            warmup_steps=s.warmup_steps,
            hold_levels=(),
            quiet_wait_s=s.quiet_wait_s,
            time_budget_s=3600.0,
        )
        with pinned(self.pin) as (server_cpus, _):
            runner = run.Runner(
                self.compared,
                settings,
                loop=loop,
                load_loop=self.load_loop,
                load_processes=self.load_processes,
                console=self.console,
                server_cpus=server_cpus,
                load_client=self.load_client,
            )
            with runner.running_servers():
                for rep in range(s.repeats):
                    for name, server in round_order(list(runner.each_server()), rep):
                        runner.wait_for_quiet()
                        multi = runner.multi_round(name, server)
                        runner.log(
                            f"[bold]{name}[/bold] on {loop} (round {rep + 1}/{s.repeats}): "
                            f"{multi.steps_per_s:,.0f} steps/s, server CPU "
                            f"{run._fmt(multi.server_cpu_us_per_step)} µs/step"
                            + (f" [red]{multi.errors}[/red]" if multi.errors else "")
                        )
        self.raw.setdefault("servers", {})[loop] = {
            n: dataclasses.asdict(r) for n, r in runner.results.items()
        }
        figs = {n: r.figures() for n, r in runner.results.items()}
        for name in self.compared:
            self.figures[f"{name}_{loop}_steps_per_s"] = figs[name]["tput_64"]
            self.figures[f"{name}_{loop}_cpu_us_per_step"] = figs[name]["cpu_64"]
        rows = (
            ("cpu_ratio_reference", "reference", "server_cpu_us_per_step", "µs CPU/step"),
            ("tput_ratio_reference", "reference", "steps_per_s", "steps/s"),
            ("tput_ratio_floor", "floor", "steps_per_s", "steps/s"),
        )
        for prefix, other, key, unit in rows:
            row = f"{prefix}_{loop}"
            if other not in figs:
                self.details[row] = f"not run (--only without {other})"
                continue
            ours_runs = runner.results["ours"].multi_session
            other_runs = runner.results[other].multi_session
            paired = paired_ratio(ours_runs, other_runs, key)
            self.figures[row] = paired["ratio"]
            self.raw.setdefault("ratios", {})[row] = paired
            if paired["ratio"] is not None:
                n, total = paired["rounds"], len(ours_runs)
                rounds = (
                    f"{n} rounds, other processes busy in each"
                    if not paired["quiet"]
                    else f"{n} quiet round{'s' if n > 1 else ''} of {total}"
                    if n < total
                    else f"{n} round{'s' if n > 1 else ''}"
                )
                self.details[row] = (
                    f"ours {run._fmt(paired['ours'])} / {other} {run._fmt(paired['other'])} "
                    f"{unit} (medians; the ratio: median of {rounds})"
                )
            for name in ("ours", other):
                result = runner.results[name]
                if result.failed:
                    self.error(row, f"{name}: {result.failed}")
                for r in result.multi_session:
                    if r["errors"] or r["failed_sessions"]:
                        self.error(row, f"{name}: {r['failed_sessions']} sessions failed")

    # -- rows 3, 8 ---------------------------------------------------------------------------

    def coding_stage(self) -> None:
        s = self.settings
        n = s.coding_at_once
        server = coding.start_server("ours", max(n, s.hold_sessions if self.with_512 else 0) + 16)
        try:
            idle_processes = coding.wait_stable(server.pid, 60)
            idle = coding.tree_memory(server.pid)
            at_once = asyncio.run(
                coding.hold_level(
                    server.url, n, 1, n, 60.0 + 0.5 * n, 60.0, server.pid, lambda: None
                )
            )
            self.raw["coding_at_once"] = {"idle": idle, **at_once}
            self.figures["coding_at_once_s"] = at_once["connect_wall_s"]
            self.details["coding_at_once_s"] = (
                f"{at_once['connected']}/{n} connected; connect + reset p50 "
                f"{at_once['connect_ms']['p50']:,.0f} ms"
            )
            if not at_once["held"]:
                self.error(
                    "coding_at_once_s",
                    f"{at_once['connected']}/{n} connected, "
                    f"{at_once['failed_sessions']} lost: {at_once['errors']}",
                )
            self.log(
                f"{n} coding sessions at once: all at their first observation in "
                f"{at_once['connect_wall_s']:.2f} s ({at_once['connected']}/{n})"
            )
            if self.with_512:
                coding.settle(server.pid, idle_processes, 120)
                self.hold_under_load(server, idle, at_once)
        finally:
            server.stop()

    def hold_under_load(
        self, server: coding.Server, idle: dict[str, Any], at_once: dict[str, Any]
    ) -> None:
        s = self.settings
        n = s.hold_sessions
        per_session = 64.0
        if at_once.get("pss_mib") and idle.get("pss_mib") is not None and at_once["connected"]:
            per_session = max(4.0, (at_once["pss_mib"] - idle["pss_mib"]) / at_once["connected"])
        ladder = coding.Runner(
            ["ours"],
            coding.Settings(levels=(n,), level_steps=s.hold_steps, time_budget_s=1800.0),
            self.console,
        )
        results = ladder.results["ours"]
        results.idle_memory = idle
        with busy_loops(s.busy_loops), ladder.progress:
            ladder.ladder(server, results, per_session_mib=per_session)
        self.raw["coding_hold"] = {
            "ladder": results.ladder,
            "stopped": results.ladder_stopped,
            "busy_loops": s.busy_loops,
        }
        level = results.ladder[-1] if results.ladder else None
        key = "coding_sessions_kept"
        if level is None:
            self.details[key] = f"not run ({results.ladder_stopped or 'no level'})"
            return
        self.figures[key] = level["sessions"] - level["failed_sessions"]
        lat = level["step_latency_ms"]
        self.details[key] = (
            f"{level['connected']}/{n} connected in {level['connect_wall_s']:,.0f} s, "
            f"{level['success_rate']:.1%} of steps right, print(1) p50 {lat['p50']:,.0f} ms, "
            f"PSS {level.get('pss_mib', 0):,.0f} MiB"
        )
        if not level["held"]:
            self.error(key, f"level failed: {level['errors']}")


# -- the command -------------------------------------------------------------------------------


def report(
    summary: Summary, rows: Sequence[Row], started: float, argv: Sequence[str]
) -> dict[str, Any]:
    """Everything measured, as ``--json`` writes it."""
    return {
        "command": shlex.join(["python", "-m", "benchmarks.run", *argv]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "settings": dataclasses.asdict(summary.settings),
        "with_512": summary.with_512,
        "load_loop": summary.load_loop,
        "load_client": summary.load_client,
        "figures": summary.figures,
        "errors": summary.errors,
        "rows": [dataclasses.asdict(r) for r in rows],
        "raw": summary.raw,
    }


def main(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``python -m benchmarks.run --summary``: called by :func:`benchmarks.run.main`."""
    settings = TINY if args.tiny else QUICK if args.quick else FULL
    if args.repeats:
        settings = dataclasses.replace(settings, repeats=args.repeats)
    console = Console(width=None if sys.stdout.isatty() else 160)
    loadgen.raise_nofile_limit()
    previous = signal.signal(signal.SIGTERM, run._on_sigterm)
    started = time.time()
    environment: dict[str, Any] = {
        "machine": run.machine(),
        "revision": run.git_revision(),
        "load_average_start": run.load_average(),
    }
    summary = Summary(
        settings,
        console,
        load_loop=args.load_loop,
        load_client=args.load_client,
        load_processes=args.load_processes,
        pin=not args.no_pin,
        with_512=args.with_512,
        compared=[n.strip() for n in args.only.split(",")],
    )
    interrupted = False
    try:
        summary.run()
    except (KeyboardInterrupt, run.Interrupted):
        interrupted = True
        console.print("[yellow]interrupted: everything stopped, partial results below[/yellow]")
    finally:
        signal.signal(signal.SIGTERM, previous)
    environment["load_average_end"] = run.load_average()
    rows = evaluate(summary.figures, settings, summary.errors, summary.details)
    console.print()
    console.print(render_table(rows))
    m = environment["machine"]
    console.print(
        f"[dim]{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; "
        f"load average {environment['load_average_start']} → "
        f"{environment['load_average_end']}; load generator loop {args.load_loop}, "
        f"client {args.load_client}; "
        f"{time.time() - started:.0f} s[/dim]"
    )
    out = report(summary, rows, started, argv)
    out["environment"] = environment
    out["interrupted"] = interrupted
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
        console.print(f"[dim]wrote {args.json}[/dim]")
    if args.markdown:
        args.markdown.write_text(render_markdown(rows))
        console.print(f"[dim]wrote {args.markdown}[/dim]")
    if interrupted:
        return 130
    if args.check and any(r.passed is False for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run.main(["--summary", *sys.argv[1:]]))
