"""OpenEnv 0.10's ``Environment`` base: subclasses define ``reset``/``step``/``state``.

An environment written the reference's way runs on our base class unchanged::

    from openenv.core.env_server.interfaces import Environment
    from openenv.core.env_server.types import State

    class EchoEnvironment(Environment):
        def __init__(self):
            self._state = State(step_count=0)
        def reset(self, seed=None, episode_id=None, **kwargs):
            self._state = State(episode_id=episode_id, step_count=0)
            return EchoObservation(echoed_message="ready")
        def step(self, action):
            self._state.step_count += 1
            return EchoObservation(echoed_message=action.message, reward=1.0)
        @property
        def state(self):
            return self._state

At class creation its ``reset``/``step`` become the hooks ``_reset``/``_step`` of
:class:`openenv.Environment`, whose public methods keep the episode's rules (no step
before ``reset``, none after ``done``) and add the async variants our server awaits.
A subclass overriding ``step`` may still call ``super().step(...)`` (as environments
built on ``MCPEnvironment`` do): through ``super()`` the name reaches the parent's own
method (see :class:`_OwnMethod`).
The environment keeps its own state and step count; the base class neither resets nor
counts them. What differs from the reference, and why, is in docs/migrating.md.
"""

from __future__ import annotations

import inspect
import random
import secrets
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from ...environment import Environment as _Environment
from ...types import EnvironmentMetadata

ActT = TypeVar("ActT")
ObsT = TypeVar("ObsT")
StateT = TypeVar("StateT")

_RENAMED = (("reset", "_reset"), ("step", "_step"))


def _takes_timeout(fn: Callable[..., Any]) -> bool:
    parameters = inspect.signature(fn).parameters.values()
    return any(p.name == "timeout_s" or p.kind is p.VAR_KEYWORD for p in parameters)


def _as_step_hook(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step(action)`` or ``step(action, timeout_s=None, **kwargs)`` as our ``_step`` hook."""
    if _takes_timeout(step):
        return step
    if inspect.iscoroutinefunction(step):

        async def step_hook_async(self: Any, action: Any, timeout_s: float | None = None) -> Any:
            return await step(self, action)

        return step_hook_async

    def step_hook(self: Any, action: Any, timeout_s: float | None = None) -> Any:
        return step(self, action)

    return step_hook


class _OwnMethod:
    """A reference-style class's own ``reset``/``step`` (or async variant), kept where
    a subclass's ``super().step(...)`` finds it.

    Looked up as ``env.step`` (this is the first ``step`` in the instance's MRO), it is
    the base class's public method, which keeps the episode's rules and calls the hook
    (``_step``: the most derived class's ``step``). Looked up through ``super()`` from a
    subclass's override, it is this class's own method, run as the reference runs it.
    On the class it is the base class's method (``runs_async`` compares them).
    """

    def __init__(self, name: str, function: Callable[..., Any]) -> None:
        self.name = name
        self.function = function
        self.__doc__ = getattr(function, "__doc__", None)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        public = getattr(_Environment, self.name)
        if instance is None:
            return public
        if _first_in_mro(type(instance), self.name) is self:
            return public.__get__(instance, owner)
        return self.function.__get__(instance, owner)


def _first_in_mro(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return None


class Environment(_Environment[ActT, ObsT, StateT], Generic[ActT, ObsT, StateT]):
    """OpenEnv 0.10's environment base, on ours; see the module docstring.

    ``SUPPORTS_CONCURRENT_SESSIONS`` is accepted and not needed: every session gets
    its own instance, so sessions never share one.
    """

    SUPPORTS_CONCURRENT_SESSIONS: ClassVar[bool] = False
    types_bound_in: ClassVar[str | None] = None
    """The module whose ``create_app(...)`` call gave this class its types (its package's
    ``server/app.py``); a sandboxed worker imports it first (see ``runtime.isolated``)."""
    # Class-level defaults: the reference's template never calls super().__init__().
    transform: Any = None
    rubric: Any = None
    seed: int | None = None
    truncated: bool = False
    _in_episode: bool = False
    _episode_over: bool = False
    _reward_components: dict[str, float] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        own = vars(cls)
        kept: dict[str, Callable[..., Any]] = {}
        for public, hook in _RENAMED:
            method = own.get(public)
            async_method = own.get(f"{public}_async")
            chosen = method if method is not None else async_method
            if chosen is None:
                continue
            setattr(cls, hook, _as_step_hook(chosen) if public == "step" else chosen)
            for name in (public, f"{public}_async"):
                if name in own:
                    kept[name] = own[name]
                    delattr(cls, name)
        super().__init_subclass__(**kwargs)  # refuses a public reset/step: none is left
        for name, function in kept.items():  # for a subclass's super().step(...)
            setattr(cls, name, _OwnMethod(name, function))

    def __init__(self, transform: Any = None, rubric: Any = None) -> None:
        super().__init__()
        self.transform = transform
        self.rubric = rubric

    # The environment owns its state and its step count: the base keeps the rules only.

    def begin_episode(self, seed: int | None = None, episode_id: str | None = None) -> None:
        self.seed = seed if seed is not None else secrets.randbits(63)
        self.rng = random.Random(self.seed)

    def _count_step(self) -> None:
        self._check_step_allowed()  # the rules only: the environment counts its own steps

    def _uncount_step(self) -> None:
        pass

    # -- the reference's helpers ---------------------------------------------------------

    def get_metadata(self) -> EnvironmentMetadata:
        """What ``GET /metadata`` says when the environment describes itself no other way."""
        name = type(self).__name__
        return EnvironmentMetadata(name=name, description=f"{name} environment", version="1.0.0")

    def _apply_transform(self, observation: ObsT) -> ObsT:
        return self.transform(observation) if self.transform is not None else observation

    def _apply_rubric(self, action: ActT, observation: ObsT) -> float:
        """The rubric's reward for this step (0.0 without one); its named parts are kept
        for ``metadata["reward_components"]`` as with :meth:`apply_rubric`."""
        if self.rubric is None:
            return 0.0
        reward = self.rubric(action, observation)
        self._reward_components = getattr(self.rubric, "named_scores", dict)()
        return reward

    async def _apply_rubric_async(self, action: ActT, observation: ObsT) -> float:
        reward: Any = self._apply_rubric(action, observation)
        return await reward if inspect.isawaitable(reward) else reward

    def _reset_rubric(self) -> None:
        if self.rubric is not None:
            self.rubric.reset()

    async def _reset_rubric_async(self) -> None:
        self._reset_rubric()


__all__ = ["Environment"]
