"""Tiny environments for the test suite: sleeping, blocking, raising, counting.

They share one action type, so the same health check (a step with ``message``)
works against every one of them. ``ToyEnv`` is synchronous (the server runs it in
a worker thread); ``AsyncToyEnv`` has ``async def`` hooks (it runs on the server's
event loop).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from openenv import Action, Environment, Observation, State, tool


class ToyAction(Action):
    message: str = ""
    seconds: float = 0.0
    """How long the step takes (``time.sleep`` in ToyEnv, ``asyncio.sleep`` in AsyncToyEnv)."""
    fail: bool = False
    """Make the step raise."""
    number: int = 0


class ToyObservation(Observation):
    echoed: str = ""
    step_count: int = 0
    draw: int = 0
    """A value drawn from the seeded rng: same seed, same draws."""
    number: int = 0


class ToyState(State):
    draws: list[int] = []


SECRET = "s3cr3t-internal-detail"


class ToyEnv(Environment[ToyAction, ToyObservation, ToyState]):
    """A synchronous toy environment; its ``close()`` calls are counted."""

    def __init__(self) -> None:
        super().__init__()
        self.close_calls = 0
        self.steps_started = 0
        self.steps_finished = 0
        self.last_timeout_s: float | None = None
        self.lock = threading.Lock()

    def _reset(
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> ToyObservation:
        return self._first(options)

    def _first(self, options: dict[str, Any]) -> ToyObservation:
        self.options = options
        if options.get("fail"):
            raise RuntimeError("reset failed on request")
        return ToyObservation(draw=self.rng.randint(0, 10**9), metadata={"options": options})

    def _observe(self, action: ToyAction) -> ToyObservation:
        draw = self.rng.randint(0, 10**9)
        self.state.draws.append(draw)
        return ToyObservation(
            echoed=action.message,
            step_count=self.state.step_count,
            draw=draw,
            number=action.number,
            reward=len(action.message) / 10,
            done=action.message == "done",
        )

    def _step(self, action: ToyAction, timeout_s: float | None = None) -> ToyObservation:
        self.steps_started += 1
        self.last_timeout_s = timeout_s
        if action.fail:
            raise ValueError(f"the environment broke ({SECRET})")
        if action.seconds:
            time.sleep(action.seconds)
        self.steps_finished += 1
        return self._observe(action)

    def close(self) -> None:
        with self.lock:
            self.close_calls += 1

    @tool
    def add(self, a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @tool
    def explode(self) -> str:
        """A tool that raises."""
        raise RuntimeError("tool exploded")

    @tool
    def not_json(self) -> Any:
        """A tool whose value cannot be sent as JSON."""
        return {1, 2, 3}

    @tool
    async def wait(self, seconds: float) -> float:
        """An async tool that sleeps."""
        await asyncio.sleep(seconds)
        return seconds


class AsyncToyEnv(ToyEnv):
    """The same toy environment with async hooks (run on the event loop)."""

    async def _reset(  # type: ignore[override]
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> ToyObservation:
        return self._first(options)

    async def _step(  # type: ignore[override]
        self, action: ToyAction, timeout_s: float | None = None
    ) -> ToyObservation:
        self.steps_started += 1
        self.last_timeout_s = timeout_s
        if action.fail:
            raise ValueError(f"the environment broke ({SECRET})")
        if action.seconds:
            await asyncio.sleep(action.seconds)
        self.steps_finished += 1
        return self._observe(action)


class StrictResetEnv(ToyEnv):
    """``reset`` takes named options only: unknown ones are refused."""

    def _reset(  # type: ignore[override]
        self, seed: int | None = None, episode_id: str | None = None, level: int = 1
    ) -> ToyObservation:
        return ToyObservation(draw=self.rng.randint(0, 10**9), number=level)


class Recorder:
    """A factory that remembers every environment it made (to count ``close()`` calls).

    ``fail_next`` makes the next N calls raise, as a broken factory would.
    """

    def __init__(self, env_class: type[ToyEnv] = ToyEnv) -> None:
        self.env_class = env_class
        self.made: list[ToyEnv] = []
        self.fail_next = 0
        self.__name__ = f"record_{env_class.__name__}"

    def __call__(self) -> ToyEnv:
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("no environment for you: the backing service is down")
        env = self.env_class()
        self.made.append(env)
        return env

    @property
    def close_calls(self) -> list[int]:
        return [env.close_calls for env in self.made]


def broken_factory() -> ToyEnv:
    raise OSError("the backing service is down")
