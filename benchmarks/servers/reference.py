"""The reference OpenEnv 0.10 server with an equivalent counter env (run as a script).

Runs under the reference package's own Python (``benchmarks.reference.venv
.reference_python()``), so ``openenv`` here is the *reference* package. The env is
written against its API (``Environment`` with ``reset``/``step``/``state``,
``SUPPORTS_CONCURRENT_SESSIONS``) and served by its ``create_app`` under uvicorn,
as the reference's own Dockerfiles do, with the concurrency it needs
(``max_concurrent_envs``) and the same listen backlog as ours.

Two ways to sleep in a step (the sleeping-sessions test):

* default: the env overrides ``reset_async``/``step_async``, which the reference
  awaits on its event loop, and sleeps with ``await asyncio.sleep``;
* ``--sync-sleep``: the env only has sync ``reset``/``step``; the reference runs
  them in the session's own single-thread executor, and the step sleeps with
  ``time.sleep`` — how most reference environments are written.

    $(python -m benchmarks.reference.venv) benchmarks/servers/reference.py --port 8124
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any

from _serverutil import raise_nofile_limit, server_parser
from pydantic import Field

from openenv.core.env_server.http_server import create_app
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, Observation, State


class CounterAction(Action):
    """Add ``n`` to the total, after sleeping ``sleep_s`` seconds."""

    n: int = 1
    sleep_s: float = Field(default=0.0, ge=0.0, le=60.0)


class CounterObservation(Observation):
    """The running total."""

    total: int = 0


class CounterEnv(Environment):
    """The counter, sync only: the reference runs it in the session's thread."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self) -> None:
        super().__init__()
        self.total = 0
        self._state = State(episode_id=str(uuid.uuid4()), step_count=0)

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> CounterObservation:
        self._state = State(episode_id=episode_id or str(uuid.uuid4()), step_count=0)
        self.total = 0
        return CounterObservation(total=0)

    def step(
        self, action: CounterAction, timeout_s: float | None = None, **kwargs: Any
    ) -> CounterObservation:
        if action.sleep_s:
            time.sleep(action.sleep_s)
        return self._count(action)

    def _count(self, action: CounterAction) -> CounterObservation:
        self._state.step_count += 1
        self.total += action.n
        return CounterObservation(total=self.total)

    @property
    def state(self) -> State:
        return self._state


class AsyncCounterEnv(CounterEnv):
    """The counter with async reset/step, awaited on the reference's event loop."""

    async def reset_async(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> CounterObservation:
        return self.reset(seed=seed, episode_id=episode_id)

    async def step_async(
        self, action: CounterAction, timeout_s: float | None = None, **kwargs: Any
    ) -> CounterObservation:
        if action.sleep_s:
            await asyncio.sleep(action.sleep_s)
        return self._count(action)


def main() -> None:
    """Serve the counter env until SIGINT/SIGTERM."""
    import uvicorn

    parser = server_parser("Reference OpenEnv server with the benchmark counter env.")
    parser.add_argument(
        "--sync-sleep",
        action="store_true",
        help="sync reset/step in the session's thread, sleeping with time.sleep",
    )
    args = parser.parse_args()
    raise_nofile_limit()
    os.environ.pop("ENABLE_WEB_INTERFACE", None)  # the plain FastAPI app, no Gradio UI
    env_class = CounterEnv if args.sync_sleep else AsyncCounterEnv
    app = create_app(
        env_class,
        CounterAction,
        CounterObservation,
        env_name="counter",
        max_concurrent_envs=args.max_sessions,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop=args.loop,
        backlog=args.backlog,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
