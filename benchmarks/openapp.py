"""Benchmark OpenApp (web apps in one shared Chromium) served over WebSocket.

One run starts ``openenv serve openapp_env`` as a subprocess on a free
``127.0.0.1`` port (:class:`openenv.runtime.local.LocalRuntime`, no token) and
measures, every session in free mode (``reset(free=True, seed=...)``: no task, no
checker) on the apps' todo and notes pages:

* **Step latency** over WebSocket, one session, our sync client (``OpenAppEnv``):
  ``goto('/todo')``, ``fill('new-todo', ...)`` and ``click`` alternating
  ``nav-notes`` / ``nav-todo`` (a navigation each), each with the reset option
  ``screenshot=True`` (a base64 PNG in every observation) and ``screenshot=False``.
  p50/p99 of the round trip, and the CPU the server and its browser (the whole
  process tree: server, Playwright's node driver, every Chromium process) spent
  per step. Resets (a new browser context, a seeded database, the first page) are
  timed too. Rounds alternate the two screenshot modes.
* **Sessions one server sustains**: N sessions at once (``AsyncOpenAppEnv``, one
  event loop), each ``reset``, a few steps, ``reset`` again, a few more steps; a
  session is OK when every call answered within the level's time limit with no
  ``last_action_error``. Levels go up (1, 4, 16, 32 by default) and stop at the
  first level with a failed session, when the machine's free memory would get low,
  or when the run's time budget is spent.
* **Memory per session**: PSS (and the sum of RSS) over the server's process tree
  (``/proc/<pid>/smaps_rollup`` of the server and every descendant: the node
  driver, Chromium's browser, zygotes, utility and renderer processes): before any
  session (no browser yet), idle with the browser started, and at each level just
  before the sessions open, while all N are open (after their steps), and once
  they closed. Per session: (PSS with N open - PSS just before) / N, and the slope
  of PSS-with-N-open over the levels.

    python -m benchmarks.openapp --quick              # smoke run, ~30 s
    python -m benchmarks.openapp --json openapp.json  # the full run, a few minutes
    python -m benchmarks.openapp --levels 1,8,64 --screenshots off
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.isolation import (
    available_mib,
    percentile,
    smaps_rollup,
    tree,
    tree_cpu_seconds,
)

ACTIONS = ("goto", "fill", "click")


@dataclass(frozen=True)
class Settings:
    """Counts and limits of one run."""

    rounds: int  # latency rounds; each runs both screenshot modes
    steps: int  # timed steps per action, mode and round
    levels: tuple[int, ...]  # concurrent sessions of the ladder
    load_steps: int  # steps per session per level (half after each of the two resets)
    load_screenshots: bool  # the ladder's sessions take screenshots (the env's default)
    level_timeout_s: float  # a level's sessions must be done by then
    call_timeout_s: float  # and each reset or step answered within this (the client's default)
    budget_s: float  # no new level starts after this much time of the run
    load_action_timeout_s: float | None = None  # their reset's action_timeout_s (None: default)
    min_free_mib: float = 1024.0  # no level that would leave less memory than this free
    warmup_steps: int = 2


QUICK = Settings(
    rounds=1,
    steps=5,
    levels=(1, 4),
    load_steps=4,
    load_screenshots=True,
    level_timeout_s=60.0,
    call_timeout_s=60.0,
    budget_s=120.0,
)
FULL = Settings(
    rounds=3,
    steps=12,
    levels=(1, 4, 16, 32),
    load_steps=8,
    load_screenshots=True,
    level_timeout_s=300.0,
    call_timeout_s=60.0,
    budget_s=900.0,
)


def action(kind: str, i: int) -> Any:
    """The ``i``-th action of a kind: all on the todo page, clicks alternate pages."""
    from openapp_env import OpenAppAction

    if kind == "goto":
        return OpenAppAction(action_type="goto", url="/todo")
    if kind == "fill":
        return OpenAppAction(action_type="fill", bid="new-todo", text=f"benchmark item {i}")
    if kind == "click":
        return OpenAppAction(action_type="click", bid="nav-notes" if i % 2 == 0 else "nav-todo")
    raise ValueError(kind)


def expected_path(kind: str, i: int) -> str:
    return "/notes" if kind == "click" and i % 2 == 0 else "/todo"


# -- measuring --------------------------------------------------------------------------------


def role(pid: int, server_pid: int) -> str:
    """What a process of the server's tree is: server, driver, browser, renderer or other."""
    if pid == server_pid:
        return "server"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().replace(b"\0", b" ").split()  # Chromium rewrites its own
    except OSError:
        return "other"
    name = os.path.basename(argv[0]) if argv else b""
    if name == b"node":
        return "driver"  # Playwright's node driver
    kind = next((a[len(b"--type=") :] for a in argv if a.startswith(b"--type=")), None)
    if kind is None and b"chrom" in name and b"crashpad" not in name:
        return "browser"  # Chromium's main process
    return "renderer" if kind == b"renderer" else "other"  # zygotes, GPU, network, crashpad


def tree_memory(pid: int) -> dict[str, Any]:
    """PSS and summed RSS (MiB) of ``pid`` and every descendant, in all and by role."""
    pids = tree(pid)
    total = {"pss": 0, "rss": 0}
    by_role: dict[str, dict[str, float]] = {}
    for p in pids:
        figures = smaps_rollup(p)
        entry = by_role.setdefault(role(p, pid), {"processes": 0, "pss_mib": 0.0})
        entry["processes"] += 1
        entry["pss_mib"] += figures.get("Pss", 0) / 1024
        total["pss"] += figures.get("Pss", 0)
        total["rss"] += figures.get("Rss", 0)
    for entry in by_role.values():
        entry["pss_mib"] = round(entry["pss_mib"], 1)
    return {
        "processes": len(pids),
        "pss_mib": round(total["pss"] / 1024, 1),
        "rss_mib": round(total["rss"] / 1024, 1),
        "by_role": dict(sorted(by_role.items())),
    }


def settle_tree(
    pid: int, timeout_s: float, at_most: int | None = None, quiet_s: float = 1.0
) -> int:
    """Wait (bounded) until the tree has at most ``at_most`` processes and holds still.

    Closed contexts' renderers exit a while after the close (long, on a busy machine).
    """
    deadline = time.monotonic() + timeout_s
    count, since = len(tree(pid)), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = len(tree(pid))
        if now != count:
            count, since = now, time.monotonic()
        if time.monotonic() - since >= quiet_s and (at_most is None or count <= at_most):
            break
    return count


def _ms(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "mean_ms": None}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 0.5) * 1e3, 2),
        "p99_ms": round(percentile(values, 0.99) * 1e3, 2),
        "mean_ms": round(statistics.fmean(values) * 1e3, 2),
    }


@dataclass
class Block:
    """The samples of one (action, screenshot mode)."""

    kind: str
    screenshot: bool
    latencies: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    screenshot_chars: list[int] = field(default_factory=list)
    axtree_chars: list[int] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        n = len(self.latencies)
        return {
            "action": self.kind,
            "screenshot": self.screenshot,
            **_ms(self.latencies),
            "tree_cpu_ms_per_step": round(self.cpu_s / n * 1e3, 2) if n else None,
            "errors": len(self.errors),
            "error_sample": self.errors[:3],
            "screenshot_kib": (
                round(statistics.fmean(self.screenshot_chars) / 1024, 1)
                if self.screenshot_chars
                else 0.0
            ),
            "axtree_chars": round(statistics.fmean(self.axtree_chars)) if self.axtree_chars else 0,
        }


def _check(result: Any, kind: str, i: int, screenshot: bool) -> str | None:
    """Why an observation is not what the action should give, or None."""
    obs = result.observation
    if obs.last_action_error:
        return obs.last_action_error
    if not obs.url.endswith(expected_path(kind, i)):
        return f"{kind} #{i}: at {obs.url}, expected {expected_path(kind, i)}"
    if screenshot != bool(obs.screenshot):
        return f"{kind} #{i}: screenshot {'missing' if screenshot else 'unexpected'}"
    return None


def latency_round(
    url: str, pid: int, settings: Settings, screenshot: bool, seed: int, blocks: dict[Any, Block]
) -> float:
    """One session: reset, warm up, then the timed steps of every action. The reset's time."""
    from openapp_env import OpenAppEnv

    with OpenAppEnv(base_url=url) as client:
        t = time.perf_counter()
        client.reset(seed=seed, free=True, screenshot=screenshot)
        reset_s = time.perf_counter() - t
        for i in range(settings.warmup_steps):
            client.step(action("goto", i))
        for kind in ACTIONS:
            block = blocks[kind, screenshot]
            cpu = tree_cpu_seconds(pid)
            for i in range(settings.steps):
                t = time.perf_counter()
                result = client.step(action(kind, i))
                block.latencies.append(time.perf_counter() - t)
                problem = _check(result, kind, i, screenshot)
                if problem:
                    block.errors.append(problem)
                block.screenshot_chars.append(len(result.observation.screenshot or ""))
                block.axtree_chars.append(len(result.observation.axtree_txt))
            block.cpu_s += tree_cpu_seconds(pid) - cpu
            if kind == "click" and settings.steps % 2:
                client.step(action("click", 1))  # back on the todo page
    return reset_s


@dataclass
class SessionOutcome:
    ok: bool = False
    reset_s: list[float] = field(default_factory=list)
    step_s: list[float] = field(default_factory=list)
    error: str | None = None


async def load_session(
    client: Any, i: int, settings: Settings, plan: list[tuple[str, int]], outcome: SessionOutcome
) -> None:
    """Two resets, each followed by half of the plan's steps; fills ``outcome``."""
    half = len(plan) // 2
    options: dict[str, Any] = {"seed": i, "free": True, "screenshot": settings.load_screenshots}
    if settings.load_action_timeout_s is not None:
        options["action_timeout_s"] = settings.load_action_timeout_s
    for part in (plan[:half], plan[half:]):
        t = time.perf_counter()
        await client.reset(**options)
        outcome.reset_s.append(time.perf_counter() - t)
        for kind, k in part:
            t = time.perf_counter()
            result = await client.step(action(kind, k))
            outcome.step_s.append(time.perf_counter() - t)
            problem = _check(result, kind, k, settings.load_screenshots)
            if problem:
                outcome.error = problem
                return
    outcome.ok = True


def load_plan(steps: int) -> list[tuple[str, int]]:
    """goto, fill, click, click, … per half: every half ends where it can fill again."""
    half = max(steps // 2, 1)
    cycle = [("goto", 0), ("fill", 0), ("click", 0), ("click", 1)]
    part = [cycle[j % len(cycle)] for j in range(half)]
    return part + part


async def _level(url: str, pid: int, n: int, settings: Settings) -> dict[str, Any]:
    from openapp_env import AsyncOpenAppEnv

    timeout = settings.level_timeout_s
    clients = [
        AsyncOpenAppEnv(
            base_url=url, message_timeout_s=settings.call_timeout_s, connect_timeout_s=30.0
        )
        for _ in range(n)
    ]
    outcomes = [SessionOutcome() for _ in range(n)]
    plan = load_plan(settings.load_steps)

    async def one(i: int) -> None:
        try:
            await load_session(clients[i], 1000 + i, settings, plan, outcomes[i])
        except Exception as exc:  # a failed session is a figure, not the end of the run
            outcomes[i].error = f"{type(exc).__name__}: {exc}"[:300]

    cpu = tree_cpu_seconds(pid)
    start = time.perf_counter()
    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    wall = time.perf_counter() - start
    cpu = tree_cpu_seconds(pid) - cpu
    for task in pending:
        task.cancel()
    for i, task in enumerate(tasks):
        if task in pending:
            outcomes[i].error = outcomes[i].error or f"not done within {timeout:.0f} s"
    await asyncio.gather(*pending, return_exceptions=True)
    # every session is still open (its second context alive): the memory of n sessions
    held = await asyncio.to_thread(tree_memory, pid)
    for client in clients:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), 10)
    steps = [s for o in outcomes for s in o.step_s]
    resets = [s for o in outcomes for s in o.reset_s]
    errors = [o.error for o in outcomes if o.error]
    return {
        "sessions": n,
        "ok": sum(o.ok for o in outcomes),
        "failed": n - sum(o.ok for o in outcomes),
        "errors": errors[:5],
        "wall_s": round(wall, 2),
        "steps": len(steps),
        "steps_per_s": round(len(steps) / wall, 2) if wall > 0 else None,
        "step": _ms(steps),
        "reset": _ms(resets),
        "calls_per_s": round((len(steps) + len(resets)) / wall, 2) if wall > 0 else None,
        "tree_cpu_ms_per_call": round(cpu / max(len(steps) + len(resets), 1) * 1e3, 1),
        "tree_cores_busy": round(cpu / wall, 2) if wall > 0 else None,
        "held": held,
    }


def ladder(
    url: str, pid: int, settings: Settings, deadline: float, log: Callable[[str], None]
) -> tuple[list[dict[str, Any]], str]:
    """Levels up to the first failure, low memory or the budget; the levels and why it stopped."""
    levels: list[dict[str, Any]] = []
    per_session = 0.0
    for n in settings.levels:
        if time.monotonic() > deadline:
            return levels, f"time budget ({settings.budget_s:.0f} s) spent before {n} sessions"
        free = available_mib()
        need = per_session * n * 1.5 + settings.min_free_mib
        if free < need:
            return levels, (
                f"{n} sessions would need ~{per_session * n:.0f} MiB; "
                f"{free:.0f} MiB available, keeping {settings.min_free_mib:.0f} free"
            )
        log(f"{n} sessions at once")
        settle_tree(pid, 30.0)
        before = tree_memory(pid)
        level = asyncio.run(_level(url, pid, n, settings))
        settle_tree(pid, 60.0, at_most=before["processes"])
        level["before"] = before
        level["after"] = tree_memory(pid)
        grown = level["held"]["pss_mib"] - before["pss_mib"]
        level["pss_per_session_mib"] = round(grown / n, 1)
        level["rss_per_session_mib"] = round((level["held"]["rss_mib"] - before["rss_mib"]) / n, 1)
        level["free_mib_before"] = round(free)
        per_session = max(per_session, grown / n)
        levels.append(level)
        log(
            f"  {level['ok']}/{n} OK, step p50 {level['step']['p50_ms']} ms, "
            f"PSS {level['held']['pss_mib']} MiB ({level['pss_per_session_mib']} MiB/session)"
        )
        if level["failed"]:
            return levels, f"first failure at {n} sessions: {level['errors'][0]}"
    return levels, "all levels done"


# -- the run ------------------------------------------------------------------------------------


class Interrupted(Exception):
    """SIGTERM: unwind like Ctrl-C so that the server is stopped."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Interrupted(f"signal {signum}")


@contextlib.contextmanager
def served() -> Iterator[Any]:
    from openenv.runtime.local import LocalRuntime

    runtime = LocalRuntime("openapp_env", require_token=False)
    try:
        runtime.start()
        yield runtime
    finally:
        runtime.stop()


def run(settings: Settings, console: Console) -> dict[str, Any]:
    started = time.monotonic()

    def log(text: str) -> None:
        console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {text}")

    blocks = {(k, s): Block(k, s) for s in (False, True) for k in ACTIONS}
    resets: dict[bool, list[float]] = {False: [], True: []}
    memory: dict[str, Any] = {}
    with served() as server:
        url, pid = server.base_url, server.pid
        log(f"openapp_env at {url} (pid {pid})")
        time.sleep(0.5)
        memory["server_only"] = tree_memory(pid)
        log("warm-up session (starts Chromium)")
        warmup = dataclasses.replace(settings, steps=2, rounds=1)
        for shot in (False, True):
            latency_round(url, pid, warmup, shot, 99, {(k, shot): Block(k, shot) for k in ACTIONS})
        for r in range(settings.rounds):
            modes = (False, True) if r % 2 == 0 else (True, False)
            for shot in modes:
                log(f"round {r + 1}/{settings.rounds}: step latency, screenshot={shot}")
                resets[shot].append(latency_round(url, pid, settings, shot, 7 * r + shot, blocks))
        settle_tree(pid, 30.0)
        idle = tree_memory(pid)
        memory["idle"] = idle
        log(f"idle, browser started: PSS {idle['pss_mib']} MiB in {idle['processes']} processes")
        levels, stopped = ladder(url, pid, settings, started + settings.budget_s, log)
    ok = [lv for lv in levels if not lv["failed"]]
    return {
        "latency": [b.figures() for b in blocks.values()],
        "reset": [{"screenshot": s, **_ms(v)} for s, v in resets.items()],
        "memory": memory,
        "ladder": levels,
        "sustained_sessions": max((lv["sessions"] for lv in ok), default=0),
        "pss_per_session_mib": ok[-1]["pss_per_session_mib"] if ok else None,
        "pss_slope_mib": slope([(lv["sessions"], lv["held"]["pss_mib"]) for lv in ok]),
        "stopped": stopped,
    }


def slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares MiB per extra session over the levels (None with fewer than two)."""
    if len({n for n, _ in points}) < 2:
        return None
    return round(statistics.linear_regression(*zip(*points, strict=True)).slope, 1)


# -- output -------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def latency_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for row in report["latency"]:
        rows.append(
            [
                row["action"],
                "on" if row["screenshot"] else "off",
                str(row["n"]),
                _fmt(row["p50_ms"], 1),
                _fmt(row["p99_ms"], 1),
                _fmt(row["tree_cpu_ms_per_step"], 1),
                _fmt(row["screenshot_kib"], 1) if row["screenshot"] else "",
                str(row["errors"]),
            ]
        )
    for row in report["reset"]:
        rows.append(
            [
                "reset (new context)",
                "on" if row["screenshot"] else "off",
                str(row["n"]),
                _fmt(row["p50_ms"], 1),
                _fmt(row["p99_ms"], 1),
                "",
                "",
                "",
            ]
        )
    return rows


LATENCY_HEADER = [
    "action",
    "screenshot",
    "steps",
    "p50 (ms)",
    "p99 (ms)",
    "CPU/step (ms)",
    "PNG (KiB, base64)",
    "errors",
]


def ladder_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for lv in report["ladder"]:
        rows.append(
            [
                str(lv["sessions"]),
                f"{lv['ok']}/{lv['sessions']}",
                _fmt(lv["step"]["p50_ms"], 0),
                _fmt(lv["step"]["p99_ms"], 0),
                _fmt(lv["reset"]["p50_ms"], 0),
                _fmt(lv["steps_per_s"], 1),
                _fmt(lv["tree_cpu_ms_per_call"], 0),
                _fmt(lv["tree_cores_busy"], 2),
                _fmt(lv["before"]["pss_mib"], 0),
                _fmt(lv["held"]["pss_mib"], 0),
                str(lv["held"]["processes"]),
                _fmt(lv["pss_per_session_mib"], 1),
                _fmt(lv["rss_per_session_mib"], 1),
                _fmt(lv["after"]["pss_mib"], 0),
                str(lv["failed"]) + (f" ({lv['errors'][0][:50]})" if lv["errors"] else ""),
            ]
        )
    return rows


LADDER_HEADER = [
    "sessions",
    "OK",
    "step p50 (ms)",
    "step p99 (ms)",
    "reset p50 (ms)",
    "steps/s",
    "CPU/call (ms)",
    "cores busy",
    "PSS before (MiB)",
    "PSS open (MiB)",
    "processes",
    "PSS/session (MiB)",
    "RSS/session (MiB)",
    "PSS after (MiB)",
    "errors",
]


def tables(report: dict[str, Any]) -> list[Table]:
    first = Table(
        title="OpenApp: step latency over WebSocket, 1 session",
        title_justify="left",
        caption="CPU/step: the server's whole process tree (server, node driver, Chromium); "
        "p99 of a few dozen steps is about their maximum",
        caption_justify="left",
    )
    for i, name in enumerate(LATENCY_HEADER):
        first.add_column(name, justify="left" if i < 2 else "right")
    for row in latency_rows(report):
        first.add_row(*row)
    shot = "on" if report["settings"]["load_screenshots"] else "off"
    second = Table(
        title=f"OpenApp: concurrent sessions on one server and one Chromium (screenshots {shot})",
        title_justify="left",
        caption="each session: reset, steps, reset, steps; CPU/call and cores busy: the server's "
        "process tree; PSS of that tree before, while all are open, and after they closed; "
        "per session: (open - before) / N",
        caption_justify="left",
    )
    for name in LADDER_HEADER[:-1]:
        second.add_column(name, justify="right")
    second.add_column(LADDER_HEADER[-1], min_width=24)
    for row in ladder_rows(report):
        second.add_row(*row)
    return [first, second]


def markdown(report: dict[str, Any]) -> str:
    def table(header: list[str], rows: list[list[str]], left: set[int]) -> list[str]:
        align = ["---" if i in left else "---:" for i in range(len(header))]
        return [
            "| " + " | ".join(header) + " |",
            "| " + " | ".join(align) + " |",
            *("| " + " | ".join(row) + " |" for row in rows),
        ]

    lines = table(LATENCY_HEADER, latency_rows(report), {0, 1})
    ladder = table(LADDER_HEADER, ladder_rows(report), {len(LADDER_HEADER) - 1})
    lines += ["", *ladder, "", summary(report)]
    return "\n".join(lines) + "\n"


def summary(report: dict[str, Any]) -> str:
    mem = report["memory"]
    roles = ", ".join(f"{k} {v['pss_mib']:.0f}" for k, v in mem["idle"]["by_role"].items())
    return (
        f"Memory (PSS of the server's process tree): server alone "
        f"{mem['server_only']['pss_mib']:.0f} MiB; idle with Chromium started "
        f"{mem['idle']['pss_mib']:.0f} MiB in {mem['idle']['processes']} processes ({roles}); "
        f"per open session {_fmt(report['pss_per_session_mib'], 1)} MiB at the largest level "
        "that passed"
        + (
            f", {report['pss_slope_mib']:.1f} MiB by the slope over the levels that passed. "
            if report["pss_slope_mib"] is not None
            else ". "
        )
        + f"Sessions sustained: {report['sustained_sessions']} ({report['stopped']})."
    )


def chromium_version() -> str | None:
    try:
        from openapp_env.server.browser import chromium_path

        out = subprocess.run(
            [chromium_path(), "--version"], capture_output=True, text=True, timeout=30
        )
        return out.stdout.strip() or None
    except Exception:  # informative only
        return None


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("playwright", "websockets", "uvicorn", "pydantic", "httpx"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[package] = metadata.version(package)
    chromium = chromium_version()
    if chromium:
        out["chromium"] = chromium
    return out


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _mem_total_mib() -> int | None:
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    return None


def _chromium_missing() -> str | None:
    try:
        from openapp_env.server.browser import BrowserUnavailable, chromium_path
    except ImportError as exc:
        return f"openapp_env is not installed ({exc}); run bash scripts/install.sh"
    try:
        chromium_path()
    except BrowserUnavailable as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.openapp", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every figure here")
    parser.add_argument(
        "--markdown", type=Path, metavar="PATH", help="write the tables as Markdown here"
    )
    parser.add_argument("--rounds", type=int, help="latency rounds (each: both screenshot modes)")
    parser.add_argument("--steps", type=int, help="timed steps per action, mode and round")
    parser.add_argument("--levels", help="concurrent sessions, e.g. 1,4,16,32 ('none': skip)")
    parser.add_argument(
        "--screenshots",
        choices=("on", "off"),
        help="whether the concurrent sessions take screenshots (default on, as reset does)",
    )
    parser.add_argument(
        "--action-timeout",
        type=float,
        metavar="S",
        help="the concurrent sessions' reset option action_timeout_s (default: the env's, 5 s)",
    )
    parser.add_argument("--budget", type=float, metavar="S", help="no new level after S seconds")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    changes: dict[str, Any] = {}
    if args.rounds:
        changes["rounds"] = args.rounds
    if args.steps:
        changes["steps"] = args.steps
    if args.levels:
        try:
            changes["levels"] = () if args.levels == "none" else tuple(
                int(x) for x in args.levels.split(",") if x.strip())  # fmt: skip
        except ValueError:
            parser.error(f"--levels: expected numbers like 1,4,16, got {args.levels!r}")
    if args.screenshots:
        changes["load_screenshots"] = args.screenshots == "on"
    if args.action_timeout:
        changes["load_action_timeout_s"] = args.action_timeout
    if args.budget:
        changes["budget_s"] = args.budget
    settings = dataclasses.replace(settings, **changes)

    console = Console(width=None if sys.stdout.isatty() else 240)
    missing = _chromium_missing()
    if missing:
        console.print(f"[red]{missing}[/red]")
        return 2
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    load_before = _load()
    try:
        figures = run(settings, console)
    except (KeyboardInterrupt, Interrupted):
        console.print("[yellow]interrupted: server stopped[/yellow]")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    load = {"before": load_before, "after": _load()}
    report = {
        "settings": dataclasses.asdict(settings),
        "quick": args.quick,
        "versions": versions(),
        "machine": {
            "platform": platform.platform(terse=True),
            "cores": os.cpu_count(),
            "memory_mib": _mem_total_mib(),
            "load": load,
            "date": time.strftime("%Y-%m-%d %H:%M"),
        },
        **figures,
    }
    console.print()
    for t in tables(report):
        console.print(t)
    console.print(summary(report))
    cores = os.cpu_count() or 1
    if max(load["before"] or [0]) > cores or max(load["after"] or [0]) > cores:
        console.print(
            f"[yellow]the machine was busy (load average {load['before']} before, "
            f"{load['after']} after, {cores} cores): the figures are noisy[/yellow]"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
        console.print(f"[dim]wrote {args.json}[/dim]")
    if args.markdown:
        args.markdown.write_text(markdown(report))
        console.print(f"[dim]wrote {args.markdown}[/dim]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
