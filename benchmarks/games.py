"""Benchmark games over WebSocket against the same games in-process.

One run starts ``openenv serve gym_env`` and ``openenv serve atari_env`` as
subprocesses on free ``127.0.0.1`` ports (:class:`openenv.runtime.local.LocalRuntime`,
isolation ``none`` as their ``openenv.yaml`` says) and measures, every step's
observation decoded into numpy on the client as an agent would need it:

* **CartPole-v1 in-process**: ``gymnasium.make("CartPole-v1")`` stepped in this
  process — the baseline;
* **CartPole-v1, 1 session**: our sync client (``GymEnv``) against gym_env;
* **CartPole-v1, N sessions**: N ``AsyncGymEnv`` sessions stepping together on one
  event loop (aggregate steps/s);
* **CartPole-v1, to_gymnasium / to_gymnasium_vector(N)**: the Gymnasium adapters;
* **Breakout in-process**: ``gymnasium.make("ALE/Breakout-v5")``, RGB frames;
* **Breakout, 1 session**: ``AtariEnv`` against atari_env, frames as PNG (the
  default) and as raw arrays; and N sessions with ``AsyncAtariEnv``.

Every row gives steps/s (wall clock), the ratio to in-process, step latency p50
(single sessions), and the CPU time the server process spent per step (from
``/proc/<pid>/stat``; the fairest figure when the machine is shared). Rows are
medians over the repetitions. The reference OpenEnv's Atari and OpenSpiel servers
are not measured: they are not on PyPI (the ``openenv`` 0.10 wheel ships no
environments), and the run says so rather than show a row.

    python -m benchmarks.games --quick              # smoke run, ~20 s
    python -m benchmarks.games --json games.json    # the full run (a few minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import platform
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.loadgen import process_cpu_seconds

REFERENCE_UNAVAILABLE = (
    "reference OpenEnv atari_env / openspiel_env: not measured. They are not on PyPI "
    "(the openenv 0.10.0 wheel ships the framework only; the package index has no "
    "Atari or OpenSpiel environment package of the reference), so there is no "
    "reference server to run."
)


@dataclass(frozen=True)
class Settings:
    """Counts of one run."""

    repeats: int
    cartpole_steps: int
    sessions: int
    cartpole_session_steps: int
    atari_steps: int
    atari_sessions: int
    atari_session_steps: int
    warmup_steps: int = 20


QUICK = Settings(
    repeats=1,
    cartpole_steps=400,
    sessions=4,
    cartpole_session_steps=100,
    atari_steps=60,
    atari_sessions=2,
    atari_session_steps=30,
)
FULL = Settings(
    repeats=3,
    cartpole_steps=5000,
    sessions=16,
    cartpole_session_steps=1000,
    atari_steps=1000,
    atari_sessions=8,
    atari_session_steps=250,
)


@dataclass
class Row:
    """One measured configuration."""

    key: str
    label: str
    baseline: str | None  # the key of the in-process row it is compared with
    runs: list[dict[str, float | None]] = dataclasses.field(default_factory=list)

    def median(self, name: str) -> float | None:
        values = [r[name] for r in self.runs if r.get(name) is not None]
        return statistics.median(values) if values else None  # type: ignore[type-var]


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Window:
    """Wall clock and server CPU over a measured window."""

    server_pid: int | None
    start: float = 0.0
    server_cpu: float | None = None

    def __enter__(self) -> Window:
        self.server_cpu = _cpu(self.server_pid)
        self.start = time.perf_counter()
        return self

    def result(self, steps: int, latencies: list[float] | None = None) -> dict[str, float | None]:
        elapsed = time.perf_counter() - self.start
        cpu_end = _cpu(self.server_pid)
        cpu = None
        if self.server_cpu is not None and cpu_end is not None:
            cpu = (cpu_end - self.server_cpu) / steps * 1e6
        return {
            "steps": float(steps),
            "seconds": elapsed,
            "steps_per_s": steps / elapsed,
            "p50_us": statistics.median(latencies) * 1e6 if latencies else None,
            "server_cpu_us_per_step": cpu,
        }

    def __exit__(self, *exc: object) -> None:
        pass


def _cpu(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        return process_cpu_seconds(pid)
    except OSError:
        return None


def in_process(make: Callable[[], Any], steps: int, n_actions: int, seed: int) -> dict[str, Any]:
    env = make()
    rng = random.Random(seed)
    env.reset(seed=seed)
    latencies = []
    with Window(None) as window:
        for _ in range(steps):
            t = time.perf_counter()
            _, _, terminated, truncated, _ = env.step(rng.randrange(n_actions))
            latencies.append(time.perf_counter() - t)
            if terminated or truncated:
                env.reset()
        result = window.result(steps, latencies)
    env.close()
    return result


def one_session(
    client_class: Any,
    url: str,
    pid: int | None,
    steps: int,
    warmup: int,
    n_actions: int,
    seed: int,
    **reset: Any,
) -> dict[str, Any]:
    rng = random.Random(seed)
    with client_class(base_url=url) as client:
        result = client.reset(seed=seed, **reset)
        for _ in range(warmup):
            result = client.step(rng.randrange(n_actions))
            if result.done:
                client.reset(**reset)
        latencies = []
        with Window(pid) as window:
            for _ in range(steps):
                t = time.perf_counter()
                result = client.step(rng.randrange(n_actions))
                client.decode(result.observation)
                latencies.append(time.perf_counter() - t)
                if result.done:
                    client.reset(**reset)
            return window.result(steps, latencies)


def many_sessions(
    client_class: Any,
    url: str,
    pid: int | None,
    sessions: int,
    steps: int,
    n_actions: int,
    seed: int,
    **reset: Any,
) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        clients = [client_class(base_url=url) for _ in range(sessions)]
        try:
            for i, client in enumerate(clients):
                await client.reset(seed=seed + i, **reset)
            started = asyncio.Event()

            async def play(client: Any, i: int) -> None:
                rng = random.Random(seed + i)
                await started.wait()
                for _ in range(steps):
                    result = await client.step(rng.randrange(n_actions))
                    client.decode(result.observation)
                    if result.done:
                        await client.reset(**reset)

            tasks = [asyncio.create_task(play(c, i)) for i, c in enumerate(clients)]
            await asyncio.sleep(0)
            with Window(pid) as window:
                started.set()
                await asyncio.gather(*tasks)
                return window.result(sessions * steps)
        finally:
            for client in clients:
                with contextlib.suppress(Exception):
                    await client.close()

    return asyncio.run(main())


def adapter(url: str, pid: int | None, steps: int, seed: int) -> dict[str, Any]:
    from gym_env import GymEnv

    from openenv.integrations.gymnasium import to_gymnasium

    env = to_gymnasium(GymEnv(base_url=url), env_id="CartPole-v1")
    rng = random.Random(seed)
    try:
        env.reset(seed=seed)
        with Window(pid) as window:
            for _ in range(steps):
                _, _, terminated, truncated, _ = env.step(rng.randrange(2))
                if terminated or truncated:
                    env.reset()
            return window.result(steps)
    finally:
        env.close()


def vector(url: str, pid: int | None, sessions: int, steps: int, seed: int) -> dict[str, Any]:
    import numpy as np
    from gym_env import GymEnv

    from openenv.integrations.gymnasium import to_gymnasium_vector

    envs = to_gymnasium_vector(lambda: GymEnv(base_url=url), sessions, env_id="CartPole-v1")
    rng = np.random.default_rng(seed)
    try:
        envs.reset(seed=seed)
        with Window(pid) as window:
            for _ in range(steps):
                envs.step(rng.integers(0, 2, sessions))
            return window.result(steps * sessions)
    finally:
        envs.close()


# -- the run -----------------------------------------------------------------------------


class Interrupted(Exception):
    """SIGTERM: unwind like Ctrl-C so that the servers are stopped."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Interrupted(f"signal {signum}")


@contextlib.contextmanager
def served(name: str) -> Iterator[Any]:
    from openenv.runtime.local import LocalRuntime

    runtime = LocalRuntime(name, require_token=False)
    try:
        runtime.start()
        yield runtime
    finally:
        runtime.stop()


def rows_for(settings: Settings) -> list[Row]:
    n, m = settings.sessions, settings.atari_sessions
    return [
        Row("cartpole_local", "CartPole-v1, in-process Gymnasium", None),
        Row("cartpole_ws_1", "CartPole-v1, WebSocket, 1 session (GymEnv)", "cartpole_local"),
        Row(
            "cartpole_ws_n",
            f"CartPole-v1, WebSocket, {n} sessions (AsyncGymEnv)",
            "cartpole_local",
        ),
        Row("cartpole_adapter", "CartPole-v1, to_gymnasium, 1 session", "cartpole_local"),
        Row("cartpole_vector", f"CartPole-v1, to_gymnasium_vector({n})", "cartpole_local"),
        Row("atari_local", "Breakout (RGB), in-process ALE", None),
        Row("atari_ws_png", "Breakout, WebSocket, 1 session, PNG frames", "atari_local"),
        Row("atari_ws_array", "Breakout, WebSocket, 1 session, raw frames", "atari_local"),
        Row("atari_ws_n", f"Breakout, WebSocket, {m} sessions, PNG frames", "atari_local"),
    ]


def run(settings: Settings, console: Console) -> list[Row]:
    import ale_py
    import gymnasium as gym
    from atari_env import AsyncAtariEnv, AtariEnv
    from gym_env import AsyncGymEnv, GymEnv

    gym.register_envs(ale_py)
    rows = {row.key: row for row in rows_for(settings)}
    s = settings

    def log(text: str) -> None:
        console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {text}")

    with served("gym_env") as gym_server, served("atari_env") as atari_server:
        url, pid = gym_server.base_url, gym_server.pid
        aurl, apid = atari_server.base_url, atari_server.pid
        log(f"gym_env at {url}, atari_env at {aurl}")
        atari = {"game": "Breakout"}
        for repeat in range(s.repeats):
            seed = 1000 * repeat
            log(f"round {repeat + 1}/{s.repeats}: CartPole")
            rows["cartpole_local"].runs.append(
                in_process(lambda: gym.make("CartPole-v1"), s.cartpole_steps, 2, seed)
            )
            rows["cartpole_ws_1"].runs.append(
                one_session(GymEnv, url, pid, s.cartpole_steps, s.warmup_steps, 2, seed)
            )
            rows["cartpole_ws_n"].runs.append(
                many_sessions(AsyncGymEnv, url, pid, s.sessions, s.cartpole_session_steps, 2, seed)
            )
            rows["cartpole_adapter"].runs.append(adapter(url, pid, s.cartpole_steps, seed))
            rows["cartpole_vector"].runs.append(
                vector(url, pid, s.sessions, s.cartpole_session_steps, seed)
            )
            log(f"round {repeat + 1}/{s.repeats}: Breakout")
            rows["atari_local"].runs.append(
                in_process(lambda: gym.make("ALE/Breakout-v5"), s.atari_steps, 4, seed)
            )
            for key, frame_format in (("atari_ws_png", "png"), ("atari_ws_array", "array")):
                rows[key].runs.append(
                    one_session(
                        AtariEnv,
                        aurl,
                        apid,
                        s.atari_steps,
                        s.warmup_steps,
                        4,
                        seed,
                        frame_format=frame_format,
                        **atari,
                    )
                )
            rows["atari_ws_n"].runs.append(
                many_sessions(
                    AsyncAtariEnv,
                    aurl,
                    apid,
                    s.atari_sessions,
                    s.atari_session_steps,
                    4,
                    seed,
                    **atari,
                )
            )
    return list(rows.values())


# -- output ------------------------------------------------------------------------------


def figures(rows: list[Row]) -> list[dict[str, Any]]:
    """One dict per row: medians and the ratio to the in-process baseline."""
    by_key = {row.key: row for row in rows}
    out = []
    for row in rows:
        rate = row.median("steps_per_s")
        base = by_key[row.baseline].median("steps_per_s") if row.baseline else None
        out.append(
            {
                "key": row.key,
                "label": row.label,
                "steps_per_s": rate,
                "x_in_process": rate / base if rate and base else None,
                "p50_us": row.median("p50_us"),
                "server_cpu_us_per_step": row.median("server_cpu_us_per_step"),
                "runs": row.runs,
            }
        )
    return out


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def table(rows: list[dict[str, Any]]) -> Table:
    out = Table(title="Games: over WebSocket vs in-process", title_justify="left")
    out.add_column("configuration")
    out.add_column("steps/s", justify="right")
    out.add_column("vs in-process", justify="right", style="cyan")
    out.add_column("step p50 (µs)", justify="right")
    out.add_column("server CPU/step (µs)", justify="right")
    for row in rows:
        ratio = row["x_in_process"]
        out.add_row(
            row["label"],
            _fmt(row["steps_per_s"]),
            "" if ratio is None else f"{ratio:.3f}x",
            _fmt(row["p50_us"]),
            _fmt(row["server_cpu_us_per_step"]),
        )
    return out


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| configuration | steps/s | vs in-process | step p50 (µs) | server CPU/step (µs) |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratio = row["x_in_process"]
        lines.append(
            f"| {row['label']} | {_fmt(row['steps_per_s'])} | "
            f"{'' if ratio is None else f'{ratio:.3f}x'} | {_fmt(row['p50_us'])} | "
            f"{_fmt(row['server_cpu_us_per_step'])} |"
        )
    return "\n".join(lines) + "\n"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("gymnasium", "ale-py", "numpy", "pillow", "websockets", "pydantic"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[package] = metadata.version(package)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.games", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every figure here")
    parser.add_argument(
        "--markdown", type=Path, metavar="PATH", help="write the table as Markdown here"
    )
    parser.add_argument("--repeats", type=int, help="rounds (medians are reported)")
    parser.add_argument("--sessions", type=int, help="parallel CartPole sessions")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.repeats:
        settings = dataclasses.replace(settings, repeats=args.repeats)
    if args.sessions:
        settings = dataclasses.replace(settings, sessions=args.sessions)
    console = Console()
    missing = [m for m in ("gym_env", "atari_env", "gymnasium", "ale_py") if not _importable(m)]
    if missing:
        console.print(
            f"[red]missing: {', '.join(missing)}; run bash scripts/install.sh "
            "(it installs every package under envs/)[/red]"
        )
        return 2
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    load_before = _load()
    try:
        rows = figures(run(settings, console))
    except (KeyboardInterrupt, Interrupted):
        console.print("[yellow]interrupted: servers stopped[/yellow]")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    console.print()
    console.print(table(rows))
    console.print(f"[yellow]{REFERENCE_UNAVAILABLE}[/yellow]")
    load = {"before": load_before, "after": _load()}
    cores = _cores() or 1
    if (
        max(load["before"] or [0], default=0) > cores
        or max(load["after"] or [0], default=0) > cores
    ):
        console.print(
            f"[yellow]the machine was busy (load average {load['before']} before, "
            f"{load['after']} after, {cores} cores): the figures are noisy[/yellow]"
        )
    report = {
        "settings": dataclasses.asdict(settings),
        "quick": args.quick,
        "versions": versions(),
        "machine": {"platform": platform.platform(terse=True), "cores": _cores(), "load": load},
        "rows": rows,
        "reference": {"available": False, "why": REFERENCE_UNAVAILABLE},
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
        console.print(f"[dim]wrote {args.json}[/dim]")
    if args.markdown:
        args.markdown.write_text(markdown(rows))
        console.print(f"[dim]wrote {args.markdown}[/dim]")
    return 0


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _load() -> list[float] | None:
    """The 1, 5 and 15 minute load averages."""
    import os

    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cores() -> int | None:
    import os

    return os.cpu_count()


if __name__ == "__main__":
    sys.exit(main())
