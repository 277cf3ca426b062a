"""What a batch of sessions costs through :class:`openenv.EnvPool`, against the raw floor.

Two figures, each against its target:

* **echo throughput** — our server with the benchmark's counter env; first
  :func:`benchmarks.loadgen.step_load` (raw websockets, one process, every session
  stepping on its own) measures steps/s, then an :class:`~openenv.AsyncEnvPool` of
  the same number of sessions on the same server steps in lockstep batches (typed
  results, failure handling and all), and in send/recv mode, each session stepping
  on its own as loadgen's do. Target: the pool reaches >= 80 % of loadgen, on each
  event loop (the same loop on both sides). Rounds of all of it, back to back, and
  medians: two processes sharing two cores swing by 2x from run to run.
* **sandboxed coding resets** — ``openenv serve coding_env --isolation sandbox``
  with a warm pool; an :class:`~openenv.EnvPool` of 64 sessions resets once to
  warm up (every session gets its sandbox), then ``--resets`` more times; the p50
  of a whole-batch reset is reported. Target: <= 2 s.

    python -m benchmarks.envpool                       # both, default sizes
    python -m benchmarks.envpool --sessions 64 --steps 200 --resets 10 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import loadgen
from benchmarks.servers import launch
from openenv import AsyncEnvPool, EnvPool, GenericEnvClient

THROUGHPUT_TARGET = 0.80
RESET_TARGET_S = 2.0


async def _pool_steps(url: str, sessions: int, steps: int, warmup: int) -> dict[str, float]:
    base = url.replace("ws://", "http://").removesuffix("/ws")
    async with AsyncEnvPool(GenericEnvClient, base, n=sessions, verify_server=False) as pool:
        batch = await pool.reset()
        if batch.failures:
            raise RuntimeError(f"pool reset failed: {batch.failures[0]}")
        actions = [{"n": 1}] * sessions
        for _ in range(warmup):
            (await pool.step(actions)).failed.sum()  # numpy imported before the clock starts
        started, cpu = time.perf_counter(), time.process_time()
        failed = 0
        for _ in range(steps):
            failed += int((await pool.step(actions)).failed.sum())
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "steps_per_s": sessions * steps / wall,
        "wall_s": wall,
        "failed": failed,
        "cpu_us_per_step": cpu / (sessions * steps) * 1e6,
    }


async def _pool_free_running(url: str, sessions: int, steps: int) -> dict[str, float]:
    """send/recv: each session sends its next step as soon as its reply is in, as
    loadgen's sessions do (no waiting for the batch's slowest)."""
    base = url.replace("ws://", "http://").removesuffix("/ws")
    async with AsyncEnvPool(GenericEnvClient, base, n=sessions, verify_server=False) as pool:
        await pool.reset()
        left = [steps] * sessions
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(sessions):
            pool.send(i, {"n": 1})
        done = 0
        while pool.in_flight:
            i, _ = await pool.recv(timeout_s=60)
            done += 1
            left[i] -= 1
            if left[i]:
                pool.send(i, {"n": 1})
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"steps_per_s": done / wall, "wall_s": wall, "cpu_us_per_step": cpu / done * 1e6}


async def _raw_lockstep(url: str, sessions: int, steps: int, warmup: int) -> dict[str, float]:
    """Steps/s of bare websockets stepping in lockstep batches, as the pool's lockstep
    mode does: the floor of lockstep, where each batch waits for its slowest reply."""
    from websockets.asyncio.client import connect

    sockets = [await connect(url, compression=None, ping_interval=None) for _ in range(sessions)]
    try:
        for ws in sockets:
            await ws.send('{"type": "reset", "data": {}}')
            await ws.recv()
        frame = json.dumps({"type": "step", "data": {"action": {"n": 1}}})

        async def one(ws: Any) -> None:
            await ws.send(frame)
            json.loads(await ws.recv())

        for _ in range(warmup):
            await asyncio.gather(*(one(ws) for ws in sockets))
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            await asyncio.gather(*(one(ws) for ws in sockets))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        return {
            "steps_per_s": sessions * steps / wall,
            "cpu_us_per_step": cpu / (sessions * steps) * 1e6,
        }
    finally:
        for ws in sockets:
            await ws.close()


def _echo_round(url: str, sessions: int, steps: int, warmup: int, loop: str) -> dict[str, Any]:
    """One of each measurement, back to back on ``loop``: loadgen, bare lockstep, the
    pool in lockstep, the pool in send/recv."""
    raw = loadgen.step_load(url, sessions=sessions, steps=steps, warmup=warmup, loop=loop)
    if raw.errors or raw.failed_sessions:
        raise RuntimeError(f"loadgen failed: {raw.errors[:3]}")
    lockstep = loadgen._run_loop(_raw_lockstep(url, sessions, steps, warmup), loop)
    pooled = loadgen._run_loop(_pool_steps(url, sessions, steps, warmup), loop)
    free = loadgen._run_loop(_pool_free_running(url, sessions, steps), loop)
    return {
        "loadgen": raw.steps_per_s,
        "loadgen_cpu": (raw.load_cpu_s or 0.0) / max(1, raw.completed_steps) * 1e6,
        "bare_lockstep": lockstep["steps_per_s"],
        "bare_lockstep_cpu": lockstep["cpu_us_per_step"],
        "pool": pooled["steps_per_s"],
        "pool_cpu": pooled["cpu_us_per_step"],
        "pool_failed": pooled["failed"],
        "send_recv": free["steps_per_s"],
        "send_recv_cpu": free["cpu_us_per_step"],
    }


def echo_throughput(sessions: int, steps: int, warmup: int = 20, rounds: int = 5) -> dict[str, Any]:
    """loadgen's steps/s and the pool's on one server, on each event loop (asyncio, and
    uvloop where installed): the same loop on both sides.

    Two processes sharing two cores swing by 2x from run to run, so each loop runs
    ``rounds`` rounds, each measuring everything back to back, and every figure is
    the median over the rounds (ratios: the median of each round's ratio).
    """
    loops = ["asyncio"] + (["uvloop"] if importlib.util.find_spec("uvloop") else [])
    figures: dict[str, Any] = {"sessions": sessions, "steps": steps, "rounds": rounds}
    figures["loops"] = {}
    with launch("ours") as server:
        for loop in loops:
            runs = [_echo_round(server.url, sessions, steps, warmup, loop) for _ in range(rounds)]

            def median(key: str, runs: list[dict[str, Any]] = runs) -> float:
                return statistics.median(r[key] for r in runs)

            def ratio(key: str, over: str, runs: list[dict[str, Any]] = runs) -> float:
                return round(statistics.median(r[key] / r[over] for r in runs), 3)

            figures["loops"][loop] = {
                "loadgen_steps_per_s": round(median("loadgen")),
                "pool_steps_per_s": round(median("pool")),
                "raw_lockstep_steps_per_s": round(median("bare_lockstep")),
                "pool_send_recv_steps_per_s": round(median("send_recv")),
                "ratio": ratio("pool", "loadgen"),
                "send_recv_ratio": ratio("send_recv", "loadgen"),
                "lockstep_ratio": ratio("pool", "bare_lockstep"),
                "client_cpu_us_per_step": {
                    "loadgen": round(median("loadgen_cpu")),
                    "bare_lockstep": round(median("bare_lockstep_cpu")),
                    "pool_lockstep": round(median("pool_cpu")),
                    "pool_send_recv": round(median("send_recv_cpu")),
                },
                "pool_failed": sum(r["pool_failed"] for r in runs),
                "rounds": [{k: round(v, 1) for k, v in r.items()} for r in runs],
            }
    best = max(figures["loops"].values(), key=lambda f: f["ratio"])
    figures["pass"] = all(
        max(f["ratio"], f["send_recv_ratio"]) >= THROUGHPUT_TARGET
        for f in figures["loops"].values()
    )
    figures["best_ratio"] = best["ratio"]
    return figures


def coding_resets(sessions: int, resets: int, warm_pool: int) -> dict[str, Any]:
    """Whole-batch reset times of a sandboxed coding_env pool, after a warm-up reset."""
    from coding_env import CodingEnv

    server_args = ["--max-sessions", str(sessions + 8), "--warm-pool-size", str(warm_pool)]
    started = time.perf_counter()
    with EnvPool.from_env(
        CodingEnv, "coding_env", n=sessions, isolation="sandbox", server_args=server_args
    ) as pool:
        first = pool.reset(seeds=0)
        warmup_s = time.perf_counter() - started
        if first.failures:
            raise RuntimeError(f"warm-up reset failed: {first.failures[0]}")
        times = []
        for k in range(resets):
            t = time.perf_counter()
            batch = pool.reset(seeds=k * sessions)
            times.append(time.perf_counter() - t)
            if batch.failures:
                raise RuntimeError(f"reset {k} failed: {batch.failures[0]}")
    p50 = statistics.median(times)
    return {
        "sessions": sessions,
        "warm_up_s": round(warmup_s, 2),
        "reset_p50_s": round(p50, 3),
        "reset_max_s": round(max(times), 3),
        "pass": p50 <= RESET_TARGET_S,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=64, help="sessions per pool (64)")
    parser.add_argument("--steps", type=int, default=200, help="measured steps per session")
    parser.add_argument("--resets", type=int, default=10, help="measured coding resets")
    parser.add_argument(
        "--rounds", type=int, default=5, help="echo rounds per loop; figures are medians (5)"
    )
    parser.add_argument("--warm-pool", type=int, default=8, help="coding server's warm pool")
    parser.add_argument("--only", choices=["echo", "coding"], help="one figure only")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    console = Console()
    figures: dict[str, Any] = {}
    if args.only in (None, "echo"):
        with console.status("echo: loadgen, then the pool, on one server"):
            figures["echo"] = echo_throughput(args.sessions, args.steps, rounds=args.rounds)
    if args.only in (None, "coding"):
        with console.status(f"coding: {args.sessions} sandboxed sessions"):
            figures["coding"] = coding_resets(args.sessions, args.resets, args.warm_pool)
    table = Table("figure", "measured", "target", "")
    if "echo" in figures:
        e = figures["echo"]
        for loop, f in e["loops"].items():
            table.add_row(
                f"echo, {e['sessions']} sessions, {loop}: pool / loadgen steps/s, lockstep",
                f"{f['ratio']:.0%} ({f['pool_steps_per_s']} / {f['loadgen_steps_per_s']})",
                f">= {THROUGHPUT_TARGET:.0%}",
                "pass" if f["ratio"] >= THROUGHPUT_TARGET else "FAIL",
            )
            table.add_row(
                "  the same, send/recv (each session on its own, as loadgen's)",
                f"{f['send_recv_ratio']:.0%} ({f['pool_send_recv_steps_per_s']} / "
                f"{f['loadgen_steps_per_s']})",
                f">= {THROUGHPUT_TARGET:.0%}",
                "pass" if f["send_recv_ratio"] >= THROUGHPUT_TARGET else "FAIL",
            )
            table.add_row(
                "  pool lockstep / bare websockets lockstep",
                f"{f['lockstep_ratio']:.0%} ({f['pool_steps_per_s']} / "
                f"{f['raw_lockstep_steps_per_s']})",
                "",
                "",
            )
            cpu = f["client_cpu_us_per_step"]
            table.add_row(
                "  client CPU per step: loadgen / bare lockstep / pool lockstep / send-recv",
                f"{cpu['loadgen']} / {cpu['bare_lockstep']} / {cpu['pool_lockstep']} / "
                f"{cpu['pool_send_recv']} µs",
                "",
                "",
            )
        table.caption = (
            f"echo: medians of {e['rounds']} rounds per loop (ratios: of each round's ratio)"
        )
    if "coding" in figures:
        c = figures["coding"]
        table.add_row(
            f"coding (sandboxed), {c['sessions']} sessions: batch reset p50 (max)",
            f"{c['reset_p50_s']} s ({c['reset_max_s']} s); warm-up {c['warm_up_s']} s",
            f"<= {RESET_TARGET_S} s",
            "pass" if c["pass"] else "FAIL",
        )
    console.print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0 if all(f["pass"] for f in figures.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
