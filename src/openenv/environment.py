"""The server-side environment API, Gymnasium style: ``reset``, ``step``, ``state``.

An environment author subclasses :class:`Environment`, names its types, and
implements ``reset`` and ``step``. Nothing here knows about HTTP or WebSockets:
the server (:func:`openenv.server.create_app`) turns messages into these calls,
one environment instance per session, and one instance is one trajectory.

Example::

    class CounterEnv(Environment[CountAction, CountObservation, State]):
        action_type = CountAction
        observation_type = CountObservation

        def reset(self, seed=None, episode_id=None, **options):
            self.begin_episode(seed, episode_id)
            self.total = self.rng.randint(0, 9)  # seeded: same seed, same episode
            return CountObservation(total=self.total)

        def step(self, action, timeout_s=None):
            self.state.step_count += 1
            self.total += action.add
            return CountObservation(total=self.total, done=self.total >= 100)

Async environments override :meth:`reset_async` / :meth:`step_async` instead;
the server runs those on its event loop and the sync ones in worker threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import uuid
from functools import cache
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, create_model

from .rubrics import Rubric
from .signatures import fields_from_signature
from .tools import ToolSpec, collect_tools
from .types import Action, EnvironmentMetadata, Observation, State

ActT = TypeVar("ActT", bound=Action)
ObsT = TypeVar("ObsT", bound=Observation)
StateT = TypeVar("StateT", bound=State)

MAX_SEED = 2**64 - 1
Seed = Annotated[int, Strict(), Field(ge=0, le=MAX_SEED)]
"""A seed is an integer in ``[0, 2**64)``; strings, floats and booleans are refused."""
EpisodeId = Annotated[str, Field(min_length=1, max_length=255)]


def derive_seed(seed: int, *keys: object) -> int:
    """A stable 64-bit seed for a named sub-stream of ``seed``.

    Same inputs, same output, in every process (unlike ``hash()``)::

        opponent_rng = random.Random(derive_seed(seed, "opponent"))
    """
    text = ":".join([str(seed), *map(str, keys)]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


class Environment(Generic[ActT, ObsT, StateT]):
    """Base class of every environment. Subclass it; see the module docstring.

    Class attributes an author sets:

    * ``action_type`` / ``observation_type`` / ``state_type`` — the pydantic models
      of this environment (they also give ``GET /schema``);
    * ``metadata`` — an :class:`EnvironmentMetadata` for ``GET /metadata``;
    * ``rubric`` (instance attribute) — a :class:`~openenv.rubrics.Rubric` that
      :meth:`apply_rubric` uses to compute rewards.
    """

    action_type: ClassVar[type[Action]] = Action
    observation_type: ClassVar[type[Observation]] = Observation
    state_type: ClassVar[type[State]] = State
    metadata: ClassVar[EnvironmentMetadata | None] = None

    def __init__(self) -> None:
        self.rubric: Rubric | None = None
        self.rng = random.Random()
        self.seed: int | None = None
        self._state: StateT = self.state_type()  # type: ignore[assignment]

    # -- the API -----------------------------------------------------------------

    def reset(self, seed: int | None = None, episode_id: str | None = None, **options: Any) -> ObsT:
        """Start a new episode and return its first observation."""
        raise NotImplementedError(f"{type(self).__name__} must implement reset()")

    def step(self, action: ActT, timeout_s: float | None = None) -> ObsT:
        """Apply ``action``; return the observation with its reward and ``done`` flag.

        ``timeout_s`` is the caller's deadline for this step; environments that run
        long work should stop by then. The server enforces it regardless.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement step()")

    @property
    def state(self) -> StateT:
        """Episode bookkeeping (``episode_id``, ``step_count``, and env-specific fields)."""
        return self._state

    def close(self) -> None:
        """Release resources; called once when the session ends."""

    async def reset_async(
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> ObsT:
        """Async ``reset``; by default runs :meth:`reset` in a thread."""
        return await asyncio.to_thread(self.reset, seed=seed, episode_id=episode_id, **options)

    async def step_async(self, action: ActT, timeout_s: float | None = None) -> ObsT:
        """Async ``step``; by default runs :meth:`step` in a thread."""
        return await asyncio.to_thread(self.step, action, timeout_s=timeout_s)

    async def close_async(self) -> None:
        """Async ``close``; by default runs :meth:`close` in a thread."""
        await asyncio.to_thread(self.close)

    @classmethod
    async def close_shared(cls) -> None:
        """Release what all instances share (a browser, a loaded model); by default nothing.

        The server calls it once at shutdown, on its event loop, after every session
        has closed.
        """

    # -- helpers for authors ---------------------------------------------------------

    def begin_episode(self, seed: int | None = None, episode_id: str | None = None) -> None:
        """Seed :attr:`rng`, reset the rubric and the state; call it first in ``reset``.

        With ``seed=None`` a fresh seed is drawn and kept in :attr:`seed`, so any
        episode can be replayed by resetting with that seed.
        """
        self.seed = seed if seed is not None else secrets.randbits(63)
        self.rng = random.Random(self.seed)
        if self.rubric is not None:
            self.rubric.reset()
        self._state = self.state_type(  # type: ignore[assignment]
            episode_id=episode_id or str(uuid.uuid4()), step_count=0
        )

    def apply_rubric(self, action: ActT, observation: ObsT) -> ObsT:
        """Set ``observation.reward`` from :attr:`rubric` (left alone when there is none)."""
        if self.rubric is not None:
            observation.reward = self.rubric(action, observation)
        return observation

    # -- introspection used by the server ------------------------------------------

    @classmethod
    def runs_async(cls, method: str) -> bool:
        """True when the subclass implements ``reset_async``/``step_async`` itself."""
        return getattr(cls, method) is not getattr(Environment, method)

    @classmethod
    def tools(cls) -> dict[str, ToolSpec]:
        """The MCP tools this environment declares with :func:`openenv.tool`."""
        return _tools_of(cls)

    @classmethod
    def reset_options_model(cls) -> type[BaseModel]:
        """A pydantic model of what ``reset`` accepts, built from its signature.

        Unknown options are refused unless ``reset`` takes ``**options``.
        """
        return _reset_model_of(cls)


@cache
def _tools_of(cls: type[Environment[Any, Any, Any]]) -> dict[str, ToolSpec]:
    return collect_tools(cls)


@cache
def _reset_model_of(cls: type[Environment[Any, Any, Any]]) -> type[BaseModel]:
    method = cls.reset_async if cls.runs_async("reset_async") else cls.reset
    fields, var_kwargs = fields_from_signature(
        method,
        skip_first=True,
        overrides={"seed": Seed | None, "episode_id": EpisodeId | None},
    )
    return create_model(
        f"{cls.__name__}ResetOptions",
        __config__=ConfigDict(extra="allow" if var_kwargs else "forbid"),
        **fields,
    )
