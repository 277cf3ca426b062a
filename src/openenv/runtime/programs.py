"""Running agent-supplied programs from inside an environment.

``coding_env`` runs a Python kernel, ``terminal_env`` a bash shell; both grade
with hidden tests or verifiers. What they share lives here, in one place:

* :class:`Confinement` — how such a program is started: a new session (so its
  whole process group can be killed), rlimits (memory, processes, file size, no
  core files), a clean environment, and :mod:`Landlock <.landlock>` confining it to
  the system and Python files plus its workspace (so the environment's own
  package, with its hidden tests, is out of its reach), without TCP;
* :class:`CappedOutput` — stdout/stderr kept within a byte budget, head and tail,
  with a visible marker where bytes were dropped, decoded leniently;
* :func:`run_program` — run a program once, with input and a wall-clock deadline;
* :class:`Interpreter` — a long-lived program (a REPL) driven by requests, whose
  replies arrive on a control descriptor (fd 3) while its stdout and stderr are
  collected, with a deadline per request.

Inside a sandboxed worker (``isolation: sandbox``) the sandbox is the outer
boundary and this confinement the inner one; in-process it is the only one,
which is why environments that run agent code declare ``isolation: sandbox``.

Example::

    confinement = Confinement(workspace="/workspace", hidden=[package_dir])
    result = run_program(["python3", "-c", "print(1)"], confinement=confinement, timeout_s=5)
    assert result.stdout == "1\\n" and result.exit_code == 0
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import landlock
from .processes import end_all_others, is_namespace_init, kill_tree

# At import, not in Workspace(): a zygote's template imports the environment's modules
# once, and what a worker imported per session cost it ~25 ms of CPU each time.
from .sandbox import WORKSPACE, SandboxUnavailable, check_sandbox, inside_sandbox

__all__ = [
    "CappedOutput",
    "Completed",
    "Confinement",
    "Exchange",
    "Interpreter",
    "Workspace",
    "collect_output",
    "describe_exit",
    "end_agent_programs",
    "missing_for_sandboxed_programs",
    "readable_paths",
    "remove_entry",
    "run_program",
    "step_limit",
]

TRUNCATION_MARKER = "\n[... {dropped} bytes of output dropped (limit {limit} bytes) ...]\n"
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt/openenv/site")
ETC_FILES = (
    "alternatives", "bash.bashrc", "ca-certificates", "debian_version", "gitconfig",
    "group", "host.conf", "hosts", "inputrc", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
    "locale.alias", "localtime", "magic", "mime.types", "nsswitch.conf", "os-release",
    "passwd", "profile", "protocols", "services", "ssl", "timezone",
)  # fmt: skip
"""What of ``/etc`` a program may read: no ``shadow``, no host configuration."""
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")
_KILL_WAIT_S = 5.0
MAX_REPLY_BYTES = 32 * 2**20
"""Longest reply line a program may send on its control channel."""
_DRAIN_AFTER_EXIT_S = 0.05
"""After a program exits, how long output its orphans still write is waited for."""


def missing_for_sandboxed_programs() -> str | None:
    """What this machine lacks to run agent programs confined in a sandbox, or ``None``.

    Environments such as ``coding_env`` need both a bubblewrap sandbox and Landlock.
    """
    try:
        check_sandbox()
    except SandboxUnavailable as exc:
        return str(exc)
    if landlock.abi_version() == 0:
        return "this kernel has no Landlock (Linux 5.13+), which confines agent programs"
    return None


def readable_paths(hidden: Iterable[str | Path] = ()) -> list[str]:
    """System and Python paths a confined program may read, minus ``hidden``.

    Landlock can only allow, so a directory holding a hidden path is opened up
    entry by entry, leaving the hidden ones out (e.g. an environment package
    installed in ``site-packages`` next to the libraries its programs may import).
    """
    return list(_readable_paths(tuple(sorted({os.path.realpath(p) for p in hidden}))))


@functools.lru_cache(maxsize=16)
def _readable_paths(hidden: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`readable_paths`, computed once per process: every program start needs it."""
    hidden_set = set(hidden)
    roots = [*SYSTEM_PATHS, *(f"/etc/{name}" for name in ETC_FILES)]
    roots += [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))]
    roots += [p for p in sys.path if p and ("-packages" in p or p.startswith("/opt/openenv/site"))]
    found: list[str] = []
    for root in dict.fromkeys(roots):
        if os.path.exists(root):
            found += _without(root, hidden_set)
    return tuple(dict.fromkeys(found))


def _without(path: str, hidden: set[str], seen: set[str] | None = None) -> list[str]:
    """``path`` (resolved), or its entries minus ``hidden`` when one lies beneath it.

    Entries are resolved too: a symlink (a venv's ``lib64``) is granted as its target.
    """
    path = os.path.realpath(path)
    seen = set() if seen is None else seen
    if path in hidden or path in seen:
        return []
    seen.add(path)
    prefix = path.rstrip("/") + "/"
    if not any(h.startswith(prefix) for h in hidden):
        return [path]
    try:
        entries = sorted(os.listdir(path))
    except OSError:
        return []
    return [kept for name in entries for kept in _without(os.path.join(path, name), hidden, seen)]


class Workspace:
    """The files of one environment instance: a working directory and a temp directory.

    In a sandboxed worker these are the sandbox's own private ``/workspace`` and
    ``/tmp``, and its private ``/dev/shm`` is the agent's too; in-process they are
    fresh directories under the system's temp directory, removed by :meth:`remove`
    (and the host's shared ``/dev/shm`` is not the agent's to write).

    :meth:`clear` empties them without following a symbolic link and without
    touching anything outside them, whatever the agent left there (links to ``/``,
    directories it made unreadable, names that look like paths).
    """

    def __init__(self, prefix: str = "openenv-") -> None:
        self.owned = not inside_sandbox()
        if self.owned:
            import tempfile

            self.root: str | None = tempfile.mkdtemp(prefix=prefix)
            self.path = os.path.join(self.root, "workspace")
            self.tmp = os.path.join(self.root, "tmp")
            self.shared_memory: str | None = None
        else:
            self.root, self.path, self.tmp = None, WORKSPACE, "/tmp"
            self.shared_memory = "/dev/shm"
        self.clear()

    @property
    def writable(self) -> list[str]:
        """What the agent's programs may write besides :attr:`path`: its temp directories."""
        return [self.tmp] + ([self.shared_memory] if self.shared_memory else [])

    def clear(self) -> None:
        """Empty every directory the agent could write (a new episode starts with nothing)."""
        for directory in (self.path, *self.writable):
            os.makedirs(directory, exist_ok=True)
            for entry in os.scandir(directory):
                remove_entry(entry.path)

    def remove(self) -> None:
        """Delete the directories when this process made them."""
        if self.root is not None:
            remove_entry(self.root)


def remove_entry(path: str) -> None:
    """Delete ``path`` — a file, a link (never followed) or a whole directory tree —
    without crossing into another filesystem.

    The agent may have taken its own permissions away from what it made, so
    directories beneath ``path`` get theirs back first, each reached without
    following a link (an ``O_PATH | O_NOFOLLOW`` descriptor, changed through
    ``/proc/self/fd``). A directory on another device is a mount, not the agent's:
    a read-only host path a sandbox binds again under its ``/tmp`` (a checkout
    there). It is neither walked nor emptied, and the directories above it stay.
    """
    import stat

    try:
        top = os.lstat(path)
    except OSError:
        return
    if not stat.S_ISDIR(top.st_mode):
        with contextlib.suppress(OSError):
            os.unlink(path)
        return
    ours: list[str] = []  # parents before children
    pending = [path]
    while pending:
        directory = pending.pop()
        try:
            fd = os.open(directory, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            found = os.fstat(fd)
            if not stat.S_ISDIR(found.st_mode) or found.st_dev != top.st_dev:
                continue  # replaced by something else meanwhile, or a mount: not ours
            with contextlib.suppress(OSError):
                os.chmod(f"/proc/self/fd/{fd}", 0o700)
        finally:
            os.close(fd)
        ours.append(directory)
        with contextlib.suppress(OSError), os.scandir(directory) as entries:
            pending += [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    for directory in reversed(ours):  # children first
        with contextlib.suppress(OSError), os.scandir(directory) as entries:
            for entry in entries:
                if not entry.is_dir(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
        with contextlib.suppress(OSError):
            os.rmdir(directory)


@dataclass
class Confinement:
    """How an agent's program is started; see the module docstring.

    ``workspace`` is its working directory, writable; ``writable`` adds more
    writable paths (``/tmp``); ``hidden`` are paths it must not read even where
    they lie beneath readable ones. Landlock is ``required`` unless said otherwise:
    without it a program could read what ``hidden`` protects.
    """

    workspace: str
    hidden: Sequence[str | Path] = ()
    writable: Sequence[str] = ()
    memory_mb: int = 1024
    max_processes: int = 64
    max_file_size_mb: int = 64
    allow_tcp: bool = False
    landlock_required: bool = True
    environment: Mapping[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The program's whole environment: a small fixed set plus ``environment``."""
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": self.workspace,
            "LANG": "C.UTF-8",
            "TMPDIR": self.writable[0] if self.writable else self.workspace,
            "PYTHONDONTWRITEBYTECODE": "1",
            **self.environment,
        }

    def preexec(self, control_fd: int | None = None) -> Any:
        """A ``preexec_fn`` applying this confinement in the child, before ``exec``.

        With ``control_fd``, that descriptor becomes the child's fd 3.
        """
        read = readable_paths(self.hidden)  # computed here: the child cannot list them
        write = [self.workspace, *self.writable, *DEVICES]

        def apply() -> None:
            import resource

            if control_fd is not None and control_fd != 3:
                os.dup2(control_fd, 3)
                os.close(control_fd)

            for limit, value in (
                (resource.RLIMIT_AS, self.memory_mb * 2**20),
                (resource.RLIMIT_NPROC, self.max_processes),
                (resource.RLIMIT_FSIZE, self.max_file_size_mb * 2**20),
                (resource.RLIMIT_CORE, 0),
            ):
                _lower_limit(resource, limit, value)
            landlock.confine([*read, "/proc"], write, allow_tcp=self.allow_tcp,
                             required=self.landlock_required)  # fmt: skip

        return apply

    def popen(
        self, argv: Sequence[str], control_fd: int | None = None, **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` confined, in a new session (``control_fd`` as its fd 3).

        Raises :class:`~.landlock.LandlockUnavailable` up front (not from inside the
        child) when Landlock is required and missing.
        """
        if self.landlock_required and landlock.abi_version() == 0:
            raise landlock.LandlockUnavailable(
                "this kernel has no Landlock (Linux 5.13+ with it enabled), which confines "
                "agent programs away from the environment's hidden files; see docs/isolation.md"
            )
        return subprocess.Popen(
            argv,
            cwd=kwargs.pop("cwd", self.workspace),
            env=self.env(),
            preexec_fn=self.preexec(control_fd),
            start_new_session=True,
            pass_fds=() if control_fd is None else tuple({control_fd, 3}),
            **kwargs,
        )


def _lower_limit(resource: Any, limit: int, value: int) -> None:
    _, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(limit, (value, value))


class CappedOutput:
    """Bytes of one stream kept within ``limit``: the head and a tail, and a count.

    Example::

        out = CappedOutput(limit=10)
        out.feed(b"0123456789abcdef")
        out.text()  # '01234' + marker + 'bcdef'
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 0)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        head_room = self.limit - self.limit // 2 - len(self.head)
        if head_room > 0:
            self.head += data[:head_room]
            data = data[head_room:]
        if data:
            self.tail += data
            del self.tail[: max(len(self.tail) - self.limit // 2, 0)]

    def text(self) -> str:
        """The kept bytes as text (invalid UTF-8 replaced), marked where cut."""
        if not self.truncated:
            return bytes(self.head + self.tail).decode("utf-8", errors="replace")
        marker = TRUNCATION_MARKER.format(dropped=self.total - self.limit, limit=self.limit)
        head = bytes(self.head).decode("utf-8", errors="replace")
        tail = bytes(self.tail).decode("utf-8", errors="replace")
        return head + marker + tail


@dataclass
class Completed:
    """How a program run ended."""

    exit_code: int
    """The exit status; ``-N`` when killed by signal ``N`` (as :mod:`subprocess`)."""
    stdout: CappedOutput
    stderr: CappedOutput
    timed_out: bool
    duration_s: float
    results: bytes = b""
    """What the program wrote on fd 3 (with ``run_program(..., results=True)``)."""


def run_program(
    argv: Sequence[str],
    *,
    confinement: Confinement,
    timeout_s: float,
    stdin: bytes = b"",
    output_limit: int = 65536,
    results: bool = False,
    cwd: str | None = None,
) -> Completed:
    """Run ``argv`` confined until it exits or ``timeout_s`` passes (then kill its group).

    It runs in ``cwd`` (default: the confinement's workspace).

    With ``results``, the program's fd 3 is a pipe collected into
    :attr:`Completed.results`: a channel for what it reports, apart from the
    output of the code it runs.
    """
    started = time.monotonic()
    read_end, write_end = os.pipe() if results else (None, None)
    try:
        process = confinement.popen(
            argv,
            cwd=cwd or confinement.workspace,
            control_fd=write_end,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except BaseException:
        if read_end is not None:
            os.close(read_end)
        raise
    finally:
        if write_end is not None:
            os.close(write_end)
    assert process.stdin and process.stdout and process.stderr
    stdout, stderr = CappedOutput(output_limit), CappedOutput(output_limit)
    reported = CappedOutput(2**20)
    outputs = {process.stdout.fileno(): stdout, process.stderr.fileno(): stderr}
    if read_end is not None:
        outputs[read_end] = reported
    try:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.write(stdin)
        process.stdin.close()
        deadline = started + timeout_s
        timed_out = not collect_output(outputs, deadline, process)
        if not timed_out:  # its output ended; it may still be running (`exec >/dev/null`)
            try:
                process.wait(max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        kill_group(process)
        process.stdout.close()
        process.stderr.close()
        if read_end is not None:
            _drain(outputs)
            os.close(read_end)
    return Completed(
        exit_code=process.returncode,
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
        duration_s=time.monotonic() - started,
        results=bytes(reported.head + reported.tail),
    )


def collect_output(
    outputs: dict[int, CappedOutput],
    deadline: float,
    process: subprocess.Popen[bytes] | None = None,
    control: socket.socket | None = None,
    max_reply: int = MAX_REPLY_BYTES,
) -> bool | bytes | None:
    """Read ``outputs`` until the end; False if ``deadline`` passed first.

    The end is: a line on ``control`` (returned), or EOF on every output, or — with
    ``process`` — the process gone and its output drained (orphans it left holding
    the pipes are not waited for). A reply line longer than ``max_reply`` bytes
    ends it too: ``None`` (the program broke the protocol).
    """
    with selectors.DefaultSelector() as selector:
        for fd in outputs:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        line = bytearray()
        if control is not None:
            selector.register(control, selectors.EVENT_READ)
        exited_at: float | None = None
        while selector.get_map():
            now = time.monotonic()
            if process is not None and exited_at is None and process.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > _DRAIN_AFTER_EXIT_S:
                return True
            if now >= deadline:
                return False
            wait = deadline - now
            if exited_at is not None:
                wait = min(wait, exited_at + _DRAIN_AFTER_EXIT_S - now)
            elif process is not None:
                wait = min(wait, 0.05)  # poll the process: orphans may keep pipes open
            for key, _ in selector.select(max(wait, 0)):
                if key.fileobj is control:
                    try:
                        data = control.recv(65536)
                    except OSError:  # reset by a program that died: the same as closed
                        data = b""
                    if not data:
                        selector.unregister(control)
                        return b""  # the program is gone
                    line += data
                    if b"\n" in line:
                        _drain(outputs)
                        return bytes(line.split(b"\n", 1)[0])
                    if len(line) > max_reply:
                        return None
                    continue
                fd = key.fd
                data = _read(fd)
                if data:
                    outputs[fd].feed(data)
                elif data is not None:  # EOF
                    selector.unregister(fd)
        return True


def _read(fd: int) -> bytes | None:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def _drain(outputs: dict[int, CappedOutput]) -> None:
    """Whatever the program wrote before its reply is in the pipes already: take it."""
    for fd, output in outputs.items():
        while data := _read(fd):
            output.feed(data)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill ``process``, its process group and its descendants, and reap it."""
    if process.returncode is None:
        kill_tree(process.pid)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    try:
        process.wait(_KILL_WAIT_S)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process in D state
        pass


@dataclass
class Exchange:
    """One request to an :class:`Interpreter` and what came back."""

    reply: bytes | None
    """The program's reply line (without its newline); ``None`` when it timed out or died."""
    stdout: CappedOutput
    stderr: CappedOutput
    timed_out: bool = False
    reply_too_long: bool = False
    """The program sent more than the reply limit without ending a line (it was stopped)."""
    exit_code: int | None = None
    """Set when the program ended during the request (``-N``: killed by signal ``N``)."""
    duration_s: float = 0.0

    def output_fields(self) -> dict[str, Any]:
        """``stdout``, ``stderr``, their truncation flags and ``duration_s``, for an observation."""
        return {
            "stdout": self.stdout.text(),
            "stderr": self.stderr.text(),
            "stdout_truncated": self.stdout.truncated,
            "stderr_truncated": self.stderr.truncated,
            "duration_s": round(self.duration_s, 6),
        }


def step_limit(requested: float | None, episode_limit: float, deadline_s: float | None) -> float:
    """Seconds a step's program may run: what the action asked, within the episode's limit,
    finishing half a second before the server's own deadline for the step (if any)."""
    limit = min(requested or episode_limit, episode_limit)
    if deadline_s is not None:
        limit = min(limit, max(deadline_s - 0.5, 0.1))
    return limit


def describe_exit(code: int | None) -> str:
    """How a program ended, in words: ``exit status 3``, ``killed by SIGKILL``."""
    if code is None:
        return "ended"
    if code >= 0:
        return f"exit status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    hint = " — often the memory limit" if -code == signal.SIGKILL else ""
    return f"killed by {name}{hint}"


class Interpreter:
    """A long-lived confined program that answers requests, one at a time.

    The program gets its control socket as fd 3: it reads requests there or on
    stdin (see :meth:`request`) and answers each with one line of JSON on fd 3.
    Its stdout and stderr are collected per request, capped.

    Example::

        shell = Interpreter(["bash", "--norc"], confinement)
        exchange = shell.request(stdin=b"echo hi; echo '{}' >&3\\n", timeout_s=5)
        exchange.stdout.text()  # 'hi\\n'
    """

    def __init__(
        self,
        argv: Sequence[str],
        confinement: Confinement,
        output_limit: int = 65536,
        max_reply: int = MAX_REPLY_BYTES,
    ) -> None:
        self.argv = list(argv)
        self.confinement = confinement
        self.output_limit = output_limit
        self.max_reply = max_reply
        self.process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, cwd: str | None = None) -> None:
        """Start the program (stopping a previous one), in ``cwd`` or the workspace."""
        self.stop()
        ours, theirs = socket.socketpair()
        try:
            self.process = self.confinement.popen(
                self.argv,
                cwd=cwd or self.confinement.workspace,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                control_fd=theirs.fileno(),
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._control = ours

    def request(
        self, *, control: dict[str, Any] | None = None, stdin: bytes = b"", timeout_s: float
    ) -> Exchange:
        """Send ``control`` (a JSON line on fd 3) and/or ``stdin``; wait for the reply.

        On timeout the program is killed with its process group (:attr:`alive`
        turns false; call :meth:`start` for a new one).
        """
        if not self.alive:
            self.start()
        process, sock = self.process, self._control
        assert process is not None and sock is not None
        assert process.stdin and process.stdout and process.stderr
        started = time.monotonic()
        stdout, stderr = CappedOutput(self.output_limit), CappedOutput(self.output_limit)
        outputs = {process.stdout.fileno(): stdout, process.stderr.fileno(): stderr}
        try:
            if control is not None:
                sock.sendall(json.dumps(control).encode() + b"\n")
            if stdin:
                process.stdin.write(stdin)
                process.stdin.flush()
        except OSError:
            pass  # the program is gone; _collect sees it
        ended = collect_output(outputs, started + timeout_s, control=sock, max_reply=self.max_reply)
        exchange = Exchange(None, stdout, stderr, duration_s=time.monotonic() - started)
        if ended is False:
            exchange.timed_out = True
            self.stop()
            exchange.exit_code = process.returncode
        elif ended is None:  # a reply too long to be one: the program is not to be trusted
            exchange.reply_too_long = True
            self.stop()
            exchange.exit_code = process.returncode
        elif ended:
            exchange.reply = ended
        else:  # control closed: the program ended
            _drain_until_eof(outputs, time.monotonic() + 1.0)
            self.stop()
            exchange.exit_code = process.returncode
        exchange.duration_s = time.monotonic() - started
        return exchange

    def stop(self) -> None:
        """Kill the program and its process group (no-op when not running)."""
        if self.process is not None:
            kill_group(self.process)
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        if self._control is not None:
            self._control.close()
        self._control = None


def _drain_until_eof(outputs: dict[int, CappedOutput], deadline: float) -> None:
    collect_output(outputs, deadline)


def end_agent_programs(*programs: Interpreter) -> None:
    """End every process the agent's code started, before grading or a new episode.

    In a sandboxed worker (pid 1 of the sandbox) that is every other process of the
    sandbox, however it detached itself (``setsid``, double forks): see
    :mod:`.processes`. Elsewhere (``isolation: none``) it is each of ``programs`` with
    its group and descendants — a process that left its family is not found there.
    """
    if is_namespace_init():
        end_all_others()
    for program in programs:
        program.stop()
