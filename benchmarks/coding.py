"""Benchmark the coding environment: ours (a sandbox per session) against the reference's.

One run starts, each as a subprocess on a free ``127.0.0.1`` port:

* ``ours`` — ``openenv serve coding_env`` as users run it: every session in its own
  bubblewrap sandbox from a warm pool, the code in a confined CPython kernel;
* ``ours-none`` — the same with ``--isolation none`` (sessions in the server
  process; each still runs its code in its own kernel process);
* ``reference`` — the public OpenEnv 0.10's server running code the way its
  coding env does, through smolagents' ``LocalPythonExecutor`` (an AST
  interpreter in the server process; :mod:`benchmarks.reference.coding_server`),
  in the reference venv with the ``coding`` extra, installed on first use. If it
  cannot be installed the run says so and its column is absent.

and drives every server with the same client (raw OpenEnv frames over one
WebSocket per session, every reply checked: an observation, ``exit_code`` 0, the
expected ``stdout``):

1. **print(1)**: step latency p50/p99 over one session, and the CPU the server's
   whole process tree (server, sandboxes, kernels) spent per step;
2. **a ~100 ms computation**: ``print(sum(i * i for i in range(N)))`` with ``N``
   calibrated so that plain CPython (this interpreter, the one our kernels run)
   takes ~100 ms; the same code on every server, latency per step;
3. **concurrent sessions**: a ladder of N sessions at once (8, 32, ... 512), each
   opened and reset (16 at a time) and then all stepping ``print(1)`` together;
   per level the sessions held, how fast they started, step latency under that
   load, and the memory (PSS) of the server's process tree.
   It stops at a server's first failing level, when the time budget is spent, or
   when the next level would not fit in the machine's available memory.

It prints a table with ratios (ours / reference) and the target of the issue
(``print(1)`` step p50 ≤ 5 ms); ``--json PATH`` writes every figure. Everything is
bounded in count and time, and every server is stopped on the way out, Ctrl-C
and SIGTERM included.

    python -m benchmarks.coding --quick               # smoke run, under a minute
    python -m benchmarks.coding --json coding.json    # the full run (a few minutes)
    python -m benchmarks.coding --only ours,ours-none --levels 8,16
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import json
import math
import os
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

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from websockets.asyncio.client import ClientConnection

from benchmarks import loadgen
from benchmarks.isolation import available_mib, smaps_rollup, tree, tree_cpu_seconds
from benchmarks.run import git_revision, load_average, machine
from benchmarks.servers import RunningServer, ServerKind, _prepare_child, free_port

REPO = Path(__file__).resolve().parent.parent
ALL_SERVERS = ("ours", "ours-none", "reference")
DESCRIPTIONS = {
    "ours": "openenv serve coding_env: a bubblewrap sandbox per session (warm pool), "
    "a confined CPython kernel",
    "ours-none": "openenv serve coding_env --isolation none: sessions in the server "
    "process, a confined CPython kernel each",
    "reference": "OpenEnv 0.10 create_app + smolagents LocalPythonExecutor (AST "
    "interpreter, in-process; benchmarks/reference/coding_server.py)",
}
TARGET_P50_MS = 5.0
PRINT_CODE = "print(1)"
COMPUTE_TEMPLATE = "print(sum(i * i for i in range({n})))"
MAX_COMPUTE_N = 3_200_000
"""Cap on the computation's ``N``. smolagents evaluates 3 AST nodes per item of it and stops
any one run at 10 million (``MAX_OPERATIONS``): past ~3.33 million items the reference would
fail the step instead of finishing it. On a machine where plain CPython does more than this
in 100 ms the computation is shorter; the report gives its plain-CPython time."""
RESET_FRAME = b'{"type":"reset","data":{}}'
SUCCESS_THRESHOLD = 0.99
"""A ladder level is held when every session connected, none was lost, and at least this
share of the steps got the right reply (as in ``benchmarks.run``'s sleeping sessions)."""


@dataclass(frozen=True)
class Settings:
    """Counts and times of one run."""

    print_steps: int = 2000
    warmup_steps: int = 50
    compute_ms: float = 100.0
    compute_steps: int = 10
    compute_steps_reference: int = 3
    levels: tuple[int, ...] = (8, 32, 64, 128, 256, 512)
    level_steps: int = 20
    connect_concurrency: int = 16
    level_timeout_s: float = 60.0
    level_timeout_per_session_s: float = 0.5
    """A level's sessions must all connect and step within 60 s + 0.5 s per session."""
    step_timeout_s: float = 120.0
    memory_reserve_mib: float = 2048.0
    settle_timeout_s: float = 60.0
    time_budget_s: float = 1500.0


QUICK = Settings(
    print_steps=60,
    warmup_steps=5,
    compute_steps=2,
    compute_steps_reference=1,
    levels=(8,),
    level_steps=5,
    level_timeout_s=60.0,
    time_budget_s=240.0,
)


# -- the servers -----------------------------------------------------------------------------


class ReferenceMissing(Exception):
    """The reference coding server could not be installed (its row is then absent)."""


@dataclass
class Server:
    """One running server: its WebSocket URL, the pid whose process tree it is, and a stop."""

    name: str
    url: str
    pid: int
    stop: Callable[[], None]
    log_tail: Callable[[], str]

    def alive(self) -> bool:
        """True while the server process exists (a zombie counts as gone)."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False


def start_ours(isolation: str, max_sessions: int, env: str = "coding_env") -> Server:
    """``openenv serve ENV`` via :class:`LocalRuntime` (no token: loopback only)."""
    from openenv.runtime.local import LocalRuntime

    runtime = LocalRuntime(
        env,
        isolation=isolation,
        require_token=False,
        server_args=[
            "--max-sessions",
            str(max_sessions),
            # coding_env requires a sandbox; "ours-none" measures it without one on purpose
            *(["--allow-unsandboxed-agent-code"] if isolation == "none" else []),
        ],
        start_timeout_s=90,
    )
    base = runtime.start()
    assert runtime.pid is not None
    name = "ours" if isolation == "sandbox" else f"ours-{isolation}"
    url = base.replace("http://", "ws://", 1).rstrip("/") + "/ws"
    return Server(name, url, runtime.pid, runtime.stop, runtime.output)


def reference_coding_python() -> str:
    """The reference venv's Python with smolagents in it; :class:`ReferenceMissing` if not."""
    from benchmarks.reference.venv import ReferenceUnavailable, reference_python

    try:
        python = reference_python(extras=["coding"])
    except (ReferenceUnavailable, OSError, subprocess.SubprocessError) as exc:
        raise ReferenceMissing(str(exc)) from None
    probe = subprocess.run(
        [str(python), "-c", "import openenv.core.env_server.http_server, smolagents"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        raise ReferenceMissing(
            f"the reference venv cannot import smolagents: {probe.stderr[-500:]}"
        )
    return str(python)


def start_reference(max_sessions: int) -> Server:
    """The reference coding server under the reference venv's Python."""
    python = reference_coding_python()
    port = free_port()
    kind = ServerKind("reference", DESCRIPTIONS["reference"], "reference/coding_server.py")
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"openenv-bench-coding-ref-{port}.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("ENABLE_WEB_INTERFACE", None)
    command = [python, str(REPO / "benchmarks" / kind.script), "--port", str(port)]
    command += ["--max-sessions", str(max_sessions)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
            env=env,
            start_new_session=True,
            preexec_fn=functools.partial(_prepare_child, None),
        )
    running = RunningServer(kind, "127.0.0.1", port, process, log_path)
    try:
        running.wait_listening(90)
    except BaseException:
        running.stop()
        raise
    return Server("reference", running.url, process.pid, running.stop, running.log_tail)


def start_server(name: str, max_sessions: int) -> Server:
    if name == "ours":
        return start_ours("sandbox", max_sessions)
    if name == "ours-none":
        return start_ours("none", max_sessions)
    if name == "reference":
        return start_reference(max_sessions)
    raise ValueError(name)


# -- measuring a server's process tree ------------------------------------------------------


def tree_memory(pid: int) -> dict[str, Any]:
    """PSS of a process tree (server, sandboxes, kernels), the server's own RSS, and counts."""
    pids = tree(pid)
    pss_kib = sum(smaps_rollup(p).get("Pss", 0) for p in pids)
    status: dict[str, int] = {}
    with contextlib.suppress(OSError, ValueError):
        status = loadgen.process_status(pid)
    return {
        "processes": len(pids),
        "pss_mib": round(pss_kib / 1024, 1),
        "server_rss_mib": round(status.get("rss_bytes", 0) / 2**20, 1),
        "server_threads": status.get("threads"),
    }


def wait_stable(pid: int, timeout_s: float, quiet_s: float = 1.0) -> int:
    """Wait (bounded) until the tree's process count holds still for ``quiet_s``: pool filled."""
    deadline = time.monotonic() + timeout_s
    count, since = len(tree(pid)), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        time.sleep(0.1)
        now = len(tree(pid))
        if now != count:
            count, since = now, time.monotonic()
    return count


def settle(pid: int, processes: int, timeout_s: float) -> None:
    """Wait (bounded) until the tree is back to ``processes`` processes: sandboxes torn down."""
    deadline = time.monotonic() + timeout_s
    while len(tree(pid)) > processes and time.monotonic() < deadline:
        time.sleep(0.2)


# -- the client --------------------------------------------------------------------------------


class StepError(Exception):
    """A reply that was not the expected observation."""


def step_frame(code: str) -> bytes:
    return orjson.dumps({"type": "step", "data": {"code": code}})


async def exchange(ws: ClientConnection, frame: bytes, stdout: str | None) -> dict[str, Any]:
    """Send a frame; check the reply is an observation (exit 0 and ``stdout`` when given)."""
    await ws.send(frame, text=True)
    reply = orjson.loads(await ws.recv(decode=False))
    if type(reply) is not dict or reply.get("type") != "observation":
        raise StepError(f"expected an observation, got {str(reply)[:300]}")
    observation = reply["data"]["observation"]
    if stdout is not None and (
        observation.get("exit_code") != 0 or observation["stdout"] != stdout
    ):
        stderr = [line for line in str(observation.get("stderr", "")).splitlines() if line.strip()]
        raise StepError(
            f"exit_code {observation.get('exit_code')}: {stderr[-1][-150:] if stderr else ''} "
            f"(stdout {str(observation.get('stdout'))[:30]!r})"
        )
    return observation


async def open_and_reset(url: str, timeout_s: float) -> ClientConnection:
    ws = await loadgen.open_session(url, open_timeout=timeout_s)
    try:
        async with asyncio.timeout(timeout_s):
            await exchange(ws, RESET_FRAME, None)
    except BaseException:
        ws.transport.abort()
        raise
    return ws


async def one_session_steps(
    url: str,
    code: str,
    stdout: str,
    steps: int,
    warmup: int,
    step_timeout_s: float,
    pid: int,
    advance: Callable[[], None],
) -> dict[str, Any]:
    """Reset one session, warm up, then time ``steps`` steps of ``code``."""
    latencies: list[float] = []
    errors = loadgen.Errors()
    frame = step_frame(code)
    cpu = wall = None
    try:
        ws = await open_and_reset(url, 60.0)
    except (Exception, asyncio.TimeoutError) as exc:
        errors.add(exc)
        return _steps_summary(latencies, errors, steps, None, None)
    try:
        for _ in range(warmup):
            async with asyncio.timeout(step_timeout_s):
                await exchange(ws, frame, stdout)
        cpu0, wall0 = tree_cpu_seconds(pid), time.perf_counter()
        for _ in range(steps):
            started = time.perf_counter()
            async with asyncio.timeout(step_timeout_s):
                await exchange(ws, frame, stdout)
            latencies.append(time.perf_counter() - started)
            advance()
        wall = time.perf_counter() - wall0
        cpu = tree_cpu_seconds(pid) - cpu0
    except (Exception, asyncio.TimeoutError) as exc:
        errors.add(exc)
    finally:
        await loadgen.close_quietly(ws)
    return _steps_summary(latencies, errors, steps, cpu, wall)


def _ms(stats: loadgen.LatencyStats) -> dict[str, float | int]:
    return {
        k: round(v * 1e3, 3) if isinstance(v, float) and not math.isnan(v) else v
        for k, v in dataclasses.asdict(stats).items()
    }


def _steps_summary(
    latencies: list[float],
    errors: loadgen.Errors,
    steps: int,
    cpu: float | None,
    wall: float | None,
) -> dict[str, Any]:
    done = len(latencies)
    return {
        "steps": steps,
        "completed": done,
        "errors": errors.messages,
        "latency_ms": _ms(loadgen.LatencyStats.of(latencies)),
        "min_ms": round(min(latencies) * 1e3, 3) if latencies else None,
        "server_cpu_ms_per_step": round(cpu / done * 1e3, 3) if cpu is not None and done else None,
        "wall_s": None if wall is None else round(wall, 3),
    }


async def hold_level(
    url: str,
    sessions: int,
    steps: int,
    concurrency: int,
    timeout_s: float,
    step_timeout_s: float,
    pid: int,
    advance: Callable[[], None],
) -> dict[str, Any]:
    """``sessions`` sessions at once: connect + reset each, then all step ``print(1)`` together.

    The memory of the server's tree is read while every session is still open.
    """
    errors = loadgen.Errors()
    deadline = time.monotonic() + timeout_s
    gate = asyncio.Semaphore(concurrency)
    sockets: list[ClientConnection] = []
    connect_times: list[float] = []

    async def connect_one() -> None:
        async with gate:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                errors.add("TimeoutError: not connected before the level's deadline")
                return
            started = time.perf_counter()
            try:
                sockets.append(await open_and_reset(url, remaining))
                connect_times.append(time.perf_counter() - started)
            except (Exception, asyncio.TimeoutError) as exc:
                errors.add(exc)

    started = time.perf_counter()
    latencies: list[float] = []
    frame = step_frame(PRINT_CODE)
    failed_sessions = 0
    memory: dict[str, Any] = {}

    wrong_steps = 0

    async def run(ws: ClientConnection) -> bool:
        """Step the session; a wrong reply is counted and stepping goes on, a lost one ends it."""
        nonlocal wrong_steps
        try:
            for _ in range(steps):
                t0 = time.perf_counter()
                try:
                    async with asyncio.timeout(
                        min(step_timeout_s, max(0.0, deadline - time.monotonic()))
                    ):
                        await exchange(ws, frame, "1\n")
                except StepError as exc:
                    wrong_steps += 1
                    errors.add(exc)
                else:
                    latencies.append(time.perf_counter() - t0)
                advance()
            return True
        except (Exception, asyncio.TimeoutError) as exc:
            errors.add(exc)
            return False

    try:
        await asyncio.gather(*(connect_one() for _ in range(sessions)))
        connect_wall = time.perf_counter() - started
        ok = await asyncio.gather(*(run(ws) for ws in sockets))
        failed_sessions = sessions - ok.count(True)
        memory = tree_memory(pid)
    finally:
        await loadgen.close_all(sockets)
    success = len(latencies) / (sessions * steps) if sessions * steps else 0.0
    return {
        "sessions": sessions,
        "connected": len(sockets),
        "held": failed_sessions == 0 and success >= SUCCESS_THRESHOLD,
        "failed_sessions": failed_sessions,
        "wrong_steps": wrong_steps,
        "success_rate": round(success, 5),
        "steps_per_session": steps,
        "completed_steps": len(latencies),
        "errors": errors.messages,
        "connect_wall_s": round(connect_wall, 3),
        "connect_ms": _ms(loadgen.LatencyStats.of(connect_times)),
        "step_latency_ms": _ms(loadgen.LatencyStats.of(latencies)),
        **memory,
    }


# -- calibration --------------------------------------------------------------------------------


def _time_plain(n: int, repeats: int) -> float:
    """Median seconds this interpreter takes for the computation's expression at ``n``."""
    code = compile(f"sum(i * i for i in range({n}))", "<calibrate>", "eval")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        eval(code, {})  # our own constant expression
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def calibrate(target_s: float) -> dict[str, Any]:
    """``N`` such that ``sum(i * i for i in range(N))`` takes ``target_s`` in plain CPython.

    At most :data:`MAX_COMPUTE_N`, so that the reference can run it at all.
    """
    n = 100_000
    for _ in range(8):
        t = _time_plain(n, 3)
        n = max(1000, min(MAX_COMPUTE_N, round(n * target_s / t)))
        if abs(t - target_s) / target_s < 0.03 or n == MAX_COMPUTE_N:
            break
    plain = _time_plain(n, 5)
    return {
        "n": n,
        "capped": n == MAX_COMPUTE_N,
        "code": COMPUTE_TEMPLATE.format(n=n),
        "stdout": f"{(n - 1) * n * (2 * n - 1) // 6}\n",
        "plain_cpython_ms": round(plain * 1e3, 2),
        "python": sys.version.split()[0],
        "executable": os.path.realpath(sys.executable),
    }


# -- the run ------------------------------------------------------------------------------------


@dataclass
class ServerResults:
    """Every figure measured for one server."""

    name: str
    description: str
    failed: str | None = None
    print_1: dict[str, Any] = field(default_factory=dict)
    compute: dict[str, Any] = field(default_factory=dict)
    idle_memory: dict[str, Any] = field(default_factory=dict)
    ladder: list[dict[str, Any]] = field(default_factory=list)
    ladder_stopped: str | None = None
    held: int | None = None

    def figures(self, plain_ms: float | None, level: int | None) -> dict[str, float | None]:
        """The figures of the table, by row key; the load rows at ``level`` sessions."""
        at = next((lv for lv in self.ladder if lv["sessions"] == level and lv["held"]), None)
        compute_p50 = self.compute.get("latency_ms", {}).get("p50") if self.compute else None
        if not self.compute.get("completed") or self.compute.get("errors"):
            compute_p50 = None  # a step failed: no figure (the notes below the table say why)
        plain_ms = self.compute.get("plain_cpython_ms") or plain_ms
        idle = self.idle_memory.get("pss_mib")
        per_session = None
        if at is not None and idle is not None and at["sessions"]:
            per_session = (at["pss_mib"] - idle) / at["sessions"]
        return {
            "print_p50": _num(self.print_1.get("latency_ms", {}).get("p50")),
            "print_p99": _num(self.print_1.get("latency_ms", {}).get("p99")),
            "print_cpu": _num(self.print_1.get("server_cpu_ms_per_step")),
            "compute_p50": _num(compute_p50),
            "compute_x_plain": None
            if compute_p50 is None or not plain_ms
            else _num(compute_p50) / plain_ms,  # type: ignore[operator]
            "held": None if self.held is None else float(self.held),
            "at_connect_p50": None if at is None else _num(at["connect_ms"]["p50"]),
            "at_start_rate": None
            if at is None or not at["connect_wall_s"]
            else at["connected"] / at["connect_wall_s"],
            "at_p50": None if at is None else _num(at["step_latency_ms"]["p50"]),
            "at_p99": None if at is None else _num(at["step_latency_ms"]["p99"]),
            "at_pss": None if at is None else at["pss_mib"],
            "per_session_pss": per_session,
            "idle_pss": idle,
        }


def common_level(results: dict[str, ServerResults]) -> int | None:
    """The highest ladder level every server that ran the ladder held (None: some held none)."""
    laddered = [r for r in results.values() if r.ladder]
    if not laddered or any(r.held is None for r in laddered):
        return None
    return min(r.held for r in laddered if r.held is not None)


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
        return float(value)
    return None


ROWS: list[tuple[str, str, str, int]] = [
    # key, label, better ("low"/"high"/"": no ratio), decimals
    ("print_p50", "print(1) step p50, 1 session (ms)", "low", 2),
    ("print_p99", "print(1) step p99, 1 session (ms)", "low", 2),
    ("print_cpu", "server CPU per print(1) step, whole process tree (ms)", "low", 2),
    ("compute_p50", "~100 ms computation step p50 (ms)", "low", 0),
    ("compute_x_plain", "~100 ms computation step / plain CPython, same code (x)", "low", 2),
    ("held", "concurrent sessions held (highest ladder level)", "high", 0),
    ("at_connect_p50", "with {n} sessions: connect + reset p50 (ms)", "low", 1),
    ("at_start_rate", "with {n} sessions: sessions started per second", "high", 1),
    ("at_p50", "with {n} sessions: print(1) step p50 (ms)", "low", 2),
    ("at_p99", "with {n} sessions: print(1) step p99 (ms)", "low", 2),
    ("at_pss", "with {n} sessions: memory (PSS) of the server's process tree (MiB)", "low", 0),
    ("per_session_pss", "with {n} sessions: memory per session over idle (MiB)", "low", 1),
    ("idle_pss", "memory (PSS) idle, no session (MiB)", "low", 0),
]


class Runner:
    """One benchmark run: start each server, measure, stop it, next."""

    def __init__(self, names: list[str], settings: Settings, console: Console) -> None:
        self.names = names
        self.settings = settings
        self.console = console
        self.results = {n: ServerResults(n, DESCRIPTIONS[n]) for n in names}
        self.deadline = time.monotonic() + settings.time_budget_s
        self.calibration: dict[str, Any] = {}
        self.reference_unavailable: str | None = None
        self.skipped: list[str] = []
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )

    def log(self, text: str) -> None:
        self.progress.console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {text}")

    def out_of_time(self, what: str) -> bool:
        if time.monotonic() > self.deadline:
            self.skipped.append(what)
            self.log(f"[yellow]time budget spent: skipping {what}[/yellow]")
            return True
        return False

    @contextlib.contextmanager
    def phase(self, description: str, total: int) -> Iterator[Callable[[], None]]:
        task = self.progress.add_task(description, total=total)
        try:
            yield lambda: self.progress.advance(task)
        finally:
            self.progress.remove_task(task)

    def run(self) -> None:
        s = self.settings
        with self.progress:
            self.log(f"calibrating a ~{s.compute_ms:g} ms computation in plain CPython")
            self.calibration = calibrate(s.compute_ms / 1e3)
            self.log(
                f"N = {self.calibration['n']:,}: {self.calibration['plain_cpython_ms']:.1f} ms "
                f"in CPython {self.calibration['python']}"
                + (" (capped: smolagents' operation limit)" if self.calibration["capped"] else "")
            )
            for name in self.names:
                if self.out_of_time(f"all of {name}"):
                    continue
                self.one_server(name)

    def one_server(self, name: str) -> None:
        s = self.settings
        results = self.results[name]
        max_sessions = max(s.levels, default=8) + 16
        self.log(f"starting [bold]{name}[/bold] ({DESCRIPTIONS[name]})")
        try:
            with self.progress.console.status(f"starting {name}…"):
                server = start_server(name, max_sessions)
        except ReferenceMissing as exc:
            self.reference_unavailable = str(exc)
            results.failed = f"not installed: {exc}"
            self.log(f"[bold yellow]the reference coding env could not be installed[/]: {exc}")
            return
        except Exception as exc:
            results.failed = f"did not start: {type(exc).__name__}: {exc}"
            self.log(f"[red]{name} did not start[/red]: {exc}")
            return
        try:
            self.measure(server, results)
            if not server.alive():
                results.failed = f"server exited: {server.log_tail()[-300:]}"
        finally:
            server.stop()

    def measure(self, server: Server, results: ServerResults) -> None:
        s = self.settings
        name = server.name
        wait_stable(server.pid, s.settle_timeout_s)  # a warm pool full before anything else
        results.idle_memory = tree_memory(server.pid)

        with self.phase(f"{name}: print(1) x {s.print_steps}", s.print_steps) as advance:
            results.print_1 = asyncio.run(
                one_session_steps(
                    server.url, PRINT_CODE, "1\n", s.print_steps, s.warmup_steps,
                    s.step_timeout_s, server.pid, advance,
                )
            )  # fmt: skip
        p = results.print_1
        self.log(
            f"[bold]{name}[/bold] print(1): p50 {p['latency_ms']['p50']} ms, "
            f"p99 {p['latency_ms']['p99']} ms, {p['server_cpu_ms_per_step']} ms CPU/step"
            + (f" [red]{p['errors']}[/red]" if p["errors"] else "")
        )

        # One warm-up step on ours (a fresh kernel's first big loop); none on the reference,
        # whose interpreter has nothing to warm and takes seconds a step.
        steps = s.compute_steps_reference if name == "reference" else s.compute_steps
        warmup = 0 if name == "reference" or steps < 2 else 1
        cal = self.calibration
        if not self.out_of_time(f"~100 ms computation on {name}"):
            with self.phase(f"{name}: computation x {steps}", steps) as advance:
                results.compute = asyncio.run(
                    one_session_steps(
                        server.url, cal["code"], cal["stdout"], steps, warmup,
                        s.step_timeout_s, server.pid, advance,
                    )
                )  # fmt: skip
            c = results.compute
            # Plain CPython again, now: this VM's speed drifts, so each server's ratio to
            # plain CPython uses a measurement taken next to its own steps.
            c["plain_cpython_ms"] = round(_time_plain(cal["n"], 3) * 1e3, 2)
            self.log(
                f"[bold]{name}[/bold] computation (N = {cal['n']:,}): p50 "
                f"{c['latency_ms']['p50']} ms (plain CPython {c['plain_cpython_ms']} ms)"
                + (f" [red]{c['errors']}[/red]" if c["errors"] else "")
            )
        self.ladder(server, results)

    def ladder(self, server: Server, results: ServerResults, per_session_mib: float = 64.0) -> None:
        """The levels in turn; ``per_session_mib``: the memory guard's first guess of what
        a session costs, until a level has been measured."""
        s = self.settings
        name = server.name
        idle_processes = results.idle_memory.get("processes", 1)
        per_session = per_session_mib
        for level in s.levels:
            if self.out_of_time(f"{level} sessions on {name}"):
                results.ladder_stopped = "time budget"
                return
            settle(server.pid, idle_processes, s.settle_timeout_s)  # the last level's gone
            need = per_session * level
            free = available_mib()
            if need > free - s.memory_reserve_mib:
                results.ladder_stopped = (
                    f"memory: {level} sessions need ~{need:,.0f} MiB, "
                    f"{free:,.0f} MiB available (keeping {s.memory_reserve_mib:,.0f})"
                )
                self.log(f"[yellow]{name}: stopping the ladder: {results.ladder_stopped}[/yellow]")
                return
            with self.phase(f"{name}: {level} sessions", level * s.level_steps) as advance:
                summary = asyncio.run(
                    hold_level(
                        server.url, level, s.level_steps, s.connect_concurrency,
                        s.level_timeout_s + s.level_timeout_per_session_s * level,
                        s.step_timeout_s, server.pid, advance,
                    )
                )  # fmt: skip
            results.ladder.append(summary)
            lat = summary["step_latency_ms"]
            self.log(
                f"[bold]{name}[/bold] {level} sessions: "
                + ("[green]held[/green]" if summary["held"] else "[red]failed[/red]")
                + f" ({summary['connected']}/{level} connected in {summary['connect_wall_s']} s, "
                f"{summary['success_rate']:.1%} of steps right), "
                f"step p50 {lat['p50']} ms p99 {lat['p99']} ms, "
                f"PSS {summary.get('pss_mib')} MiB over {summary.get('processes')} processes"
                + (f" [red]{summary['errors'][:2]}[/red]" if summary["errors"] else "")
            )
            if not summary["held"]:
                results.ladder_stopped = f"{level} sessions failed"
                return
            results.held = level
            idle = results.idle_memory.get("pss_mib")
            if idle is not None and summary.get("pss_mib"):
                per_session = max(per_session / 4, (summary["pss_mib"] - idle) / level)
            if not server.alive():
                results.failed = f"server exited: {server.log_tail()[-300:]}"
                return


# -- the report -----------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def columns(report: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Servers with figures (a server that never started has no column), and ratio columns."""
    shown = [
        n
        for n in report["names"]
        if not (report["servers"][n].get("failed") or "").startswith(
            ("not installed", "did not start")
        )
    ]
    ratios = [n for n in ("ours", "ours-none") if n in shown] if "reference" in shown else []
    return shown, ratios


def rows(report: dict[str, Any]) -> Iterator[list[str]]:
    """The table's rows as text cells: label, one per server, one per ratio."""
    figures = report["figures"]
    shown, ratios = columns(report)
    for key, label, better, digits in ROWS:
        cells = [_fmt(figures[n].get(key), digits) for n in shown]
        for n in ratios:
            r = _ratio(figures[n].get(key), figures["reference"].get(key))
            cells.append("" if not better else "—" if r is None else f"{r:.2f}x")
        level = report.get("common_level")
        yield [label.format(n=f"{level:,}" if level else "N"), *cells]


def header(report: dict[str, Any]) -> list[str]:
    shown, ratios = columns(report)
    return ["measure", *shown, *(f"{n}/reference" for n in ratios)]


def render_table(report: dict[str, Any]) -> Table:
    table = Table(title="Coding environment: ours vs the reference", title_justify="left")
    for i, column in enumerate(header(report)):
        table.add_column(column, justify="left" if i == 0 else "right",
                         style="cyan" if column.endswith("/reference") else None)  # fmt: skip
    for row in rows(report):
        table.add_row(*row)
    return table


def ladder_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Every server's ladder: per level, held or failed, step p50 and the tree's PSS."""
    levels = list(report["settings"]["levels"])
    head = ["server", *(f"{n:,} sessions" for n in levels)]
    out = []
    for name in columns(report)[0]:
        server = report["servers"][name]
        by_level = {lv["sessions"]: lv for lv in server["ladder"]}
        stopped = server.get("ladder_stopped") or ""
        cells = []
        for n in levels:
            lv = by_level.get(n)
            if lv is None:
                cells.append(
                    "not run (memory)"
                    if stopped.startswith("memory")
                    else "not run (time)"
                    if stopped.startswith("time")
                    else "—"
                )
            elif not lv["held"]:
                cells.append(
                    f"failed ({lv['connected']}/{n} connected, "
                    f"{lv.get('success_rate', 0):.1%} of steps right)"
                )
            else:
                p50 = lv["step_latency_ms"]["p50"]
                wrong = lv.get("wrong_steps") or 0
                cells.append(
                    f"{p50:,.1f} ms, {lv['pss_mib']:,.0f} MiB"
                    + (f" ({wrong} wrong replies)" if wrong else "")
                )
        out.append([name, *cells])
    return head, out


def render_ladder(report: dict[str, Any]) -> Table:
    head, body = ladder_rows(report)
    table = Table(
        title="Concurrent sessions: print(1) step p50, PSS of the server's tree",
        title_justify="left",
    )
    for i, column in enumerate(head):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in body:
        table.add_row(*row)
    return table


def render_markdown(report: dict[str, Any]) -> str:
    """The table and the target (as ``--json`` writes the report) in Markdown."""
    head = header(report)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(report)]
    if report["settings"]["levels"]:
        head, body = ladder_rows(report)
        lines += ["", "Concurrent sessions, print(1) step p50 and PSS of the server's tree:", ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
    t = report["target"]
    verdict = "PASS" if t["passed"] else "FAIL" if t["passed"] is False else "n/a"
    lines += ["", "| target | measured | result |", "|---|---:|---|"]
    lines.append(f"| {t['name']} | {_fmt(t['value'], 2)} ms | **{verdict}** |")
    return "\n".join(lines) + "\n"


def versions(python: str) -> dict[str, str]:
    """Versions of the packages that matter, as ``python`` sees them."""
    code = (
        "import importlib.metadata as m, json, platform\n"
        "out = {'python': platform.python_version()}\n"
        "for p in ('openenv', 'openenv-core', 'smolagents', 'fastapi', 'uvicorn', 'websockets',"
        " 'pydantic', 'uvloop'):\n"
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


class Interrupted(Exception):
    """SIGTERM arrived; unwind like Ctrl-C so every server is stopped."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Interrupted(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.coding",
        description=__doc__.split("\n\n")[0],
        epilog="Servers: " + "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items()),
    )
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every figure here")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="write the table here")
    parser.add_argument(
        "--only",
        default=",".join(ALL_SERVERS),
        help=f"comma-separated servers to run (of {', '.join(ALL_SERVERS)}; default all)",
    )
    parser.add_argument(
        "--levels", help="concurrent-session levels, e.g. 8,32,64,128 ('none': skip the ladder)"
    )
    parser.add_argument("--print-steps", type=int, help="print(1) steps over one session")
    parser.add_argument("--compute-ms", type=float, help="the computation's plain-CPython time")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target fails")
    args = parser.parse_args(argv)

    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_SERVERS]
    if unknown or not names:
        parser.error(f"unknown server(s) {unknown}; choose from {', '.join(ALL_SERVERS)}")
    settings = QUICK if args.quick else Settings()
    if args.levels:
        try:
            levels = () if args.levels == "none" else tuple(
                int(x) for x in args.levels.split(",") if x.strip())  # fmt: skip
        except ValueError:
            parser.error(f"--levels: expected numbers like 8,32, got {args.levels!r}")
        settings = dataclasses.replace(settings, levels=levels)
    if args.print_steps:
        settings = dataclasses.replace(settings, print_steps=args.print_steps)
    if args.compute_ms:
        settings = dataclasses.replace(settings, compute_ms=args.compute_ms)

    console = Console(width=None if sys.stdout.isatty() else 150)
    loadgen.raise_nofile_limit()
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    started = time.time()
    info: dict[str, Any] = {
        "machine": machine(),
        "revision": git_revision(),
        "load_average_start": load_average(),
        "ours": versions(sys.executable),
    }
    before = loadgen.machine_busy_seconds()
    time.sleep(1.0)
    info["busy_cores_before"] = round(loadgen.machine_busy_seconds() - before, 2)
    if info["busy_cores_before"] > 0.25:
        console.print(
            f"[yellow]other processes keep {info['busy_cores_before']:.2f} cores busy: "
            "the figures will be noisier[/yellow]"
        )
    runner = Runner(names, settings, console)
    interrupted = False
    try:
        runner.run()
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
        console.print("[yellow]interrupted: servers stopped, partial results below[/yellow]")
    finally:
        signal.signal(signal.SIGTERM, previous)
    if "reference" in names and runner.reference_unavailable is None:
        with contextlib.suppress(ReferenceMissing):
            info["reference"] = versions(reference_coding_python())
    info["load_average_end"] = load_average()

    plain = runner.calibration.get("plain_cpython_ms")
    level = common_level(runner.results)
    figures = {n: r.figures(plain, level) for n, r in runner.results.items()}
    ours_p50 = figures.get("ours", {}).get("print_p50")
    target = {
        "name": f"print(1) step p50 (ours, sandboxed) ≤ {TARGET_P50_MS:g} ms",
        "threshold_ms": TARGET_P50_MS,
        "value": ours_p50,
        "passed": None if ours_p50 is None else ours_p50 <= TARGET_P50_MS,
    }
    report: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "benchmarks.coding", *(argv or sys.argv[1:])]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "interrupted": interrupted,
        "settings": dataclasses.asdict(settings),
        "environment": info,
        "calibration": runner.calibration,
        "names": names,
        "reference_unavailable": runner.reference_unavailable,
        "common_level": level,
        "figures": figures,
        "target": target,
        "servers": {n: dataclasses.asdict(r) for n, r in runner.results.items()},
        "skipped": runner.skipped,
    }

    console.print()
    console.print(render_table(report))
    if settings.levels:
        console.print(render_ladder(report))
    verdict = (
        "[green]PASS[/green]" if target["passed"] else
        "[red]FAIL[/red]" if target["passed"] is False else "[dim]n/a[/dim]"
    )  # fmt: skip
    console.print(f"target: {target['name']}: {_fmt(ours_p50, 2)} ms {verdict}")
    if plain:
        console.print(
            f"[dim]computation: {runner.calibration['code']}, {plain} ms in plain CPython "
            f"{runner.calibration['python']}[/dim]"
        )
    m = info["machine"]
    console.print(
        f"[dim]{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; "
        f"{time.time() - started:.0f} s[/dim]"
    )
    if runner.reference_unavailable is not None:
        console.print(
            "[bold yellow]The reference coding env could not be installed; its column is "
            f"absent.[/bold yellow] {runner.reference_unavailable}"
        )
    for name, r in runner.results.items():
        if r.failed and not (name == "reference" and runner.reference_unavailable):
            console.print(f"[red]{name}: {r.failed}[/red]")
        for what, run in (("print(1)", r.print_1), ("computation", r.compute)):
            if run.get("errors"):
                console.print(
                    f"[red]{name}: {what}: {run['steps'] - run['completed']} of {run['steps']} "
                    f"steps failed: {run['errors']}[/red]"
                )
        if r.ladder_stopped:
            console.print(f"[dim]{name}: ladder stopped: {r.ladder_stopped}[/dim]")
    if runner.skipped:
        console.print(f"[yellow]skipped (time budget): {', '.join(runner.skipped)}[/yellow]")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
        console.print(f"[dim]wrote {args.json}[/dim]")
    if args.markdown:
        args.markdown.write_text(render_markdown(report))
        console.print(f"[dim]wrote {args.markdown}[/dim]")
    if args.check and target["passed"] is False:
        return 1
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
