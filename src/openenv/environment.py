"""The server-side environment API, Gymnasium style: ``reset``, ``step``, ``state``.

An environment author subclasses :class:`Environment`, naming its types once as its
generic arguments (``Environment[Action, Observation, State]``), and implements two
hooks, ``_reset`` and ``_step``. The public ``reset`` and ``step``
belong to the base class, which owns the episode's rules in this one place:

* ``reset`` seeds :attr:`~Environment.rng`, starts a fresh :attr:`~Environment.state`
  (new ``episode_id``, ``step_count`` 0), resets the rubric, then calls ``_reset``;
* ``step`` before the first successful ``reset`` raises :class:`EpisodeNotStarted`;
  after an observation with ``done=True`` it raises :class:`EpisodeOver` (an episode
  ends for good: no later step is run, and none pays a reward);
* ``step`` counts ``state.step_count`` and enforces :attr:`~Environment.max_steps`:
  the step that reaches it is returned with ``done=True`` (and ``truncated`` set);
* a step that raises (a refused action) does not count;
* a step scored by a rubric with parts carries their scores, by name, in
  ``observation.metadata["reward_components"]`` (:data:`REWARD_COMPONENTS`), written
  last, by the base class alone (see :meth:`~Environment.apply_rubric`).

Nothing here knows about HTTP or WebSockets: the server (:func:`openenv.server.create_app`)
turns messages into these calls, one environment instance per session, and one
instance is one trajectory.

Example::

    class CounterEnv(Environment[CountAction, CountObservation, State]):
        def _reset(self, seed=None, episode_id=None, limit: int = 20, **options):
            self.max_steps = limit                  # the base class ends the episode there
            self.total = self.rng.randint(0, 9)     # seeded: same seed, same episode
            return CountObservation(total=self.total)

        def _step(self, action, timeout_s=None):
            self.total += action.add
            return CountObservation(total=self.total, done=self.total >= 100)

The generic arguments are the environment's types: the base class sets
``CounterEnv.action_type``, ``observation_type`` and ``state_type`` from them (what the
server validates and ``GET /schema`` shows). Name, description and version come from
the package (its ``openenv.yaml`` and distribution), see
:func:`openenv.discovery.metadata_for`.

Hooks written ``async def`` make an asynchronous environment: the server awaits
them on its event loop (``reset_async``/``step_async``), and runs synchronous ones
in worker threads.
"""

from __future__ import annotations

import hashlib
import inspect
import random
import secrets
import uuid
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, ClassVar, Generic, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, create_model
from pydantic_core import PydanticCustomError

from .errors import EpisodeError, EpisodeNotStarted, EpisodeOver  # noqa: F401 (re-exported)
from .rubrics import Rubric
from .signatures import fields_from_signature
from .suggest import model_keys, unknown_keys_message
from .tools import ToolLike, ToolSpec, collect_tools
from .types import Action, EnvironmentMetadata, Observation, State

ActT = TypeVar("ActT", bound=Action)
ObsT = TypeVar("ObsT", bound=Observation)
StateT = TypeVar("StateT", bound=State)

MAX_SEED = 2**64 - 1
Seed = Annotated[int, Strict(), Field(ge=0, le=MAX_SEED)]
"""A seed is an integer in ``[0, 2**64)``; strings, floats and booleans are refused."""
EpisodeId = Annotated[str, Field(min_length=1, max_length=255)]

REWARD_COMPONENTS = "reward_components"
"""The observation metadata key of a step's reward components: ``{part name: score}``
of the rubric's named parts (:meth:`openenv.rubrics.Rubric.named_scores`)."""


def derive_seed(seed: int, *keys: object) -> int:
    """A stable 64-bit seed for a named sub-stream of ``seed``.

    Same inputs, same output, in every process (unlike ``hash()``)::

        opponent_rng = random.Random(derive_seed(seed, "opponent"))
    """
    text = ":".join([str(seed), *map(str, keys)]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


_TYPE_ATTRIBUTES = (
    ("action_type", Action),
    ("observation_type", Observation),
    ("state_type", State),
)
"""The class attributes that :meth:`Environment.__init_subclass__` sets from the generic
arguments, in their order, with the base class each must subclass."""

_HOOKS = {"reset_async": "_reset", "step_async": "_step", "close_async": "close_async"}
_PUBLIC = ("reset", "step", "reset_async", "step_async")


class Environment(Generic[ActT, ObsT, StateT]):
    """Base class of every environment. Subclass it and implement ``_reset``/``_step``.

    The generic arguments name the environment's types, once:
    ``class Echo(Environment[EchoAction, EchoObservation, State])`` sets the class
    attributes ``action_type`` / ``observation_type`` / ``state_type`` (what the server
    validates, and ``GET /schema``). They are inherited, and found through generic
    intermediate classes (``class Sub(Mid[A, O])``); an argument left a ``TypeVar`` or
    ``Any`` keeps the inherited type. Declaring one of them again as a class attribute
    is refused unless it is the same class, as is an argument that is not an
    ``Action``/``Observation``/``State`` subclass (``TypeError`` at class creation).

    Class attributes an author may set:

    * ``metadata`` — an :class:`EnvironmentMetadata` whose fields override, one by one,
      what :func:`openenv.discovery.metadata_for` finds (name and description from
      ``openenv.yaml``, version from the installed package); rarely needed;
    * ``requires_sandbox`` — ``True`` for environments that run agent-supplied code
      or commands: servers then refuse ``isolation="none"`` unless explicitly told
      otherwise (see docs/rewards.md);
    * ``max_steps`` (also per instance, e.g. from a reset option) — the step that
      reaches it ends the episode;
    * ``rubric`` (instance attribute) — a :class:`~openenv.rubrics.Rubric` that
      :meth:`apply_rubric` uses to compute rewards (and their named components).

    The public ``reset``/``step`` (and their async variants) are the base class's;
    a subclass that defines them is refused at class creation, so no environment
    can skip the episode rules by accident.
    """

    action_type: ClassVar[type[Action]] = Action
    observation_type: ClassVar[type[Observation]] = Observation
    state_type: ClassVar[type[State]] = State
    metadata: ClassVar[EnvironmentMetadata | None] = None
    requires_sandbox: ClassVar[bool] = False
    max_steps: int | None = None
    runs_inline: bool = False
    """True when synchronous hooks never block (microseconds of work): the server then
    calls them on its event loop rather than in a worker thread (no thread hop). Set it
    on the class; an instance may turn it off for an episode of heavy steps (an engine
    that searches), and it is read at every call."""
    mixed_observations: ClassVar[bool] = False
    """True when ``reset``/``step`` may answer observations that are not
    :attr:`observation_type` (OpenEnv 0.10's ``MCPEnvironment`` answers tool steps with
    ``ListToolsObservation``/``CallToolObservation`` whatever its type): a sandbox then
    relays any :class:`Observation` rather than checking the fields of that type."""
    relays_calls: ClassVar[bool] = False
    """True for proxies that forward calls to an environment elsewhere (which enforces
    the rules itself); only those may define the public methods."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _set_types_from_generic_arguments(cls)
        if cls.relays_calls:
            return
        for name in _PUBLIC:
            if name in vars(cls):
                hook = _HOOKS.get(name, f"_{name}")
                raise TypeError(
                    f"{cls.__qualname__} defines {name}(); implement {hook}() instead "
                    f"(Environment.{name} enforces the episode rules and calls it)"
                )

    def __init__(self) -> None:
        self.rubric: Rubric | None = None
        self.rng = random.Random()
        self.seed: int | None = None
        self.truncated = False
        """The episode ended because it reached :attr:`max_steps`."""
        self._state: StateT = self.state_type()  # type: ignore[assignment]
        self._in_episode = False
        self._episode_over = False
        self._reward_components: dict[str, float] | None = None

    # -- hooks for authors -------------------------------------------------------------

    def _reset(
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> ObsT:
        """Start an episode (``self.rng`` and ``self.state`` are fresh already); return
        its first observation. ``seed``/``episode_id`` are what the caller passed."""
        raise NotImplementedError(f"{type(self).__name__} must implement _reset()")

    def _step(self, action: ActT, timeout_s: float | None = None) -> ObsT:
        """Apply ``action``; return the observation with its reward and ``done`` flag.

        ``state.step_count`` already counts this step. ``timeout_s`` is the caller's
        deadline for it; environments that run long work should stop by then (the
        server enforces it regardless).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _step()")

    # -- the API -----------------------------------------------------------------------

    def reset(self, seed: int | None = None, episode_id: str | None = None, **options: Any) -> ObsT:
        """Start a new episode and return its first observation."""
        self._refuse_async("reset")
        kwargs = self.validate_reset_options(seed=seed, episode_id=episode_id, **options)
        self._open_episode(seed, episode_id)
        return self._opened(self._reset(**kwargs))

    def step(self, action: ActT, timeout_s: float | None = None) -> ObsT:
        """Apply ``action`` and return the observation, its reward and ``done`` flag.

        Raises :class:`EpisodeNotStarted` before a ``reset``, :class:`EpisodeOver` after
        the episode ended.
        """
        self._refuse_async("step")
        self._count_step()
        try:
            observation = self._step(action, timeout_s=timeout_s)
        except BaseException:
            self._uncount_step()
            raise
        return self._stepped(observation)

    async def reset_async(
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> ObsT:
        """``reset`` for async callers: awaits an ``async def _reset``, else runs in a thread."""
        if not _is_async(type(self)._reset):
            if self.runs_inline:
                return self.reset(seed=seed, episode_id=episode_id, **options)
            return await _in_thread(self.reset, seed=seed, episode_id=episode_id, **options)
        kwargs = self.validate_reset_options(seed=seed, episode_id=episode_id, **options)
        self._open_episode(seed, episode_id)
        return self._opened(await self._reset(**kwargs))  # type: ignore[misc]

    async def step_async(self, action: ActT, timeout_s: float | None = None) -> ObsT:
        """``step`` for async callers: awaits an ``async def _step``, else runs in a thread."""
        if not _is_async(type(self)._step):
            if self.runs_inline:
                return self.step(action, timeout_s=timeout_s)
            return await _in_thread(self.step, action, timeout_s=timeout_s)
        self._count_step()
        try:
            observation = await self._step(action, timeout_s=timeout_s)  # type: ignore[misc]
        except BaseException:
            self._uncount_step()
            raise
        return self._stepped(observation)

    @property
    def state(self) -> StateT:
        """Episode bookkeeping (``episode_id``, ``step_count``, and env-specific fields)."""
        return self._state

    @property
    def episode_over(self) -> bool:
        """The episode ended (``done`` was returned); only ``reset`` goes on."""
        return self._episode_over

    @property
    def at_step_limit(self) -> bool:
        """This step (inside ``_step``) or the last one reached :attr:`max_steps`."""
        return self.max_steps is not None and self._state.step_count >= self.max_steps

    def close(self) -> None:
        """Release resources; called once when the session ends."""

    async def close_async(self) -> None:
        """Async ``close``; by default runs :meth:`close` in a thread."""
        await _in_thread(self.close)

    @classmethod
    def prepare_shared(cls) -> None:
        """Load, once per process, what every instance reads (a task set, a table); by
        default nothing.

        Called before the first instance is made: by an in-process server as it starts,
        and, sandboxed, by the environment's zygote template before it forks a worker,
        so every session's worker finds it loaded and shares its memory. Load data only:
        no thread, process or file one session could change (forked workers share it).

        Example::

            @classmethod
            def prepare_shared(cls) -> None:
                TASKS.load()
        """

    @classmethod
    async def close_shared(cls) -> None:
        """Release what all instances share (a browser, a loaded model); by default nothing.

        The server calls it once at shutdown, on its event loop, after every session
        has closed.
        """

    # -- the episode's rules -----------------------------------------------------------

    def _open_episode(self, seed: int | None, episode_id: str | None) -> None:
        self._in_episode = self._episode_over = self.truncated = False
        self.begin_episode(seed, episode_id)

    def _opened(self, observation: ObsT) -> ObsT:
        _write_reward_components(observation, None)
        self._in_episode = True
        self._episode_over = bool(getattr(observation, "done", False))
        return observation

    def _check_step_allowed(self) -> None:
        """The episode's rules for a step: after ``reset``, before ``done``."""
        if not self._in_episode:
            raise EpisodeNotStarted("call reset before step: no episode has started")
        if self._episode_over:
            raise EpisodeOver(
                "the episode is over (it returned done=True); call reset to start another"
            )
        self._reward_components = None  # apply_rubric fills it in, for this step only

    def _count_step(self) -> None:
        self._check_step_allowed()
        _add_steps(self._state, 1)

    def _uncount_step(self) -> None:
        _add_steps(self._state, -1)

    def _stepped(self, observation: ObsT) -> ObsT:
        # Written after _step returned, so nothing the environment put in its metadata
        # (an echo of the agent's action included) can pose as the rubric's scores.
        _write_reward_components(observation, self._reward_components)
        self._reward_components = None
        if not getattr(observation, "done", False) and self.at_step_limit:
            observation.done = True
            self.truncated = True
        self._episode_over = bool(getattr(observation, "done", False))
        return observation

    def _refuse_async(self, method: str) -> None:
        if _is_async(getattr(type(self), f"_{method}")):
            raise TypeError(
                f"{type(self).__name__} is asynchronous: use `await env.{method}_async(...)`"
            )

    # -- helpers for authors -------------------------------------------------------------

    def begin_episode(self, seed: int | None = None, episode_id: str | None = None) -> None:
        """Seed :attr:`rng`, reset the rubric and the state (``reset`` calls it first).

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
        """Set ``observation.reward`` from :attr:`rubric` (left alone when there is none).

        Called in ``_step``, it also keeps the scores of the rubric's named parts
        (:meth:`~openenv.rubrics.Rubric.named_scores`); when the step returns, the
        base class puts them in ``observation.metadata["reward_components"]``,
        replacing anything there. A step that applies no rubric, or one without
        parts, has no such key::

            obs = env.step(action)      # a WeightedSum of `progress_gain` and `mistakes`
            obs.metadata["reward_components"]   # {'progress_gain': 0.15, 'mistakes': 0.0}
        """
        if self.rubric is not None:
            observation.reward = self.rubric(action, observation)
            self._reward_components = self.rubric.named_scores()
        return observation

    # -- introspection used by the server ------------------------------------------

    @classmethod
    def runs_async(cls, method: str) -> bool:
        """True when the server should await ``method`` (``reset_async``, ``step_async``,
        ``close_async``) on its event loop: its hook is an ``async def``, the hooks run
        inline (:attr:`runs_inline`), or a proxy relays it."""
        if cls.needs_event_loop(method):
            return True
        hook = _HOOKS.get(method)
        return cls.runs_inline and hook is not None and hook != method

    @classmethod
    def needs_event_loop(cls, method: str) -> bool:
        """True when ``method`` (``reset_async``, ``step_async``, ``close_async``) only
        runs on an event loop: the class overrides it, or its hook is an ``async def``.
        Unlike :meth:`runs_async`, false for synchronous hooks that run inline: a
        sandboxed worker calls those directly."""
        if getattr(cls, method) is not getattr(Environment, method):
            return True
        hook = _HOOKS.get(method)
        if hook is None or hook == method:
            return False
        return _is_async(getattr(cls, hook))

    @classmethod
    def tools(cls) -> dict[str, ToolSpec]:
        """The MCP tools this environment declares with :func:`openenv.tool`."""
        return _tools_of(cls)

    def instance_tools(self) -> Mapping[str, ToolLike]:
        """The MCP tools of this instance, by name: what the server lists and calls.

        By default the class's :meth:`tools`. An environment whose tools are made per
        instance overrides it (OpenEnv 0.10's ``MCPEnvironment`` returns its FastMCP
        server's); each entry has :class:`openenv.tools.ToolLike`'s interface.
        """
        return type(self).tools()

    @classmethod
    def validate_action(cls, data: Any) -> ActT:
        """The action ``data`` (a step's JSON) describes; ``pydantic.ValidationError`` if
        none. By default an :attr:`action_type`; an environment that also takes other
        actions (OpenEnv 0.10's MCP actions) overrides it."""
        # The validator itself: ``model_validate`` with its defaults, ~0.5 µs a step less.
        return cls.action_type.__pydantic_validator__.validate_python(data)  # type: ignore[no-any-return]

    @classmethod
    def validate_reset_options(cls, **options: Any) -> dict[str, Any]:
        """``options`` checked against :meth:`reset_options_model`: the keyword arguments
        ``_reset`` gets (only those given, converted). Raises ``pydantic.ValidationError``.
        """
        model = cls.reset_options_model()
        if model.model_config.get("extra") == "forbid":
            unknown_reset_options(model, options)
        validated = model.model_validate(options)
        kwargs = {name: getattr(validated, name) for name in validated.model_fields_set}
        kwargs.update(validated.model_extra or {})
        kwargs.setdefault("seed", None)
        kwargs.setdefault("episode_id", None)
        return kwargs

    @classmethod
    def reset_options_model(cls) -> type[BaseModel]:
        """A pydantic model of what ``reset`` accepts, built from ``_reset``'s signature.

        Unknown options are refused unless ``_reset`` takes ``**options``.
        """
        return _reset_model_of(cls)


def _set_types_from_generic_arguments(cls: type[Environment[Any, Any, Any]]) -> None:
    """Set ``action_type``/``observation_type``/``state_type`` from ``Environment[A, O, S]``.

    Only a class statement with generic arguments (``__orig_bases__``) sets them; a plain
    subclass (``class Sub(EchoEnvironment)``) inherits them, and may override them.
    """
    if "__orig_bases__" not in vars(cls):
        return
    arguments = _environment_arguments(cls, {})
    for (attribute, base), argument in zip(_TYPE_ATTRIBUTES, arguments or (), strict=False):
        if isinstance(argument, TypeVar) or argument is Any:
            continue  # left generic: the inherited type (or an explicit declaration) stands
        if not (isinstance(argument, type) and issubclass(argument, base)):
            raise TypeError(
                f"{cls.__qualname__}: the {attribute} argument of Environment[...] must be a "
                f"subclass of {base.__name__}, not {_type_name(argument)}"
            )
        declared = vars(cls).get(attribute)
        if declared is not None and declared is not argument:
            raise TypeError(
                f"{cls.__qualname__} declares {attribute} = {_type_name(declared)}, but its "
                f"Environment[...] argument is {_type_name(argument)}; name the type once, "
                f"as the generic argument, and drop the class attribute"
            )
        setattr(cls, attribute, argument)


def _environment_arguments(cls: type, bindings: dict[Any, Any]) -> tuple[Any, ...] | None:
    """The arguments ``cls`` gives ``Environment[...]``, through generic intermediates.

    ``bindings`` maps the type variables of ``cls`` to what a subclass bound them to.
    ``None`` when no base of ``cls`` leads to a parameterised ``Environment``.
    """
    for base in vars(cls).get("__orig_bases__", cls.__bases__):
        origin = get_origin(base) or base
        arguments = tuple(
            bindings.get(a, a) if isinstance(a, TypeVar) else a for a in get_args(base)
        )
        if origin is Environment:
            return arguments or None
        if isinstance(origin, type) and issubclass(origin, Environment):
            parameters = vars(origin).get("__parameters__", ())
            found = _environment_arguments(origin, dict(zip(parameters, arguments, strict=False)))
            if found is not None:
                return found
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def _write_reward_components(observation: Any, components: dict[str, float] | None) -> None:
    """Make ``metadata["reward_components"]`` say ``components``; no key when there are none.

    The key belongs to the base class: whatever else put it there is dropped.
    """
    metadata = getattr(observation, "metadata", None)
    if not isinstance(metadata, dict):
        return
    if components:
        observation.metadata = {**metadata, REWARD_COMPONENTS: components}
    elif REWARD_COMPONENTS in metadata:
        observation.metadata = {k: v for k, v in metadata.items() if k != REWARD_COMPONENTS}


def _add_steps(state: State, steps: int) -> None:
    if _counts_without_validation(type(state)):
        # The hot path of every step: the count is ours and stays an int >= 0, so
        # the assignment validator (~2 µs, most of a trivial step's own cost) is skipped.
        state.__dict__["step_count"] += steps
        state.__pydantic_fields_set__.add("step_count")
    else:
        state.step_count += steps


@cache
def _counts_without_validation(cls: type[State]) -> bool:
    """``step_count`` is State's plain int and nothing validates or watches assignments."""
    decorators = cls.__pydantic_decorators__
    return (
        cls.model_fields["step_count"].annotation is int
        and not cls.model_config.get("frozen")
        and cls.__setattr__ is BaseModel.__setattr__
        and not (decorators.field_validators or decorators.model_validators)
        and not (decorators.validators or decorators.root_validators)
    )


@cache
def _is_async(fn: Any) -> bool:
    # Asked on every step of the class's ``_step``: cached, as classes do not change.
    return inspect.iscoroutinefunction(fn)


async def _in_thread(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    """``asyncio.to_thread``, with asyncio imported on first use: a sandboxed worker
    of a synchronous environment never needs it (it is ~11 MiB of every worker)."""
    import asyncio

    return await asyncio.to_thread(fn, *args, **kwargs)


@cache
def _tools_of(cls: type[Environment[Any, Any, Any]]) -> dict[str, ToolSpec]:
    return collect_tools(cls)


def unknown_reset_options(model: type[BaseModel], options: dict[str, Any]) -> None:
    """Raise a ``ValidationError`` naming each option ``model`` does not take, with the
    nearest one it does ("unknown reset option 'sedd'; did you mean 'seed'?")."""
    known = model_keys(model)
    unknown = [key for key in options if key not in known]
    if unknown:
        errors: list[Any] = [
            {
                "type": PydanticCustomError(
                    "extra_forbidden", unknown_keys_message([key], known, what="reset option")
                ),
                "loc": (key,),
                "input": options[key],
            }
            for key in unknown
        ]
        raise ValidationError.from_exception_data(model.__name__, errors)


@cache
def _reset_model_of(cls: type[Environment[Any, Any, Any]]) -> type[BaseModel]:
    fields, var_kwargs = fields_from_signature(
        cls._reset,
        skip_first=True,
        overrides={"seed": Seed | None, "episode_id": EpisodeId | None},
    )
    return create_model(
        f"{cls.__name__}ResetOptions",
        __config__=ConfigDict(extra="allow" if var_kwargs else "forbid"),
        **fields,
    )
