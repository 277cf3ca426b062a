"""``AutoEnv`` and ``AutoAction``: OpenEnv 0.10's way to get a client or an action class
from an environment's name.

Example::

    from openenv import AutoAction, AutoEnv

    env = AutoEnv.from_env("echo")               # starts a local server for echo_env
    Action = AutoAction.from_env("echo")         # EchoAction
    with env.sync() as client:
        client.step(Action(message="hi"))

A name is an installed environment (``echo``, ``echo_env`` and ``echo-env`` all name
``echo_env``), a folder, or a Hugging Face Space id (``owner/name``). The client is an
:class:`openenv.core.EnvClient` typed with the environment's classes: awaited in async
code, or ``.sync()``; closing it stops the server it started.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .client.generic import client_for
from .core.env_client import EnvClient
from .core.hub import is_hub_id
from .discovery import FoundEnvironment, find_environment
from .errors import EnvironmentNotFound


def _candidates(name: str) -> list[str]:
    base = name.replace("-", "_")
    return list(dict.fromkeys([name, base, f"{base}_env"]))


def _find(name: str) -> FoundEnvironment:
    if Path(name).exists():
        return find_environment(name)
    failure: EnvironmentNotFound | None = None
    for candidate in _candidates(name):
        try:
            return find_environment(candidate)
        except EnvironmentNotFound as exc:
            failure = failure or exc
    assert failure is not None
    raise failure


def _client_class(env_class: type) -> type[EnvClient[Any, Any, Any]]:
    return client_for(env_class, EnvClient)


class AutoEnv:
    """Clients by environment name; see the module docstring."""

    @classmethod
    def from_env(
        cls,
        name: str,
        base_url: str | None = None,
        docker_image: str | None = None,
        container_provider: Any = None,
        wait_timeout: float = 30.0,
        env_vars: dict[str, str] | None = None,
        trust_remote_code: bool = False,
        skip_install: bool = False,
        **kwargs: Any,
    ) -> EnvClient[Any, Any, Any]:
        """A client for ``name``: connected to ``base_url`` if given, else to a container of
        ``docker_image``, else to a server started here (``openenv serve``; a Space id is
        run from its image). ``container_provider`` is not used (our engine runs
        containers); ``trust_remote_code``/``skip_install`` are accepted for the
        reference's signature: nothing is pip-installed here."""
        target: str | Path = name
        if is_hub_id(name):
            client_class: type[EnvClient[Any, Any, Any]] = EnvClient
        else:
            found = _find(name)
            client_class = _client_class(found.env_class)
            target = found.root if Path(name).exists() and found.root else found.name
        if base_url is not None:
            return client_class(base_url=base_url, **kwargs)
        if docker_image is not None:
            bootstrap = client_class.from_docker_image(
                docker_image, env_vars=env_vars, start_timeout_s=wait_timeout, **kwargs
            )
        else:
            bootstrap = client_class.from_env(target, start_timeout_s=wait_timeout, **kwargs)
        return bootstrap.start()

    from_hub = from_env

    @classmethod
    def get_env_class(cls, name: str) -> type:
        """The client class :meth:`from_env` would give for ``name``."""
        return _client_class(_find(name).env_class)

    @classmethod
    def get_env_info(cls, name: str) -> dict[str, Any]:
        """Name, description, source and types of the environment ``name``."""
        found = _find(name)
        return {
            "name": found.name,
            "description": found.description,
            "source": found.source,
            "action_class": found.env_class.action_type.__name__,
            "observation_class": found.env_class.observation_type.__name__,
        }

    @classmethod
    def list_environments(cls) -> None:
        """Print the installed environments (as ``openenv list`` does)."""
        from .discovery import list_environments

        for info in list_environments():
            print(f"{info.name:24} {info.description}")


class AutoAction:
    """Action classes by environment name."""

    @classmethod
    def from_env(cls, name: str, skip_install: bool = False) -> type:
        """The action class of the environment ``name``."""
        return _find(name).env_class.action_type

    @classmethod
    def from_hub(cls, env_name: str, skip_install: bool = False) -> type:
        """As :meth:`from_env` (a Space's package must be served here first)."""
        return cls.from_env(env_name, skip_install)

    @classmethod
    def get_action_info(cls, name: str) -> dict[str, Any]:
        """The action class's name and JSON schema."""
        action = cls.from_env(name)
        return {"name": action.__name__, "schema": action.model_json_schema()}

    @classmethod
    def list_actions(cls) -> None:
        """Print each installed environment's action class."""
        from .discovery import list_environments

        for info in list_environments():
            try:
                print(f"{info.name:24} {cls.from_env(info.name).__name__}")
            except EnvironmentNotFound as exc:
                print(f"{info.name:24} ({exc})")


__all__ = ["AutoAction", "AutoEnv"]
