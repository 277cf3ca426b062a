"""Launchers: ``EchoEnv.from_env(...)`` starts a server, and every way out stops it.

Each path is checked for leaks: no process (or zombie) left below this test
process, and, for the paths where the interpreter exits, none left below a
subreaper that ran the script (tests/runtime/reaper.py): the reaper exits only
once the script and everything it started are gone, and says what it had to reap.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from echo_env import AsyncEchoEnv, EchoAction, EchoEnv, EchoObservation
from echo_env.server import EchoEnvironment

from openenv import GenericEnvClient
from openenv.client import AsyncGenericEnvClient
from openenv.discovery import EnvironmentNotFound
from openenv.runtime.base import RuntimeStartError
from openenv.runtime.local import LocalRuntime
from openenv.runtime.sandbox import SandboxUnavailable
from openenv.server import ServerConfig, create_app
from tests.runtime.helpers import descendants

pytestmark = pytest.mark.timeout(90)

REPO = Path(__file__).resolve().parents[2]
REAPER = Path(__file__).with_name("reaper.py")


def assert_no_new_processes(before: set[int]) -> None:
    assert set(descendants()) <= before, "a process was started"


# -- the happy paths -------------------------------------------------------------------------


@pytest.mark.parametrize("isolation", ["none", "sandbox"])
def test_with_block_stops_everything(no_leaks: None, isolation: str) -> None:
    with EchoEnv.from_env("echo_env", isolation=isolation) as client:
        assert type(client) is EchoEnv  # typed: the class it was called on
        runtime = client.runtime
        assert isinstance(runtime, LocalRuntime) and runtime.isolation == isolation
        result = client.reset(seed=3)
        assert isinstance(result.observation, EchoObservation)
        result = client.step(EchoAction(message="isolated"))
        assert result.observation.echoed_message == "isolated"
        assert result.reward == pytest.approx(0.8)
        assert f"isolation {isolation}" in runtime.output()
        sandboxes = [p for p in descendants(runtime.pid).values() if p.name == "bwrap"]
        assert bool(sandboxes) == (isolation == "sandbox")
    assert not runtime.running and not runtime.health()


def test_close_stops_and_a_closed_client_says_so(no_leaks: None) -> None:
    client = EchoEnv.from_env("echo_env")
    runtime = client.runtime
    assert runtime is not None and runtime.health()
    client.close()
    assert not runtime.health()
    client.close()  # twice is fine
    with pytest.raises(ConnectionError, match="was stopped by close"):
        client.reset()


def test_garbage_collection_stops_the_server(no_leaks: None) -> None:
    client = EchoEnv.from_env("echo_env")
    runtime = client.runtime
    assert runtime is not None
    del client
    gc.collect()
    assert not runtime.running


def test_an_error_in_the_with_block_stops_the_server(no_leaks: None) -> None:
    with pytest.raises(KeyError):
        with EchoEnv.from_env("echo_env") as client:
            runtime = client.runtime
            raise KeyError("the agent failed")
    assert runtime is not None and not runtime.running


def test_generic_client_and_folder(no_leaks: None) -> None:
    with GenericEnvClient.from_env(REPO / "envs" / "echo_env", isolation="none") as env:
        assert type(env) is GenericEnvClient
        env.reset()
        assert env.step({"message": "plain"}).observation["echoed_message"] == "plain"
        assert env.call_tool("echo_message", message="tool") == "tool"


def test_isolation_defaults_to_openenv_yaml(no_leaks: None, tmp_path: Path) -> None:
    folder = tmp_path / "boxed_echo"
    folder.mkdir()
    (folder / "openenv.yaml").write_text(
        "name: boxed_echo\n"
        "environment: echo_env.server.environment:EchoEnvironment\n"
        "isolation: sandbox\n"
    )
    with EchoEnv.from_env(folder) as client:
        assert client.runtime.isolation == "sandbox"  # type: ignore[union-attr]
        assert client.reset().observation.echoed_message
    with EchoEnv.from_env(folder, isolation="none") as client:  # the caller overrides
        assert client.runtime.isolation == "none"  # type: ignore[union-attr]
    with EchoEnv.from_env("echo_env") as client:  # echo_env's openenv.yaml: none
        assert client.runtime.isolation == "none"  # type: ignore[union-attr]


# -- failures leave nothing behind -----------------------------------------------------------


def test_unknown_environment_starts_nothing(no_leaks: None) -> None:
    before = set(descendants())
    with pytest.raises(EnvironmentNotFound, match="no environment named 'no_such_env'"):
        EchoEnv.from_env("no_such_env")
    with pytest.raises(ValueError, match="isolation must be"):
        EchoEnv.from_env("echo_env", isolation="container")
    assert_no_new_processes(before)


def test_a_server_that_fails_to_start(no_leaks: None) -> None:
    with pytest.raises(RuntimeStartError) as failure:
        EchoEnv.from_env("echo_env", server_args=["--max-sessions", "0"])
    assert "before it was healthy" in str(failure.value)
    assert "--max-sessions" in str(failure.value)  # the server's own complaint


def test_a_failed_connect_stops_the_server(no_leaks: None) -> None:
    with pytest.raises(ConnectionError, match="HTTP 403"):
        EchoEnv.from_env("echo_env", token="not-the-servers-token")


def test_bad_client_options_stop_the_server(no_leaks: None) -> None:
    with pytest.raises(TypeError):
        EchoEnv.from_env("echo_env", no_such_option=1)


# -- async ---------------------------------------------------------------------------------


async def test_async_with_block(no_leaks: None) -> None:
    async with await AsyncEchoEnv.from_env("echo_env", isolation="sandbox") as client:
        assert type(client) is AsyncEchoEnv
        runtime = client.runtime
        await client.reset()
        result = await client.step(EchoAction(message="async"))
        assert result.observation.echoed_message == "async"
    assert runtime is not None and not runtime.running


async def test_async_generic_close_and_failures(no_leaks: None) -> None:
    env = await AsyncGenericEnvClient.from_env("echo_env")
    runtime = env.runtime
    await env.reset()
    await env.close()
    assert runtime is not None and not runtime.running
    with pytest.raises(ConnectionError, match="was stopped by close"):
        await env.reset()
    with pytest.raises(ConnectionError, match="HTTP 403"):
        await AsyncEchoEnv.from_env("echo_env", token="wrong")
    with pytest.raises(EnvironmentNotFound):
        await AsyncEchoEnv.from_env("no_such_env")


async def test_async_cancelled_while_starting(no_leaks: None) -> None:
    before = set(descendants())
    task = asyncio.create_task(AsyncEchoEnv.from_env("echo_env"))
    deadline = time.monotonic() + 20
    while not set(descendants()) - before:  # the server is starting
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# -- when sandboxes cannot run ---------------------------------------------------------------


def fake_bwrap(folder: Path) -> None:
    """A ``bwrap`` that fails as it does where user namespaces are forbidden."""
    path = folder / "bwrap"
    path.write_text(
        "#!/bin/sh\n"
        '[ "$1" = --version ] && echo "bubblewrap 0.8.0" && exit 0\n'
        "echo 'bwrap: No permissions to creating new namespace, likely because the kernel "
        "does not allow non-privileged user namespaces.' >&2\n"
        "exit 1\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize("problem", ["missing", "no user namespaces"])
def test_sandbox_unavailable_is_clear_everywhere(
    no_leaks: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    if problem == "missing":
        expected = "apt-get install bubblewrap"
    else:
        fake_bwrap(tmp_path)
        expected = "user namespaces"
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap, or the failing one
    before = set(descendants())

    with pytest.raises(SandboxUnavailable) as failure:  # at the launcher
        EchoEnv.from_env("echo_env", isolation="sandbox")
    assert expected in str(failure.value)
    assert "isolation='none'" in str(failure.value)  # the way out, in the caller's terms

    folder = tmp_path / "boxed"
    folder.mkdir()
    (folder / "openenv.yaml").write_text(
        "environment: echo_env.server.environment:EchoEnvironment\nisolation: sandbox\n"
    )
    with pytest.raises(SandboxUnavailable, match=expected):  # the default from openenv.yaml
        EchoEnv.from_env(folder)

    with pytest.raises(SandboxUnavailable, match=expected):  # at create_app
        create_app(EchoEnvironment, config=ServerConfig(isolation="sandbox"))

    assert_no_new_processes(before)
    with EchoEnv.from_env("echo_env", isolation="none") as client:  # the other level works
        client.reset()


# -- the interpreter exits -------------------------------------------------------------------

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from echo_env import EchoAction, EchoEnv

    isolation, ending = sys.argv[1], sys.argv[2]
    client = EchoEnv.from_env("echo_env", isolation=isolation)
    client.reset()
    client.step(EchoAction(message="bye"))
    print(json.dumps({"server": client.runtime.pid}), flush=True)
    if ending == "raise":
        raise RuntimeError("the script fails with the client open")
    if ending == "hang":
        time.sleep(600)
    # "exit": leave without close()
    """
)


def run_under_reaper(isolation: str, ending: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(REAPER), sys.executable, "-c", SCRIPT, isolation, ending],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def reaper_report(reaper: subprocess.Popen[str], timeout: float = 60) -> tuple[dict, str]:
    try:
        out, err = reaper.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        reaper.kill()
        out, err = reaper.communicate()
        pytest.fail(f"something the script started is still running: {err}")
    return json.loads(out.strip().splitlines()[-1]), err


@pytest.mark.parametrize(
    ("isolation", "ending", "status"),
    [("none", "exit", 0), ("sandbox", "exit", 0), ("none", "raise", 1), ("sandbox", "raise", 1)],
)
def test_interpreter_exit_without_close(isolation: str, ending: str, status: int) -> None:
    report, err = reaper_report(run_under_reaper(isolation, ending))
    assert report["command_status"] == status, err
    # The script itself stopped and reaped the server at exit; the server its sandboxes.
    assert report["reaped"] == [], err
    assert '"server": ' in err
    if ending == "raise":
        assert "RuntimeError: the script fails with the client open" in err


@pytest.mark.parametrize("isolation", ["none", "sandbox"])
def test_killed_launcher_takes_its_server_along(isolation: str) -> None:
    reaper = run_under_reaper(isolation, "hang")
    assert reaper.stdout is not None and reaper.stderr is not None
    script_pid = json.loads(reaper.stdout.readline())["command_pid"]
    line = reaper.stderr.readline()
    while '"server"' not in line:
        assert line, "the script ended before it printed its server"
        line = reaper.stderr.readline()
    server_pid = json.loads(line)["server"]
    os.kill(script_pid, signal.SIGKILL)  # no atexit, no finalizers
    report, err = reaper_report(reaper, timeout=30)
    assert report["command_status"] == -signal.SIGKILL
    # Orphaned, the server noticed its stdin close and shut down cleanly: it was the
    # only orphan to reap (its sandboxes it had reaped itself).
    assert report["reaped"] == [server_pid], err
