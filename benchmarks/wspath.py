"""Our WebSocket path in one process, without sockets: CPU per message.

The server's protocol object (``uvicorn_config(app).ws``, i.e.
:class:`~openenv.server.transport.DirectWebSocketProtocol`) gets the handshake and
then masked ``step`` frames through ``data_received`` from a driver coroutine; a
fake transport counts the replies. What it measures is the Python side of a step
(frames, the session loop, validation, the counter env, encoding) plus one task
wake of the driver (~2.5 µs on uvloop), without the kernel's send and receive: a
steadier figure than a loopback run for comparing two revisions of that code
(best of ``--runs``).

    python -m benchmarks.wspath                  # uvloop, 50,000 messages, best of 5
    python -m benchmarks.wspath --loop asyncio --messages 20000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import time
from collections.abc import Sequence
from typing import Any

from uvicorn.server import ServerState

from benchmarks.loadgen import masked_frame
from benchmarks.servers.ours import CounterEnv
from openenv.server import ServerConfig
from openenv.server.app import create_app
from openenv.server.run import uvicorn_config


class CountingTransport:
    """Takes the server's writes; wakes the driver at each."""

    def __init__(self) -> None:

        self.writes = 0
        self.waiter: asyncio.Future[None] | None = None
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes += 1
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 1), "peername": ("127.0.0.1", 2)}.get(name, default)


async def cpu_per_message(messages: int, warmup: int = 2000) -> float:
    """Microseconds of this process's CPU per step message, after ``warmup`` of them."""
    app = create_app(CounterEnv, config=ServerConfig())
    config = uvicorn_config(app)
    config.load()
    protocol = config.ws(config=config, server_state=ServerState(), app_state={})
    transport = CountingTransport()
    protocol.connection_made(transport)
    loop = asyncio.get_running_loop()

    async def send(data: bytes) -> None:  # one message in, its reply out
        transport.waiter = loop.create_future()
        protocol.data_received(data)
        await transport.waiter  # bounded by main()'s timeout: wait_for costs ~5 µs a call

    key = base64.b64encode(os.urandom(16)).decode()
    await send(
        "GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )  # the 101
    await send(masked_frame(b'{"type":"reset"}'))
    step = masked_frame(b'{"type":"step","data":{"n":1}}')
    for _ in range(warmup):
        await send(step)
    before = transport.writes
    start = time.process_time()
    for _ in range(messages):
        await send(step)
    elapsed = time.process_time() - start
    if transport.writes - before != messages:
        raise RuntimeError(f"{transport.writes - before} replies to {messages} steps")
    return elapsed / messages * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wspath", description=__doc__)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    if args.loop == "uvloop":
        import uvloop

        run: Any = uvloop.run
    else:
        run = asyncio.run
    budget = 60 + args.messages / 1000  # seconds: a missing reply fails, never hangs
    results = [
        run(asyncio.wait_for(cpu_per_message(args.messages), budget)) for _ in range(args.runs)
    ]
    print(
        f"{min(results):.2f} µs of CPU per step message ({args.loop}, in-process, best of "
        f"{args.runs}; all: {', '.join(f'{r:.2f}' for r in results)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
