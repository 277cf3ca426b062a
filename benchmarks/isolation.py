"""What isolation costs: a sandboxed session's start-up, step overhead and memory.

One run starts three servers of the echo environment, each a subprocess on a
free ``127.0.0.1`` port, and measures (issue 3, section 3):

* **connect → first reset**, for a new session: time from opening the WebSocket
  to receiving the first reset observation, with a warm pool (``sandbox``, pool
  of ``--pool``; the pool is full again before each sample, as it is for a
  session arriving at a server that is not saturated) and cold (``sandbox``,
  pool 0: the worker starts inside the connect); in-process for reference;
* **step overhead**: p50 step latency, one session, sandboxed minus in-process,
  in interleaved rounds (median of the rounds' differences) so slow drift of the
  machine hits both alike;
* **memory per idle pooled worker**: PSS, RSS and USS (private) of each idle
  worker's process tree (a forked worker and its children; or, spawned, bwrap's
  monitor and the Python worker), from ``/proc/<pid>/smaps_rollup``; a zygote's
  template is reported apart.

It prints a Rich table with the targets marked pass/fail; ``--json PATH`` writes
every figure. Every server is stopped on the way out, Ctrl-C included.

    python -m benchmarks.isolation                  # the full run (~20 s)
    python -m benchmarks.isolation --quick          # smoke run (~10 s)
    python -m benchmarks.isolation --json isolation.json

    python -m benchmarks.isolation serve --isolation sandbox --pool 4 --port 8123
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
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import connect

from benchmarks.loadgen import process_cpu_seconds
from openenv.runtime.zygote import is_template

TARGETS = {
    "warm_connect_p50_ms": 30.0,
    "cold_connect_p50_ms": 300.0,
    "step_overhead_p50_us": 200.0,
}
POOL_ROUTE = "/_bench/pool"


@dataclass(frozen=True)
class Settings:
    connect_samples: int = 40
    cold_samples: int = 30
    step_rounds: int = 5
    steps_per_round: int = 2000
    warmup_steps: int = 200
    pool: int = 4


QUICK = Settings(
    connect_samples=8, cold_samples=6, step_rounds=2, steps_per_round=300, warmup_steps=50
)
TINY = Settings(
    connect_samples=2, cold_samples=2, step_rounds=1, steps_per_round=30, warmup_steps=5, pool=2
)


# -- the servers ------------------------------------------------------------------------


def serve(isolation: str, pool: int, port: int) -> None:
    """Run one echo server (the ``serve`` sub-command), with a route showing its pool."""
    from echo_env.server import EchoEnvironment

    from openenv.server import ServerConfig, create_app
    from openenv.server.run import run

    config = ServerConfig(isolation=isolation, warm_pool_size=pool)  # type: ignore[arg-type]
    app = create_app(EchoEnvironment, config=config)

    async def pool_stats() -> dict[str, Any]:
        pool = getattr(app.state.sessions.factory, "pool", None)
        return pool.stats() if pool is not None else {}

    app.add_api_route(POOL_ROUTE, pool_stats, methods=["GET"])
    with contextlib.suppress(KeyboardInterrupt):
        run(app, port=port)


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def get(self, path: str) -> Any:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=10).json()

    def pool(self) -> dict[str, int]:
        return self.get(POOL_ROUTE)

    def wait_pool_full(self, timeout: float = 30.0) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while True:
            stats = self.pool()
            if stats.get("idle", 0) >= stats.get("size", 0) and not stats.get("starting"):
                return stats
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: pool not full after {timeout} s: {stats}")
            time.sleep(0.005)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(name: str, isolation: str, pool: int) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.isolation", "serve"]
    command += ["--isolation", isolation, "--pool", str(pool), "--port", str(port)]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    server = Server(name, process, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server {name} exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if server.get("/health") == {"status": "healthy"}:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"server {name} did not start")
            time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- measurements -----------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "p99": percentile(values, 0.99),
        "n": len(values),
    }


async def _connect_and_reset(url: str) -> float:
    started = time.perf_counter()
    async with connect(url, compression=None, ping_interval=None, proxy=None) as ws:
        await ws.send('{"type":"reset","data":{}}')
        frame = orjson.loads(await ws.recv())
        elapsed = time.perf_counter() - started
        if frame.get("type") != "observation":
            raise RuntimeError(f"reset failed: {frame}")
        await ws.send('{"type":"close"}')
    return elapsed


def connect_latency(server: Server, samples: int, warm: bool) -> list[float]:
    """Seconds from connect to the first reset observation, one new session at a time."""
    times = []
    for _ in range(samples):
        if warm:
            server.wait_pool_full()
        times.append(asyncio.run(_connect_and_reset(server.ws_url)))
    return times


async def _steps(url: str, steps: int, warmup: int) -> list[float]:
    message = '{"type":"step","data":{"message":"hello"}}'
    async with connect(url, compression=None, ping_interval=None, proxy=None) as ws:
        await ws.send('{"type":"reset","data":{"max_steps":1000000000}}')
        await ws.recv()
        times = []
        for i in range(warmup + steps):
            started = time.perf_counter()
            await ws.send(message)
            reply = await ws.recv()
            elapsed = time.perf_counter() - started
            if i == 0 and '"observation"' not in str(reply):
                raise RuntimeError(f"step failed: {reply!r}")
            if i >= warmup:
                times.append(elapsed)
        return times


def step_latency(server: Server, steps: int, warmup: int) -> list[float]:
    return asyncio.run(_steps(server.ws_url, steps, warmup))


def smaps_rollup(pid: int) -> dict[str, int]:
    """kB figures of one process from ``/proc/<pid>/smaps_rollup``."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if len(parts) == 2 and parts[1] == "kB":
                    found[key] = int(parts[0])
    except OSError:
        pass
    return found


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def tree(pid: int) -> list[int]:
    found, i = [pid], 0
    while i < len(found):
        found.extend(children(found[i]))
        i += 1
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU (user + system) of a process and every live descendant."""
    total = 0.0
    for p in tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += process_cpu_seconds(p)
    return total


def available_mib() -> float:
    """``MemAvailable`` of this machine, in MiB."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")


def worker_memory(server: Server) -> dict[str, Any]:
    """PSS/RSS/USS (MiB) of each idle pooled worker's process tree, and their mean."""
    server.wait_pool_full()
    time.sleep(0.2)  # let the last started worker settle
    return idle_worker_memory(server.process.pid)


def _tree_memory(procs: list[int]) -> dict[str, Any]:
    figures = [smaps_rollup(pid) for pid in procs]
    return {
        "processes": len(procs),
        "pss_mib": sum(f.get("Pss", 0) for f in figures) / 1024,
        "rss_mib": sum(f.get("Rss", 0) for f in figures) / 1024,
        "uss_mib": sum(f.get("Private_Clean", 0) + f.get("Private_Dirty", 0) for f in figures)
        / 1024,
    }


def idle_worker_memory(server_pid: int) -> dict[str, Any]:
    """PSS/RSS/USS (MiB) of each idle worker's process tree under a sandboxed server, and
    their mean. A child of the server is a spawned worker's bwrap monitor, or a zygote's
    (runtime/zygote.py): then each child of its template is a forked worker, and the
    template (monitor and template process) is reported apart, under ``templates``. PSS
    shares each page among the processes that map it, so the template's pages that the
    workers still share are split between them. Call it with no session open and the
    warm pool full, so every worker is an idle pooled one."""
    workers, templates = [], []
    for monitor in children(server_pid):
        inner = children(monitor)
        if inner and is_template(inner[0]):
            templates.append(_tree_memory([monitor, *inner]))
            workers += [_tree_memory(tree(worker)) for worker in children(inner[0])]
        else:
            workers.append(_tree_memory(tree(monitor)))
    if not workers:
        raise RuntimeError("no idle worker found under the server")
    mean = {
        key: statistics.mean(w[key] for w in workers) for key in ("pss_mib", "rss_mib", "uss_mib")
    }
    return {"workers": workers, "templates": templates, **mean}


# -- the run ------------------------------------------------------------------------------


@dataclass
class Results:
    settings: Settings
    machine: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "settings": dataclasses.asdict(self.settings),
            "machine": self.machine,
            "figures": self.figures,
            "targets": self.targets,
        }


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def measure(settings: Settings, log: Any = print) -> Results:
    """Every figure, with the three servers up at once."""
    results = Results(settings, machine())
    figures = results.figures
    with (
        running("in-process", "none", 0) as plain,
        running("sandbox-warm", "sandbox", settings.pool) as warm,
        running("sandbox-cold", "sandbox", 0) as cold,
    ):
        log("memory of idle pooled workers")
        figures["idle_worker_memory"] = worker_memory(warm)

        log(f"connect -> first reset, {settings.connect_samples} new sessions per server")
        plain_connect = connect_latency(plain, settings.connect_samples, warm=False)
        warm_connect = connect_latency(warm, settings.connect_samples, warm=True)
        cold_connect = connect_latency(cold, settings.cold_samples, warm=False)
        figures["connect_ms"] = {
            name: {k: v * 1000 if k != "n" else v for k, v in summary(times).items()}
            for name, times in (
                ("in-process", plain_connect),
                ("sandbox-warm", warm_connect),
                ("sandbox-cold", cold_connect),
            )
        }
        figures["warm_pool"] = warm.pool()

        log(f"step latency, {settings.step_rounds} interleaved rounds")
        plain_p50s, sandbox_p50s, sandbox_p99s, plain_p99s = [], [], [], []
        for _ in range(settings.step_rounds):
            a = step_latency(plain, settings.steps_per_round, settings.warmup_steps)
            b = step_latency(warm, settings.steps_per_round, settings.warmup_steps)
            plain_p50s.append(percentile(a, 0.5))
            sandbox_p50s.append(percentile(b, 0.5))
            plain_p99s.append(percentile(a, 0.99))
            sandbox_p99s.append(percentile(b, 0.99))
        overheads = [(b - a) * 1e6 for a, b in zip(plain_p50s, sandbox_p50s, strict=True)]
        figures["step_us"] = {
            "in-process_p50": statistics.median(plain_p50s) * 1e6,
            "sandbox_p50": statistics.median(sandbox_p50s) * 1e6,
            "in-process_p99": statistics.median(plain_p99s) * 1e6,
            "sandbox_p99": statistics.median(sandbox_p99s) * 1e6,
            "overhead_p50_rounds": overheads,
        }
    values = {
        "warm_connect_p50_ms": figures["connect_ms"]["sandbox-warm"]["p50"],
        "cold_connect_p50_ms": figures["connect_ms"]["sandbox-cold"]["p50"],
        "step_overhead_p50_us": statistics.median(overheads),
    }
    figures.update(values)
    results.targets = [
        {"name": name, "value": values[name], "target": target, "pass": values[name] <= target}
        for name, target in TARGETS.items()
    ]
    return results


LABELS = {
    "warm_connect_p50_ms": ("connect → first reset, warm pool, p50", "ms"),
    "cold_connect_p50_ms": ("connect → first reset, cold (pool 0), p50", "ms"),
    "step_overhead_p50_us": ("step overhead of isolation, p50", "µs"),
}


def table(results: Results) -> Table:
    figures = results.figures
    out = Table(title="Isolation (echo env): what a sandboxed session costs", title_justify="left")
    for column in ("measure", "value", "target", ""):
        out.add_column(column, justify="left" if column == "measure" else "right")
    for target in results.targets:
        label, unit = LABELS[target["name"]]
        verdict = "[green]pass[/]" if target["pass"] else "[red]FAIL[/]"
        out.add_row(
            label, f"{target['value']:.1f} {unit}", f"≤ {target['target']:g} {unit}", verdict
        )
    connect = figures["connect_ms"]
    for name in ("in-process", "sandbox-warm", "sandbox-cold"):
        c = connect[name]
        out.add_row(
            f"connect → first reset, {name}, p50 / p90",
            f"{c['p50']:.1f} / {c['p90']:.1f} ms",
            "",
            "",
        )
    steps = figures["step_us"]
    out.add_row(
        "step p50, in-process / sandboxed",
        f"{steps['in-process_p50']:.0f} / {steps['sandbox_p50']:.0f} µs",
        "",
        "",
    )
    out.add_row(
        "step p99, in-process / sandboxed",
        f"{steps['in-process_p99']:.0f} / {steps['sandbox_p99']:.0f} µs",
        "",
        "",
    )
    memory = figures["idle_worker_memory"]
    out.add_row(
        "memory per idle pooled worker: PSS / USS / RSS",
        f"{memory['pss_mib']:.1f} / {memory['uss_mib']:.1f} / {memory['rss_mib']:.1f} MiB",
        "",
        "",
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("serve", help="run one benchmark server (used by the run)")
    one.add_argument("--isolation", choices=("none", "sandbox"), default="sandbox")
    one.add_argument("--pool", type=int, default=4)
    one.add_argument("--port", type=int, required=True)
    parser.add_argument("--quick", action="store_true", help="fewer samples: a smoke run")
    parser.add_argument("--pool", type=int, default=None, help="warm pool size (default 4)")
    parser.add_argument("--json", metavar="PATH", help="write every figure as JSON")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.isolation, args.pool, args.port)
        return 0
    settings = QUICK if args.quick else Settings()
    if args.pool is not None:
        settings = dataclasses.replace(settings, pool=args.pool)
    console = Console(width=None if sys.stdout.isatty() else 120)
    results = measure(settings, log=lambda text: console.print(f"[dim]{text}…[/dim]"))
    console.print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results.as_json(), f, indent=2)
        console.print(f"[dim]wrote {args.json}[/dim]")
    return 0 if all(t["pass"] for t in results.targets) else 1


if __name__ == "__main__":
    sys.exit(main())
