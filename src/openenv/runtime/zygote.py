"""Zygotes: sandboxed workers forked from a template that has imported the environment.

A worker started afresh pays for a new interpreter and its imports: 100-300 ms
and ~25 MiB each. A :class:`Zygote` starts one *template* per environment class
and sandbox policy, under bubblewrap with the policy's filesystem, which imports
the environment once and then forks each worker into fresh namespaces, a fresh
workspace and fresh limits (:mod:`.template` has the steps): a few milliseconds
and a few MiB a worker. The template never runs a session's code, and every
worker is forked from it, never from another worker, so no session inherits
another's state.

The server holds each forked worker as a :class:`ForkedProcess`, which answers
what :class:`~openenv.runtime.isolated.SandboxWorker` asks of a subprocess
(``pid``, ``returncode``, ``wait()``, ``stderr``) and kills the worker through a
pidfd (no pid reuse can misdirect it). Workers are forked only where the policy
keeps the seccomp filter with namespaces denied (:func:`forks_workers`): in the
template's user namespace the filter is what stops a worker making a user
namespace of its own.

Example::

    zygote = Zygote(EchoEnvironment, SandboxPolicy())
    await zygote.start()                 # the template imports the environment
    process, channel = await zygote.fork()
    ...
    await zygote.close()                 # ends the template and every worker it forked
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import os
import signal
import socket
from typing import Any

import orjson

from ..errors import SandboxStartError, ZygoteUnavailable
from .channel import encode
from .isolated import (
    STDERR_TAIL,
    _kill_sandbox,
    bootstrap,
    class_spec,
    spawn_sandbox,
    worker_binds,
)
from .sandbox import (
    MASKED_PROC_FILES,
    WORKSPACE,
    SandboxPolicy,
    _hostname,
    bubblewrap_path,
    python_executable,
)

log = logging.getLogger("openenv.runtime")


def forks_workers(policy: SandboxPolicy) -> bool:
    """Whether sessions under ``policy`` get workers forked from a zygote."""
    return policy.zygote and policy.seccomp.enabled and policy.seccomp.deny_namespaces


class ForkedProcess:
    """The server's handle on one forked worker (the worker is the template's child)."""

    def __init__(self, pid: int, pidfd: int | None) -> None:
        self.pid = pid
        """The worker's pid on the host (for its cgroup and the logs)."""
        self.returncode: int | None = None
        self.stderr: asyncio.StreamReader | None = None
        self._pidfd = pidfd
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def wait(self) -> int:
        """The worker's exit status (as ``os.waitstatus_to_exitcode`` gives it)."""
        return await asyncio.shield(self._exited)

    def kill(self) -> None:
        """SIGKILL the worker: pid 1 of its namespace, so everything in it dies too."""
        if self.returncode is None and self._pidfd is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def _set_exit(self, code: int) -> None:
        if self._exited.done():
            return
        self.returncode = code
        self._exited.set_result(code)
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


def is_template(pid: int) -> bool:
    """Whether process ``pid`` is a zygote's template (for process accounting: its
    children are forked workers)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"openenv.runtime.template" in f.read()
    except OSError:
        return False


def _host_pid(pidfd: int) -> int:
    """The pid (in our PID namespace) of the process ``pidfd`` refers to; -1 if gone."""
    with open(f"/proc/self/fdinfo/{pidfd}") as info:
        for line in info:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    raise OSError("no Pid in the pidfd's fdinfo (kernel too old for pidfds?)")


class PipeReading(asyncio.ReadTransport):
    """Reads the pipe ``fd`` into :attr:`reader` (an :class:`asyncio.StreamReader`),
    pausing while the reader is full, and closes ``fd`` once, at end of file.

    Not ``loop.connect_read_pipe``: under uvloop (uvicorn's default loop) that closes
    the descriptor twice, once in libuv and once through the file object, and in a
    threaded server the second close can end a socket another thread opened in
    between (it closed a test client's connection).
    """

    def __init__(self, fd: int, limit: int = STDERR_TAIL) -> None:
        super().__init__()
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self.reader = asyncio.StreamReader(limit=limit, loop=self._loop)
        self.reader.set_transport(self)
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.reader.feed_data(data)  # may pause us
        else:
            self.close()
            self.reader.feed_eof()

    def pause_reading(self) -> None:
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)

    def resume_reading(self) -> None:
        if self._fd >= 0:
            self._loop.add_reader(self._fd, self._readable)

    def is_closing(self) -> bool:
        return self._fd < 0

    def close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            self._loop.remove_reader(fd)
            os.close(fd)


class Zygote:
    """One template for ``env_class`` under ``policy``, forking workers on request."""

    def __init__(self, env_class: type, policy: SandboxPolicy, startup_timeout_s: float = 60.0):
        self.env_class = env_class
        self.policy = policy
        self.startup_timeout_s = startup_timeout_s
        self.process: asyncio.subprocess.Process | None = None
        self.forked = 0
        """Workers forked so far."""
        self._control: socket.socket | None = None
        self._ids = itertools.count()
        self._pending: dict[int, asyncio.Future[ForkedProcess]] = {}
        self._workers: dict[int, ForkedProcess] = {}
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._starting: asyncio.Lock | None = None
        self._stderr_tail: collections.deque[bytes] = collections.deque(maxlen=16)
        self._drain: asyncio.Task[None] | None = None
        self._closed = False
        self._stopping = False

    @property
    def running(self) -> bool:
        return (
            self._control is not None
            and self.process is not None
            and (self.process.returncode is None)
        )

    async def start(self) -> None:
        """Start the template (if it is not running) and wait until it has imported the
        environment; :class:`ZygoteUnavailable` says why it could not."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self.running:
                return
            if self._closed:
                raise ZygoteUnavailable("the zygote is closed")
            await self._stop()
            try:
                await self._launch()
            except BaseException:
                await asyncio.shield(self._stop())
                raise

    async def _launch(self) -> None:
        loop = asyncio.get_running_loop()
        spec = class_spec(self.env_class)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            fd = theirs.fileno()
            code = bootstrap("openenv.runtime.template")
            argv = [python_executable(), "-I", "-S", "-B", "-c", code, spec, str(fd)]
            command = self.policy.command(
                argv, packages=worker_binds(self.env_class), template=True
            )
            self.process = await spawn_sandbox(command, fd)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        if self._closed:  # closed while it started
            ours.close()
            raise ZygoteUnavailable("the zygote is closed")
        self._drain = loop.create_task(self._read_stderr(self.process))
        ours.setblocking(False)
        self._control = ours
        self._ready = loop.create_future()
        loop.add_reader(ours.fileno(), self._on_control)
        program = self.policy.seccomp.program()
        config = {
            "limits": self.policy.limits.model_dump(),
            "hostname": bool(_hostname(bubblewrap_path())),
            "masked": list(MASKED_PROC_FILES),
            # Host paths under a tmpfs the worker mounts afresh: it binds them again.
            "rebind": [
                path
                for path in self.policy.host_paths()
                if any(path.startswith(f"{top}/") for top in ("/tmp", WORKSPACE, "/dev/shm"))
            ],
            "seccomp": program.hex() if program else None,
        }
        socket.send_fds(ours, [orjson.dumps(config)], [])
        try:
            async with asyncio.timeout(self.startup_timeout_s):
                hello = await asyncio.shield(self._ready)
        except TimeoutError:
            raise ZygoteUnavailable(
                f"the zygote's template did not start within {self.startup_timeout_s:g} s"
            ) from None
        if not hello.get("ready"):
            error = hello.get("error") or {}
            raise ZygoteUnavailable(
                f"the zygote's template for {spec} did not start: "
                f"{error.get('type')}: {error.get('message')}"
            )
        await self._probe()

    async def _probe(self) -> None:
        """Fork one worker that builds its sandbox and exits: where this host refuses
        some step (a container's masked ``/proc``, say), no session finds out."""
        process, ours = await self._fork()
        try:
            ours.sendall(encode({"op": "probe"}))
            async with asyncio.timeout(self.startup_timeout_s):
                code = await process.wait()
                assert process.stderr is not None
                said = await process.stderr.read()
        except TimeoutError:
            process.kill()
            raise ZygoteUnavailable("a probe worker did not build its sandbox in time") from None
        finally:
            ours.close()
        if code != 0:
            lines = said.decode(errors="replace").strip().splitlines()
            why = f": {lines[-1][:300]}" if lines else ""
            raise ZygoteUnavailable(f"a probe worker could not build its sandbox{why}")

    async def fork(self) -> tuple[ForkedProcess, socket.socket]:
        """A new worker, and the server's end of its channel.

        The worker builds its sandbox, then waits for ``{"op": "go"}`` on the channel
        (the caller first moves it into its cgroup), then creates the environment and
        says hello, as a worker started afresh does.
        """
        if not self.running:
            await self.start()
        return await self._fork()

    async def _fork(self) -> tuple[ForkedProcess, socket.socket]:
        control = self._control
        assert control is not None
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        stderr_r, stderr_w = os.pipe()
        request_id = next(self._ids)
        future: asyncio.Future[ForkedProcess] = loop.create_future()
        self._pending[request_id] = future
        try:
            try:
                socket.send_fds(
                    control, [orjson.dumps({"fork": request_id})], [theirs.fileno(), stderr_w]
                )
            except OSError as exc:
                raise SandboxStartError(f"cannot reach the zygote's template ({exc})") from None
            finally:
                theirs.close()
                os.close(stderr_w)
            async with asyncio.timeout(self.startup_timeout_s):
                process = await future
        except TimeoutError:
            self._pending.pop(request_id, None)
            ours.close()
            os.close(stderr_r)
            raise SandboxStartError(
                f"the zygote did not fork a worker within {self.startup_timeout_s:g} s"
            ) from None
        except BaseException:
            self._pending.pop(request_id, None)
            ours.close()
            os.close(stderr_r)
            raise
        process.stderr = PipeReading(stderr_r).reader
        self.forked += 1
        return process, ours

    def _on_control(self) -> None:
        control = self._control
        assert control is not None
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(control, 65536, 1)
            except BlockingIOError:
                return
            except OSError:
                message, fds = b"", []
            if not message:
                self._template_gone()
                return
            try:
                self._dispatch(orjson.loads(message), fds)
            except Exception:  # never let a bad message kill the server's loop
                log.exception("bad message from a zygote's template")
                for fd in fds:
                    os.close(fd)

    def _dispatch(self, message: dict[str, Any], fds: list[int]) -> None:
        if "exit" in message:
            process = self._workers.pop(message["exit"], None)
            if process is not None:
                process._set_exit(int(message["status"]))
            return
        if "ready" in message:
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(message)
            return
        request_id = message.get("forked", message.get("failed"))
        future = self._pending.pop(request_id, None)
        if "failed" in message:
            if future is not None and not future.done():
                future.set_exception(
                    SandboxStartError(f"the zygote could not fork a worker: {message['error']}")
                )
            return
        pidfd = fds[0] if fds else None  # none: it died before the template opened one
        try:
            host_pid = _host_pid(pidfd) if pidfd is not None else -1
        except OSError as exc:
            host_pid = -1
            log.warning("cannot read a forked worker's pid: %s", exc)
        process = ForkedProcess(host_pid, pidfd)
        self._workers[message["pid"]] = process
        if future is None or future.done():  # its start was abandoned
            process.kill()
        else:
            future.set_result(process)

    def _template_gone(self) -> None:
        """The template died (or closed): every worker it forked died with it."""
        control, self._control = self._control, None
        if control is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(control.fileno())
            control.close()
        tail = b"".join(self._stderr_tail).decode(errors="replace").strip()
        detail = f": {tail.splitlines()[-1][:300]}" if tail else ""
        if self._ready is not None and not self._ready.done():
            message = f"it exited{detail}"
            self._ready.set_result({"ready": False, "error": {"type": "exit", "message": message}})
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SandboxStartError(f"the zygote's template exited{detail}"))
        self._pending.clear()
        workers, self._workers = self._workers, {}
        for process in workers.values():
            process._set_exit(-signal.SIGKILL)
        if not (self._closed or self._stopping):
            log.warning("a zygote's template for %s exited%s", self.env_class.__name__, detail)

    async def _read_stderr(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        with contextlib.suppress(Exception):
            while chunk := await process.stderr.read(STDERR_TAIL):
                self._stderr_tail.append(chunk)
        if self._control is not None:  # not already seen through the control socket
            self._template_gone()

    async def _stop(self) -> None:
        process, self.process = self.process, None
        if self._control is not None:
            self._stopping = True
            try:
                self._template_gone()
            finally:
                self._stopping = False
        if process is not None and process.returncode is None:
            _kill_sandbox(process.pid)
            with contextlib.suppress(ProcessLookupError):
                await process.wait()
        if self._drain is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._drain, 1.0)
            self._drain = None

    async def close(self) -> None:
        """End the template, and with it every worker it forked."""
        self._closed = True
        await self._stop()
