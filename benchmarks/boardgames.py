"""Benchmark the game environments: steps per second over WebSocket against in-process play.

For each game the same random agent (a uniformly random legal action, seeded; a new
episode as soon as one ends) plays for a fixed time in these ways, one after another:

* ``pyspiel`` — OpenSpiel's C++ game in this process, driven straight from Python:
  ``apply_action`` for the agent's move, the random opponent's and chance's (drawn
  with ``random.choices`` from ``chance_outcomes``), nothing else. The floor of
  what a Python loop over pyspiel costs. OpenSpiel games only.
* ``env`` — our environment class in this process (``OpenSpielEnvironment.step``
  and friends): the game plus building the typed observation (legal actions and
  their strings, the information-state tensor, the rendering).
* ``ws`` — ``openenv serve ENV`` (a subprocess, ``--isolation none``) and one
  session over WebSocket with raw OpenEnv frames (orjson; the client reads the
  legal actions from each reply): the server's cost plus the round trip.
* ``ws typed`` — the same server through the package's typed sync client
  (``OpenSpielEnv(...).step(OpenSpielAction(...))``), as a user's loop runs it.
* ``ws xN`` — N sessions at once on one asyncio loop (raw frames), steps/s summed.

The server's CPU per step (``utime + stime`` of its process over the 1-session
window) is reported too. A "step" is one agent action, with the opponent's reply
and chance included; resets are timed but not counted as steps.

The reference OpenEnv's ``openspiel_env`` server is not on PyPI (the public
OpenEnv ships it as source in its repository, for a Docker image that compiles
OpenSpiel), so it is not measured: the run says so, and has no row for it.

    python -m benchmarks.boardgames --quick                # smoke run, ~20 s
    python -m benchmarks.boardgames --json games.json      # the full run (~1-2 min)
    python -m benchmarks.boardgames --games tic_tac_toe,chess --duration 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import ClientConnection, connect

from benchmarks.loadgen import process_cpu_seconds
from benchmarks.run import git_revision, load_average, machine

REFERENCE_UNAVAILABLE = (
    "the reference OpenEnv openspiel_env server is not measured: it is not published on "
    "PyPI (the public OpenEnv keeps envs/openspiel_env as source in its repository, built "
    "into a Docker image that compiles OpenSpiel), and this machine reaches PyPI only"
)


@dataclass(frozen=True)
class Game:
    """One row: which environment serves it, how to reset it, how the agent picks."""

    name: str
    env: str
    reset: dict[str, Any]
    legal_field: str | None
    action_field: str
    choices: tuple[Any, ...] = ()
    pyspiel: str | None = None


GAMES: dict[str, Game] = {
    g.name: g
    for g in (
        Game("tic_tac_toe", "openspiel_env", {"game": "tic_tac_toe"}, "legal_actions",
             "action_id", pyspiel="tic_tac_toe"),
        Game("connect_four", "openspiel_env", {"game": "connect_four"}, "legal_actions",
             "action_id", pyspiel="connect_four"),
        Game("kuhn_poker", "openspiel_env", {"game": "kuhn_poker"}, "legal_actions",
             "action_id", pyspiel="kuhn_poker"),
        Game("blackjack", "openspiel_env", {"game": "blackjack"}, "legal_actions",
             "action_id", pyspiel="blackjack"),
        Game("catch", "openspiel_env", {"game": "catch"}, "legal_actions", "action_id",
             pyspiel="catch"),
        Game("2048", "openspiel_env", {"game": "2048"}, "legal_actions", "action_id",
             pyspiel="2048"),
        Game("chess", "chess_env", {"level": 0}, "legal_moves", "move"),
        Game("connect4", "connect4_env", {"opponent": "random"}, "legal_columns", "column"),
        Game("maze", "maze_env", {"width": 8, "height": 8}, None, "move",
             choices=("up", "down", "left", "right")),
        Game("gridworld", "gridworld_env", {"layout": "four_rooms", "max_steps": 200}, None,
             "move", choices=("up", "down", "left", "right")),
    )
}  # fmt: skip
QUICK_GAMES = ("tic_tac_toe", "blackjack", "2048", "chess")
CLIENTS = {
    "openspiel_env": ("openspiel_env", "OpenSpielEnv", "OpenSpielAction"),
    "chess_env": ("chess_env", "ChessEnv", "ChessAction"),
    "connect4_env": ("connect4_env", "Connect4Env", "Connect4Action"),
    "maze_env": ("maze_env", "MazeEnv", "MazeAction"),
    "gridworld_env": ("gridworld_env", "GridWorldEnv", "GridWorldAction"),
}


@dataclass(frozen=True)
class Settings:
    """How long each measurement runs, and how many sessions the concurrent one opens."""

    duration_s: float = 3.0
    warmup_s: float = 0.3
    sessions: int = 8
    games: tuple[str, ...] = tuple(GAMES)


QUICK = Settings(duration_s=0.4, warmup_s=0.05, sessions=4, games=QUICK_GAMES)


@dataclass
class Measure:
    """Steps and seconds of one way of playing one game."""

    steps: int = 0
    episodes: int = 0
    seconds: float = 0.0
    server_cpu_us_per_step: float | None = None
    latency_us_p50: float | None = None

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0


@dataclass
class GameResult:
    game: str
    env: str
    modes: dict[str, Measure] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "game": self.game,
            "env": self.env,
            "modes": {
                name: {**dataclasses.asdict(m), "steps_per_s": m.steps_per_s}
                for name, m in self.modes.items()
            },
        }


def _pick(game: Game, legal: list[Any] | None, rng: random.Random) -> Any:
    return rng.choice(legal if game.legal_field is not None else game.choices)  # type: ignore[arg-type]


# -- in this process -------------------------------------------------------------------------


def run_pyspiel(game: Game, settings: Settings, seed: int = 0) -> Measure:
    """OpenSpiel straight from Python: the agent, a random opponent and chance."""
    import pyspiel

    assert game.pyspiel is not None
    loaded = pyspiel.load_game(game.pyspiel)
    rng, chance = random.Random(seed), random.Random(seed + 1)
    result = Measure()

    def episode() -> int:
        state, steps = loaded.new_initial_state(), 0
        while not state.is_terminal():
            if state.is_chance_node():
                outcomes, probs = zip(*state.chance_outcomes(), strict=True)
                state.apply_action(chance.choices(outcomes, probs)[0])
                continue
            player = state.current_player()
            state.apply_action(rng.choice(state.legal_actions()))
            steps += player == 0  # the agent is player 0; the others are the opponent
            state.rewards()
        state.returns()
        return steps

    _timed(episode, settings, result)
    return result


def run_env(game: Game, settings: Settings, seed: int = 0) -> Measure:
    """Our environment class in this process: reset/step with typed actions and observations."""
    from openenv.discovery import find_environment

    env_class = find_environment(game.env).env_class
    env, action_type = env_class(), env_class.action_type
    rng = random.Random(seed)
    result = Measure()
    episodes = iter(range(1 << 62))

    def episode() -> int:
        obs, steps = env.reset(seed=next(episodes), **game.reset), 0
        while not obs.done:
            legal = getattr(obs, game.legal_field) if game.legal_field else None
            obs = env.step(action_type(**{game.action_field: _pick(game, legal, rng)}))
            steps += 1
        return steps

    _timed(episode, settings, result)
    return result


def _timed(episode: Callable[[], int], settings: Settings, result: Measure) -> None:
    deadline = time.perf_counter() + settings.warmup_s
    while time.perf_counter() < deadline:
        episode()
    started = time.perf_counter()
    deadline = started + settings.duration_s
    while time.perf_counter() < deadline:
        result.steps += episode()
        result.episodes += 1
    result.seconds = time.perf_counter() - started


# -- over the wire ----------------------------------------------------------------------------


@dataclass
class Served:
    env: str
    url: str
    base_url: str
    pid: int


@contextlib.contextmanager
def serving(env: str) -> Iterator[Served]:
    """``openenv serve ENV --isolation none`` on a free loopback port, stopped on the way out."""
    from openenv.runtime.local import LocalRuntime

    runtime = LocalRuntime(env, isolation="none", require_token=False, start_timeout_s=120)
    base = runtime.start()
    try:
        assert runtime.pid is not None
        url = base.replace("http://", "ws://", 1).rstrip("/") + "/ws"
        yield Served(env, url, base, runtime.pid)
    finally:
        runtime.stop()


async def _session(
    url: str, game: Game, seed: int, until: float, counts: Measure, latencies: list[float] | None
) -> None:
    rng = random.Random(seed)
    async with connect(url, compression=None, ping_interval=None, max_size=None) as ws:
        episode = seed * 1_000_003
        while time.perf_counter() < until:
            reply = await _exchange(ws, {"type": "reset", "data": {"seed": episode, **game.reset}})
            episode += 1
            while not reply["done"] and time.perf_counter() < until:
                obs = reply["observation"]
                legal = obs[game.legal_field] if game.legal_field else None
                action = {game.action_field: _pick(game, legal, rng)}
                started = time.perf_counter()
                reply = await _exchange(ws, {"type": "step", "data": action})
                if latencies is not None:
                    latencies.append(time.perf_counter() - started)
                counts.steps += 1
            counts.episodes += reply["done"]
        await ws.send(b'{"type":"close"}')


async def _exchange(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    await ws.send(orjson.dumps(frame).decode())
    message = orjson.loads(await ws.recv())
    if message.get("type") != "observation":
        raise RuntimeError(f"the server answered {message}")
    return message["data"]


def run_ws(served: Served, game: Game, settings: Settings, sessions: int) -> Measure:
    """``sessions`` raw-frame sessions at once for ``duration_s``; steps summed."""

    async def main() -> Measure:
        warm = Measure()
        await _session(served.url, game, 99, time.perf_counter() + settings.warmup_s, warm, None)
        result, latencies = Measure(), []
        cpu_before = process_cpu_seconds(served.pid)
        started = time.perf_counter()
        until = started + settings.duration_s
        await asyncio.gather(
            *(
                _session(served.url, game, i, until, result, latencies if sessions == 1 else None)
                for i in range(sessions)
            )
        )
        result.seconds = time.perf_counter() - started
        cpu = process_cpu_seconds(served.pid) - cpu_before
        if result.steps:
            result.server_cpu_us_per_step = cpu / result.steps * 1e6
        if latencies:
            result.latency_us_p50 = statistics.median(latencies) * 1e6
        return result

    return asyncio.run(main())


def run_typed(served: Served, game: Game, settings: Settings, seed: int = 0) -> Measure:
    """One session through the package's typed sync client."""
    import importlib

    module, client_name, action_name = CLIENTS[game.env]
    package = importlib.import_module(module)
    client_type, action_type = getattr(package, client_name), getattr(package, action_name)
    rng = random.Random(seed)
    result = Measure()
    episodes = iter(range(1 << 62))
    with client_type(base_url=served.base_url) as client:

        def episode() -> int:
            reply, steps = client.reset(seed=next(episodes), **game.reset), 0
            while not reply.done:
                obs = reply.observation
                legal = getattr(obs, game.legal_field) if game.legal_field else None
                reply = client.step(action_type(**{game.action_field: _pick(game, legal, rng)}))
                steps += 1
            return steps

        _timed(episode, settings, result)
    return result


# -- the run ---------------------------------------------------------------------------------


def measure(settings: Settings, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every game in every mode; the report as a JSON-able dict."""
    results: list[GameResult] = []
    by_env: dict[str, list[Game]] = {}
    for name in settings.games:
        by_env.setdefault(GAMES[name].env, []).append(GAMES[name])
    for env, games in by_env.items():
        log(f"starting openenv serve {env}")
        with serving(env) as served:
            for game in games:
                log(f"{game.name}: in-process, then over WebSocket")
                row = GameResult(game.name, env)
                if game.pyspiel:
                    row.modes["pyspiel"] = run_pyspiel(game, settings)
                row.modes["env"] = run_env(game, settings)
                row.modes["ws"] = run_ws(served, game, settings, sessions=1)
                row.modes["ws_typed"] = run_typed(served, game, settings)
                row.modes["ws_n"] = run_ws(served, game, settings, sessions=settings.sessions)
                results.append(row)
    return {
        "settings": dataclasses.asdict(settings),
        "machine": machine(),
        "load_average": load_average(),
        "revision": git_revision(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "games": [r.as_json() for r in results],
        "reference": {"measured": False, "reason": REFERENCE_UNAVAILABLE},
    }


def _rate(modes: dict[str, Any], name: str) -> float | None:
    mode = modes.get(name)
    return mode["steps_per_s"] if mode else None


def rows(report: dict[str, Any]) -> list[list[str]]:
    """The table's cells, shared by the terminal and the markdown output."""
    out = []
    for row in report["games"]:
        modes = row["modes"]
        pyspiel, env, ws = (_rate(modes, k) for k in ("pyspiel", "env", "ws"))
        typed, ws_n = _rate(modes, "ws_typed"), _rate(modes, "ws_n")
        cpu = modes["ws"]["server_cpu_us_per_step"]
        p50 = modes["ws"]["latency_us_p50"]
        out.append(
            [
                row["game"],
                row["env"],
                _fmt(pyspiel),
                _fmt(env),
                _fmt(ws),
                _fmt(typed),
                _fmt(ws_n),
                _fmt(p50),
                _fmt(cpu),
                f"{ws / pyspiel:.3f}x" if ws and pyspiel else "—",
                f"{ws / env:.2f}x" if ws and env else "—",
            ]
        )
    return out


HEADERS = [
    "game",
    "env",
    "pyspiel steps/s",
    "env in-process steps/s",
    "WebSocket steps/s",
    "typed client steps/s",
    "WebSocket xN steps/s",
    "WS step p50 (µs)",
    "server CPU/step (µs)",
    "WS / pyspiel",
    "WS / env",
]


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def table(report: dict[str, Any]) -> Table:
    sessions = report["settings"]["sessions"]
    out = Table(
        title="Games: steps per second, in-process and over WebSocket", title_justify="left"
    )
    for header in HEADERS:
        header = header.replace("xN", f"x{sessions}")
        out.add_column(header, justify="left" if header in ("game", "env") else "right")
    for cells in rows(report):
        out.add_row(*cells)
    return out


def render_markdown(report: dict[str, Any]) -> str:
    sessions = report["settings"]["sessions"]
    headers = [h.replace("xN", f"x{sessions}") for h in HEADERS]
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---" if i < 2 else "---:" for i in range(len(headers))) + "|")
    lines += ["| " + " | ".join(cells) + " |" for cells in rows(report)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Games: " + ", ".join(GAMES),
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 4 games, short")
    parser.add_argument("--games", help="comma-separated games (default: all; see below)")
    parser.add_argument("--duration", type=float, help="seconds per measurement")
    parser.add_argument("--sessions", type=int, help="sessions of the concurrent measurement")
    parser.add_argument("--json", metavar="PATH", help="write every figure as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the table as markdown")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else Settings()
    if args.games:
        unknown = [g for g in args.games.split(",") if g not in GAMES]
        if unknown:
            parser.error(f"unknown games {unknown}; choose from {', '.join(GAMES)}")
        settings = dataclasses.replace(settings, games=tuple(args.games.split(",")))
    if args.duration is not None:
        settings = dataclasses.replace(settings, duration_s=args.duration)
    if args.sessions is not None:
        settings = dataclasses.replace(settings, sessions=args.sessions)
    console = Console(width=None if sys.stdout.isatty() else 160)
    report = measure(settings, log=lambda text: console.print(f"[dim]{text}…[/dim]"))
    console.print(table(report))
    console.print(f"[yellow]reference:[/yellow] {REFERENCE_UNAVAILABLE}.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        console.print(f"[dim]wrote {args.json}[/dim]")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(render_markdown(report))
        console.print(f"[dim]wrote {args.markdown}[/dim]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
