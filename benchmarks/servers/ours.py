"""Our server, serving the benchmark's counter environment (run as a script).

The counter env: ``reset`` sets ``total`` to 0; ``step({"n": k})`` adds ``k`` and
returns ``{"total": ...}``; an optional ``sleep_s`` makes the step
``await asyncio.sleep(sleep_s)`` first (the "slow step" of the sleeping-sessions
test). Its hooks are ``async def``, so they run on the event loop (no thread hop).

    python benchmarks/servers/ours.py --port 8123
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from openenv import Action, Environment, Observation, State
from openenv.server import ServerConfig, create_app, uvicorn_config

try:  # run as a script: this folder is sys.path[0]
    from _serverutil import raise_nofile_limit, server_parser
except ImportError:  # imported as benchmarks.servers.ours
    from ._serverutil import raise_nofile_limit, server_parser


class CounterAction(Action):
    """Add ``n`` to the total, after sleeping ``sleep_s`` seconds."""

    n: int = 1
    sleep_s: float = Field(default=0.0, ge=0.0, le=60.0)


class CounterObservation(Observation):
    """The running total."""

    total: int = 0


class CounterEnv(Environment[CounterAction, CounterObservation, State]):
    """A counter: the cheapest environment that still validates and answers typed data."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    async def _reset(
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> CounterObservation:
        self.total = 0
        return CounterObservation(total=0)

    async def _step(
        self, action: CounterAction, timeout_s: float | None = None
    ) -> CounterObservation:
        if action.sleep_s:
            await asyncio.sleep(action.sleep_s)
        self.total += action.n
        return CounterObservation(total=self.total)


def main() -> None:
    """Serve the counter env until SIGINT/SIGTERM."""
    import uvicorn

    parser = server_parser("Our OpenEnv server with the benchmark counter env.")
    parser.add_argument(
        "--uvicorn-ws",
        help="override uvicorn's WebSocket implementation (experiments: websockets, "
        "websockets-sansio, wsproto); default: what openenv.server.uvicorn_config picks",
    )
    args = parser.parse_args()
    raise_nofile_limit()
    config = ServerConfig(
        max_sessions=args.max_sessions,
        idle_timeout_s=600.0,
        step_timeout_s=120.0,
    )
    app = create_app(CounterEnv, config=config)
    overrides = {"ws": args.uvicorn_ws} if args.uvicorn_ws else {}
    server_config = uvicorn_config(
        app, args.host, args.port, loop=args.loop, backlog=args.backlog, **overrides
    )
    uvicorn.Server(server_config).run()


if __name__ == "__main__":
    main()
