"""``AutoEnv`` and ``AutoAction``: OpenEnv 0.10's way to get a client or an action class
from an environment's name.

Example::

    from openenv import AutoAction, AutoEnv

    env = AutoEnv.from_env("echo")               # starts a local server for echo_env
    Action = AutoAction.from_env("echo")         # EchoAction
    with env.sync() as client:
        client.step(Action(message="hi"))

A name is an installed environment (``echo``, ``echo_env`` and ``echo-env`` all name
``echo_env``), a folder, or a Hugging Face Space id (``owner/name``, or its URL). The
client is an :class:`openenv.core.EnvClient` typed with the environment's classes:
awaited in async code, or ``.sync()``; closing it stops the server it started.

A Space runs from its image by default (a client with dict types: its package is not
downloaded); with ``use_docker=False`` its package is downloaded and served here
(:func:`openenv.core.hub.space_package`) and the client is typed with its classes.
Downloading a Space's code to run it here (``use_docker=False``, ``AutoAction``) needs
consent, as in OpenEnv 0.10: ``trust_remote_code=True`` or
``$OPENENV_TRUST_REMOTE_CODE=1`` (no prompt here); once given, it holds for that Space
in this process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .client.generic import client_for
from .core.env_client import EnvClient
from .core.hub import hub_repo_id, space_package
from .discovery import FoundEnvironment, find_environment
from .errors import ConfigError, EnvironmentNotFound

TRUST_REMOTE_CODE = "OPENENV_TRUST_REMOTE_CODE"
"""Set to ``1`` to allow Spaces' code to be downloaded and run here without asking."""
_trusted: set[str] = set()


def _candidates(name: str) -> list[str]:
    base = name.replace("-", "_")
    return list(dict.fromkeys([name, base, f"{base}_env"]))


def _space(repo_id: str, trust_remote_code: bool = False) -> FoundEnvironment:
    """The environment of the Space ``repo_id``, downloaded (once consent is given)."""
    allowed = os.environ.get(TRUST_REMOTE_CODE, "").strip().lower() in ("1", "true", "yes")
    if not (trust_remote_code or allowed or repo_id in _trusted):
        raise ConfigError(
            f"the Space {repo_id} would be downloaded and its code run here: pass "
            f"trust_remote_code=True (or set {TRUST_REMOTE_CODE}=1) if you trust it, "
            "or run its image (use_docker=True)"
        )
    found = find_environment(space_package(repo_id))
    _trusted.add(repo_id)
    return found


def _find(name: str) -> FoundEnvironment:
    if Path(name).exists():
        return find_environment(name)
    repo_id = hub_repo_id(name)
    if repo_id is not None:
        return _space(repo_id)
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
        ``docker_image``, else to a server started here (``openenv serve``).

        A Space id runs from the Space's image, or, with ``use_docker=False``, from its
        package downloaded here (``trust_remote_code=True`` or
        ``$OPENENV_TRUST_REMOTE_CODE=1``: its code runs here). ``env_vars`` are set for
        the server; the other keywords go to :meth:`EnvClient.from_env` and the client.
        ``container_provider`` is not used (our engine runs containers);
        ``skip_install`` is accepted for the reference's signature: nothing is
        pip-installed here."""
        if container_provider is not None:
            raise ConfigError(
                "container_provider= is not used here: containers run through our engine"
            )
        use_docker = kwargs.pop("use_docker", True)
        repo_id = None if Path(name).exists() else hub_repo_id(name)
        target: str | Path = name
        if repo_id is not None and (use_docker or base_url is not None or docker_image):
            client_class: type[EnvClient[Any, Any, Any]] = EnvClient  # dict types
            target = repo_id
        else:
            found = _space(repo_id, trust_remote_code) if repo_id else _find(name)
            client_class = _client_class(found.env_class)
            if repo_id is not None or Path(name).exists():
                target = found.root or found.name
            else:
                target = found.name
        if base_url is not None:
            return client_class(base_url=base_url, **kwargs)
        if docker_image is not None:
            bootstrap = client_class.from_docker_image(
                docker_image, env_vars=env_vars, start_timeout_s=wait_timeout, **kwargs
            )
        else:
            bootstrap = client_class.from_env(
                target,
                use_docker=use_docker,
                env_vars=env_vars,
                start_timeout_s=wait_timeout,
                **kwargs,
            )
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
        """The action class of the environment ``name``; for a Space id, of its package,
        downloaded (see the module docstring for consent). ``skip_install=True`` gives
        :class:`~openenv.core.GenericAction` (a ``dict``), as in the reference."""
        if skip_install:
            from .core.generic_client import GenericAction

            return GenericAction
        return _find(name).env_class.action_type

    @classmethod
    def from_hub(cls, env_name: str, skip_install: bool = False) -> type:
        """As :meth:`from_env`."""
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
