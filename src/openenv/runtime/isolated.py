"""The server's side of a sandboxed session: a worker process and a proxy environment.

:class:`SandboxWorker` starts ``worker.py`` inside the sandbox (see
:mod:`.sandbox`) and talks to it over a socket pair. :func:`proxy_class` builds,
for an environment class, an :class:`~openenv.Environment` subclass with the same
types and tools whose every call is forwarded to a worker — so the server, the
session rules and the protocol are the same whether a session is isolated or not.

A worker that dies (crash, kill, a limit exceeded) ends its session with a
``SESSION_ERROR`` that says how it died; other sessions are untouched.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import os
import signal
import socket
import sys
from typing import Any, ClassVar

from ..environment import Environment
from ..protocol import ErrorCode, ProtocolError
from ..types import Observation, State
from .channel import AsyncChannel, ChannelClosed
from .sandbox import LIBRARY, CgroupLimits, SandboxPolicy, python_executable, site_packages

log = logging.getLogger("openenv.runtime")

STDERR_TAIL = 4096


class WorkerDied(ProtocolError):
    """The sandboxed worker is gone; its session cannot continue."""

    ends_session = True

    def __init__(self, how: str) -> None:
        super().__init__(ErrorCode.SESSION_ERROR, f"the sandboxed environment {how}")


class EnvironmentFailed(Exception):
    """The environment raised inside the worker (reported as ``EXECUTION_ERROR``)."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name

    def __str__(self) -> str:
        return self.args[0]


def class_spec(env_class: type) -> str:
    """``module:QualName`` of a class the worker can import; refuses what it cannot."""
    module = env_class.__module__
    if module == "__main__" or "<locals>" in env_class.__qualname__:
        raise TypeError(
            f"{env_class.__qualname__} must be defined at module level in an importable "
            "module to run sandboxed (not in __main__ or inside a function)"
        )
    return f"{module}:{env_class.__qualname__}"


def package_binds(*classes: type) -> dict[str, str]:
    """Host paths of the top-level packages (or modules) the worker must import."""
    binds: dict[str, str] = {}
    for top in {"openenv", *(c.__module__.split(".")[0] for c in classes)}:
        module = sys.modules[top]
        paths = list(getattr(module, "__path__", []))
        if paths:
            binds[paths[0]] = top
        elif getattr(module, "__file__", None):
            binds[module.__file__] = f"{top}.py"  # type: ignore[index]
    return binds


def _bootstrap() -> str:
    paths = [LIBRARY, *site_packages()]
    return (
        f"import sys; sys.path[:0] = {paths!r}; "
        "from openenv.runtime.worker import main; main()"
    )


class SandboxWorker:
    """One sandboxed worker process hosting one environment instance."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        channel: AsyncChannel,
        cgroup: CgroupLimits | None,
    ) -> None:
        self.process = process
        self.channel = channel
        self.cgroup = cgroup
        self.stderr_tail: collections.deque[bytes] = collections.deque(maxlen=64)
        self._drain = asyncio.get_running_loop().create_task(self._read_stderr())
        self._lock = asyncio.Lock()

    @classmethod
    async def start(
        cls, env_class: type, policy: SandboxPolicy, startup_timeout_s: float = 60.0
    ) -> SandboxWorker:
        """Start a worker for ``env_class`` and wait until its environment is created."""
        cgroup = CgroupLimits.create(policy.limits) if policy.cgroups else None
        ours, theirs = socket.socketpair()
        fd = theirs.fileno()
        argv = [python_executable(), "-S", "-c", _bootstrap(), class_spec(env_class), str(fd)]
        command = policy.command(argv, packages=package_binds(env_class), cgroup=cgroup)
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(fd,),
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            theirs.close()
            if cgroup is not None:
                cgroup.remove()
            raise
        theirs.close()
        worker = cls(process, await AsyncChannel.over(ours), cgroup)
        try:
            async with asyncio.timeout(startup_timeout_s):
                hello = await worker.channel.receive()
        except (ChannelClosed, TimeoutError):
            how = await worker.kill()
            raise ProtocolError(
                ErrorCode.FACTORY_ERROR, f"the sandboxed worker failed to start: {how}"
            ) from None
        if not hello.get("ready"):
            await worker.kill()
            raise ProtocolError(
                ErrorCode.FACTORY_ERROR, f"could not create the environment: {hello.get('error')}"
            )
        return worker

    async def _read_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        with contextlib.suppress(Exception):
            while chunk := await stream.read(STDERR_TAIL):
                self.stderr_tail.append(chunk)

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """One request, one reply; :class:`WorkerDied` if the worker is gone."""
        async with self._lock:
            try:
                reply = await self.channel.request(request)
            except (ChannelClosed, ConnectionError, OSError):
                raise WorkerDied(await self.kill()) from None
        if not reply.get("ok"):
            error = reply.get("error") or {}
            raise EnvironmentFailed(str(error.get("type")), str(error.get("message")))
        return reply

    async def kill(self) -> str:
        """Stop the worker (and everything in its sandbox); return how it ended."""
        with contextlib.suppress(ProcessLookupError):
            if self.process.returncode is None:
                # bwrap runs in its own session; killing the group takes the sandbox with it.
                with contextlib.suppress(PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.kill()
        code = await self.process.wait()
        self.channel.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._drain, 1.0)
        oom = self.cgroup.oom_killed() if self.cgroup is not None else False
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        return self._describe(code, oom)

    async def close(self) -> None:
        """Ask the worker to close its environment and exit; kill it if it does not."""
        if self.alive:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await self.channel.request({"op": "close"})
                    await self.process.wait()
        await self.kill()

    def _describe(self, code: int, oom: bool) -> str:
        # bwrap exits with 128+N when the sandboxed process died of signal N.
        signum = -code if code < 0 else code - 128 if 128 < code < 128 + 65 else None
        if oom:
            how = "was killed: it exceeded its memory limit"
        elif signum is not None:
            how = f"was killed by {_signal_name(signum)}"
            if signum == signal.SIGXCPU:
                how += " (CPU time limit)"
            elif signum == signal.SIGXFSZ:
                how += " (file size limit)"
        elif code in (97, 98):
            how = f"could not apply its limits (exit {code})"
        else:
            how = f"exited with code {code}"
        tail = b"".join(self.stderr_tail).decode(errors="replace").strip().splitlines()
        return f"{how}: {tail[-1][:300]}" if tail else how


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class SandboxedEnvironment(Environment[Any, Any, Any]):
    """Proxy of an environment running in a :class:`SandboxWorker`.

    Built per environment class by :func:`proxy_class`; every call goes to the worker.
    """

    real_class: ClassVar[type[Environment[Any, Any, Any]]]

    def __init__(self, worker: SandboxWorker) -> None:
        super().__init__()
        self.worker = worker
        self._state: State = self.state_type()

    async def reset_async(self, **kwargs: Any) -> Observation:  # type: ignore[override]
        return self._observation(await self._call({"op": "reset", "kwargs": kwargs}))

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
            await asyncio.shield(self.worker.kill())
            raise
        if "state" in reply:
            self._state = self.state_type.model_validate(reply["state"])
        return reply

    def _observation(self, reply: dict[str, Any]) -> Observation:
        return self.observation_type.model_validate(reply["observation"])

    def __getattr__(self, name: str) -> Any:
        # Tool methods: forwarded to the worker by tool name.
        for spec in self.real_class.tools().values():
            if spec.method_name == name:
                return functools.partial(self._call_tool, spec.name)
        raise AttributeError(name)

    async def _call_tool(self, tool_name: str, **arguments: Any) -> Any:
        reply = await self._call({"op": "tool", "name": tool_name, "arguments": arguments})
        return reply.get("value")

    @classmethod
    def tools(cls) -> Any:
        return cls.real_class.tools()

    @classmethod
    def reset_options_model(cls) -> Any:
        return cls.real_class.reset_options_model()


def proxy_class(env_class: type[Environment[Any, Any, Any]]) -> type[SandboxedEnvironment]:
    """A :class:`SandboxedEnvironment` subclass with ``env_class``'s types, tools and metadata."""
    return type(
        f"Sandboxed{env_class.__name__}",
        (SandboxedEnvironment,),
        {
            "real_class": env_class,
            "action_type": env_class.action_type,
            "observation_type": env_class.observation_type,
            "state_type": env_class.state_type,
            "metadata": env_class.metadata,
            "__doc__": env_class.__doc__,
            "__module__": __name__,
        },
    )
