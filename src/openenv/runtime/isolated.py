"""The server's side of a sandboxed session: a worker process and a proxy environment.

:class:`SandboxWorker` starts ``worker.py`` inside the sandbox (see
:mod:`.sandbox`) and talks to it over a socket pair. :func:`proxy_class` builds,
for an environment class, an :class:`~openenv.Environment` subclass with the same
types and tools whose every call is forwarded to a worker — so the server, the
session rules and the protocol are the same whether a session is isolated or not.

A worker that dies (crash, kill, a limit exceeded) ends its session with a
``SESSION_ERROR`` that says how it died; other sessions are untouched.

The processes of one sandbox, on the host::

    server ─ bwrap (monitor, our child) ─ bwrap (pid 1 of the sandbox) ─ python (worker)

(with ``bwrap --as-pid-1`` the worker itself is the sandbox's pid 1). Ending a
sandbox means killing its pid 1, the monitor's child: the kernel then kills
everything in the sandbox's PID namespace, the monitor reaps pid 1 and exits,
and we reap the monitor — no process is left and none is orphaned. Killing the
monitor instead would orphan pid 1 (``--die-with-parent`` kills it, but then the
host's init must reap it). Whatever is still in the worker's cgroup afterwards
is killed too, and the cgroup removed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import importlib
import logging
import os
import re
import signal
import socket
import sys
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from ..environment import Environment
from ..errors import ChannelClosed, EnvironmentFailed, SandboxStartError, WorkerDied
from ..tools import too_large
from ..types import Observation, State
from .cgroups import CgroupLimits
from .channel import AsyncChannel
from .processes import children
from .sandbox import LIBRARY, SandboxPolicy, python_executable, site_packages

if TYPE_CHECKING:
    from .zygote import ForkedProcess, Zygote

Process: TypeAlias = "asyncio.subprocess.Process | ForkedProcess"
"""A worker's process: spawned under bwrap, or forked by a zygote."""

log = logging.getLogger("openenv.runtime")

STDERR_TAIL = 4096
KILL_WAIT_S = 5.0
"""How long :meth:`SandboxWorker.kill` waits for the sandbox to go before killing harder."""
CLOSE_WAIT_S = 2.0
"""How long an environment's ``close()`` may take inside the worker at the end of a session."""


def environment_failed(type_name: Any, message: Any) -> EnvironmentFailed:
    """An :class:`EnvironmentFailed` whose class is named ``type_name`` (sanitised)."""
    name = re.sub(r"[^A-Za-z0-9_.]", "", str(type_name))[:100] or "Exception"
    cls = type(name.rsplit(".", 1)[-1] or "Exception", (EnvironmentFailed,), {})
    return cls(name, str(message))


def class_spec(env_class: type) -> str:
    """``module:QualName`` of a class the worker can import; refuses what it cannot.

    ``module:QualName@preload`` when the class's types are bound by another module
    (``types_bound_in``: an OpenEnv 0.10 package's ``server/app.py``, whose
    ``create_app`` call names them): the worker imports that module first.
    """
    module = env_class.__module__
    if module == "__main__" or "<locals>" in env_class.__qualname__:
        raise TypeError(
            f"{env_class.__qualname__} must be defined at module level in an importable "
            "module to run sandboxed (not in __main__ or inside a function)"
        )
    preload = getattr(env_class, "types_bound_in", None)
    return f"{module}:{env_class.__qualname__}" + (f"@{preload}" if preload else "")


def check_worker_import(env_class: type) -> str:
    """``env_class``'s :func:`class_spec`, checked as the worker will use it: importing its
    module by name gives this very class, and its package can be bound into the sandbox.

    Raises :class:`TypeError` naming the class and what to change (at server start,
    so that no session finds out).
    """
    spec = class_spec(env_class)
    module_name, _, qualname = spec.partition("@")[0].partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise TypeError(
            f"{env_class.__qualname__} cannot run sandboxed: the worker imports it as "
            f"{spec}, and importing {module_name} fails ({type(exc).__name__}: {exc})"
        ) from None
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not env_class:
        raise TypeError(
            f"{env_class.__qualname__} cannot run sandboxed: the worker imports it as "
            f"{spec}, which names {'nothing' if found is None else 'another object'}; "
            "define the class at module level under that name"
        )
    top = module_name.split(".")[0]
    top_module = sys.modules.get(top)
    if not (getattr(top_module, "__path__", None) or getattr(top_module, "__file__", None)):
        raise TypeError(
            f"{env_class.__qualname__} cannot run sandboxed: its package {top!r} has no "
            "files to bind into the sandbox"
        )
    return spec


def package_binds(*classes: type, modules: tuple[str, ...] = ()) -> dict[str, str]:
    """Host paths of the top-level packages (or modules) the worker must import: those of
    ``classes`` and of the imported ``modules``.

    A namespace package (``tests`` without an ``__init__.py``) may have several
    folders, in an order that changes with ``sys.path``: the one bound is the folder
    that holds the class's own module, found from that module's file.
    """
    binds: dict[str, str] = {}
    for name in {"openenv.environment", *(c.__module__ for c in classes), *modules}:
        top = name.split(".")[0]
        path = getattr(sys.modules[name], "__file__", None)
        if path is None:
            continue  # check_worker_import refuses such a class before it gets here
        is_package = os.path.basename(path).startswith("__init__.")
        if name == top and not is_package:
            binds[path] = f"{top}.py"
            continue
        folder = os.path.dirname(path)  # the module's package, or the package itself
        for _ in range(name.count(".") - (0 if is_package else 1)):
            folder = os.path.dirname(folder)
        binds[folder] = top
    return binds


def worker_binds(env_class: type) -> dict[str, str]:
    """:func:`package_binds` of everything the worker imports for ``env_class``: its
    module, its types' modules, and the module that binds them (``types_bound_in``)."""
    types = (env_class.action_type, env_class.observation_type, env_class.state_type)  # type: ignore[attr-defined]
    preload = getattr(env_class, "types_bound_in", None)
    return package_binds(env_class, *types, modules=(preload,) if preload else ())


@functools.cache
def bootstrap(module: str = "openenv.runtime.worker") -> str:
    """``python -c`` code that runs ``module``'s ``main()`` inside the sandbox."""
    paths = [LIBRARY, *site_packages()]
    return f"import sys; sys.path[:0] = {paths!r}; from {module} import main; main()"


class SandboxWorker:
    """One sandboxed worker process hosting one environment instance."""

    def __init__(
        self,
        process: Process,
        channel: AsyncChannel,
        cgroup: CgroupLimits | None,
    ) -> None:
        self.process = process
        self.channel = channel
        self.cgroup = cgroup
        self.initial_state: dict[str, Any] | None = None
        self.tools: list[dict[str, Any]] | None = None
        """The tools the environment has of its own (``instance_tools``), as it listed
        them when made; None when they are its class's."""
        self.stderr_tail: collections.deque[bytes] = collections.deque(maxlen=64)
        self._drain = asyncio.get_running_loop().create_task(self._read_stderr())
        self._lock = asyncio.Lock()
        self._ending: asyncio.Task[tuple[str, str]] | None = None
        self._killed_on_purpose = False

    @property
    def pid(self) -> int:
        """Host pid of the sandbox's outermost process (bwrap's monitor)."""
        return self.process.pid

    @classmethod
    async def start(
        cls,
        env_class: type,
        policy: SandboxPolicy,
        startup_timeout_s: float = 60.0,
        zygote: Zygote | None = None,
    ) -> SandboxWorker:
        """Start a worker for ``env_class`` and wait until its environment is created:
        forked by ``zygote`` when given, else a fresh interpreter under bwrap.

        Raises :class:`SandboxStartError` if the sandbox does not come up and
        :class:`EnvironmentFailed` if the environment's constructor raised. Cancelled
        half-way, it kills what it started.
        """
        if zygote is not None:
            worker = await cls._fork(zygote, policy)
        else:
            worker = await cls._spawn(env_class, policy)
        return await worker._handshake(startup_timeout_s)

    @classmethod
    async def _fork(cls, zygote: Zygote, policy: SandboxPolicy) -> SandboxWorker:
        """A worker forked by ``zygote``, moved into its cgroup, then told to go on."""
        process, ours = await zygote.fork()
        cgroup = None
        try:
            cgroup = CgroupLimits.create(policy.limits) if policy.cgroups else None
            if cgroup is not None:
                cgroup.join(process.pid)
            worker = cls(process, await AsyncChannel.over(ours), cgroup)
        except BaseException:
            ours.close()
            process.kill()
            await asyncio.shield(_reap(process, cgroup))
            raise
        try:
            await worker.channel.send({"op": "go"})
        except BaseException:
            await asyncio.shield(worker.kill())
            raise
        return worker

    @classmethod
    async def _spawn(cls, env_class: type, policy: SandboxPolicy) -> SandboxWorker:
        """A worker in a fresh interpreter: ``worker.py`` under bwrap."""
        spec = class_spec(env_class)
        cgroup = CgroupLimits.create(policy.limits) if policy.cgroups else None
        ours, theirs = socket.socketpair()
        try:
            fd = theirs.fileno()
            # -I: no '' (the working directory) on sys.path, no PYTHON* variables, no user
            # site; -S: no site module; -B: no bytecode written. The agent's programs
            # write where the worker lives, and nothing they write may be imported by it.
            argv = [python_executable(), "-I", "-S", "-B", "-c", bootstrap(), spec, str(fd)]
            command = policy.command(argv, packages=worker_binds(env_class), cgroup=cgroup)
            process = await spawn_sandbox(command, fd)
        except BaseException:
            ours.close()
            await asyncio.shield(_abandon(None, cgroup))
            raise
        finally:
            theirs.close()
        try:
            return cls(process, await AsyncChannel.over(ours), cgroup)
        except BaseException:
            # Cancelled (e.g. the pool closing) or broken: never leave the process behind.
            ours.close()
            await asyncio.shield(_kill_bare(process, cgroup))
            raise

    async def _handshake(self, startup_timeout_s: float) -> SandboxWorker:
        """Wait for the worker's hello: its environment made, or why not."""
        try:
            async with asyncio.timeout(startup_timeout_s):
                hello = await self.channel.receive()
        except ChannelClosed:
            how, _ = await self.ended()
            raise SandboxStartError(f"the sandboxed worker failed to start: it {how}") from None
        except TimeoutError:
            await self.kill()
            raise SandboxStartError(
                f"the sandboxed worker did not start within {startup_timeout_s:g} s"
            ) from None
        except BaseException:
            await asyncio.shield(self.kill())
            raise
        if not hello.get("ready"):
            await self.kill()
            error = hello.get("error") or {}
            raise environment_failed(error.get("type"), error.get("message"))
        self.initial_state = hello.get("state")
        tools = hello.get("tools")
        if tools is not None:
            if not _well_described(tools):
                await self.kill()
                raise SandboxStartError("the sandboxed worker listed its tools wrongly")
            self.tools = tools
        return self

    async def _read_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        with contextlib.suppress(Exception):
            while chunk := await stream.read(STDERR_TAIL):
                self.stderr_tail.append(chunk)

    @property
    def alive(self) -> bool:
        """Running, not being ended, and its channel still open."""
        return (
            self.process.returncode is None
            and self._ending is None
            and not self.channel.reader.at_eof()
        )

    async def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """One request, one reply; :class:`WorkerDied` if the worker is gone."""
        async with self._lock:
            if self._ending is not None:
                how, cause = await self.ended()
                raise WorkerDied(how, cause)
            try:
                reply = await self.channel.request(request)
            except (ChannelClosed, ConnectionError, OSError):
                raise WorkerDied(*await self.ended()) from None
            except ValueError:  # not JSON: a broken (or hostile) worker
                reply = None
            if not isinstance(reply, dict):
                await self.kill()
                raise WorkerDied("sent a malformed reply; session ended", "protocol")
        if not reply.get("ok"):
            error = reply.get("error") or {}
            raise environment_failed(error.get("type"), error.get("message"))
        return reply

    async def ended(self) -> tuple[str, str]:
        """Wait for the worker to end on its own (killing it if it lingers); how and why.

        Used when the channel closed under us: the worker is exiting, and its exit
        status says how it died.
        """
        return await asyncio.shield(self._end(on_purpose=False))

    async def kill(self) -> str:
        """Stop the worker and everything in its sandbox, now; return how it ended."""
        how, _ = await asyncio.shield(self._end(on_purpose=True))
        return how

    async def close(self) -> None:
        """Let the environment close (``close()`` inside the worker), then end the sandbox."""
        if self.alive and not self._lock.locked():
            with contextlib.suppress(Exception):
                async with self._lock, asyncio.timeout(CLOSE_WAIT_S):
                    await self.channel.request({"op": "close"})
        await self.kill()

    def _end(self, on_purpose: bool) -> asyncio.Task[tuple[str, str]]:
        if self._ending is None:
            self._killed_on_purpose = on_purpose
            self._ending = asyncio.get_running_loop().create_task(self._finish(on_purpose))
        return self._ending

    async def _finish(self, kill_now: bool) -> tuple[str, str]:
        process = self.process
        if not kill_now and process.returncode is None:
            # The channel closed: the worker is exiting by itself; give it a moment, so
            # its exit status (not our kill) says what happened.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(process.wait()), 1.0)
        if process.returncode is None:
            _kill(process)
            try:
                await asyncio.wait_for(asyncio.shield(process.wait()), KILL_WAIT_S)
            except TimeoutError:
                log.warning("sandbox %d did not end; killing its process group", process.pid)
                _kill(process, harder=True)
        code = await process.wait()
        self.channel.close()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(self._drain, 1.0)
        oom = False
        if self.cgroup is not None:
            oom = self.cgroup.oom_killed()
            await _empty_cgroup(self.cgroup)
            self.cgroup.remove()
            self.cgroup = None
        how, cause = self._describe(code, oom)
        if not self._killed_on_purpose:
            tail = b"".join(self.stderr_tail).decode(errors="replace").strip()
            log.info(
                "sandboxed worker %d %s%s", process.pid, how, f"; stderr:\n{tail}" * bool(tail)
            )
        return how, cause

    def _describe(self, code: int, oom: bool) -> tuple[str, str]:
        # bwrap exits with 128+N when the sandboxed process died of signal N.
        signum = -code if code < 0 else code - 128 if 128 < code < 128 + 65 else None
        if oom:
            return "was killed: it exceeded its memory limit", "memory_limit"
        if signum == signal.SIGXCPU:
            return "was killed: it exceeded its CPU time limit", "cpu_limit"
        if signum == signal.SIGXFSZ:
            return "was killed: it exceeded its file size limit", "file_size_limit"
        if signum is not None:
            return f"was killed by {_signal_name(signum)}", "killed"
        lines = b"".join(self.stderr_tail).decode(errors="replace").strip().splitlines()
        why = f": {lines[-1].strip()[:300]}" if lines and not self._killed_on_purpose else ""
        if code in (96, 97, 98):  # the launcher's (or template's) own failures
            return f"could not apply its limits (exit {code}){why}", "limits"
        # the last line usually says why
        return f"exited with code {code}" + (f" ({why[2:]})" if why else ""), "exited"


async def spawn_sandbox(command: list[str], pass_fd: int) -> asyncio.subprocess.Process:
    """Run a sandbox's launcher ``command`` (from :meth:`SandboxPolicy.command`): its
    stderr piped, ``pass_fd`` inherited, a session of its own.

    Shielded: cancelled mid-spawn, asyncio would kill bwrap's monitor alone and orphan
    the sandbox it may have cloned already; here the whole sandbox is ended first.
    """
    spawn = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(pass_fd,),
            start_new_session=True,
        )
    )
    try:
        return await asyncio.shield(spawn)
    except BaseException:
        await asyncio.shield(_abandon(spawn, None))
        raise


def _kill(process: Process, harder: bool = False) -> None:
    """End the sandbox of ``process``: a forked worker through its pidfd (it is pid 1
    of its namespace), a spawned one by its pid 1 (or, ``harder``, its process group)."""
    if not isinstance(process, asyncio.subprocess.Process):
        process.kill()
    elif harder:
        _kill_group(process.pid)
    else:
        _kill_sandbox(process.pid)


def _kill_sandbox(monitor_pid: int) -> None:
    """SIGKILL the sandbox's pid 1 (the kernel then kills the whole PID namespace)."""
    inner = children(monitor_pid)
    for pid in inner:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if not inner:  # still starting up (or already gone): its process group
        _kill_group(monitor_pid)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


async def _empty_cgroup(cgroup: CgroupLimits, wait_s: float = 1.0) -> None:
    """Make sure no process is left in ``cgroup`` (so that it can be removed)."""
    loop = asyncio.get_running_loop()
    for _ in range(2):
        deadline = loop.time() + wait_s
        while pids := _cgroup_pids(cgroup):
            if loop.time() > deadline:
                break
            await asyncio.sleep(0.005)
        else:
            return
        for pid in pids:  # whatever is still there belongs to the dead sandbox
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    log.warning("processes %s outlived their sandbox", sorted(_cgroup_pids(cgroup)))


def _cgroup_pids(cgroup: CgroupLimits) -> set[int]:
    pids: set[int] = set()
    for path in cgroup.procs_files:
        with contextlib.suppress(OSError, ValueError):
            pids.update(int(p) for p in path.read_text().split())
    return pids


async def _kill_bare(process: Process, cgroup: CgroupLimits | None) -> None:
    if process.returncode is None:
        _kill(process)
    await _reap(process, cgroup)


async def _reap(process: Process, cgroup: CgroupLimits | None) -> None:
    await process.wait()
    if cgroup is not None:
        await _empty_cgroup(cgroup)
        cgroup.remove()


async def _abandon(
    spawn: asyncio.Future[asyncio.subprocess.Process] | None, cgroup: CgroupLimits | None
) -> None:
    """Undo a start that failed or was cancelled: whatever it started, and its cgroup."""
    process = None
    if spawn is not None:
        with contextlib.suppress(Exception):
            process = await spawn
    if process is not None:
        await _kill_bare(process, cgroup)
    elif cgroup is not None:
        await _empty_cgroup(cgroup)
        cgroup.remove()


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class _NotJson:
    """Stands for a tool value the worker could not send as JSON (so the server says so)."""


def _well_described(tools: Any) -> bool:
    """Whether the worker's tool list is a list of descriptions with a name."""
    return isinstance(tools, list) and all(
        isinstance(t, dict)
        and isinstance(t.get("description"), dict)
        and isinstance(t["description"].get("name"), str)
        for t in tools
    )


class RelayedTool:
    """A tool the environment in the worker has of its own (``instance_tools``): listed
    as it described it, called there, its MCP result relayed (the interface of
    :class:`openenv.tools.ToolLike`)."""

    def __init__(self, listed: dict[str, Any]) -> None:
        self.described: dict[str, Any] = listed["description"]
        self.name: str = self.described["name"]
        self.description: str = self.described.get("description") or ""
        self.errors_as_results = bool(listed.get("errors_as_results", True))

    def describe(self, schema_key: str = "inputSchema") -> dict[str, Any]:
        if schema_key == "inputSchema":
            return dict(self.described)
        schema = self.described.get("inputSchema") or {}
        return {"name": self.name, "description": self.description, schema_key: schema}

    def bind(self, env: Any, arguments: dict[str, Any]) -> Any:
        return functools.partial(env._call_own_tool, self.name, arguments)

    def is_async(self, env: Any) -> bool:
        return True

    def result(self, value: Any, max_bytes: int) -> dict[str, Any]:
        size = len(orjson.dumps(value))
        return too_large(size, max_bytes) if size > max_bytes else value


class SandboxedEnvironment(Environment[Any, Any, Any]):
    """Proxy of an environment running in a :class:`SandboxWorker`.

    Built per environment class by :func:`proxy_class`; every call goes to the worker.
    """

    relays_calls = True  # the environment in the worker enforces the episode's rules
    real_class: ClassVar[type[Environment[Any, Any, Any]]]

    relayed_observation_type: ClassVar[type[Observation]]
    """``observation_type`` accepting extra fields: what an env returning a subclass sends."""

    def __init__(self, worker: SandboxWorker) -> None:
        super().__init__()
        self.worker = worker
        self._own_tools: dict[str, RelayedTool] | None = None
        if worker.tools is not None:
            relayed = [RelayedTool(listed) for listed in worker.tools]
            self._own_tools = {tool.name: tool for tool in relayed}
        initial = worker.initial_state
        self._state: State = (
            self.state_type.model_validate(initial) if initial is not None else self.state_type()
        )

    @classmethod
    async def create(cls, worker: SandboxWorker) -> SandboxedEnvironment:
        """The proxy of ``worker``; the worker is killed if it sent an invalid state."""
        try:
            return cls(worker)
        except ValidationError:
            await worker.kill()
            raise WorkerDied("sent an invalid state", "protocol") from None

    async def reset_async(self, **options: Any) -> Observation:  # type: ignore[override]
        self.validate_reset_options(**options)  # checked here too, so bad options are typed errors
        return self._observation(await self._call({"op": "reset", "kwargs": options}))

    async def step_async(self, action: Any, timeout_s: float | None = None) -> Observation:
        request = {"op": "step", "action": action.model_dump(mode="json"), "timeout_s": timeout_s}
        return self._observation(await self._call(request))

    @property
    def state(self) -> State:
        return self._state

    async def close_async(self) -> None:
        await self.worker.close()

    def close(self) -> None:  # the server always uses close_async
        raise RuntimeError("use close_async() to close a sandboxed environment")

    async def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = await self.worker.call(request)
        except asyncio.CancelledError:
            # Abandoned mid-call (timeout, client gone): the worker is busy and its
            # reply would answer the wrong request; the session ends, so kill it.
            await self.worker.kill()
            raise
        state = reply.get("state")
        if state is not None:
            self._state = await self._checked(self.state_type, state, "state")
        if "observation" in reply:
            reply["observation"] = await self._checked(
                self.relayed_observation_type, reply["observation"], "observation"
            )
        return reply

    async def _checked(self, model: type[BaseModel], data: Any, what: str) -> Any:
        """``data`` validated as ``model``; a worker sending anything else is broken: killed."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            await self.worker.kill()
            raise WorkerDied(
                f"sent an invalid {what} ({exc.error_count()} error(s)); session ended",
                "protocol",
            ) from None

    def _observation(self, reply: dict[str, Any]) -> Observation:
        return reply["observation"]

    def __getattr__(self, name: str) -> Any:
        # Tool methods: forwarded to the worker by tool name.
        for spec in self.real_class.tools().values():
            if spec.method_name == name:
                return functools.partial(self._call_tool, spec.name)
        raise AttributeError(name)

    def instance_tools(self) -> Any:
        """The worker's environment's own tools, when it has some; else its class's."""
        return self._own_tools if self._own_tools is not None else type(self).tools()

    async def _call_own_tool(self, tool_name: str, arguments: dict[str, Any]) -> Any:
        reply = await self._call({"op": "tool", "name": tool_name, "arguments": arguments})
        return reply.get("result")

    async def _call_tool(self, tool_name: str, **arguments: Any) -> Any:
        reply = await self._call({"op": "tool", "name": tool_name, "arguments": arguments})
        if "not_json" in reply:  # fails JSON encoding in the server too, naming the type
            return type(str(reply["not_json"])[:100], (_NotJson,), {})()
        return reply.get("value")

    @classmethod
    def tools(cls) -> Any:
        return cls.real_class.tools()

    @classmethod
    def reset_options_model(cls) -> Any:
        return cls.real_class.reset_options_model()

    @classmethod
    def validate_action(cls, data: Any) -> Any:
        return cls.real_class.validate_action(data)


@functools.cache
def _relayed(observation_type: type[Observation]) -> type[Observation]:
    # An env may return a subclass of its declared observation type (e.g. one per kind
    # of answer); in-process its extra fields go out, so they do here too.
    return type(
        observation_type.__name__,
        (observation_type,),
        {"model_config": ConfigDict(extra="allow"), "__module__": observation_type.__module__},
    )


def _metadata_for(env_class: type[Environment[Any, Any, Any]]) -> Any:
    from ..discovery import metadata_for  # imported here: workers never need it

    return metadata_for(env_class)


def proxy_class(env_class: type[Environment[Any, Any, Any]]) -> type[SandboxedEnvironment]:
    """A :class:`SandboxedEnvironment` subclass with ``env_class``'s types, tools and metadata."""
    return type(
        f"Sandboxed{env_class.__name__}",
        (SandboxedEnvironment,),
        {
            "real_class": env_class,
            "action_type": env_class.action_type,
            "observation_type": env_class.observation_type,
            "relayed_observation_type": _relayed(
                Observation if env_class.mixed_observations else env_class.observation_type
            ),
            "state_type": env_class.state_type,
            "metadata": _metadata_for(env_class),  # the real package's, not this module's
            "__doc__": env_class.__doc__,
            "__module__": __name__,
        },
    )
