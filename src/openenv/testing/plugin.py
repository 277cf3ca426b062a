"""pytest plugin: real servers for an environment's tests (loaded once ``openenv`` is installed).

The ``openenv_serve`` fixture serves an environment on a free loopback port and
returns a :class:`ServedEnv`; the same environment with the same options is served
once per test session and stopped at its end, so every module of a suite shares
one server::

    @pytest.fixture(scope="module")
    def base_url(openenv_serve):
        return openenv_serve(ChessEnvironment).base_url       # in a thread of this process

    def test_a_game(base_url):
        with ChessEnv(base_url=base_url) as env:
            ...

``openenv_serve(target, **options)``: an :class:`~openenv.Environment` subclass is
served in a thread of the test process (``options`` are
:class:`~openenv.server.ServerConfig` fields, e.g. ``isolation="sandbox"``); a name
or folder runs ``openenv serve`` in a subprocess as users run it (``options`` are
:class:`~openenv.runtime.local.LocalRuntime`'s, e.g. ``server_args=[...]``; isolation
from its ``openenv.yaml``). Servers require no token: they listen on 127.0.0.1 only.
Pass ``fresh=True`` for a server of the test's own (stopped with the session too),
e.g. for a test that breaks it.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class ServedEnv:
    """A running server for tests: where it listens, and what runs it."""

    base_url: str
    runtime: Any
    """The :class:`~openenv.runtime.base.Runtime` serving it (``stop()``, ``health()``)."""

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1) + "/ws"


ServeEnv = Callable[..., ServedEnv]


def _runtime_for(target: Any, options: dict[str, Any]) -> Any:
    if inspect.isclass(target):
        from openenv.server import ServerConfig, create_app
        from openenv.server.run import BackgroundServer

        return BackgroundServer(
            create_app(target, config=ServerConfig(**{"token": None, **options}))
        )
    from openenv.runtime.local import LocalRuntime

    return LocalRuntime(target, **{"require_token": False, **options})


def _key(target: Any, options: dict[str, Any]) -> str:
    name = f"{target.__module__}.{target.__qualname__}" if inspect.isclass(target) else str(target)
    return name + json.dumps(options, sort_keys=True, default=repr)


@pytest.fixture(scope="session")
def openenv_serve() -> Iterator[ServeEnv]:
    """``openenv_serve(env_class_or_name, fresh=False, **options) -> ServedEnv``."""
    running: dict[str, ServedEnv] = {}
    own: list[ServedEnv] = []

    def serve(target: Any, *, fresh: bool = False, **options: Any) -> ServedEnv:
        key = _key(target, options)
        if not fresh and key in running:
            return running[key]
        runtime = _runtime_for(target, options)
        served = ServedEnv(runtime.start(), runtime)
        if fresh:
            own.append(served)
        else:
            running[key] = served
        return served

    yield serve
    for served in [*running.values(), *own]:
        served.runtime.stop()
