"""A server that fails to start says why in one line: on the command line, through a
launcher (``from_env``), and in ``openenv validate`` — never a box padded to the
terminal's width (launchers run the server with ``COLUMNS=1000``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from echo_env import EchoEnv

from openenv.runtime.base import RuntimeStartError
from openenv.runtime.local import server_error
from tests.cli.helpers import assert_one_line_error, invoke, run

BOX = set("╭╮╰╯│─")
MAX_SESSIONS_ZERO = "Invalid value for '--max-sessions': Input should be greater than or equal to 1"

FAILS_IN_THE_SERVER = """
import sys

from openenv import Action, Environment, Observation, State

if "serve" in sys.argv:  # only in the server: the launcher finds the class fine
    {failure}


class Nothing(Action):
    pass


class Quiet(Environment[Nothing, Observation, State]):
    async def _reset(self, seed=None, episode_id=None):  # async: validate serves it
        return Observation()

    async def _step(self, action, timeout_s=None):
        return Observation()
"""
IMPORT_FAILS = 'raise RuntimeError("the database is not reachable")'
STARTUP_FAILS = """from openenv.server.sessions import SessionManager

    def start(self):
        raise RuntimeError("the model weights are missing")

    SessionManager.start = start"""


def failing_env(folder: Path, failure: str) -> Path:
    folder.mkdir()
    (folder / "failing_mod.py").write_text(FAILS_IN_THE_SERVER.format(failure=failure))
    (folder / "openenv.yaml").write_text(f"name: {folder.name}\nenvironment: failing_mod:Quiet\n")
    return folder


@pytest.fixture
def kept_logs() -> Iterator[list[Path]]:
    """Output files a failed launch kept: checked by the test, removed afterwards."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        path.unlink(missing_ok=True)


def assert_one_line(message: str, *fragments: str) -> None:
    assert "\n" not in message, message
    assert not BOX & set(message), message
    for fragment in fragments:
        assert fragment in message, message


def test_usage_errors_are_one_line_at_any_width() -> None:
    result = run("serve", "echo_env", "--max-sessions", "0")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, MAX_SESSIONS_ZERO, "(see: python -m openenv serve --help)")
    assert not BOX & set(result.stderr)
    for args, fragment in [
        (["nope"], "No such command 'nope'."),
        (["serve"], "Missing argument 'ENV'."),
        (["--bogus"], "No such option: --bogus"),
        (["serve", "echo_env", "--port", "abc"], "Invalid value for '--port'"),
    ]:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert_one_line_error(result.stderr, fragment, "--help)")


def test_no_arguments_still_shows_the_help() -> None:
    result = invoke()
    assert "Usage" in result.stdout and "serve" in result.stdout
    assert "error:" not in result.stderr


def test_a_launcher_reports_the_servers_usage_error_in_one_line() -> None:
    with pytest.raises(RuntimeStartError) as failure:
        EchoEnv.from_env("echo_env", server_args=["--max-sessions", "0"])
    message = str(failure.value)
    assert_one_line(message, "exited with code 2 before it was healthy", MAX_SESSIONS_ZERO)
    assert "its output" not in message  # the one line was all it said


def test_a_server_failing_at_import(tmp_path: Path) -> None:
    folder = failing_env(tmp_path / "import_fails", IMPORT_FAILS)
    result = run("serve", str(folder), "--port", "0")
    assert result.returncode == 1
    why = "cannot import failing_mod: RuntimeError: the database is not reachable"
    assert_one_line_error(result.stderr, why)

    with pytest.raises(RuntimeStartError) as failure:
        EchoEnv.from_env(folder)
    assert_one_line(str(failure.value), "exited with code 1 before it was healthy: " + why)

    result = run("validate", str(folder), "--json")  # a folder env: validate serves it
    assert result.returncode == 1, result.stderr
    [check] = [c for c in json.loads(result.stdout)["checks"] if c["level"] == 1]
    assert check["status"] == "fail"
    assert_one_line(check["detail"], "RuntimeStartError: ", why)


def test_a_server_failing_at_start_up_keeps_its_output(
    tmp_path: Path, kept_logs: list[Path]
) -> None:
    folder = failing_env(tmp_path / "startup_fails", STARTUP_FAILS)
    result = run("serve", str(folder), "--port", "0")
    assert result.returncode == 1
    why = (
        "the server for startup_fails failed to start: RuntimeError: the model weights are missing"
    )
    assert result.stderr.splitlines()[-1] == f"error: {why}", result.stderr
    assert "Traceback" in result.stderr  # uvicorn logged it above

    with pytest.raises(RuntimeStartError) as failure:
        EchoEnv.from_env(folder)
    message = str(failure.value)
    assert_one_line(message, f"before it was healthy: {why} (its output: ")
    kept = Path(message.rsplit("(its output: ", 1)[1].removesuffix(")"))
    kept_logs.append(kept)
    output = kept.read_text()
    assert 'raise RuntimeError("the model weights are missing")' in output
    assert output.splitlines()[-1] == f"error: {why}"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["openenv serving x on http://127.0.0.1:1 (WebSocket ...)", "error: no room"], "no room"),
        (["error: first", "INFO: noise", "error: last one"], "last one"),
        (
            ["Traceback (most recent call last):", '  File "x"', "ValueError: bad"],
            "ValueError: bad",
        ),
        (["openenv serving x on http://127.0.0.1:1 (WebSocket ...)"], None),
        ([], None),
    ],
)
def test_server_error_finds_the_one_line(lines: list[str], expected: str | None) -> None:
    assert server_error(lines) == expected
