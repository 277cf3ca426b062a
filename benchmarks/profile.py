"""Where a server's CPU goes per step: profile one benchmark server under load.

Starts the server under the sampling profiler of :mod:`benchmarks.servers._sampled`
(pinned to its own core, like ``benchmarks.run``), warms it up, drives it with
the load generator, and prints the functions that cost the most server CPU, in
share of samples and in microseconds per step (share x measured CPU per step),
plus the user/system split of that CPU from ``/proc``. The sampler charges time
spent in C code and system calls to the Python line that called them (so
"kernel: socket send" is ``transport.write``'s ``send()``), and a sample may land
on the next Python call after a C call returns: trust inclusive figures and
layers more than single self-time rows.

    python -m benchmarks.profile                       # ours, 64 sessions
    python -m benchmarks.profile --server reference --sessions 1 --steps 20000
    python -m benchmarks.profile --raw /tmp/ours.collapsed   # keep the stacks (flame graphs)
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import loadgen
from benchmarks.servers import KINDS, start

_LINE = re.compile(r"^(.*) (\d+)$")

LAYERS: list[tuple[str, Callable[[str], bool]]] = [
    # (layer, test on the leaf frame "function (file)"); the first match wins
    ("kernel: socket send", lambda f: f.startswith("_SelectorSocketTransport.write (")),
    (
        "kernel: socket recv",
        lambda f: f.startswith("_SelectorSocketTransport._read_ready__data_received ("),
    ),
    ("kernel: epoll (selectors)", lambda f: "(selectors.py)" in f),
    ("asyncio queues", lambda f: "asyncio/queues.py" in f),
    ("asyncio timeouts", lambda f: "asyncio/timeouts.py" in f),
    ("asyncio event loop", lambda f: "(asyncio/" in f),
    ("uvicorn", lambda f: "uvicorn/" in f),
    ("starlette / fastapi", lambda f: "starlette/" in f or "fastapi/" in f),
    ("websockets (frames)", lambda f: "websockets/" in f),
    ("pydantic", lambda f: "pydantic" in f),
    ("openenv", lambda f: "openenv/" in f),
    ("benchmark env / server script", lambda f: "servers/" in f),
]


def cpu_times(pid: int) -> tuple[float, float]:
    """``(user, system)`` CPU seconds of a process, from ``/proc/<pid>/stat``."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def layer_of(leaf: str) -> str:
    """The layer of the stack a sample's leaf frame belongs to (see :data:`LAYERS`)."""
    return next((name for name, test in LAYERS if test(leaf)), "other")


def summarise(
    collapsed: Path,
) -> tuple[int, collections.Counter[str], collections.Counter[str], collections.Counter[str]]:
    """Total samples, and samples per function (self, inclusive) and per file (self)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    files: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        frames, count = match.group(1).split(";"), int(match.group(2))
        total += count
        own[frames[-1]] += count
        files[frames[-1].rsplit("(", 1)[-1].rstrip(")")] += count
        for frame in set(frames):
            inclusive[frame] += count
    return total, own, inclusive, files


def table(
    title: str,
    counts: collections.Counter[str],
    total: int,
    us_per_step: float,
    top: int,
    fold_chains: bool = False,
) -> Table:
    """The ``top`` rows of ``counts``; ``fold_chains`` shows one row per run of equal counts.

    Wrappers that only call the next layer (ASGI middleware, routing) all have the
    same inclusive count; folding keeps the innermost-looking one of each run.
    """
    t = Table(title=title, title_justify="left")
    t.add_column("share", justify="right")
    t.add_column("µs/step", justify="right")
    t.add_column("where")
    rows: list[tuple[str, int]] = []
    for name, count in counts.most_common():
        if fold_chains and rows and rows[-1][1] == count:
            continue
        rows.append((name, count))
        if len(rows) == top:
            break
    for name, count in rows:
        share = count / total
        t.add_row(f"{share:.1%}", f"{share * us_per_step:.1f}", name)
    return t


def main(argv: list[str] | None = None) -> int:
    """Profile one server; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--server", default="ours", choices=sorted(KINDS))
    parser.add_argument("--sessions", type=int, default=64)
    parser.add_argument("--steps", type=int, help="steps per session (default: ~150k in all)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--raw", type=Path, help="also keep the collapsed stacks here")
    parser.add_argument(
        "--hide",
        default="asyncio/runners.py,uvicorn/server.py",
        help="drop inclusive rows from these files (the loop's own frames)",
    )
    args = parser.parse_args(argv)
    steps = args.steps or max(1000, 150_000 // args.sessions)

    console = Console()
    cores = sorted(os.sched_getaffinity(0))
    server_cpus = {cores[-1]} if len(cores) > 1 else None
    if server_cpus:
        os.sched_setaffinity(0, set(cores[:-1]))
    loadgen.raise_nofile_limit()
    workdir = Path(tempfile.mkdtemp(prefix="openenv-profile-"))
    out = workdir / "stacks.collapsed"
    server = start(args.server, loop=args.loop, cpus=server_cpus, profile_out=out)
    try:
        console.print(
            f"[dim]profiling {args.server} (pid {server.pid}) with "
            f"{args.sessions} sessions x {steps} steps…[/dim]"
        )
        loadgen.step_load(server.url, args.sessions, 100)  # warm up
        os.kill(server.pid, signal.SIGUSR1)  # start of the window
        user0, sys0 = cpu_times(server.pid)
        result = loadgen.step_load(server.url, args.sessions, steps, warmup=0)
        user1, sys1 = cpu_times(server.pid)
        os.kill(server.pid, signal.SIGUSR2)  # end of the window
    finally:
        server.stop()
    for _ in range(50):
        if out.exists():
            break
        time.sleep(0.1)
    if not out.exists():
        console.print(f"[red]no profile written[/red]\n{server.log_tail()}")
        return 1
    n = max(1, result.completed_steps + args.sessions)  # + the resets
    user_us, sys_us = (user1 - user0) / n * 1e6, (sys1 - sys0) / n * 1e6
    per_step = user_us + sys_us
    total, own, inclusive, files = summarise(out)
    hidden = tuple(h for h in args.hide.split(",") if h)
    for name in list(inclusive):
        if name.endswith(tuple(f"({h})" for h in hidden)) or inclusive[name] == total:
            del inclusive[name]
    console.print(
        f"{args.server}: {result.steps_per_s:,.0f} steps/s; server CPU {per_step:.1f} µs/step "
        f"(user {user_us:.1f}, system {sys_us:.1f}); {total:,} samples"
        + (f"; [red]errors: {result.errors}[/red]" if result.errors else "")
    )
    layers: collections.Counter[str] = collections.Counter()
    for leaf, count in own.items():
        layers[layer_of(leaf)] += count
    console.print(table("self time by layer", layers, total, per_step, args.top))
    console.print(table("self time by file", files, total, per_step, args.top))
    console.print(table("self time by function", own, total, per_step, args.top))
    console.print(
        table(
            "inclusive time by function (runs of equal counts folded)",
            inclusive,
            total,
            per_step,
            args.top,
            fold_chains=True,
        )
    )
    if args.raw:
        shutil.copyfile(out, args.raw)
        console.print(f"[dim]collapsed stacks: {args.raw}[/dim]")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
