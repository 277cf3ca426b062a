"""openenv.discovery: environments by installed name, importable package, or folder."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from echo_env.server.environment import EchoEnvironment

from openenv.discovery import (
    EnvironmentNotFound,
    find_environment,
    list_environments,
    load_class,
)
from tests.cli.helpers import REPO

ECHO_FOLDER = REPO / "envs" / "echo_env"

ENV_SOURCE = '''
from openenv import Action, Environment, Observation, State


class Ping(Action):
    n: int = 0


class Pong(Observation):
    n: int = 0


class PingEnvironment(Environment[Ping, Pong, State]):
    """Answers every ping with a pong."""

    def _reset(self, seed=None, episode_id=None):
        return Pong()

    def _step(self, action, timeout_s=None):
        return Pong(n=action.n, reward=1.0, done=True)
'''


def make_package(root: Path, *, extra_source: str = "", settings: str | None = None) -> str:
    """A package ``pkg_<uuid>`` under ``root`` with ``server/environment.py``; returns its name."""
    name = f"pkg_{uuid.uuid4().hex[:8]}"
    server = root / name / "server"
    server.mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    (server / "__init__.py").write_text("")
    (server / "environment.py").write_text(ENV_SOURCE + extra_source)
    if settings is not None:
        (root / "openenv.yaml").write_text(settings.replace("PKG", name))
        (root / "pyproject.toml").write_text("")
    return name


def test_installed_name_gives_the_class_and_its_settings() -> None:
    found = find_environment("echo_env")
    assert found.env_class is EchoEnvironment
    assert found.name == "echo_env"
    assert found.isolation == "none"
    assert found.port == 8000
    assert found.root == ECHO_FOLDER
    assert "openenv-echo-env" in found.source
    assert found.description.startswith("Echoes each message back")


def test_dashes_are_accepted_for_underscores() -> None:
    assert find_environment("echo-env").env_class is EchoEnvironment


@pytest.mark.parametrize(
    "target", [ECHO_FOLDER, str(ECHO_FOLDER), str(ECHO_FOLDER / "openenv.yaml")]
)
def test_folder_with_openenv_yaml(target: Path | str) -> None:
    found = find_environment(target)
    assert found.env_class is EchoEnvironment
    assert found.root == ECHO_FOLDER
    assert found.settings["app"] == "echo_env.server.app:app"


def test_relative_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert find_environment("envs/echo_env").env_class is EchoEnvironment


def test_unknown_name_says_what_is_installed_and_what_to_do() -> None:
    with pytest.raises(EnvironmentNotFound) as missing:
        find_environment("no_such_env_here")
    message = str(missing.value)
    assert "no environment named 'no_such_env_here'" in message
    assert "installed: " in message and "echo_env" in message
    assert "openenv.yaml" in message and "pip install" in message
    assert "\n" not in message


def test_folder_without_openenv_yaml(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentNotFound, match=r"has no openenv\.yaml"):
        find_environment(tmp_path)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentNotFound, match="no folder"):
        find_environment(tmp_path / "absent")


def test_folder_env_is_imported_from_the_folder(tmp_path: Path) -> None:
    name = make_package(
        tmp_path, settings="name: ping\nenvironment: PKG.server.environment:PingEnvironment\n"
    )
    found = find_environment(tmp_path)
    assert found.env_class.__name__ == "PingEnvironment"
    assert found.env_class.__module__ == f"{name}.server.environment"
    assert found.name == "ping"
    assert found.isolation is None


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ("name: x\n", "no 'environment: package.module:ClassName' entry"),
        ("environment: PKG.server.environment\n", "is not of the form"),
        ("environment: PKG.server.environment:Nope\n", "has no attribute 'Nope'"),
        ("environment: PKG.server.environment:Ping\n", "is not a subclass of openenv.Environment"),
        ("environment: PKG.server.missing:PingEnvironment\n", "cannot import PKG.server.missing"),
        ("- just\n- a list\n", "must hold a mapping"),
        ("environment: [unclosed\n", "cannot read"),
    ],
)
def test_bad_openenv_yaml(tmp_path: Path, settings: str, fragment: str) -> None:
    name = make_package(tmp_path, settings=settings)
    with pytest.raises(EnvironmentNotFound) as bad:
        find_environment(tmp_path)
    assert fragment.replace("PKG", name) in str(bad.value)
    assert "\n" not in str(bad.value)


def test_environment_that_fails_to_import(tmp_path: Path) -> None:
    make_package(
        tmp_path,
        extra_source="\nraise RuntimeError('boom at import')\n",
        settings="environment: PKG.server.environment:PingEnvironment\n",
    )
    with pytest.raises(EnvironmentNotFound, match="RuntimeError: boom at import"):
        find_environment(tmp_path)


def test_importable_package_with_one_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = make_package(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    found = find_environment(name)
    assert found.env_class.__name__ == "PingEnvironment"
    assert found.name == name
    assert found.description == "Answers every ping with a pong."


def test_importable_package_with_two_environments_is_ambiguous(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = make_package(
        tmp_path, extra_source="\n\nclass OtherEnvironment(PingEnvironment):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(EnvironmentNotFound, match="exactly one Environment subclass"):
        find_environment(name)


def test_importable_package_that_is_not_an_environment() -> None:
    with pytest.raises(EnvironmentNotFound, match="'json' is not an environment"):
        find_environment("json")


def test_load_class() -> None:
    assert load_class("echo_env.server.environment:EchoEnvironment") is EchoEnvironment
    with pytest.raises(EnvironmentNotFound, match="not a subclass"):
        load_class("echo_env.models:EchoAction")


def test_list_environments_has_installed_and_local_folders(tmp_path: Path) -> None:
    folder = tmp_path / "envs" / "local_env"
    folder.mkdir(parents=True)
    (folder / "openenv.yaml").write_text("name: local_env\ndescription: A local one.\n")
    listed = {info.name: info for info in list_environments(search=tmp_path)}
    assert listed["echo_env"].description.startswith("Echoes each message back")
    assert "openenv-echo-env" in listed["echo_env"].source
    assert listed["local_env"].description == "A local one."
    assert listed["local_env"].source.endswith("local_env")


def test_list_environments_does_not_repeat_installed_names() -> None:
    names = [info.name for info in list_environments(search=REPO)]
    assert names.count("echo_env") == 1
