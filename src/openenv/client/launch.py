"""Launchers: start a server for an environment, hand back a connected client that owns it.

``EnvClient.from_env`` and ``AsyncEnvClient.from_env`` (and any subclass, such as
``EchoEnv``) use these helpers::

    with EchoEnv.from_env("echo_env", isolation="sandbox") as client:
        client.reset()
    # the server, and every sandbox it started, are gone here

The client owns its :class:`~openenv.runtime.base.Runtime`: the runtime stops on
``close()``, on leaving ``with`` / ``async with``, when the client is garbage
collected, at interpreter exit (``weakref.finalize``), and when starting or
connecting fails. If this process dies without any of those (SIGKILL), the
server notices its stdin closing and exits by itself (see
:mod:`openenv.runtime.local`).

``from_docker_image(image)`` does the same with a container
(:mod:`openenv.runtime.container`: the container is removed on close, and by its
reaper when this process dies), and ``from_runtime(runtime)`` for any runtime.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConnectError
from ..runtime.base import Runtime
from ..runtime.local import ISOLATION_LEVELS, LocalRuntime

if TYPE_CHECKING:
    from ..runtime.container import ContainerRuntime


def local_runtime(
    env: str | Path,
    *,
    isolation: str | None = None,
    server_args: Sequence[str] = (),
    start_timeout_s: float = 60.0,
    env_vars: Mapping[str, str] | None = None,
    port: int | None = None,
) -> LocalRuntime:
    """A not yet started :class:`LocalRuntime` for ``env``, checked as far as it can be here.

    Resolves ``env`` now (:class:`~openenv.discovery.EnvironmentNotFound` names what
    is installed) and takes the isolation level from its ``openenv.yaml`` when
    ``isolation`` is ``None``; ``"none"`` for an environment that runs agent code
    raises :class:`~openenv.server.config.IsolationRequired` unless ``server_args``
    holds ``--allow-unsandboxed-agent-code``. Starting it checks that sandboxes work, for
    ``"sandbox"`` (:class:`~openenv.runtime.sandbox.SandboxUnavailable` says what to
    install), before anything runs. ``env_vars`` are set for the server process;
    ``port`` is the loopback port it binds (default: a free one).
    """
    from ..discovery import find_environment

    if isolation is not None and isolation not in ISOLATION_LEVELS:
        raise ValueError(f"isolation must be 'none', 'sandbox' or None, not {isolation!r}")
    found = find_environment(env)
    level = isolation or found.isolation or "none"
    if level not in ISOLATION_LEVELS:
        raise ValueError(
            f"openenv.yaml of {found.name} asks for isolation {level!r}; "
            "pass isolation='none' or 'sandbox'"
        )
    if level == "none" and found.env_class.requires_sandbox:
        from ..server.config import ServerConfig, isolation_for

        allowed = "--allow-unsandboxed-agent-code" in server_args
        isolation_for(
            found.env_class, ServerConfig(isolation="none", unsandboxed_agent_code=allowed)
        )
    return LocalRuntime(
        env,
        isolation=level,
        server_args=server_args,
        start_timeout_s=start_timeout_s,
        env_vars=env_vars,
        port=port or 0,
    )


def own(client: Any, runtime: Runtime) -> None:
    """Make ``client`` stop ``runtime`` on close, on garbage collection and at exit."""
    # The finalizer holds the runtime, never the client, so the client can still be
    # collected; it runs at most once, whichever comes first.
    client._launched = weakref.finalize(client, runtime.stop)
    client.runtime = runtime


def release(client: Any) -> None:
    """Stop the runtime ``client`` owns, if any (what ``close()`` calls)."""
    finalizer: weakref.finalize | None = client._launched
    if finalizer is not None:
        finalizer()


def stopped_error(client: Any) -> ConnectError:
    """The error for reopening a client whose launched server was stopped."""
    return ConnectError(
        f"the server this {type(client).__name__} started (from_env / from_runtime) "
        "was stopped by close(); launch a new one"
    )


def container_runtime(
    image: str,
    *,
    env_vars: Mapping[str, str] | None,
    port: int | None,
    start_timeout_s: float,
    options: dict[str, Any],
) -> ContainerRuntime:
    """A not yet started :class:`~openenv.runtime.container.ContainerRuntime` for ``image``.

    Takes the :class:`~openenv.runtime.container.ContainerLimits` fields
    (``memory_mb``, ``pids``, ``cpus``, ``read_only``, ``tmpfs_mb``) out of
    ``options``; what is left goes to the client.
    """
    from ..runtime.container import ContainerLimits, ContainerRuntime

    limits = {key: options.pop(key) for key in list(options) if key in ContainerLimits.model_fields}
    return ContainerRuntime(
        image,
        env_vars=env_vars,
        port=port,
        limits=ContainerLimits.model_validate(limits),
        start_timeout_s=start_timeout_s,
    )
