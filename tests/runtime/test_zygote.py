"""Workers forked from a zygote: sandboxed as a spawned worker is, nothing of one session
left for the next, and the template's failures contained (runtime/zygote.py, template.py).

tests/security runs every attack on forked workers (the default) and on spawned ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from openenv.errors import EnvironmentFailed
from openenv.runtime.cgroups import CgroupLimits
from openenv.runtime.isolated import SandboxWorker, _kill_sandbox, proxy_class
from openenv.runtime.pool import WarmPool
from openenv.runtime.processes import children
from openenv.runtime.sandbox import SandboxPolicy, SeccompPolicy
from openenv.runtime.zygote import ForkedProcess, Zygote, forks_workers
from tests.runtime.helpers import descendants, our_cgroups
from tests.runtime.sandbox_envs import TrialAction, TrialEnv

pytestmark = pytest.mark.timeout(90)

Proxy = proxy_class(TrialEnv)


async def until(predicate: Any, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@pytest.fixture
async def pool() -> AsyncIterator[WarmPool]:
    baseline = set(descendants())
    pool = WarmPool(TrialEnv, SandboxPolicy(), size=2)
    await pool.start()
    yield pool
    await pool.close()
    await until(lambda: set(descendants()) <= baseline)
    await until(lambda: not our_cgroups(), timeout=5)


async def session(pool: WarmPool) -> Any:
    env = await Proxy.create(await pool.acquire())
    await env.reset_async()
    return env


async def look(env: Any) -> dict[str, Any]:
    observation = await env.step_async(TrialAction(do="look"))
    return json.loads(observation.echoed)


async def test_workers_are_forked_by_default(pool: WarmPool) -> None:
    assert forks_workers(SandboxPolicy())
    env = await session(pool)
    try:
        assert isinstance(env.worker.process, ForkedProcess)
        assert pool.stats()["forked"] >= 1
        observation = await env.step_async(TrialAction(message="hi"))
        assert observation.echoed == "hi"
    finally:
        await env.close_async()


async def test_a_forked_worker_is_sandboxed_as_a_spawned_one_is(pool: WarmPool) -> None:
    env = await session(pool)
    try:
        seen = await look(env)
    finally:
        await env.close_async()
    status = seen["status"]
    assert status["Uid"].split() == ["65534"] * 4 and status["Gid"].split() == ["65534"] * 4
    assert int(status["CapEff"], 16) == int(status["CapPrm"], 16) == 0
    assert int(status["CapBnd"], 16) == 0  # nothing an exec could regain
    assert status["NoNewPrivs"] == "1" and status["Seccomp"] == "2"
    assert seen["pid"] == 1 and seen["processes"] == [1]  # its own PID namespace, alone
    assert seen["interfaces"] == ["lo"]
    if pool.policy.cgroups and CgroupLimits.parents():  # in a cgroup of its own, rooted there
        assert all(line.endswith(":/") for line in seen["cgroup"].splitlines()), seen["cgroup"]


async def test_an_idle_forked_worker_is_one_process(pool: WarmPool) -> None:
    """The intermediate that mapped its uid has exited (its pages would count against
    every idle worker): the template's children are the idle workers, each alone."""
    await until(lambda: len(pool.idle) == pool.size)
    zygote = pool.zygote
    assert zygote is not None and zygote.process is not None
    (template,) = children(zygote.process.pid)
    idle = {worker.process.pid for worker in pool.idle}
    await until(lambda: set(children(template)) == idle)
    assert all(children(pid) == [] for pid in idle)


async def test_no_session_inherits_anything_of_another(pool: WarmPool) -> None:
    """Module globals, memory, environment variables, files in /tmp, /workspace and
    /dev/shm: what one session plants, the next (alive or not) does not find."""
    first = await session(pool)
    await first.step_async(TrialAction(do="plant", message="mine"))
    planted = await look(first)
    assert planted["globals"] == ["mine"] and planted["memory"] == "mine"
    assert planted["environ"] == "mine" and len(planted["files"]) == 3
    second = await session(pool)  # while the first is alive
    await first.close_async()
    third = await session(pool)  # after it ended
    try:
        for env in (second, third):
            seen = await look(env)
            assert seen["globals"] == [] and seen["memory"] == ""
            assert seen["environ"] is None and seen["files"] == []
            assert seen["random"] != planted["random"]  # generators reseeded after the fork
            assert seen["urandom"] != planted["urandom"]
    finally:
        await second.close_async()
        await third.close_async()


async def test_a_worker_that_dies_is_reported_and_leaves_nothing(pool: WarmPool) -> None:
    env = await session(pool)
    with pytest.raises(Exception, match="exited with code 7"):
        await env.step_async(TrialAction(do="crash", amount=7))
    assert env.worker.process.returncode == 7
    await env.close_async()
    other = await session(pool)  # the template is unharmed
    try:
        assert (await other.step_async(TrialAction(message="ok"))).echoed == "ok"
    finally:
        await other.close_async()


async def test_the_template_dying_ends_its_workers_and_the_pool_recovers(
    pool: WarmPool,
) -> None:
    await pool.wait_full()
    env = await session(pool)
    zygote = pool.zygote
    assert zygote is not None and zygote.process is not None
    _kill_sandbox(zygote.process.pid)
    await until(lambda: env.worker.process.returncode is not None)
    with pytest.raises(Exception, match="killed by SIGKILL"):
        await env.step_async(TrialAction(message="gone"))
    await env.close_async()
    fresh = await session(pool)  # a new template, forking again
    try:
        assert isinstance(fresh.worker.process, ForkedProcess)
        assert (await fresh.step_async(TrialAction(message="back"))).echoed == "back"
    finally:
        await fresh.close_async()


async def test_an_abandoned_fork_leaves_no_worker_behind() -> None:
    baseline = set(descendants())
    zygote = Zygote(TrialEnv, SandboxPolicy())
    await zygote.start()
    try:
        with_template = set(descendants())
        forks = [asyncio.ensure_future(zygote.fork()) for _ in range(4)]
        await asyncio.sleep(0)
        for fork in forks:
            fork.cancel()
        await asyncio.gather(*forks, return_exceptions=True)
        await until(lambda: set(descendants()) <= with_template)
        worker = await SandboxWorker.start(TrialEnv, SandboxPolicy(), zygote=zygote)
        await worker.close()
    finally:
        await zygote.close()
    await until(lambda: set(descendants()) <= baseline)


async def test_without_the_seccomp_filter_workers_start_afresh() -> None:
    """Forked workers share the template's user namespace: the filter is what stops them
    making one of their own, so a policy without it never forks."""
    for policy in (
        SandboxPolicy(seccomp=False),
        SandboxPolicy(seccomp=SeccompPolicy(deny_namespaces=False)),
        SandboxPolicy(zygote=False),
    ):
        assert not forks_workers(policy)
        pool = WarmPool(TrialEnv, policy, size=0)
        assert pool.zygote is None
        worker = await pool.acquire()
        try:
            assert not isinstance(worker.process, ForkedProcess)
        finally:
            await worker.close()
            await pool.close()


async def test_a_template_that_cannot_import_falls_back_to_fresh_workers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.runtime.host_only_env import ImportsOnlyOnHostEnv

    pool = WarmPool(ImportsOnlyOnHostEnv, SandboxPolicy(), size=0)
    try:
        with caplog.at_level(logging.WARNING, "openenv.runtime"):
            with pytest.raises(EnvironmentFailed, match="only on the host"):
                await pool.acquire()
        assert pool.zygote is None
        assert "workers start afresh, not forked" in caplog.text
        assert "only on the host" in caplog.text
    finally:
        await pool.close()


async def first_steps(env_class: type, policy: SandboxPolicy, sessions: int = 2) -> list[str]:
    """What each of ``sessions`` sessions, one after another, says to its first step."""
    pool = WarmPool(env_class, policy, size=0)
    proxy = proxy_class(env_class)
    said = []
    try:
        for _ in range(sessions):
            env = await proxy.create(await pool.acquire())
            try:
                assert isinstance(env.worker.process, ForkedProcess) is forks_workers(policy)
                await env.reset_async()
                said.append((await env.step_async(TrialAction())).echoed)
            finally:
                await env.close_async()
    finally:
        await pool.close()
    return said


async def test_numpy_draws_differ_between_forked_sessions() -> None:
    """NumPy's global generator is not reseeded by ``os.fork``; the worker reseeds it."""
    pytest.importorskip("numpy")
    from tests.runtime.numpy_env import NumpyDrawEnv

    draws = await first_steps(NumpyDrawEnv, SandboxPolicy())
    assert draws[0] != draws[1]


@pytest.mark.parametrize("policy", [SandboxPolicy(), SandboxPolicy(zygote=False)])
async def test_prepare_shared_runs_before_the_first_instance(policy: SandboxPolicy) -> None:
    """Forked: once, in the template (every worker has the same token); spawned: in
    each worker, before its environment is made."""
    from tests.runtime.sandbox_envs import PreparedEnv

    tokens = await first_steps(PreparedEnv, policy)
    assert "None" not in tokens
    assert (tokens[0] == tokens[1]) is forks_workers(policy)


# -- a forked worker's stderr: read, paused when full, closed once --------------------------


def _run_on(loop_name: str, main: Any) -> Any:
    if loop_name == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main())
    with asyncio.Runner() as runner:
        return runner.run(main())


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_a_workers_stderr_is_read_paused_and_closed_once(loop_name: str) -> None:
    """Under uvloop, ``connect_read_pipe`` closed the pipe twice (libuv, then the file
    object): in the threaded server the second close ended a client's socket. The pipe
    is now closed once, by us, and an fd that reuses its number stays open."""
    import os

    from openenv.runtime.zygote import PipeReading

    async def main() -> tuple[bytes, bool, int]:
        read_end, write_end = os.pipe()
        reading = PipeReading(read_end, limit=1024)
        os.set_blocking(write_end, False)
        written = blocked = 0
        while blocked < 20 and written < 4 << 20:  # until the pipe stays full
            try:
                written += os.write(write_end, b"x" * 4096)
                blocked = 0
            except BlockingIOError:
                blocked += 1
            await asyncio.sleep(0)
        # Paused once full: the rest waits in the pipe, not in the server's memory.
        buffered = len(reading.reader._buffer)
        paused = 2048 < buffered <= 2048 + 65536 < written
        got = await reading.reader.readexactly(written)
        os.write(write_end, b"tail")
        os.close(write_end)
        got += await reading.reader.read()  # to end of file
        assert reading.is_closing()
        reused_r, reused_w = os.pipe()  # the lowest free numbers: read_end's among them
        for _ in range(5):
            await asyncio.sleep(0)
        reading.close()  # again: a no-op
        os.fstat(reused_r)
        os.fstat(reused_w)  # neither closed behind our back
        os.close(reused_r)
        os.close(reused_w)
        return got, paused, written

    got, paused, written = _run_on(loop_name, main)
    assert got == b"x" * written + b"tail"
    assert paused


# -- what a forked worker still does per session ---------------------------------------------

_NEW_MODULES = """
import json, sys
from openenv.runtime import programs
from openenv.runtime.worker import prepare
from openenv.runtime.worker import Host
env_class = prepare(sys.argv[1])  # what the template does before it forks
before = set(sys.modules)
paths_found = programs._readable_paths.cache_info().misses
try:
    host = Host(env_class)  # what a forked worker does before its hello
except Exception as exc:  # an optional dependency missing here
    print("SKIP", type(exc).__name__, exc)
    raise SystemExit(0)
host.state(), host.own_tools()
print(json.dumps({
    "imported": sorted(set(sys.modules) - before),
    "paths_found": programs._readable_paths.cache_info().misses - paths_found,
}))
host.close()
"""


def _shipped_environments() -> list[str]:
    from openenv.discovery import list_environments

    return sorted(info.name for info in list_environments() if info.name.endswith("_env"))


@pytest.mark.parametrize("name", _shipped_environments())
def test_a_workers_import_of_a_shipped_environment_leaves_its_client_out(name: str) -> None:
    """A worker imports the environment's module, and with it the package's
    ``__init__``: the client (the WebSocket stack, asyncio) loads only on first use,
    or every idle worker carries it (a few MiB each)."""
    from openenv.discovery import find_environment

    module = find_environment(name).env_class.__module__
    check = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "print(sorted(m for m in ('websockets', f'{sys.argv[1]}.client') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", check, name], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", _shipped_environments())
def test_a_forked_worker_of_a_shipped_environment_imports_nothing(name: str) -> None:
    """A forked worker has what the template imported and prepared; what is first done
    while the worker creates its environment is done again by every session's worker.
    Modules: Workspace importing the sandbox module that way cost each coding session
    ~25 ms of CPU; asyncio, imported for hooks that never needed a loop, ~4 MiB of each
    idle worker. The paths a confined program may read (``readable_paths``, ~0.6 ms):
    found in ``prepare_shared``. Import it with the environment's module, or do it in
    ``prepare_shared``."""
    from openenv.discovery import find_environment

    env_class = find_environment(name).env_class
    spec = f"{env_class.__module__}:{env_class.__qualname__}"
    done = subprocess.run(
        [sys.executable, "-c", _NEW_MODULES, spec], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    if done.stdout.startswith("SKIP"):
        pytest.skip(done.stdout.strip())
    created = json.loads(done.stdout)
    assert created["imported"] == [], f"imported while created: {created['imported']}"
    assert created["paths_found"] == 0, "readable_paths computed in the worker"


def test_the_template_builds_the_class_level_models_once() -> None:
    """The reset-options and tool models are built on first use and cached per class:
    in the template, so that no forked worker builds them again at its first reset."""
    from openenv.environment import _reset_model_of, _tools_of
    from openenv.runtime.worker import prepare

    _reset_model_of.cache_clear()
    _tools_of.cache_clear()
    env_class = prepare("tests.runtime.sandbox_envs:TrialEnv")
    assert _reset_model_of.cache_info().currsize == 1 and _tools_of.cache_info().currsize == 1
    env_class.reset_options_model()
    env_class.tools()
    assert _reset_model_of.cache_info().misses == 1 and _tools_of.cache_info().misses == 1
