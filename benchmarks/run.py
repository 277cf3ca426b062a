"""Benchmark our server against the reference OpenEnv 0.10 and a raw-websockets floor.

One run starts every server as a subprocess on a free loopback port, drives each
with the same load generator (:mod:`benchmarks.loadgen`), and prints the figures
side by side, as ratios, with the targets of the issue marked pass/fail:

* step latency p50/p99 with 1 session;
* aggregate steps/s with 64 sessions;
* connect + first reset latency p50/p99;
* the server's CPU time per step (from ``/proc/<pid>/stat``; the fairest figure
  when the load generator shares the machine's cores with the server);
* how many concurrent sessions, each taking one step that sleeps 2 s on the
  server, one server process holds at >= 99 % success (a ladder of levels,
  stopping at a server's first failure).

Repetitions of the step and connect measurements are interleaved across servers
(ours, reference, ..., ours, reference, ...) and their medians reported, so slow
drift of the machine hits every server alike. Everything is bounded in count and
time, binds 127.0.0.1 only, and stops every subprocess on the way out, Ctrl-C
included.

    python -m benchmarks.run --quick                     # smoke run, under a minute
    python -m benchmarks.run --json bench.json           # the full run (minutes)
    python -m benchmarks.run --only ours,floor --quick
    python -m benchmarks.run --summary --quick           # the summary table (benchmarks.summary)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import loadgen
from benchmarks.servers import KINDS, RunningServer, start

ALL_SERVERS = ("ours", "reference", "reference-sync", "floor")
OTHER_CPU_WARN = 0.25
"""Warn when processes other than the server and the load used this many cores."""


@dataclass(frozen=True)
class Settings:
    """Counts and times of one benchmark run."""

    repeats: int
    one_session_steps: int
    warmup_steps: int
    multi_sessions: int
    multi_steps: int
    connect_count: int
    hold_levels: tuple[int, ...]
    sleep_s: float = 2.0
    hold_deadline_s: float = 12.0
    hold_connect_timeout_s: float = 90.0
    hold_connect_concurrency: int = 256
    success_threshold: float = 0.99
    time_budget_s: float = 1800.0
    quiet_wait_s: float = 60.0


QUICK = Settings(
    repeats=1,
    one_session_steps=1000,
    warmup_steps=50,
    multi_sessions=64,
    multi_steps=100,
    connect_count=40,
    hold_levels=(500,),
    time_budget_s=120.0,
    quiet_wait_s=0.0,
)
FULL = Settings(
    repeats=3,
    one_session_steps=10_000,
    warmup_steps=200,
    multi_sessions=64,
    multi_steps=1_500,
    connect_count=400,
    hold_levels=(1000, 2000, 4096, 10_000),
)


@dataclass
class Target:
    """One target of the issue: a ratio or a count, and whether it is met."""

    name: str
    threshold: str
    value: float | None = None
    shown: str = "n/a"
    passed: bool | None = None


@dataclass
class ServerResults:
    """Every figure measured for one server."""

    name: str
    description: str
    one_session: list[dict[str, Any]] = field(default_factory=list)
    multi_session: list[dict[str, Any]] = field(default_factory=list)
    connect: list[dict[str, Any]] = field(default_factory=list)
    hold: list[dict[str, Any]] = field(default_factory=list)
    held: int | None = None
    failed: str | None = None

    # -- the medians the table shows -----------------------------------------------------

    def _median(self, runs: list[dict[str, Any]], *path: str) -> float | None:
        """Median over the rounds; rounds disturbed by other processes only if all were."""
        quiet = [run for run in runs if not run.get("disturbed")]
        values = []
        for run in quiet or runs:
            value: Any = run
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, int | float) and not math.isnan(value):
                values.append(float(value))
        return statistics.median(values) if values else None

    def figures(self) -> dict[str, float | None]:
        """The figures of the tables (medians over rounds), by row key."""
        held_level = next((h for h in self.hold if h["sessions"] == self.held), None)
        return {
            "p50_1": self._median(self.one_session, "latency_us", "p50"),
            "p99_1": self._median(self.one_session, "latency_us", "p99"),
            "cpu_1": self._median(self.one_session, "server_cpu_us_per_step"),
            "tput_64": self._median(self.multi_session, "steps_per_s"),
            "p50_64": self._median(self.multi_session, "latency_us", "p50"),
            "p99_64": self._median(self.multi_session, "latency_us", "p99"),
            "cpu_64": self._median(self.multi_session, "server_cpu_us_per_step"),
            "load_64": self._median(self.multi_session, "load_cpu_us_per_step"),
            "conn_p50": self._median(self.connect, "latency_us", "p50"),
            "conn_p99": self._median(self.connect, "latency_us", "p99"),
            "held": None if self.held is None else float(self.held),
            "held_threads": None if held_level is None else held_level["server_threads"],
            "held_rss": None if held_level is None else held_level["server_rss_mib"],
        }


ROWS: list[tuple[str, str, str]] = [
    # key, label, which way is better ("low"/"high"; "": no ratio shown)
    ("p50_1", "step latency p50, 1 session (µs)", "low"),
    ("p99_1", "step latency p99, 1 session (µs)", "low"),
    ("tput_64", "steps/s, 64 sessions", "high"),
    ("p50_64", "step latency p50, 64 sessions (µs)", "low"),
    ("p99_64", "step latency p99, 64 sessions (µs)", "low"),
    ("cpu_64", "server CPU per step, 64 sessions (µs)", "low"),
    ("cpu_1", "server CPU per step, 1 session (µs)", "low"),
    ("load_64", "load generator CPU per step, 64 sessions (µs)", ""),
    ("conn_p50", "connect + first reset p50 (µs)", "low"),
    ("conn_p99", "connect + first reset p99 (µs)", "low"),
    ("held", "sleeping sessions held at ≥ 99 % (2 s step)", "high"),
    ("held_threads", "server threads while holding them", ""),
    ("held_rss", "server RSS while holding them (MiB)", "low"),
]


# -- running -------------------------------------------------------------------------------


class Interrupted(BaseException):
    """SIGTERM arrived; unwind like Ctrl-C so every subprocess is stopped (a
    ``BaseException``, like ``KeyboardInterrupt``: no ``except Exception`` stops it)."""


def _on_sigterm(signum: int, frame: object) -> None:
    """Turn SIGTERM into an exception, so cleanup runs as for Ctrl-C."""
    raise Interrupted(f"signal {signum}")


def reference_versions(python: str) -> dict[str, str]:
    """Versions of the packages that matter, as seen by ``python``."""
    code = (
        "import importlib.metadata as m, json, platform\n"
        "out = {'python': platform.python_version()}\n"
        "for p in ('openenv', 'fastapi', 'starlette', 'uvicorn', 'websockets', 'pydantic',"
        " 'orjson', 'uvloop'):\n"
        "    try: out[p] = m.version(p)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    try:
        out = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return {"error": str(exc)}


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages: a busy machine makes every figure noisy."""
    with contextlib.suppress(OSError, ValueError), open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]
    return []


def git_revision() -> str | None:
    """The repository's commit, with ``-dirty`` when the working tree has changes."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine() -> dict[str, Any]:
    """A short description of this machine."""
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as f:
        mem_gib = round(int(f.readline().split()[1]) / 2**20, 1)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "kernel": platform.release(),
        "os": platform.platform(terse=True),
    }


class Runner:
    """Runs one benchmark: start servers, measure, stop, report."""

    def __init__(
        self,
        names: list[str],
        settings: Settings,
        *,
        loop: str,
        load_loop: str,
        load_processes: int,
        console: Console,
        server_cpus: list[int] | None = None,
        load_client: str = "raw",
    ) -> None:
        self.names = names
        self.settings = settings
        self.loop = loop
        self.load_loop = load_loop
        self.load_client = load_client
        self.load_processes = load_processes
        self.console = console
        self.server_cpus = server_cpus
        self.results = {n: ServerResults(n, KINDS[n].description) for n in names}
        self.servers: dict[str, RunningServer] = {}
        self.deadline = time.monotonic() + settings.time_budget_s
        self.extra_rounds = 0
        self.skipped: list[str] = []

    def log(self, text: str) -> None:
        """Print a time-stamped progress line."""
        self.console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {text}")

    @contextlib.contextmanager
    def running_servers(self) -> Iterator[None]:
        """Start every server; stop them all on the way out, whatever happens."""
        try:
            for name in self.names:
                self.log(f"starting [bold]{name}[/bold] ({KINDS[name].description})")
                try:
                    self.servers[name] = start(
                        name, loop=self.loop, ready_timeout_s=90, cpus=self.server_cpus
                    )
                except Exception as exc:
                    self.results[name].failed = f"did not start: {exc}"
                    self.log(f"[red]{name} did not start[/red]: {exc}")
            yield
        finally:
            for server in list(self.servers.values()):
                server.stop()
            self.servers.clear()

    def out_of_time(self, what: str) -> bool:
        """True (and ``what`` noted as skipped) once the time budget is spent."""
        if time.monotonic() > self.deadline:
            self.skipped.append(what)
            self.log(f"[yellow]time budget spent: skipping {what}[/yellow]")
            return True
        return False

    def each_server(self) -> Iterator[tuple[str, RunningServer]]:
        """The servers still running, in order (a dead one is recorded as failed)."""
        for name in self.names:
            server = self.servers.get(name)
            if server is None:
                continue
            if server.process.poll() is not None:
                self.results[
                    name
                ].failed = f"server exited with {server.process.returncode}: {server.log_tail(300)}"
                self.servers.pop(name).stop()
                continue
            yield name, server

    def busy_elsewhere(self, seconds: float = 0.5) -> float:
        """Cores kept busy by processes other than the load generator, sampled now.

        The servers are idle between measurements, so what shows is other work.
        """
        before = loadgen.machine_busy_seconds()
        time.sleep(seconds)
        return (loadgen.machine_busy_seconds() - before) / seconds

    def wait_for_quiet(self) -> None:
        """Wait (up to ``quiet_wait_s``) until no other process keeps a core busy."""
        deadline = time.monotonic() + self.settings.quiet_wait_s
        busy = self.busy_elsewhere()
        if busy <= OTHER_CPU_WARN:
            return
        self.log(f"[yellow]other processes keep {busy:.2f} cores busy; waiting…[/yellow]")
        while busy > OTHER_CPU_WARN and time.monotonic() < deadline:
            busy = self.busy_elsewhere(1.0)
        if busy > OTHER_CPU_WARN:
            self.log(f"[yellow]still {busy:.2f} cores busy elsewhere; measuring anyway[/yellow]")

    def measure(self) -> None:
        """All rounds of step/connect tests, interleaved, then each server's ladder."""
        s = self.settings
        for rep in range(s.repeats):
            for name, server in self.each_server():
                if self.out_of_time(f"step/connect repetition {rep + 1} of {name}"):
                    return
                self.wait_for_quiet()
                self.one_round(name, server, rep)
                if self.results[name].multi_session[-1].get("disturbed") and (
                    self.extra_rounds < s.repeats
                ):
                    self.extra_rounds += 1  # measure again; the medians skip disturbed rounds
                    self.wait_for_quiet()
                    self.one_round(name, server, rep)
        for name, server in list(self.each_server()):
            self.ladder(name, server)
            server.stop()  # free its memory before the next server's ladder
            self.servers.pop(name, None)

    def multi_round(self, name: str, server: RunningServer) -> loadgen.StepLoadResult:
        """``multi_sessions`` sessions stepping at once (throughput, server CPU), once.

        Recorded in the server's results (``disturbed`` when other processes used
        more than :data:`OTHER_CPU_WARN` cores meanwhile); ``benchmarks.summary``
        runs this alone.
        """
        s = self.settings
        multi = loadgen.step_load(
            server.url,
            s.multi_sessions,
            s.multi_steps,
            warmup=s.warmup_steps // 4,
            processes=self.load_processes,
            server_pid=server.pid,
            loop=self.load_loop,
            timeout_s=240,
            client=self.load_client,
        )
        summary = multi.summary()
        if (summary["other_cpu_cores"] or 0.0) > OTHER_CPU_WARN:
            summary["disturbed"] = True
        self.results[name].multi_session.append(summary)
        return multi

    def one_round(self, name: str, server: RunningServer, rep: int) -> None:
        """1-session latency, 64-session throughput and connect latency, once."""
        s = self.settings
        results = self.results[name]
        tag = f"[bold]{name}[/bold] (round {rep + 1}/{s.repeats})"
        one = loadgen.step_load(
            server.url,
            1,
            s.one_session_steps,
            warmup=s.warmup_steps,
            processes=1,
            server_pid=server.pid,
            loop=self.load_loop,
            timeout_s=120,
            client=self.load_client,
        )
        results.one_session.append(one.summary())
        multi = self.multi_round(name, server)
        conn = loadgen.connect_latency(server.url, s.connect_count, 120, self.load_loop)
        results.connect.append(conn.summary())
        problems = [
            f"{r}: {e}"
            for r, e in (
                ("1 session", one.errors),
                ("64 sessions", multi.errors),
                ("connect", conn.errors),
            )
            if e
        ]
        busy = max(
            r.summary()["other_cpu_cores"] or 0.0 for r in (one, multi)
        )  # CPU used by neither the server nor the load generator
        if busy > OTHER_CPU_WARN:
            problems.append(f"disturbed: other processes used {busy:.2f} cores meanwhile")
            for run in (results.one_session[-1], results.multi_session[-1]):
                run["disturbed"] = True
        load_us = multi.summary()["load_cpu_us_per_step"]
        self.log(
            f"{tag}: 1 session p50 {one.latency.p50 * 1e6:.0f} µs, "
            f"{multi.steps_per_s:,.0f} steps/s with {s.multi_sessions}, "
            f"server CPU {_fmt(multi.server_cpu_us_per_step)} µs/step "
            f"(load generator {_fmt(load_us)}), "
            f"connect p50 {conn.latency.p50 * 1e6:.0f} µs"
            + (f" [red]{'; '.join(problems)}[/red]" if problems else "")
        )

    def ladder(self, name: str, server: RunningServer) -> None:
        """Sleeping-session levels in turn, up to the first one under the threshold."""
        s = self.settings
        results = self.results[name]
        for level in s.hold_levels:
            if self.out_of_time(f"hold {level} on {name}"):
                return
            started = time.monotonic()
            hold = loadgen.hold_sleeping(
                server.url,
                level,
                sleep_s=s.sleep_s,
                deadline_s=s.hold_deadline_s,
                connect_timeout_s=s.hold_connect_timeout_s,
                connect_concurrency=s.hold_connect_concurrency,
                processes=self.load_processes,
                server_pid=server.pid,
                loop=self.load_loop,
            )
            summary = hold.summary()
            results.hold.append(summary)
            ok = hold.success_rate >= s.success_threshold
            self.log(
                f"[bold]{name}[/bold] holding {level:,} sleeping sessions: "
                f"{hold.succeeded:,}/{level:,} ({hold.success_rate:.1%}) "
                f"{'[green]ok[/green]' if ok else '[red]failed[/red]'}, "
                f"step p99 {hold.step_latency.p99:.2f} s, {hold.server_threads} threads, "
                f"{summary['server_rss_mib']} MiB, took {time.monotonic() - started:.0f} s"
                + (f" [red]{hold.errors[0]}[/red]" if hold.errors and not ok else "")
            )
            if not ok:
                return
            results.held = level
            if server.process.poll() is not None:
                return
            time.sleep(1.0)  # let the server finish closing the level's sessions


def _fmt(value: float | None, digits: int = 0) -> str:
    """A number for a table cell (``—`` when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or ``None`` when either is missing."""
    if a is None or b is None or b == 0:
        return None
    return a / b


# -- targets and tables -------------------------------------------------------------------


def evaluate_targets(
    figures: dict[str, dict[str, float | None]], settings: Settings
) -> list[Target]:
    """The issue's targets, from the measured figures (``n/a`` when a server was skipped).

    The CPU and throughput targets are checked against each reference variant
    measured: ``reference`` (the env's async reset/step awaited on the loop) and
    ``reference-sync`` (sync reset/step in the session's thread, as most
    reference environments are written).
    """
    ours = figures.get("ours", {})
    floor = figures.get("floor", {})
    top = max(settings.hold_levels) if settings.hold_levels else 0
    held = ours.get("held")
    if held is None and ours.get("p50_1") is not None and top:
        held = 0.0  # measured, and not even the first level was held
    checks: list[tuple[Target, Callable[[float], bool], str]] = []
    for baseline in ("reference", "reference-sync"):
        ref = figures.get(baseline, {})
        checks.append(
            (
                Target(
                    f"server CPU per step ≤ 0.5 x {baseline}",
                    "≤ 0.50x",
                    _ratio(ours.get("cpu_64"), ref.get("cpu_64")),
                ),
                lambda v: v <= 0.5,
                "ratio",
            )
        )
    for baseline in ("reference", "reference-sync"):
        ref = figures.get(baseline, {})
        checks.append(
            (
                Target(
                    f"64-session throughput ≥ 2 x {baseline}",
                    "≥ 2.00x",
                    _ratio(ours.get("tput_64"), ref.get("tput_64")),
                ),
                lambda v: v >= 2.0,
                "ratio",
            )
        )
    checks.append(
        (
            Target(
                "1-session step p50 ≤ 1.2 x floor",
                "≤ 1.20x",
                _ratio(ours.get("p50_1"), floor.get("p50_1")),
            ),
            lambda v: v <= 1.2,
            "ratio",
        )
    )
    if top:  # the sleeping-sessions test ran
        checks.append(
            (
                Target(f"{top:,} sleeping sessions (2 s step) at ≥ 99 %", f"≥ {top:,}", held),
                lambda v: v >= top,
                "count",
            )
        )
    for target, ok, kind in checks:
        if target.value is not None:
            target.passed = ok(target.value)
            target.shown = f"{target.value:.2f}x" if kind == "ratio" else f"{target.value:,.0f}"
    return [target for target, _, _ in checks]


def figures_table(
    figures: dict[str, dict[str, float | None]], names: list[str], show_hold: bool = True
) -> Table:
    """Every figure of every server, with the ratios of ours to the others."""
    table = Table(title="OpenEnv WebSocket servers, side by side", title_justify="left")
    table.add_column("measure")
    for name in names:
        table.add_column(name, justify="right")
    ratio_cols = [
        (b, f"ours/{b}")
        for b in ("reference", "reference-sync", "floor")
        if "ours" in names and b in names
    ]
    for _, label in ratio_cols:
        table.add_column(label, justify="right", style="cyan")
    for key, label, better in ROWS:
        if key.startswith("held") and not show_hold:
            continue
        cells = [_fmt(figures[n].get(key)) for n in names]
        ratios = []
        for other, _ in ratio_cols:
            r = _ratio(figures["ours"].get(key), figures[other].get(key))
            ratios.append("" if not better else "—" if r is None else f"{r:.2f}x")
        table.add_row(label, *cells, *ratios)
    return table


def targets_table(targets: list[Target]) -> Table:
    """The targets with pass/fail, as a Rich table."""
    table = Table(title="Targets (issue 2)", title_justify="left")
    table.add_column("target")
    table.add_column("needed", justify="right")
    table.add_column("measured", justify="right")
    table.add_column("result")
    for t in targets:
        verdict = (
            "[green]PASS[/green]"
            if t.passed
            else "[red]FAIL[/red]"
            if t.passed is False
            else "[dim]n/a[/dim]"
        )
        table.add_row(t.name, t.threshold, t.shown, verdict)
    return table


def ladder_table(results: dict[str, ServerResults], levels: tuple[int, ...]) -> Table:
    """Success (and step p99) of every server at every sleeping-session level."""
    table = Table(title="Sleeping-sessions ladder: success (step p99)", title_justify="left")
    table.add_column("server")
    for level in levels:
        table.add_column(f"{level:,}", justify="right")
    for name, r in results.items():
        cells = []
        by_level = {h["sessions"]: h for h in r.hold}
        for level in levels:
            h = by_level.get(level)
            if h is None:
                cells.append("[dim]—[/dim]")
                continue
            style = "green" if h["success_rate"] >= 0.99 else "red"
            p99 = h["step_latency_ms"]["p99"]
            p99_text = f" ({p99 / 1e3:.2f} s)" if isinstance(p99, float) and p99 == p99 else ""
            cells.append(f"[{style}]{h['success_rate']:.1%}[/{style}]{p99_text}")
        table.add_row(name, *cells)
    return table


def render_markdown(report: dict[str, Any]) -> str:
    """The figures, ladder and targets of a report (as ``--json`` writes it) in Markdown."""
    names: list[str] = report.get("names") or list(report["figures"])
    figures: dict[str, dict[str, Any]] = report["figures"]
    levels: list[int] = list(report["settings"]["hold_levels"])
    others = [b for b in ("reference", "reference-sync", "floor") if "ours" in names and b in names]
    head = ["measure", *names, *(f"ours/{b}" for b in others)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    for key, label, better in ROWS:
        if key.startswith("held") and not levels:
            continue
        cells = [_fmt(figures[n].get(key)) for n in names]
        for b in others:
            r = _ratio(figures["ours"].get(key), figures[b].get(key))
            cells.append("" if not better else "—" if r is None else f"{r:.2f}x")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    out = ["\n".join(lines)]
    if levels:
        rows = [
            "| server | " + " | ".join(f"{n:,}" for n in levels) + " |",
            "|---|" + "---:|" * len(levels),
        ]
        for name in names:
            by_level = {h["sessions"]: h for h in report["servers"][name]["hold"]}
            cells = []
            for level in levels:
                h = by_level.get(level)
                if h is None:
                    cells.append("—")
                    continue
                p99 = h["step_latency_ms"]["p99"]
                tail = f" ({p99 / 1e3:.2f} s)" if isinstance(p99, float) and p99 == p99 else ""
                cells.append(f"{h['success_rate']:.1%}{tail}")
            rows.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("Sleeping sessions, success at each level (step p99):\n\n" + "\n".join(rows))
    rows = ["| target | needed | measured | result |", "|---|---:|---:|---|"]
    for t in report["targets"]:
        verdict = "PASS" if t["passed"] else "FAIL" if t["passed"] is False else "n/a"
        rows.append(f"| {t['name']} | {t['threshold']} | {t['shown']} | **{verdict}** |")
    out.append("\n".join(rows))
    return "\n\n".join(out) + "\n"


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every figure here")
    parser.add_argument(
        "--only",
        default=",".join(ALL_SERVERS),
        help=f"comma-separated servers to run (of {', '.join(ALL_SERVERS)})",
    )
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop", "auto"),
        default="asyncio",
        help="event loop of every server: asyncio or uvloop, the same for all (for "
        "uvloop the reference gets the same uvloop version from a folder beside its "
        "venv); auto: each as installed (ours and the floor uvloop, the reference asyncio)",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin servers to the last core and the load to the others",
    )
    parser.add_argument(
        "--load-loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="event loop of the load generator (auto: uvloop when installed)",
    )
    parser.add_argument(
        "--load-client",
        choices=loadgen.STEP_CLIENTS,
        default="raw",
        help="how the load generator sends the measured steps: raw frames from its "
        "socket callbacks (~15 µs a step, so the server is what is measured) or "
        "websockets' send/recv (~35 µs a step, as much as a fast server)",
    )
    parser.add_argument(
        "--load-processes",
        type=int,
        default=1,
        help="load worker processes for the 64-session and sleeping tests",
    )
    parser.add_argument("--repeats", type=int, help="repetitions of the step/connect tests")
    parser.add_argument(
        "--levels",
        help="sleeping-session levels, e.g. 1000,2000,4096,10000 ('none': skip that test)",
    )
    parser.add_argument(
        "--markdown", type=Path, metavar="PATH", help="write the tables as Markdown here"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a target fails")
    summary_options = parser.add_argument_group(
        "summary", "one table of the sandboxed-session figures (benchmarks/summary.py)"
    )
    summary_options.add_argument(
        "--summary",
        action="store_true",
        help="print the summary table instead: sandboxed session starts, coding sessions "
        "at once, worker memory, and ours vs the reference and the floor on both loops "
        "(--loop and --levels do not apply; --only ours,floor leaves the reference out)",
    )
    summary_options.add_argument(
        "--with-512",
        action="store_true",
        help="with --summary: add 512 concurrent sandboxed coding sessions under two busy "
        "loops (minutes)",
    )
    summary_options.add_argument(
        "--tiny",
        action="store_true",
        help="with --summary: the smallest run, a few sessions of each (the tests run it)",
    )
    args = parser.parse_args(argv)
    if args.summary:
        from benchmarks import summary

        return summary.main(args, list(sys.argv[1:] if argv is None else argv))
    if args.with_512 or args.tiny:
        parser.error("--with-512 and --tiny go with --summary")

    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in KINDS]
    if unknown or not names:
        parser.error(f"unknown server(s) {unknown}; choose from {', '.join(ALL_SERVERS)}")
    settings = QUICK if args.quick else FULL
    if args.repeats:
        settings = dataclasses.replace(settings, repeats=args.repeats)
    if args.levels:
        try:
            levels = (
                ()
                if args.levels == "none"
                else tuple(int(x) for x in args.levels.split(",") if x.strip())
            )
        except ValueError:
            parser.error(f"--levels: expected numbers like 1000,2000, got {args.levels!r}")
        settings = dataclasses.replace(settings, hold_levels=levels)

    console = Console(width=None if sys.stdout.isatty() else 150)
    loadgen.raise_nofile_limit()
    cores = sorted(os.sched_getaffinity(0))
    server_cpus: list[int] | None = None
    load_cpus: list[int] | None = None
    if not args.no_pin and len(cores) > 1:
        # The server gets a core to itself; the load generator (this process and its
        # workers, which inherit this) the others. Less noise, and one core is all a
        # single-threaded Python server can use.
        server_cpus, load_cpus = cores[-1:], cores[:-1]
        os.sched_setaffinity(0, load_cpus)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    started = time.time()
    info: dict[str, Any] = {"machine": machine(), "ours": reference_versions(sys.executable)}
    info["load_average_start"] = load_average()
    info["revision"] = git_revision()
    runner = Runner(
        names,
        settings,
        loop=args.loop,
        load_loop=args.load_loop,
        load_processes=args.load_processes,
        console=console,
        server_cpus=server_cpus,
        load_client=args.load_client,
    )
    try:
        if any(n.startswith("reference") for n in names):
            console.print("[dim]finding the reference OpenEnv venv (installs it once)…[/dim]")
            info["reference"] = reference_versions(KINDS["reference"].python())
        with runner.running_servers():
            runner.measure()
    except (KeyboardInterrupt, Interrupted):
        console.print("[yellow]interrupted: servers stopped, partial results below[/yellow]")
    finally:
        signal.signal(signal.SIGTERM, previous)

    info["load_average_end"] = load_average()
    figures = {n: r.figures() for n, r in runner.results.items()}
    targets = evaluate_targets(figures, settings)
    console.print()
    console.print(figures_table(figures, names, show_hold=bool(settings.hold_levels)))
    if settings.hold_levels:
        console.print(ladder_table(runner.results, settings.hold_levels))
    console.print(targets_table(targets))
    m = info["machine"]
    console.print(
        f"[dim]{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; "
        f"server loop {args.loop}, load loop {args.load_loop}, "
        f"load client {args.load_client}, "
        f"{args.load_processes} load process(es), "
        + (f"server on core {server_cpus}, load on {load_cpus}" if server_cpus else "unpinned")
        + f"; {time.time() - started:.0f} s[/dim]"
    )
    for name, r in runner.results.items():
        if r.failed:
            console.print(f"[red]{name}: {r.failed}[/red]")
    if runner.skipped:
        console.print(f"[yellow]skipped (time budget): {', '.join(runner.skipped)}[/yellow]")

    report = {
        "command": shlex.join(["python", "-m", "benchmarks.run", *(argv or sys.argv[1:])]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "settings": dataclasses.asdict(settings),
        "server_loop": args.loop,
        "load_loop": args.load_loop,
        "load_client": args.load_client,
        "load_processes": args.load_processes,
        "pinned": {"server_cpus": runner.server_cpus, "load_cpus": load_cpus},
        "environment": info,
        "names": names,
        "figures": figures,
        "targets": [dataclasses.asdict(t) for t in targets],
        "servers": {n: dataclasses.asdict(r) for n, r in runner.results.items()},
        "skipped": runner.skipped,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
        console.print(f"[dim]wrote {args.json}[/dim]")
    if args.markdown:
        args.markdown.write_text(render_markdown(report))
        console.print(f"[dim]wrote {args.markdown}[/dim]")
    if args.check and any(t.passed is False for t in targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
