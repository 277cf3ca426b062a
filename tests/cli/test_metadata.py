"""openenv.discovery.metadata_for: name, description and version from the package.

What ``GET /metadata`` and ``openenv list`` say comes from ``openenv.yaml`` and the
installed distribution, never from a base class's docstring.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from echo_env.server.environment import EchoEnvironment

from openenv import Environment, EnvironmentMetadata
from openenv.discovery import describe_class, find_environment, metadata_for
from openenv.runtime.isolated import proxy_class
from tests.cli.test_discovery import make_package
from tests.envs_for_tests import ToyEnv

SETTINGS = """\
name: ping_env
description: Pings and pongs, from openenv.yaml.
author: Ping Authors
environment: PKG.server.environment:PingEnvironment
"""


def install(root: Path, name: str, version: str, *, editable: bool = False) -> None:
    """A fake installed distribution of package ``name`` (``root`` must be on sys.path)."""
    info = root / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    if editable:  # as hatch's editable installs: no file list naming the package
        (info / "direct_url.json").write_text(
            f'{{"dir_info": {{"editable": true}}, "url": "file://{root}"}}'
        )
    else:
        (info / "top_level.txt").write_text(f"{name}\n")


def ping_class(name: str) -> type[Environment]:
    return importlib.import_module(f"{name}.server.environment").PingEnvironment


def test_echo_metadata_from_its_openenv_yaml_and_distribution() -> None:
    meta = metadata_for(EchoEnvironment)
    assert meta.name == "echo_env"
    assert meta.description == "Echoes each message back; reward = 0.1 per character."
    assert meta.version == "0.1.0"
    assert meta.author == "OpenEnv developers"
    assert meta.readme_content and meta.readme_content.startswith("#")
    assert "metadata" not in vars(EchoEnvironment)  # nothing written twice
    assert describe_class(EchoEnvironment) == meta.description  # what `openenv list` shows


@pytest.mark.parametrize("editable", [False, True])
def test_name_and_description_from_openenv_yaml_version_from_the_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, editable: bool
) -> None:
    name = make_package(tmp_path, settings=SETTINGS)
    (tmp_path / "README.md").write_text("# Ping\n\nA readme.\n")
    install(tmp_path, name, "2.5.1", editable=editable)
    monkeypatch.syspath_prepend(str(tmp_path))
    env_class = ping_class(name)
    meta = metadata_for(env_class)
    assert meta == EnvironmentMetadata(
        name="ping_env",
        description="Pings and pongs, from openenv.yaml.",
        author="Ping Authors",
        version="2.5.1",
        readme_content="# Ping\n\nA readme.\n",
    )
    assert find_environment(tmp_path).description == meta.description


def test_version_falls_back_to_dunder_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = make_package(tmp_path)
    (tmp_path / name / "__init__.py").write_text('__version__ = "0.0.7"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    meta = metadata_for(ping_class(name))
    assert meta.version == "0.0.7"
    # no openenv.yaml: the class name, and the first paragraph of its own docstring
    assert (meta.name, meta.description) == ("PingEnvironment", "Answers every ping with a pong.")
    assert meta.readme_content is None


def test_an_openenv_yaml_for_another_class_does_not_describe_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = make_package(
        tmp_path,
        settings=SETTINGS,
        extra_source='\n\nclass Variant(PingEnvironment):\n    """A variant."""\n',
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    variant = importlib.import_module(f"{name}.server.environment").Variant
    meta = metadata_for(variant)
    assert (meta.name, meta.description, meta.author) == ("Variant", "A variant.", None)


def test_a_class_without_its_own_docstring_gets_no_inherited_one() -> None:
    class Undocumented(Environment):
        pass

    class UndocumentedToy(ToyEnv):
        pass

    assert Environment.__doc__ and ToyEnv.__doc__
    for env_class in (Undocumented, UndocumentedToy):
        meta = metadata_for(env_class)
        assert (meta.name, meta.description) == (env_class.__name__, "")
        assert describe_class(env_class) == ""


def test_a_metadata_attribute_overrides_field_by_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = make_package(
        tmp_path,
        settings=SETTINGS,
        extra_source=(
            "\nfrom openenv import EnvironmentMetadata\n"
            "PingEnvironment.metadata = EnvironmentMetadata(name='custom', author='Someone')\n"
        ),
    )
    install(tmp_path, name, "1.0.0")
    monkeypatch.syspath_prepend(str(tmp_path))
    meta = metadata_for(ping_class(name))
    assert (meta.name, meta.author) == ("custom", "Someone")  # the fields it gives win
    assert meta.description == "Pings and pongs, from openenv.yaml."  # the others do not
    assert meta.version == "1.0.0"


def test_the_sandbox_proxy_describes_the_real_environment() -> None:
    proxy = proxy_class(EchoEnvironment)
    assert proxy.metadata == metadata_for(EchoEnvironment)
    assert metadata_for(proxy) == metadata_for(EchoEnvironment)
