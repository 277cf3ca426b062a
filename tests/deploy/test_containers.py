"""Containers: from_docker_image, their lock-down, cleanup on every path, ps and down,
``openenv serve --isolation container``, and sandboxed sessions inside a container."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from openenv import GenericEnvClient
from openenv.errors import RuntimeStartError
from openenv.runtime.container import ContainerRuntime
from openenv.runtime.engine import engine
from tests.conftest import wait_until
from tests.deploy.conftest import (
    OPENENV,
    containers_of,
    dead_pid,
    free_port,
    wait_for_no_containers,
)


def test_from_docker_image_steps_and_removes_the_container_on_close(echo_image: str) -> None:
    from echo_env import EchoAction, EchoEnv

    assert containers_of(echo_image) == []
    with EchoEnv.from_docker_image(echo_image) as env:
        assert len(containers_of(echo_image)) == 1
        env.reset(seed=1)
        result = env.step(EchoAction(message="hi"))
        assert result.observation.echoed_message == "hi"
    assert containers_of(echo_image) == []


def test_the_container_is_locked_down(echo_image: str) -> None:
    from echo_env import EchoEnv

    with EchoEnv.from_docker_image(echo_image, memory_mb=300, pids=64) as env:
        container = engine().containers.get(env.runtime.container_id)
        host = container.attrs["HostConfig"]
        assert host["ReadonlyRootfs"] is True
        assert "no-new-privileges" in host["SecurityOpt"]
        assert host["Memory"] == 300 * 2**20
        assert host["PidsLimit"] == 64
        assert host["PortBindings"]["8000/tcp"][0]["HostIp"] == "127.0.0.1"
        code, out = container.exec_run(["sh", "-c", "id -u; grep CapEff /proc/self/status"])
        uid, caps = out.decode().split("\n")[:2]
        assert uid == "10001"
        assert caps.split()[-1] == "0000000000000000"  # no capability at all
        code, out = container.exec_run(["sh", "-c", "touch /opt/openenv/x"])
        assert code != 0, "the root file system is writable"
        code, out = container.exec_run(["sh", "-c", "touch /tmp/x && echo ok"])
        assert out.decode().strip() == "ok"
        # The server requires the runtime's token: a client without it is refused.
        with pytest.raises(Exception, match=r"401|403|[Uu]nauthori"):
            GenericEnvClient(base_url=env.runtime.base_url).connect()


def test_an_exception_inside_with_still_removes_the_container(echo_image: str) -> None:
    from echo_env import EchoEnv

    with pytest.raises(ZeroDivisionError):
        with EchoEnv.from_docker_image(echo_image):
            1 / 0  # noqa: B018
    assert containers_of(echo_image) == []


def test_the_async_client_and_the_generic_client(echo_image: str) -> None:
    from echo_env import AsyncEchoEnv, EchoAction

    async def main() -> str:
        async with await AsyncEchoEnv.from_docker_image(echo_image) as env:
            await env.reset()
            result = await env.step(EchoAction(message="async"))
            return result.observation.echoed_message

    assert asyncio.run(main()) == "async"
    with GenericEnvClient.from_docker_image(echo_image) as env:
        env.reset()
        assert env.step({"message": "plain"}).observation["echoed_message"] == "plain"
    assert containers_of(echo_image) == []


KILLED_CALLER = textwrap.dedent(
    """
    import sys, time
    from echo_env import EchoEnv
    env = EchoEnv.from_docker_image(sys.argv[1])
    print(env.runtime.container_id, flush=True)
    time.sleep(3600)
    """
)


def test_a_caller_killed_with_sigkill_leaves_no_container(echo_image: str) -> None:
    caller = subprocess.Popen(
        [sys.executable, "-c", KILLED_CALLER, echo_image], stdout=subprocess.PIPE, text=True
    )
    assert caller.stdout is not None
    container_id = caller.stdout.readline().strip()
    assert container_id and containers_of(echo_image) == [container_id]
    caller.kill()
    caller.wait()
    wait_for_no_containers(echo_image)


def test_a_server_that_fails_to_start_says_why_and_is_removed(echo_image: str) -> None:
    runtime = ContainerRuntime(
        echo_image,
        command=["python3", "-c", "print('no such settings: boom'); raise SystemExit(3)"],
        start_timeout_s=60,
    )
    with pytest.raises(RuntimeStartError, match=r"exited with code 3.*no such settings: boom"):
        runtime.start()
    assert containers_of(echo_image) == []


def test_a_last_line_printed_in_pieces_is_still_shown(echo_image: str) -> None:
    # Podman logs "boom" and the newline that ends it as two pieces; asked for its tail,
    # it answered with the empty second piece alone (1 start failure in ~10 said
    # "it printed nothing").
    script = (
        "import sys, time; sys.stdout.write('no such settings: boom'); sys.stdout.flush(); "
        "time.sleep(0.3); print(); raise SystemExit(3)"
    )
    runtime = ContainerRuntime(echo_image, command=["python3", "-c", script], start_timeout_s=60)
    with pytest.raises(RuntimeStartError, match=r"exited with code 3.*no such settings: boom"):
        runtime.start()


def test_an_image_that_is_not_there_is_one_clear_error(engine_url: str) -> None:
    with pytest.raises(RuntimeStartError, match="no image openenv-test-absent:1 here"):
        ContainerRuntime("openenv-test-absent:1").start()


def test_ps_lists_ours_and_down_removes_only_orphans(echo_image: str) -> None:
    client = engine()
    labels = {"openenv.managed": "1", "openenv.image": echo_image}
    orphan = client.containers.create(
        echo_image,
        labels={
            **labels,
            "openenv.owner.host": os.uname().nodename,
            "openenv.owner.pid": str(dead_pid()),
        },
    )
    with ContainerRuntime(echo_image) as live:
        listed = subprocess.run([OPENENV, "ps"], capture_output=True, text=True, check=True)
        assert orphan.id[:12] in listed.stdout and live.container_id[:12] in listed.stdout
        down = subprocess.run([OPENENV, "down"], capture_output=True, text=True, check=True)
        assert orphan.id[:12] in down.stdout
        assert containers_of(echo_image) == [live.container_id]
    assert containers_of(echo_image) == []


def test_serve_isolation_container_serves_until_ctrl_c(echo_image: str) -> None:
    from echo_env import EchoAction, EchoEnv

    port = free_port()
    server = subprocess.Popen(
        [OPENENV, "serve", "echo_env", "--isolation", "container", "--image", echo_image,
         "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line and "container" in line, line
        with EchoEnv(base_url=f"http://127.0.0.1:{port}") as env:
            env.reset()
            assert env.step(EchoAction(message="boxed")).observation.echoed_message == "boxed"
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail(f"Ctrl-C did not stop the server in 60 s:\n{server.communicate()[1]}")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()  # reaped: no zombie for the next tests' process checks
    wait_for_no_containers(echo_image)


def test_sandboxed_sessions_work_inside_a_container(engine_url: str) -> None:
    """coding_env asks for isolation: sandbox; its sessions run in bubblewrap in the container."""
    from coding_env import CodeAction, CodingEnv

    from openenv.deploy.images import build_image

    tag = "openenv-test-coding:latest"
    build_image("coding_env", tag=tag)
    with CodingEnv.from_docker_image(tag) as first, CodingEnv.from_docker_image(tag) as second:
        first.reset(task_id="fizzbuzz")
        second.reset(task_id="fizzbuzz")
        result = first.step(CodeAction(code="open('mine.txt', 'w').write('1'); print(6 * 7)"))
        assert result.observation.stdout.strip() == "42"
        probe = "import os; print(os.path.exists('mine.txt'), os.getuid())"
        seen = second.step(CodeAction(code=probe)).observation.stdout.split()
        assert seen[0] == "False"  # another container, and another sandbox in it
        net = (
            "import socket\ntry:\n socket.create_connection(('10.0.2.2', 80), 2)\n"
            " print('net')\nexcept OSError:\n print('no net')"
        )
        assert first.step(CodeAction(code=net)).observation.stdout.strip() == "no net"
    wait_until(lambda: not containers_of(tag), timeout=60, interval=0.1)


def test_without_sandboxes_a_sandboxed_env_refuses_to_start_and_says_why(engine_url: str) -> None:
    from openenv.deploy.images import build_image

    tag = "openenv-test-coding:latest"
    build_image("coding_env", tag=tag)
    runtime = ContainerRuntime(tag, limits={"sandboxes": False})
    with pytest.raises(RuntimeStartError, match=r"masks parts of /proc.*unmask=/proc/\*"):
        runtime.start()
    assert containers_of(tag) == []
