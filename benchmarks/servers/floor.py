"""The floor: a raw ``websockets`` server speaking the same frames (run as a script).

No framework, no validation, no sessions object: parse the JSON, count, reply.
It shows what a Python WebSocket server costs per step before any framework does
anything; a server can hardly be cheaper than this in Python.

    python benchmarks/servers/floor.py --port 8125
"""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

try:  # run as a script: this folder is sys.path[0]
    from _serverutil import pick_uvloop, raise_nofile_limit, server_parser
except ImportError:  # imported as benchmarks.servers.floor
    from ._serverutil import pick_uvloop, raise_nofile_limit, server_parser

try:
    import orjson

    loads = orjson.loads

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover - orjson is one of our dependencies
    loads = json.loads

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()


def observation(total: int) -> bytes:
    """The observation frame, as OpenEnv sends it."""
    return dumps(
        {
            "type": "observation",
            "data": {"observation": {"total": total}, "reward": None, "done": False},
        }
    )


async def handle(ws: ServerConnection) -> None:
    """One connection, one counter."""
    total = 0
    try:
        async for raw in ws:
            try:
                message = loads(raw)
                kind = message.get("type")
            except Exception:
                kind = None
            if kind == "step":
                data = message.get("data") or {}
                sleep_s = data.get("sleep_s")
                if sleep_s:
                    await asyncio.sleep(sleep_s)
                total += data.get("n", 1)
                await ws.send(observation(total), text=True)
            elif kind == "reset":
                total = 0
                await ws.send(observation(total), text=True)
            elif kind == "state":
                await ws.send(dumps({"type": "state", "data": {"step_count": 0}}), text=True)
            elif kind == "close":
                return
            else:
                error = {
                    "type": "error",
                    "data": {"message": "bad message", "code": "UNKNOWN_TYPE"},
                }
                await ws.send(dumps(error), text=True)
    except ConnectionClosed:
        pass


async def serve_forever(host: str, port: int, backlog: int) -> None:
    """Serve until SIGINT/SIGTERM."""
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        handle,
        host,
        port,
        compression=None,
        ping_interval=20.0,
        ping_timeout=20.0,
        max_size=2**24,
        backlog=backlog,
    ):
        await stop


def main() -> None:
    """Serve until SIGINT/SIGTERM."""
    args = server_parser("Raw-websockets floor server with the benchmark counter.").parse_args()
    raise_nofile_limit()
    coroutine = serve_forever(args.host, args.port, args.backlog)
    uvloop = pick_uvloop(args.loop)
    if uvloop is not None:
        uvloop.run(coroutine)
    else:
        asyncio.run(coroutine)


if __name__ == "__main__":
    main()
