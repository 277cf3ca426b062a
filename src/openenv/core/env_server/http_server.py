"""OpenEnv 0.10's ``create_app``/``create_fastapi_app``: the reference's call, our server.

A package's ``server/app.py`` written for the reference serves through ours unchanged::

    from openenv.core.env_server.http_server import create_app

    app = create_app(EchoEnvironment, EchoAction, EchoObservation,
                     env_name="echo_env", max_concurrent_envs=4)

The app is :func:`openenv.server.create_app`'s: the same routes and wire protocol, our
session limits, timeouts and error frames. The action, observation and state classes
given here become the environment class's types (what the server validates and
``/schema`` shows) when the class did not name them itself. The app remembers what it
serves (:func:`served_by`), so ``openenv serve FOLDER`` can serve the same environment
with its own settings (isolation, limits, token). Arguments for the reference's web
interface (``gradio_builder``, tabs, title) are accepted and unused.

:class:`HTTPEnvServer`, the reference's lower-level form, puts the same app's routes
on an app of the author's own (``server.register_routes(app)``).
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from ...discovery import metadata_for
from ...environment import Environment
from ...server import ServerConfig
from ...server import create_app as _create_app
from ...types import Action, Observation, State
from .types import ServerMode

APP_STATE_KEY = "openenv_served"
MODES = tuple(mode.value for mode in ServerMode)
SIMULATION_ROUTES = ("/reset", "/step", "/state")
"""What OpenEnv 0.10's production mode leaves out: the HTTP routes that drive an
environment outside a session."""


@dataclass(frozen=True)
class Served:
    """What a reference-style ``create_app`` call serves: the class, and the factory
    when the call gave one (``None`` when it gave the class)."""

    env_class: type[Environment[Any, Any, Any]]
    factory: Callable[[], Any] | None
    max_sessions: int | None


def served_by(app: Any) -> Served | None:
    """What ``app`` (made by this module's ``create_app``) serves, or None."""
    state = getattr(app, "state", None)
    served = getattr(state, APP_STATE_KEY, None) if state is not None else None
    return served if isinstance(served, Served) else None


def _bind(env_class: type, attribute: str, given: type | None, base: type, caller: str) -> None:
    """Give ``env_class`` the type ``given`` unless it named one of its own; a sandboxed
    worker then imports ``caller`` (the module that called create_app) to do the same."""
    if given is None or given is base:
        return
    current = getattr(env_class, attribute)
    if current is base:
        setattr(env_class, attribute, given)
        if caller not in ("__main__", __name__):
            env_class.types_bound_in = caller  # type: ignore[attr-defined]
    elif not (inspect.isclass(given) and issubclass(current, given)):
        raise TypeError(
            f"{env_class.__name__}.{attribute} is {current.__name__}, "
            f"but create_app was given {getattr(given, '__name__', given)}"
        )


def _caller_module() -> str:
    """The module that called create_app (or create_fastapi_app)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back  # type: ignore[assignment]
    return str(frame.f_globals.get("__name__", "__main__")) if frame else "__main__"


def create_app(
    env: Callable[[], Any],
    action_cls: type[Action],
    observation_cls: type[Observation],
    env_name: str | None = None,
    max_concurrent_envs: int | None = None,
    concurrency_config: Any = None,
    gradio_builder: Callable[..., Any] | None = None,
    custom_tab_name: str = "Custom",
    custom_tab_primary: bool = False,
    show_default_tab: bool = True,
    title_override: str | None = None,
    state_cls: type[State] = State,
    *,
    mode: Any = None,
    reset_observation_cls: type[Observation] | None = None,
) -> FastAPI:
    """The ASGI app serving ``env`` (an Environment class, or a factory returning one)."""
    if inspect.isclass(env):
        env_class: type = env
        factory = None
    else:  # a factory: one call tells which class it makes
        probe = env()
        env_class, factory = type(probe), env
        probe.close()
    if not issubclass(env_class, Environment):
        raise TypeError(
            f"{env_class.__name__} is not an Environment: subclass "
            "openenv.core.env_server.interfaces.Environment"
        )
    caller = _caller_module()
    _bind(env_class, "action_type", action_cls, Action, caller)
    _bind(env_class, "observation_type", observation_cls, Observation, caller)
    _bind(env_class, "state_type", state_cls, State, caller)
    limit = max_concurrent_envs
    if limit is None and concurrency_config is not None:
        limit = getattr(concurrency_config, "max_concurrent_envs", None)
    config = ServerConfig() if limit is None else ServerConfig(max_sessions=limit)
    metadata = metadata_for(env_class)
    if env_name:
        metadata = metadata.model_copy(update={"name": env_name})
    app = _create_app(factory or env_class, env_class, config=config, metadata=metadata)
    _apply_mode(app, mode)
    setattr(app.state, APP_STATE_KEY, Served(env_class, factory, limit))
    return app


def _apply_mode(app: FastAPI, mode: Any) -> None:
    """OpenEnv 0.10's server modes: ``"production"`` drops :data:`SIMULATION_ROUTES`."""
    name = str(getattr(mode, "value", mode) or "simulation").lower()
    if name not in MODES:
        raise ValueError(f"Invalid mode: {mode!r}. Must be one of: {list(MODES)}")
    if name == "production":
        app.router.routes[:] = [
            r for r in app.router.routes if getattr(r, "path", None) not in SIMULATION_ROUTES
        ]


def create_fastapi_app(
    env: Callable[[], Any],
    action_cls: type[Action],
    observation_cls: type[Observation],
    max_concurrent_envs: int | None = None,
    concurrency_config: Any = None,
    env_name: str | None = None,
    state_cls: type[State] = State,
    *,
    mode: Any = None,
    reset_observation_cls: type[Observation] | None = None,
) -> FastAPI:
    """:func:`create_app` without the web interface (the reference's other name for it)."""
    return create_app(
        env,
        action_cls,
        observation_cls,
        env_name=env_name,
        max_concurrent_envs=max_concurrent_envs,
        concurrency_config=concurrency_config,
        state_cls=state_cls,
        mode=mode,
    )


class HTTPEnvServer:
    """OpenEnv 0.10's server object, on our server: the app :func:`create_app` makes,
    put on an app of your own by :meth:`register_routes`.

    Example::

        app = FastAPI()
        server = HTTPEnvServer(EchoEnvironment, EchoAction, EchoObservation,
                               max_concurrent_envs=4)
        server.register_routes(app)   # /ws, /reset, /step, /state, /schema, ... on app

        @app.get("/leaderboard")      # the author's own routes beside them
        def leaderboard() -> dict: ...
    """

    def __init__(
        self,
        env: Callable[[], Any],
        action_cls: type[Action],
        observation_cls: type[Observation],
        max_concurrent_envs: int | None = None,
        concurrency_config: Any = None,
        env_name: str | None = None,
        state_cls: type[State] = State,
        *,
        reset_observation_cls: type[Observation] | None = None,
    ) -> None:
        if not callable(env):
            raise TypeError(
                f"env must be a callable (class or factory function), got {type(env)}. "
                "Pass the environment class (e.g., MyEnvironment) not an instance."
            )
        self.action_cls = action_cls
        self.observation_cls = observation_cls
        self.state_cls = state_cls
        self._args = (env, action_cls, observation_cls)
        self._kwargs: dict[str, Any] = {
            "env_name": env_name,
            "max_concurrent_envs": max_concurrent_envs,
            "concurrency_config": concurrency_config,
            "state_cls": state_cls,
        }
        # Made now, so that a bad class or type is refused where the author wrote it.
        self.app = create_app(*self._args, **self._kwargs)

    def register_routes(self, app: FastAPI, mode: ServerMode | str = ServerMode.SIMULATION) -> None:
        """Serve the environment on ``app``: its routes answer what ``app``'s own do not
        (``app``'s routes, declared before or after this call, come first), and its
        start-up and shutdown (sessions, sandboxes) run in ``app``'s lifespan.

        ``mode="production"`` leaves out ``/reset``, ``/step`` and ``/state``, as in
        OpenEnv 0.10.
        """
        served = self.app
        if str(getattr(mode, "value", mode)).lower() != ServerMode.SIMULATION.value:
            served = create_app(*self._args, **self._kwargs, mode=mode)
        outer = app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def lifespan(parent: Any) -> AsyncIterator[Any]:
            async with served.router.lifespan_context(served), outer(parent) as state:
                yield state

        app.router.lifespan_context = lifespan
        # What app's own routes (declared before or after this) do not answer, ours do,
        # through our app whole: its middleware (token, body limit) and error frames.
        app.router.default = served
        for key in ("config", "sessions", APP_STATE_KEY):  # what our runners read of an app
            setattr(app.state, key, getattr(served.state, key))


__all__ = ["HTTPEnvServer", "Served", "create_app", "create_fastapi_app", "served_by"]
