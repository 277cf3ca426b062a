"""``openenv demo``: the main job, end to end on this machine.

For every demo scenario: start its environment's server in-process (a real
uvicorn server on a free loopback port), play episodes through its typed client
over the real WebSocket, and report rewards, step latencies and what a new
session costs (WebSocket connect, first reset). A scenario with
``isolation="sandbox"`` runs every session in its own bubblewrap sandbox, and one
with ``isolation="container"`` serves from the environment's image in a container
(built the first time); where sandboxes or containers cannot run, the scenario is
skipped with the reason (unless asked for by name).

The scenarios themselves belong to the environment packages (``<package>/demo.py``,
:mod:`openenv.demos`); :mod:`.scenarios` finds the installed ones, in the table's order.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import __version__
from ..demos import Episode, Scenario
from ..discovery import EnvironmentNotFound, find_environment
from ..environment import derive_seed
from ..errors import OpenEnvError
from .output import CliError, console, err_console, format_duration
from .scenarios import scenarios

__all__ = ["ScenarioResult", "demo", "percentile", "run_scenario"]


# -- running ---------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    """Everything measured for one scenario."""

    scenario: Scenario
    episodes: list[Episode] = field(default_factory=list)
    wall_s: float = 0.0
    error: str | None = None
    skipped: str | None = None
    """Why the scenario did not run (e.g. sandboxes unavailable here)."""
    connect_s: float | None = None
    """A new session on the running server: opening its WebSocket..."""
    first_reset_s: float | None = None
    """...and its first reset (for a sandboxed one: a warm worker's)."""

    @property
    def rewards(self) -> list[float]:
        return [episode.total_reward for episode in self.episodes]

    @property
    def latencies_s(self) -> list[float]:
        return [latency for episode in self.episodes for latency in episode.latencies_s]

    @property
    def steps(self) -> int:
        return sum(len(episode.rewards) for episode in self.episodes)

    def summary(self) -> dict[str, Any]:
        rewards, latencies = self.rewards, self.latencies_s
        return {
            "name": self.scenario.name,
            "env": self.scenario.env,
            "isolation": self.scenario.isolation,
            "episodes": len(self.episodes),
            "steps": self.steps,
            "reward": {
                "mean": sum(rewards) / len(rewards) if rewards else None,
                "min": min(rewards, default=None),
                "max": max(rewards, default=None),
            },
            "episode_rewards": rewards,
            "step_latency_us": {
                "p50": percentile(latencies, 0.50) * 1e6 if latencies else None,
                "p99": percentile(latencies, 0.99) * 1e6 if latencies else None,
                "mean": sum(latencies) / len(latencies) * 1e6 if latencies else None,
            },
            "new_session_ms": {
                "connect": self.connect_s * 1e3 if self.connect_s is not None else None,
                "first_reset": (
                    self.first_reset_s * 1e3 if self.first_reset_s is not None else None
                ),
            },
            "wall_s": self.wall_s,
            "error": self.error,
            "skipped": self.skipped,
        }


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in ``[0, 1]``) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def run_scenario(
    chosen: Scenario,
    episodes: int,
    seed: int,
    advance: Callable[[], None],
    *,
    required: bool = False,
    artifacts: Path | None = None,
) -> ScenarioResult:
    """Serve ``chosen.env`` in-process and play ``episodes`` episodes over one WebSocket session.

    Then time a new session on the same server. A sandboxed scenario where
    sandboxes cannot run is skipped, or fails if ``required``.
    """
    from ..runtime.sandbox import SandboxUnavailable, check_sandbox

    result = ScenarioResult(chosen)
    start = time.perf_counter()
    try:
        if chosen.isolation == "sandbox":
            try:
                check_sandbox()
            except SandboxUnavailable as exc:
                if required:
                    raise
                result.skipped = str(exc)
                return result
        lacking = chosen.missing() if chosen.missing is not None else None
        if lacking is not None:
            if required:
                raise RuntimeError(lacking)
            result.skipped = lacking
            return result
        if chosen.isolation == "container":
            try:
                from ..runtime.engine import engine

                engine()
            except OpenEnvError as exc:
                if required:
                    raise
                result.skipped = str(exc)
                return result
        client_class = chosen.client
        with _served(chosen) as (url, token, app):
            with client_class(base_url=url, token=token) as client:
                for index in range(episodes):
                    episode = Episode(artifacts=artifacts)
                    chosen.play(client, derive_seed(seed, chosen.seed_name, index), episode)
                    result.episodes.append(episode)
                    advance()
            if app is not None:
                _wait_until_warm(app)
            result.connect_s, result.first_reset_s = time_new_session(client_class, url, token)
    except EnvironmentNotFound as exc:
        result.error = f"{exc}"
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.wall_s = time.perf_counter() - start
    return result


@contextmanager
def _served(chosen: Scenario) -> Iterator[tuple[str, str | None, Any]]:
    """The scenario's server: ``(url, token, app)``; ``app`` is ``None`` for a container.

    In-process (a real uvicorn server in a thread) for ``none`` and ``sandbox``; for
    ``container``, the environment's image (built first if it is not there, which
    the first time also makes a base image: minutes) in a locked-down container.
    """
    from ..server import ServerConfig, create_app
    from ..server.run import BackgroundServer

    found = find_environment(chosen.env)
    if chosen.isolation == "container":
        from ..deploy.images import build_image, default_tag
        from ..runtime.container import ContainerRuntime
        from ..runtime.engine import engine

        tag = default_tag(found.name)
        if not engine().images.list(name=tag):
            err_console.print(f"building {tag} for the container scenario (once)")
            build_image(found.name, tag=tag)
        with ContainerRuntime(tag) as runtime:
            assert runtime.base_url is not None
            yield runtime.base_url, runtime.token, None
        return
    app = create_app(found.env_class, config=ServerConfig(isolation=chosen.isolation))
    with BackgroundServer(app) as server:
        yield server.url, None, app


def time_new_session(
    client_class: Any, base_url: str, token: str | None = None
) -> tuple[float, float]:
    """Seconds to open a new session's WebSocket, and then for its first reset."""
    started = time.perf_counter()
    with client_class(base_url=base_url, token=token) as client:  # connects on entering
        connected = time.perf_counter()
        client.reset(seed=0)
        reset = time.perf_counter()
    return connected - started, reset - connected


def _wait_until_warm(app: Any, timeout_s: float = 10.0) -> None:
    """For a sandboxed server: wait until its warm pool is full again, as on a server
    that has been up a while (a new session then takes a ready worker)."""
    pool = getattr(getattr(app.state.sessions, "factory", None), "pool", None)
    if pool is None:
        return
    deadline = time.monotonic() + timeout_s
    while len(pool.idle) < pool.size and time.monotonic() < deadline:
        time.sleep(0.01)


def demo(
    context: typer.Context,
    episodes: Annotated[
        int, typer.Option("--episodes", "-n", min=1, help="Episodes per environment.")
    ] = 20,
    seed: Annotated[
        int, typer.Option(min=0, help="Base seed; the same seed gives the same episodes.")
    ] = 0,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", help="Only this demo environment (repeatable; default: all)."),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the summary as JSON to this file.")
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Where scenarios save what they show (screenshots of a solved task); "
            "each scenario's folder in it is replaced on every run.",
        ),
    ] = Path("openenv-demo"),
) -> None:
    """Run episodes on every demo environment over real WebSockets and summarise them.

    Each one is served in-process on a free 127.0.0.1 port and driven by a scripted
    agent through its client: echo, coding and terminal tasks, OpenApp in Chromium,
    text games, CartPole, Breakout, OpenSpiel, chess, connect four, a maze. The
    "(sandboxed)" ones run every session in its own bubblewrap sandbox (skipped,
    with the reason, where sandboxes cannot run). Names for --env: as listed, or
    lower-case with dashes (coding-sandboxed).

    `openenv demo train`: a tiny model learns, by GRPO, in a served environment.
    """
    if context.invoked_subcommand is not None:
        return  # `openenv demo train`: that command's run, not the scenarios
    chosen = _choose(env)
    for item in chosen:  # this run's files only, not an earlier run's
        shutil.rmtree(out / _slug(item.name), ignore_errors=True)
    results: list[ScenarioResult] = []
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("episodes"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        for item in chosen:
            task = progress.add_task(item.name, total=episodes)
            results.append(
                run_scenario(
                    item,
                    episodes,
                    seed,
                    lambda task=task: progress.advance(task),
                    required=bool(env),
                    artifacts=out / _slug(item.name),
                )
            )
    wall_s = time.perf_counter() - started
    console.print(summary_table(results, seed))
    sessions = session_table(results)
    if sessions is not None:
        console.print(sessions)
    for item in chosen:
        saved = out / _slug(item.name)
        if saved.is_dir() and any(saved.iterdir()):
            count = sum(1 for _ in saved.iterdir())
            console.print(f"{item.name}: {count} files saved in {saved}/", soft_wrap=True)
    failed = [r for r in results if r.error is not None]
    steps = sum(r.steps for r in results)
    done = sum(len(r.episodes) for r in results)
    for skipped in (r for r in results if r.skipped is not None):
        reason = escape(skipped.skipped or "")
        console.print(f"[yellow]skipped[/] {skipped.scenario.name}: {reason}", soft_wrap=True)
    ran = [r for r in results if r.skipped is None]
    total = episodes * len(ran)
    if json_path is not None:
        write_json(json_path, results, seed, episodes, wall_s)
    if failed:
        first = failed[0]
        raise CliError(f"demo {first.scenario.name} failed: {first.error}")
    envs = f"{len(ran)} scenario" + ("s" if len(ran) != 1 else "")
    console.print(
        f"[green]OK[/] {done}/{total} episodes, {steps} steps on {envs} "
        f"over real WebSockets in {wall_s:.2f} s (seed {seed})",
        soft_wrap=True,
    )


def _choose(names: list[str] | None) -> list[Scenario]:
    installed = scenarios()
    if not names:
        return list(installed.values())
    by_slug = {_slug(name): item for name, item in installed.items()}
    chosen = {}
    for name in names:
        item = installed.get(name) or by_slug.get(_slug(name))
        if item is None:
            raise CliError(f"no demo named {name!r}; demos: {', '.join(installed)}")
        chosen[item.name] = item
    return list(chosen.values())


def _slug(name: str) -> str:
    """``"echo (sandboxed)"`` → ``"echo-sandboxed"`` (what ``--env`` also accepts)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def summary_table(results: list[ScenarioResult], seed: int) -> Table:
    """Per scenario: episodes, reward mean/min/max, steps, step latency p50/p99, new session."""
    table = Table(
        title=f"openenv demo (seed {seed})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("Environment", style="cyan", max_width=24)  # long names wrap
    headers = (
        "Episodes",
        "Reward\nmean",
        "Reward\nmin",
        "Reward\nmax",
        "Steps",
        "Step\np50",
        "Step\np99",
    )
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True, min_width=6)
    for result in results:
        rewards, latencies = result.rewards, result.latencies_s
        if result.skipped is not None:
            table.add_row(result.scenario.name, "[yellow]skipped", *[""] * 6)
            continue
        if result.error is not None and not rewards:
            table.add_row(result.scenario.name, "[red]failed", *[""] * 6)
            continue
        table.add_row(
            result.scenario.name,
            str(len(rewards)),
            f"{sum(rewards) / len(rewards):.2f}" if rewards else "-",
            f"{min(rewards):.2f}" if rewards else "-",
            f"{max(rewards):.2f}" if rewards else "-",
            str(result.steps),
            format_duration(percentile(latencies, 0.50)) if latencies else "-",
            format_duration(percentile(latencies, 0.99)) if latencies else "-",
        )
    return table


def session_table(results: list[ScenarioResult]) -> Table | None:
    """Per scenario: what a new session on the running server costs (connect, first reset)."""
    timed = [r for r in results if r.connect_s is not None and r.first_reset_s is not None]
    if not timed:
        return None
    table = Table(
        title="A new session on a running server",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("Environment", style="cyan", max_width=24)
    table.add_column("Isolation", no_wrap=True)
    for header in ("Connect", "First reset", "Total"):
        table.add_column(header, justify="right", no_wrap=True)
    for result in timed:
        connect, reset = result.connect_s or 0.0, result.first_reset_s or 0.0
        table.add_row(
            result.scenario.name,
            result.scenario.isolation,
            format_duration(connect),
            format_duration(reset),
            format_duration(connect + reset),
        )
    return table


def write_json(
    path: Path, results: list[ScenarioResult], seed: int, episodes: int, wall_s: float
) -> None:
    """The summary as JSON: one entry per environment, plus the run's settings."""
    document = {
        "openenv_version": __version__,
        "seed": seed,
        "episodes_per_env": episodes,
        "ok": all(r.error is None for r in results),
        "skipped": [r.scenario.name for r in results if r.skipped is not None],
        "wall_s": wall_s,
        "environments": [r.summary() for r in results],
    }
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
