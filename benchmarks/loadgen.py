"""A WebSocket load generator for OpenEnv servers: one client for every server.

Every server in the benchmark is driven by this same client, so differences in
the numbers are the servers' own. The client speaks OpenEnv's frames
(``{"type":"reset"}``, ``{"type":"step","data":{...}}``) over the ``websockets``
asyncio client with compression off and client pings off, checks every reply
(an ``observation`` frame whose counter has the expected value), and measures:

* :func:`step_load` — K sessions, each ``reset`` then M steps, all released at
  once after a warm-up; per-step latency, aggregate steps/s and, given the
  server's pid, the server's CPU time per step (``utime + stime`` from
  ``/proc/<pid>/stat`` over the measured window: the fairest figure when the load
  generator shares the machine's cores with the server);
* :func:`connect_latency` — connect + first ``reset`` round trip, one at a time;
* :func:`session_churn` — sustained session starts: a few clients at once, each
  looping connect → first ``reset`` → close; sessions started per second;
* :func:`hold_sleeping` — N sessions connected at once, each then sending one
  step that sleeps ``sleep_s`` on the server; counts those answered correctly
  within a deadline.

Load runs in worker processes (``processes=``) so one Python process's speed
does not cap the load; a parent coordinates them with a barrier so all sessions
start stepping together and the server's CPU is read exactly around the
measured window.

Library::

    from benchmarks.loadgen import step_load
    result = step_load("ws://127.0.0.1:8000/ws", sessions=64, steps=1000, server_pid=pid)
    print(result.steps_per_s, result.latency.p50, result.server_cpu_us_per_step)

CLI (prints JSON)::

    python -m benchmarks.loadgen steps ws://127.0.0.1:8000/ws --sessions 64 --steps 1000
    python -m benchmarks.loadgen connect ws://127.0.0.1:8000/ws --count 200
    python -m benchmarks.loadgen hold ws://127.0.0.1:8000/ws --sessions 1000 --sleep 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import dataclasses
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from array import array
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

try:
    import orjson

    _loads: Callable[[bytes | str], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson is one of our dependencies
    _loads = json.loads

_REPO = Path(__file__).resolve().parent.parent

MAX_ERRORS = 5
"""Distinct error messages kept per measurement (the count of failures is exact)."""

RESET_FRAME = b'{"type":"reset","data":{}}'


def step_frame(n: int = 1, sleep_s: float = 0.0) -> bytes:
    """The step frame the load generator sends: the counter env's action."""
    data: dict[str, Any] = {"n": n}
    if sleep_s:
        data["sleep_s"] = sleep_s
    return json.dumps({"type": "step", "data": data}, separators=(",", ":")).encode()


class LoadError(Exception):
    """A reply that was not the expected observation."""


# -- results -----------------------------------------------------------------------------


@dataclass
class LatencyStats:
    """Percentiles of a set of latencies, in seconds (nearest-rank)."""

    count: int = 0
    mean: float = math.nan
    p50: float = math.nan
    p90: float = math.nan
    p99: float = math.nan
    max: float = math.nan

    @classmethod
    def of(cls, samples: Sequence[float]) -> LatencyStats:
        """The statistics of ``samples`` (seconds); empty samples give NaNs."""
        if not samples:
            return cls()
        ordered = sorted(samples)
        n = len(ordered)

        def rank(q: float) -> float:
            return ordered[min(n - 1, max(0, math.ceil(q * n) - 1))]

        return cls(n, sum(ordered) / n, rank(0.50), rank(0.90), rank(0.99), ordered[-1])

    def micros(self) -> dict[str, float]:
        """The same figures in microseconds, rounded (for reports)."""
        return {
            k: round(v * 1e6, 1) if isinstance(v, float) else v
            for k, v in dataclasses.asdict(self).items()
        }


@dataclass
class StepLoadResult:
    """What :func:`step_load` measured."""

    sessions: int
    steps_per_session: int
    processes: int
    completed_steps: int = 0
    failed_sessions: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = math.nan
    latency: LatencyStats = field(default_factory=LatencyStats)
    server_cpu_s: float | None = None
    load_cpu_s: float | None = None
    other_cpu_s: float | None = None

    @property
    def expected_steps(self) -> int:
        """Steps asked for: sessions x steps per session."""
        return self.sessions * self.steps_per_session

    @property
    def steps_per_s(self) -> float:
        """Aggregate throughput over the measured window."""
        return self.completed_steps / self.wall_s if self.wall_s > 0 else math.nan

    @property
    def server_cpu_us_per_step(self) -> float | None:
        """Server CPU (user + system) per completed step, in microseconds."""
        if self.server_cpu_s is None or not self.completed_steps:
            return None
        return self.server_cpu_s / self.completed_steps * 1e6

    def summary(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "steps_per_session": self.steps_per_session,
            "processes": self.processes,
            "completed_steps": self.completed_steps,
            "failed_sessions": self.failed_sessions,
            "errors": self.errors,
            "wall_s": round(self.wall_s, 4),
            "steps_per_s": round(self.steps_per_s, 1),
            "latency_us": self.latency.micros(),
            "server_cpu_s": self.server_cpu_s,
            "server_cpu_us_per_step": self.server_cpu_us_per_step,
            "load_cpu_us_per_step": None
            if self.load_cpu_s is None or not self.completed_steps
            else self.load_cpu_s / self.completed_steps * 1e6,
            "other_cpu_cores": None
            if self.other_cpu_s is None or not self.wall_s > 0
            else round(self.other_cpu_s / self.wall_s, 3),
        }


@dataclass
class ConnectResult:
    """What :func:`connect_latency` measured: connect + first reset, one at a time."""

    attempts: int
    ok: int = 0
    errors: list[str] = field(default_factory=list)
    latency: LatencyStats = field(default_factory=LatencyStats)

    @property
    def failures(self) -> int:
        """Attempts that did not get their first observation."""
        return self.attempts - self.ok

    def summary(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "ok": self.ok,
            "failures": self.failures,
            "errors": self.errors,
            "latency_us": self.latency.micros(),
        }


@dataclass
class ChurnResult:
    """What :func:`session_churn` measured: sessions started, used once and closed."""

    sessions: int
    clients: int
    ok: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = math.nan
    latency: LatencyStats = field(default_factory=LatencyStats)

    @property
    def sessions_per_s(self) -> float:
        """Sessions that got their first observation, per second of the whole run."""
        return self.ok / self.wall_s if self.wall_s > 0 else math.nan

    def summary(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "clients": self.clients,
            "ok": self.ok,
            "failures": self.sessions - self.ok,
            "errors": self.errors,
            "wall_s": round(self.wall_s, 3),
            "sessions_per_s": round(self.sessions_per_s, 2),
            "latency_us": self.latency.micros(),
        }


@dataclass
class HoldResult:
    """What :func:`hold_sleeping` measured."""

    sessions: int
    sleep_s: float
    deadline_s: float
    processes: int
    connected: int = 0
    succeeded: int = 0
    errors: list[str] = field(default_factory=list)
    connect_wall_s: float = math.nan
    step_latency: LatencyStats = field(default_factory=LatencyStats)
    server_threads: int | None = None
    server_rss_bytes: int | None = None

    @property
    def success_rate(self) -> float:
        """Sessions answered in time, over sessions asked for."""
        return self.succeeded / self.sessions if self.sessions else math.nan

    def summary(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "sleep_s": self.sleep_s,
            "deadline_s": self.deadline_s,
            "processes": self.processes,
            "connected": self.connected,
            "succeeded": self.succeeded,
            "success_rate": round(self.success_rate, 5),
            "errors": self.errors,
            "connect_wall_s": round(self.connect_wall_s, 3),
            "step_latency_ms": {
                k: round(v * 1e3, 1) if isinstance(v, float) else v
                for k, v in dataclasses.asdict(self.step_latency).items()
            },
            "server_threads": self.server_threads,
            "server_rss_mib": None
            if self.server_rss_bytes is None
            else round(self.server_rss_bytes / 2**20, 1),
        }


# -- server process figures (Linux /proc) --------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, from ``/proc/<pid>/stat``."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # after "pid (comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime -> utime is the 12th field after comm, stime the 13th
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy (not idle or waiting on I/O) since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def window_snapshot(server_pid: int | None) -> dict[str, float]:
    """The clocks a measured window starts or ends with."""
    snapshot = {"t": time.perf_counter(), "busy": machine_busy_seconds()}
    if server_pid:
        with contextlib.suppress(OSError):
            snapshot["server_cpu"] = process_cpu_seconds(server_pid)
    return snapshot


def process_status(pid: int) -> dict[str, int]:
    """``Threads`` and ``VmRSS`` (bytes) of a process, from ``/proc/<pid>/status``."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "Threads":
                out["threads"] = int(value)
            elif key == "VmRSS":
                out["rss_bytes"] = int(value.split()[0]) * 1024
    return out


def raise_nofile_limit() -> int:
    """Raise this process's open-file soft limit to its hard limit (many sockets ahead)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- the client ------------------------------------------------------------------------------


def die_with_parent() -> None:  # pragma: no cover - runs in a child before exec
    """Linux ``preexec_fn``: SIGTERM this child when its parent dies, however it dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Errors:
    """Counts failures and keeps the first few distinct messages."""

    def __init__(self) -> None:
        self.count = 0
        self.messages: list[str] = []

    def add(self, exc: BaseException | str) -> None:
        """Count one failure; keep its message if it is new."""
        self.count += 1
        text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        text = text[:200]
        if len(self.messages) < MAX_ERRORS and text not in self.messages:
            self.messages.append(text)


async def open_session(url: str, open_timeout: float = 30.0) -> ClientConnection:
    """One WebSocket connection set up the same way for every server."""
    return await connect(
        url,
        compression=None,
        ping_interval=None,
        max_size=2**24,
        open_timeout=open_timeout,
        close_timeout=2.0,
    )


async def exchange(ws: ClientConnection, frame: bytes, total: int | None = None) -> Any:
    """Send one frame, await its reply, check it is an observation (with ``total``)."""
    await ws.send(frame, text=True)
    reply = _loads(await ws.recv(decode=False))
    if type(reply) is not dict or reply.get("type") != "observation":
        raise LoadError(f"expected an observation frame, got {str(reply)[:160]}")
    if total is not None and reply["data"]["observation"].get("total") != total:
        raise LoadError(f"expected total {total}, got {str(reply)[:160]}")
    return reply


async def close_quietly(ws: ClientConnection, timeout: float = 2.0) -> None:
    """Close the session (``close`` frame, then the WebSocket close handshake), bounded."""
    try:
        async with asyncio.timeout(timeout):
            with contextlib.suppress(Exception):
                await ws.send('{"type":"close"}')
            await ws.close()
    except Exception:
        ws.transport.abort()
    except asyncio.CancelledError:
        ws.transport.abort()
        raise


async def close_all(sockets: Sequence[ClientConnection], concurrency: int = 500) -> None:
    """Close many sessions, a bounded number at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(ws: ClientConnection) -> None:
        async with gate:
            await close_quietly(ws)

    await asyncio.gather(*(one(ws) for ws in sockets), return_exceptions=True)


async def open_and_reset(
    url: str, count: int, concurrency: int, deadline: float, errors: Errors
) -> list[ClientConnection]:
    """Open ``count`` sessions (at most ``concurrency`` handshakes in flight) and reset each.

    Sessions not ready by the monotonic ``deadline`` count as failures.
    """
    gate = asyncio.Semaphore(max(1, concurrency))
    ready: list[ClientConnection] = []

    async def one() -> None:
        async with gate:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                errors.add("TimeoutError: not connected before the connect deadline")
                return
            ws = None
            try:
                async with asyncio.timeout(remaining):
                    ws = await open_session(url, open_timeout=remaining)
                    await exchange(ws, RESET_FRAME, 0)
                ready.append(ws)
            except (Exception, asyncio.TimeoutError) as exc:
                errors.add(exc)
                if ws is not None:
                    ws.transport.abort()

    await asyncio.gather(*(one() for _ in range(count)))
    return ready


# -- raw frames for the measured steps -----------------------------------------------------

STEP_CLIENTS = ("raw", "websockets")
"""How the measured steps are sent: ``raw`` frames from the socket's callbacks (the
default: the load generator then costs a fraction of any server, so throughput shows
the server's speed), or ``websockets``' ``send``/``recv`` coroutines (as a client
application would; this client then costs ~30-40 µs a step, as much as a fast server,
and caps the throughput of every server near the same figure)."""


def masked_frame(payload: bytes, first: int = 0x81) -> bytes:
    """A client's frame (``first``: FIN and opcode; text by default) for ``payload``,
    masked with a random key (RFC 6455 §5.3)."""
    key = os.urandom(4)
    length = len(payload)
    if length < 126:
        head = bytes((first, 0x80 | length))
    elif length < 65536:
        head = bytes((first, 0xFE)) + length.to_bytes(2, "big")
    else:
        head = bytes((first, 0xFF)) + length.to_bytes(8, "big")
    mask = (key * (length // 4 + 1))[:length]
    return (
        head
        + key
        + (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(length, "big")
    )


class RawSteps(asyncio.Protocol):
    """One session's measured steps as raw frames, driven by the socket's callbacks.

    Takes over an open, idle ``websockets`` connection's transport for the steps and
    gives it back after, so opening, reset, warm-up and closing stay ``websockets``'.
    Each reply is parsed and checked as :func:`exchange` does; a server ping gets
    its pong. No task or future per step: the next step is written from the
    callback that read the reply.
    """

    def __init__(self, ws: ClientConnection, frame: bytes, total: int, steps: int) -> None:
        self.ws = ws
        self.transport: Any = ws.transport
        self.frame = masked_frame(frame)  # the same action every step
        self.total = total
        self.left = steps
        self.latencies = array("d")
        self.buffer = b""
        self.sent_at = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def run(self) -> None:
        self.transport.set_protocol(self)
        try:
            self.step()
            await self.done
        finally:
            self.transport.set_protocol(self.ws)

    def step(self) -> None:
        self.total += 1
        self.sent_at = time.perf_counter()
        self.transport.write(self.frame)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        pos = 0
        while len(buffer) - pos >= 2:
            first, length = buffer[pos], buffer[pos + 1] & 0x7F
            head = 2
            if length == 126:
                head = 4
                length = int.from_bytes(buffer[pos + 2 : pos + 4], "big")
            elif length == 127:
                head = 10
                length = int.from_bytes(buffer[pos + 2 : pos + 10], "big")
            stop = pos + head + length
            if stop > len(buffer):
                break
            payload = buffer[pos + head : stop]
            pos = stop
            if first == 0x89:  # a server's keepalive ping
                self.transport.write(masked_frame(payload, first=0x8A))  # its pong
            elif first == 0x81:
                self.reply(payload)
            else:
                self.fail(LoadError(f"unexpected frame 0x{first:02x} from the server"))
        self.buffer = buffer[pos:]

    def reply(self, payload: bytes) -> None:
        end = time.perf_counter()
        reply = _loads(payload)
        if reply.get("type") != "observation" or (
            reply["data"]["observation"].get("total") != self.total
        ):
            self.fail(LoadError(f"unexpected reply {str(reply)[:160]}"))
            return
        self.latencies.append(end - self.sent_at)
        self.left -= 1
        if self.left:
            self.step()
        elif not self.done.done():
            self.done.set_result(None)

    def fail(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(LoadError(f"the server closed the connection: {exc}"))
        self.ws.connection_lost(exc)


# -- the measurements, in one process ------------------------------------------------------


@dataclass
class _StepsOutcome:
    completed: int
    failed_sessions: int
    errors: list[str]
    latencies: array
    t_end: float
    window_end: dict[str, float]


async def _run_steps(
    url: str,
    sessions: int,
    steps: int,
    warmup: int,
    barrier: Callable[[], Awaitable[float]],
    connect_concurrency: int = 64,
    timeout_s: float = 120.0,
    server_pid: int | None = None,
    client: str = "raw",
) -> _StepsOutcome:
    """Open ``sessions``, reset, warm up, ``await barrier()``, then run ``steps`` each
    (sent as ``client`` says: see :data:`STEP_CLIENTS`).

    Every step's latency (``perf_counter``, seconds) is recorded; a session that
    fails stops and counts once in ``failed_sessions``. When the steps are done
    (before the sessions are closed) the end of the measured window is noted:
    the time, this process's CPU since the barrier, and, with ``server_pid``, the
    server's CPU and the machine's busy time.
    """
    errors = Errors()
    deadline = time.monotonic() + timeout_s
    sockets = await open_and_reset(url, sessions, connect_concurrency, deadline, errors)
    failed = sessions - len(sockets)
    frame = step_frame(1)
    latencies = array("d")
    completed = 0
    t_end = 0.0

    async def warm(ws: ClientConnection) -> None:
        for i in range(warmup):
            await exchange(ws, frame, i + 1)

    async def run(ws: ClientConnection) -> None:
        nonlocal completed, t_end
        clock = time.perf_counter
        record = latencies.append
        send, recv = ws.send, ws.recv
        total = warmup
        for _ in range(steps):
            total += 1
            start = clock()
            await send(frame, text=True)
            reply = _loads(await recv(decode=False))
            end = clock()
            if reply.get("type") != "observation" or (
                reply["data"]["observation"].get("total") != total
            ):
                raise LoadError(f"unexpected reply {str(reply)[:160]}")
            record(end - start)
            completed += 1
        t_end = max(t_end, clock())

    async def run_raw(ws: ClientConnection) -> None:
        nonlocal completed, t_end
        stepper = RawSteps(ws, frame, warmup, steps)
        try:
            await stepper.run()
        finally:
            latencies.extend(stepper.latencies)
            completed += len(stepper.latencies)
        t_end = max(t_end, time.perf_counter())

    if client not in STEP_CLIENTS:
        raise ValueError(f"client must be one of {STEP_CLIENTS}, not {client!r}")
    steps_of = run_raw if client == "raw" else run

    async def guarded(coro: Awaitable[None]) -> bool:
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await coro
            return True
        except (Exception, asyncio.TimeoutError) as exc:
            errors.add(exc)
            return False

    try:
        ok = await asyncio.gather(*(guarded(warm(ws)) for ws in sockets))
        live = [ws for ws, good in zip(sockets, ok, strict=True) if good]
        failed += len(sockets) - len(live)
        await barrier()
        own_cpu = time.process_time()
        ok = await asyncio.gather(*(guarded(steps_of(ws)) for ws in live))
        failed += ok.count(False)
        window_end = window_snapshot(server_pid)
        window_end["load_cpu"] = time.process_time() - own_cpu
    finally:
        await close_all(sockets)
    return _StepsOutcome(completed, failed, errors.messages, latencies, t_end, window_end)


async def _one_session(
    url: str,
    deadline: float,
    cap_s: float,
    expect_total: int | None,
    samples: list[float],
    errors: Errors,
) -> None:
    """Connect, wait for the first reset's observation, close: its time into ``samples``
    (at most ``cap_s``, and nothing past the monotonic ``deadline``), a failure into
    ``errors``."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        errors.add("TimeoutError: the test ran out of time before this session")
        return
    ws = None
    try:
        async with asyncio.timeout(min(remaining, cap_s)):
            start = time.perf_counter()
            ws = await open_session(url, open_timeout=min(remaining, cap_s))
            await exchange(ws, RESET_FRAME, expect_total)
            samples.append(time.perf_counter() - start)
    except (Exception, asyncio.TimeoutError) as exc:
        errors.add(exc)
    finally:
        if ws is not None:
            await close_quietly(ws)


async def connect_latency_async(
    url: str, count: int, timeout_s: float = 60.0, expect_total: int | None = 0
) -> ConnectResult:
    """Connect + first reset, ``count`` times one after another (each closed before the next).

    ``expect_total``: the counter the first observation must carry (``None``: any
    observation will do, for environments other than the benchmark's counter).
    """
    result = ConnectResult(count)
    errors = Errors()
    samples: list[float] = []
    deadline = time.monotonic() + timeout_s
    for _ in range(count):
        await _one_session(url, deadline, 10.0, expect_total, samples, errors)
    result.ok = len(samples)
    result.errors = errors.messages
    result.latency = LatencyStats.of(samples)
    return result


def connect_latency(
    url: str,
    count: int = 200,
    timeout_s: float = 60.0,
    loop: str = "auto",
    expect_total: int | None = 0,
) -> ConnectResult:
    """Connect + first-reset latency, measured from this process (see the module doc)."""
    return _run_loop(connect_latency_async(url, count, timeout_s, expect_total), loop)


async def session_churn_async(
    url: str,
    sessions: int,
    clients: int,
    timeout_s: float = 120.0,
    expect_total: int | None = 0,
) -> ChurnResult:
    """``clients`` clients at once, each looping connect → reset (first observation) →
    close, until ``sessions`` sessions have been started; see :func:`session_churn`."""
    result = ChurnResult(sessions, clients)
    errors = Errors()
    samples: list[float] = []
    deadline = time.monotonic() + timeout_s
    left = sessions

    async def client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await _one_session(url, deadline, 30.0, expect_total, samples, errors)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(max(1, min(clients, sessions)))))
    result.wall_s = time.perf_counter() - started
    result.ok = len(samples)
    result.errors = errors.messages
    result.latency = LatencyStats.of(samples)
    return result


def session_churn(
    url: str,
    sessions: int = 200,
    clients: int = 8,
    timeout_s: float = 120.0,
    loop: str = "auto",
    expect_total: int | None = 0,
) -> ChurnResult:
    """Sustained session starts: ``clients`` concurrent clients each loop connect → first
    ``reset`` observation → close (``close`` frame and WebSocket close handshake) until
    ``sessions`` sessions have been started in all; the rate is sessions that got their
    observation over the wall time of the whole run, closes included."""
    return _run_loop(session_churn_async(url, sessions, clients, timeout_s, expect_total), loop)


@dataclass
class _HoldOutcome:
    connected: int
    succeeded: int
    errors_count: int
    errors: list[str]
    latencies: array
    connect_wall_s: float


async def _run_hold(
    url: str,
    sessions: int,
    sleep_s: float,
    deadline_s: float,
    connect_timeout_s: float,
    connect_concurrency: int,
    barrier: Callable[[], Awaitable[float]],
) -> _HoldOutcome:
    """Connect ``sessions`` at once, ``await barrier()``, then all step together."""
    errors = Errors()
    start = time.monotonic()
    sockets = await open_and_reset(
        url, sessions, connect_concurrency, start + connect_timeout_s, errors
    )
    connect_wall = time.monotonic() - start
    frame = step_frame(1, sleep_s)
    latencies = array("d")
    t_go = await barrier()
    until = t_go + deadline_s

    async def one(ws: ClientConnection) -> bool:
        try:
            async with asyncio.timeout(max(0.0, until - time.perf_counter())):
                await exchange(ws, frame, 1)
            latencies.append(time.perf_counter() - t_go)
            return True
        except (Exception, asyncio.TimeoutError) as exc:
            errors.add(
                exc
                if not isinstance(exc, TimeoutError)
                else "TimeoutError: no reply by the deadline"
            )
            return False

    try:
        ok = await asyncio.gather(*(one(ws) for ws in sockets))
    finally:
        await close_all(sockets)
    return _HoldOutcome(
        len(sockets), ok.count(True), errors.count, errors.messages, latencies, connect_wall
    )


# -- worker processes and their coordinator -------------------------------------------------


def _run_loop(coro: Awaitable[Any], loop: str) -> Any:
    """Run ``coro`` on uvloop when asked (``auto``: when installed), else asyncio."""
    if loop in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if loop == "uvloop":
                raise
        else:
            return uvloop.run(coro)  # type: ignore[arg-type]
    return asyncio.run(coro)  # type: ignore[arg-type]


async def _barrier_over(conn: Connection, ready_message: Callable[[], Any]) -> float:
    """Tell the parent we are ready; wait for its go (which carries the start time)."""
    conn.send(("ready", ready_message()))
    loop = asyncio.get_running_loop()
    got: asyncio.Future[None] = loop.create_future()
    loop.add_reader(conn.fileno(), lambda: got.done() or got.set_result(None))
    try:
        await got
    finally:
        loop.remove_reader(conn.fileno())
        os.set_blocking(conn.fileno(), True)  # uvloop made it non-blocking; results are big
    kind, t_go = conn.recv()
    if kind != "go":
        raise RuntimeError(f"worker expected 'go', got {kind!r}")
    return float(t_go)


def _worker(kind: str, params: dict[str, Any], conn: Connection, loop: str) -> None:
    """Body of a load worker process: measure, report over ``conn``."""
    raise_nofile_limit()
    try:
        if kind == "steps":
            outcome: Any = _run_loop(
                _run_steps(barrier=lambda: _barrier_over(conn, lambda: None), **params), loop
            )
            payload = dataclasses.asdict(outcome) | {"latencies": outcome.latencies.tobytes()}
        elif kind == "hold":
            outcome = _run_loop(
                _run_hold(barrier=lambda: _barrier_over(conn, lambda: None), **params), loop
            )
            payload = dataclasses.asdict(outcome) | {"latencies": outcome.latencies.tobytes()}
        else:
            raise ValueError(kind)
        conn.send(("done", payload))
    except BaseException as exc:  # report, never hang the parent
        with contextlib.suppress(Exception):
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class _Workers:
    """Load worker processes driven in lock step: all ready, then go, then results.

    Each worker is a fresh ``python -m benchmarks.loadgen _worker`` process talking
    over a socket pair, so the caller's ``__main__`` is never re-imported.
    """

    def __init__(
        self, kind: str, shares: list[dict[str, Any]], loop: str, timeout_s: float
    ) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.pipes: list[Connection] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.failures: list[str] = []
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO), env.get("PYTHONPATH", "")) if p)
        try:
            for params in shares:
                mine, theirs = socket.socketpair()
                command = [
                    sys.executable,
                    "-m",
                    "benchmarks.loadgen",
                    "--loop",
                    loop,
                    "_worker",
                    kind,
                    json.dumps(params),
                    str(theirs.fileno()),
                ]
                proc = subprocess.Popen(
                    command,
                    pass_fds=(theirs.fileno(),),
                    env=env,
                    cwd=_REPO,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=die_with_parent,
                )
                theirs.close()
                self.procs.append(proc)
                self.pipes.append(Connection(mine.detach()))
        except BaseException:
            self.close()
            raise

    def _collect(self, expect: str) -> list[Any]:
        """One message of kind ``expect`` from every live worker (others: failures)."""
        out: list[Any] = []
        for pipe in self.pipes:
            remaining = self.deadline - time.monotonic()
            try:
                if remaining <= 0 or not pipe.poll(remaining):
                    raise TimeoutError(f"load worker gave no {expect!r} in time")
                kind, payload = pipe.recv()
            except (EOFError, OSError, TimeoutError) as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
                out.append(None)
                continue
            if kind != expect:
                self.failures.append(str(payload))
                out.append(None)
            else:
                out.append(payload)
        return out

    def wait_ready(self) -> None:
        """Block until every worker has its sessions open (or has failed)."""
        self._collect("ready")

    def go(self) -> float:
        """Release every worker at once; return the release time (``perf_counter``)."""
        t_go = time.perf_counter()
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("go", t_go))
        return t_go

    def results(self) -> list[Any]:
        """Every worker's outcome (``None`` for a worker that failed)."""
        return self._collect("done")

    def close(self) -> None:
        """Wait for the workers to finish closing their sessions; kill stragglers."""
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(1.0, min(30.0, self.deadline - time.monotonic() + 5)))
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(3)
        for pipe in self.pipes:
            pipe.close()

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _split(total: int, parts: int) -> list[int]:
    """``total`` split into at most ``parts`` near-equal non-empty shares."""
    parts = max(1, min(parts, total)) if total else 1
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def step_load(
    url: str,
    sessions: int = 64,
    steps: int = 1000,
    *,
    warmup: int = 20,
    processes: int = 1,
    server_pid: int | None = None,
    timeout_s: float = 180.0,
    loop: str = "auto",
    client: str = "raw",
) -> StepLoadResult:
    """``sessions`` sessions each reset then take ``warmup`` + ``steps`` steps; measure the steps.

    ``client`` says how the measured steps are sent (:data:`STEP_CLIENTS`).

    Sessions are spread over ``processes`` worker processes. Measured from the
    moment all sessions are warm (barrier) until the last reply: latencies of
    every step, aggregate steps/s, and, with ``server_pid``, the server's CPU
    seconds over that window. Bounded by ``timeout_s``.
    """
    result = StepLoadResult(sessions, steps, processes)
    shares = [
        {
            "url": url,
            "sessions": n,
            "steps": steps,
            "warmup": warmup,
            "timeout_s": timeout_s,
            "server_pid": server_pid,
            "client": client,
        }
        for n in _split(sessions, processes)
    ]
    with _Workers("steps", shares, loop, timeout_s + 30) as workers:
        workers.wait_ready()
        start = window_snapshot(server_pid)
        t_go = workers.go()
        outcomes = workers.results()
    samples = array("d")
    t_end = t_go
    errors = Errors()
    end: dict[str, float] | None = None  # the window ends with the last worker to finish
    load_cpu = 0.0
    for share, outcome in zip(shares, outcomes, strict=True):
        if outcome is None:
            result.failed_sessions += share["sessions"]
            continue
        result.completed_steps += outcome["completed"]
        result.failed_sessions += outcome["failed_sessions"]
        for message in outcome["errors"]:
            errors.add(message)
        samples.frombytes(outcome["latencies"])
        t_end = max(t_end, outcome["t_end"])
        load_cpu += outcome["window_end"]["load_cpu"]
        if end is None or outcome["window_end"]["t"] > end["t"]:
            end = outcome["window_end"]
    if end is not None and None not in outcomes:
        result.load_cpu_s = load_cpu
        if "server_cpu" in start and "server_cpu" in end:
            result.server_cpu_s = end["server_cpu"] - start["server_cpu"]
            result.other_cpu_s = max(
                0.0, end["busy"] - start["busy"] - result.server_cpu_s - load_cpu
            )
    for message in workers.failures:
        errors.add(message)
    result.errors = errors.messages
    result.wall_s = t_end - t_go
    result.latency = LatencyStats.of(samples)
    return result


def hold_sleeping(
    url: str,
    sessions: int,
    *,
    sleep_s: float = 2.0,
    deadline_s: float = 12.0,
    connect_timeout_s: float = 120.0,
    connect_concurrency: int = 256,
    processes: int = 1,
    server_pid: int | None = None,
    loop: str = "auto",
) -> HoldResult:
    """Hold ``sessions`` sessions at once, each taking one step that sleeps ``sleep_s``.

    All sessions connect and reset first (at most ``connect_concurrency``
    handshakes in flight, within ``connect_timeout_s``); when every worker is
    ready, all send their step together. A session succeeds when its observation
    arrives within ``deadline_s`` of that moment; sessions that never connected
    count as failures. With ``server_pid``, the server's thread count and RSS
    while holding every session are recorded.
    """
    result = HoldResult(sessions, sleep_s, deadline_s, processes)
    counts = _split(sessions, processes)
    shares = [
        {
            "url": url,
            "sessions": n,
            "sleep_s": sleep_s,
            "deadline_s": deadline_s,
            "connect_timeout_s": connect_timeout_s,
            "connect_concurrency": max(1, connect_concurrency // len(counts)),
        }
        for n in counts
    ]
    with _Workers("hold", shares, loop, connect_timeout_s + deadline_s + 60) as workers:
        workers.wait_ready()
        if server_pid:
            with contextlib.suppress(OSError):
                status = process_status(server_pid)
                result.server_threads = status.get("threads")
                result.server_rss_bytes = status.get("rss_bytes")
        workers.go()
        outcomes = workers.results()
    samples = array("d")
    errors = Errors()
    walls = []
    for outcome in outcomes:
        if outcome is None:
            continue
        result.connected += outcome["connected"]
        result.succeeded += outcome["succeeded"]
        walls.append(outcome["connect_wall_s"])
        for message in outcome["errors"]:
            errors.add(message)
        samples.frombytes(outcome["latencies"])
    for message in workers.failures:
        errors.add(message)
    result.errors = errors.messages
    result.connect_wall_s = max(walls) if walls else math.nan
    result.step_latency = LatencyStats.of(samples)
    return result


# -- CLI -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.loadgen {steps,connect,hold} URL ...``; prints JSON."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[2:3] == ["_worker"]:  # --loop LOOP _worker KIND PARAMS FD: see _Workers
        loop, kind, params, fd = argv[1], argv[3], argv[4], int(argv[5])
        _worker(kind, json.loads(params), Connection(fd), loop)
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.loadgen", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--loop",
        default="auto",
        choices=("auto", "asyncio", "uvloop"),
        help="the load side's event loop (auto: uvloop when installed)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    steps = sub.add_parser("steps", help="K sessions, reset then M steps each")
    steps.add_argument("url")
    steps.add_argument("--sessions", type=int, default=64)
    steps.add_argument("--steps", type=int, default=1000)
    steps.add_argument("--warmup", type=int, default=20)
    steps.add_argument("--processes", type=int, default=1)
    steps.add_argument("--server-pid", type=int, help="measure this process's CPU per step")
    steps.add_argument("--timeout", type=float, default=180.0)
    steps.add_argument(
        "--client",
        default="raw",
        choices=STEP_CLIENTS,
        help="how the measured steps are sent: raw frames from the socket's callbacks "
        "(cheap, so the server is what is measured) or websockets' send/recv",
    )

    conn = sub.add_parser("connect", help="connect + first reset latency, sequentially")
    conn.add_argument("url")
    conn.add_argument("--count", type=int, default=200)
    conn.add_argument("--timeout", type=float, default=60.0)

    hold = sub.add_parser("hold", help="N sessions at once, one sleeping step each")
    hold.add_argument("url")
    hold.add_argument("--sessions", type=int, default=1000)
    hold.add_argument("--sleep", type=float, default=2.0)
    hold.add_argument("--deadline", type=float, default=12.0, help="seconds after the go")
    hold.add_argument("--connect-timeout", type=float, default=120.0)
    hold.add_argument("--connect-concurrency", type=int, default=256)
    hold.add_argument("--processes", type=int, default=1)
    hold.add_argument("--server-pid", type=int)

    args = parser.parse_args(argv)
    raise_nofile_limit()
    summary: dict[str, Any]
    if args.command == "steps":
        summary = step_load(
            args.url,
            args.sessions,
            args.steps,
            warmup=args.warmup,
            processes=args.processes,
            server_pid=args.server_pid,
            timeout_s=args.timeout,
            loop=args.loop,
            client=args.client,
        ).summary()
    elif args.command == "connect":
        summary = connect_latency(args.url, args.count, args.timeout, args.loop).summary()
    else:
        summary = hold_sleeping(
            args.url,
            args.sessions,
            sleep_s=args.sleep,
            deadline_s=args.deadline,
            connect_timeout_s=args.connect_timeout,
            connect_concurrency=args.connect_concurrency,
            processes=args.processes,
            server_pid=args.server_pid,
            loop=args.loop,
        ).summary()
    json.dump(summary, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
