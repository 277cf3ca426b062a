"""The ``openenv`` command itself: version, help on every command, ``list``."""

from __future__ import annotations

import pytest

from openenv import __version__
from tests.cli.helpers import invoke, run


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"openenv {__version__}"


def test_no_arguments_shows_help() -> None:
    result = invoke()
    for command in ("init", "serve", "list", "demo"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("command", "fragments"),
    [
        ("init", ["NAME", "--output-dir", "passes its own tests"]),
        (
            "serve",
            [
                "ENV",
                "--host",
                "--port",
                "--max-sessions",
                "--token",
                "OPENENV_TOKEN",
                "--isolation",
                "--idle-timeout",
                "--step-timeout",
            ],
        ),
        ("list", ["installed environments"]),
        ("demo", ["--episodes", "--seed", "--json", "--env"]),
    ],
)
def test_every_command_has_help(command: str, fragments: list[str]) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.stderr
    for fragment in fragments:
        assert fragment in result.stdout, fragment


def test_list_shows_echo_env() -> None:
    result = invoke("list")
    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "echo_env" in line)
    assert "Echoes each message back" in row
    assert "openenv-echo-env" in row


def test_unknown_command_is_a_usage_error() -> None:
    result = invoke("nope")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
