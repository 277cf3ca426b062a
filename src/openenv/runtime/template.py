"""The zygote's template, inside its sandbox: forks each session's worker into fresh
namespaces, with the environment's modules already imported.

Started by :class:`openenv.runtime.zygote.Zygote` as ``python -I -S -B -c
<bootstrap> module:Class FD`` under bubblewrap with the sandbox policy's
filesystem (read-only binds, scrubbed environment), as the host's uid in a user
namespace of its own, holding only the capabilities it needs to build each
worker's sandbox (``sandbox.TEMPLATE_CAPABILITIES``). It never runs a session's
code: it imports the environment's module once, then serves fork requests on the
control socket at ``FD``.

Each worker is built in three processes' steps::

    template ─ fork ─ intermediate: unshare(mount, PID, network, IPC, UTS) ─ fork ─ worker

* the **worker** is pid 1 of a new PID namespace (the kernel kills everything in
  it when the worker dies) in new mount, network (loopback only), IPC and UTS
  namespaces. It makes its mounts private, mounts fresh, capped tmpfs on
  ``/tmp``, ``/workspace`` and ``/dev/shm``, a fresh read-only ``/proc`` of its
  PID namespace with host files masked, a devpts of its own, and sets the
  hostname. It then waits for the server's ``go`` (sent once the server has moved
  it into its cgroup), makes a cgroup namespace and a **user namespace of its
  own**, in which it is uid 65534 with no capabilities at all (bounding set
  emptied), sets the rlimits,
  ``no_new_privs`` and the seccomp filter, and only then creates the
  environment and answers — as ``worker.py`` does under bwrap;
* the **intermediate** writes the worker's uid and gid maps (it keeps the
  template's capabilities in the parent user namespace, which the worker no
  longer has) and exits; the worker is reparented to the template (pid 1).

Nothing of one session reaches the next: every worker is forked from the
template, never from another worker, and the template only ever imports.

Control messages (one JSON object per ``SOCK_SEQPACKET`` packet):

* server → template, first: ``{"limits": {...}, "hostname": bool, "masked": [...],
  "seccomp": "<hex BPF>" | null}``; reply ``{"ready": true}`` or ``{"ready": false,
  "error": {...}}`` (the import failed);
* server → template: ``{"fork": id}`` with the worker's channel and stderr as
  ``SCM_RIGHTS``; reply ``{"forked": id, "pid": ...}`` with a pidfd of the worker,
  or ``{"failed": id, "error": "..."}``. The server then sends the worker ``{"op":
  "go"}`` on its channel, or ``{"op": "probe"}``: build the sandbox, then exit 0
  (the server's check, at start, that workers can be built on this host);
* template → server, whenever a worker ends: ``{"exit": pid, "status": code}``
  (``os.waitstatus_to_exitcode``; ``pid`` as in ``forked``).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import select
import signal
import socket
import sys
import traceback
from typing import Any

import orjson

from .channel import SyncChannel
from .processes import reaped
from .worker import error_reply, make_limits_visible, prepare, serve_session

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000

SIOCSIFFLAGS, IFF_UP = 0x8914, 0x1
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 24, 38, 22
SECCOMP_MODE_FILTER = 2
CAP_LAST = 63
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

SANDBOX_ID = 65534  # sandbox.SANDBOX_UID; not imported: the template imports little
WORKSPACE = "/workspace"

SETUP_FAILED = 97
"""Exit status of a worker whose sandbox could not be built (the server says so)."""

_libc = ctypes.CDLL(None, use_errno=True)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    _check(
        _libc.mount(
            source and source.encode(),
            target.encode(),
            fstype and fstype.encode(),
            ctypes.c_ulong(flags),
            data.encode() or None,
        ),
        f"mount {target}",
    )


class Template:
    """The template's state: its control socket, its configuration, its live workers."""

    def __init__(self, control: socket.socket, env_class: type, config: dict[str, Any]) -> None:
        self.control = control
        self.env_class = env_class
        self.config = config
        program = config.get("seccomp")
        self.seccomp = bytes.fromhex(program) if program else None
        self.workers: set[int] = set()
        self.proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.uid, self.gid = os.getuid(), os.getgid()

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        socket.send_fds(self.control, [orjson.dumps(message)], fds or [])

    def run(self) -> None:
        """Serve fork requests and report exits until the server closes the socket."""
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        control = self.control.fileno()
        while True:
            try:
                readable, _, _ = select.select([control, wake_r], [], [])
            except InterruptedError:
                continue
            if wake_r in readable:
                while True:
                    try:
                        if not os.read(wake_r, 256):
                            break
                    except BlockingIOError:
                        break
                self.reap()
            if control in readable:
                message, fds, _, _ = socket.recv_fds(self.control, 65536, 2)
                if not message:
                    return  # the server is gone; our pid namespace ends with us
                request = orjson.loads(message)
                if "fork" in request and len(fds) == 2:
                    try:
                        self.fork(request["fork"], fds[0], fds[1])
                    except OSError as exc:  # this worker failed; the others live on
                        self.send({"failed": request["fork"], "error": str(exc)})
                else:
                    for fd in fds:
                        os.close(fd)

    def reap(self) -> None:
        """Collect exited children; report each worker's exit to the server."""
        for pid, code in reaped():
            if pid in self.workers:
                self.workers.discard(pid)
                self.send({"exit": pid, "status": code})

    def fork(self, request_id: Any, channel: int, stderr: int) -> None:
        try:
            report_r, report_w = os.pipe()
            try:
                pid = os.fork()
            except OSError:
                os.close(report_r)
                os.close(report_w)
                raise
        except OSError:
            os.close(channel)
            os.close(stderr)
            raise
        if pid == 0:  # the intermediate
            try:
                os.close(report_r)
                self._intermediate(channel, stderr, report_w)
            finally:
                os._exit(70)
        os.close(report_w)
        os.close(channel)
        os.close(stderr)
        report = b""
        while chunk := os.read(report_r, 4096):
            report += chunk
        os.close(report_r)
        if not report.startswith(b"pid "):
            error = report.decode(errors="replace").strip() or "the intermediate process died"
            self.send({"failed": request_id, "error": error})
            return
        worker = int(report.split()[1])
        self.workers.add(worker)
        try:
            pidfd = os.pidfd_open(worker)
        except ProcessLookupError:  # already gone: its exit is reported when reaped
            self.send({"forked": request_id, "pid": worker})
            return
        try:
            self.send({"forked": request_id, "pid": worker}, [pidfd])
        finally:
            os.close(pidfd)

    def _intermediate(self, channel: int, stderr: int, report: int) -> None:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(self.control.detach())
        try:
            flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
            _check(_libc.unshare(flags), "unshare")
        except OSError as exc:
            os.write(report, f"cannot make the worker's namespaces ({exc})".encode())
            return
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                os.close(report)
                os.close(self.proc)
                session = self._build(channel, stderr, theirs)
            except BaseException as exc:  # stderr is the server's pipe by now, or still fd 2
                with contextlib.suppress(Exception):
                    os.write(2, f"openenv: cannot build the sandbox: {exc}\n".encode())
                os._exit(SETUP_FAILED)
            os._exit(_serve(session, self.env_class))
        theirs.close()
        os.write(report, f"pid {pid}".encode())
        os.close(report)
        # The worker asks for its uid map once it has its own user namespace.
        if ours.recv(1) == b"u":
            try:
                for name, text in (
                    ("setgroups", "deny"),
                    ("uid_map", f"{SANDBOX_ID} {self.uid} 1"),
                    ("gid_map", f"{SANDBOX_ID} {self.gid} 1"),
                ):
                    fd = os.open(f"{pid}/{name}", os.O_WRONLY, dir_fd=self.proc)
                    try:
                        os.write(fd, text.encode())
                    finally:
                        os.close(fd)
            except OSError as exc:
                os.write(stderr, f"openenv: cannot map the worker's uid: {exc}\n".encode())
                raise
            ours.send(b"m")
        os._exit(0)

    def _build(self, channel_fd: int, stderr: int, intermediate: socket.socket) -> SyncChannel:
        """pid 1 of fresh namespaces: build the sandbox; the session's channel."""
        # stdin and stdout: /dev/null; stderr: the server's pipe (first: a failure below
        # is reported there).
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(stderr, 2)
        limits = self.config["limits"]
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        # Read-only host paths under /tmp (a checkout there, a dataset): held open, so
        # that they can be bound again on top of the fresh tmpfs that would hide them.
        kept = [
            (path, os.open(path, os.O_PATH | os.O_CLOEXEC))
            for path in self.config["rebind"]
            if os.path.exists(path)
        ]
        for path, size_mb in (
            ("/tmp", limits["tmp_mb"]),
            (WORKSPACE, limits["workspace_mb"]),
            ("/dev/shm", limits["tmp_mb"]),
        ):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=0755")
        for path, fd in kept:
            source = f"/proc/self/fd/{fd}"
            if os.path.isdir(source):
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
            _mount(source, path, None, MS_BIND | MS_REC)
            read_only = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
            _mount(None, path, None, read_only)
            os.close(fd)
        _mount("proc", "/proc", "proc", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
        # Pseudo-terminals of its own (the template's devpts would be every worker's:
        # one session could open another's terminal). /dev/ptmx links to pts/ptmx.
        options = "newinstance,ptmxmode=0666,mode=620"
        _mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, options)
        for path in self.config["masked"]:
            if os.path.exists(path):
                _mount("/dev/null", path, None, MS_BIND)
        _loopback_up()
        if self.config.get("hostname"):
            _check(_libc.sethostname(b"sandbox", 7), "sethostname")
        os.setsid()
        os.chdir("/")
        keep = {channel_fd, intermediate.fileno()}
        for fd in _open_fds():
            if fd > 2 and fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        sock = socket.socket(fileno=channel_fd)
        channel = SyncChannel(sock)
        go = channel.receive()  # the server has put us in our cgroup
        if go not in ({"op": "go"}, {"op": "probe"}):
            os._exit(SETUP_FAILED)
        _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWCGROUP), "unshare user namespace")
        intermediate.sendall(b"u")
        if intermediate.recv(1) != b"m":
            raise OSError("the intermediate process did not map our uid")
        intermediate.close()
        for cap in range(CAP_LAST + 1):  # the bounding set: what an exec could ever regain
            if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:
                _check(-1, "drop capabilities")
        _drop_capabilities()
        os.setresgid(SANDBOX_ID, SANDBOX_ID, SANDBOX_ID)
        os.setresuid(SANDBOX_ID, SANDBOX_ID, SANDBOX_ID)
        _set_limits(limits)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        if self.seccomp is not None:
            program = _SockFprog(len(self.seccomp) // 8, self.seccomp)
            _check(
                _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0),
                "seccomp",
            )
        if go == {"op": "probe"}:  # the server's check that workers can be built here
            os._exit(0)
        sys.argv[1:] = [sys.argv[1], str(channel_fd)]  # as a worker started afresh has it
        _reseed()
        make_limits_visible()
        return channel


def _serve(channel: SyncChannel, env_class: type) -> int:
    """Serve the session; the exit status Python would give (``SystemExit`` included)."""
    try:
        serve_session(channel, env_class)
        return 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()


def _loopback_up() -> None:
    """Bring up ``lo`` in the new network namespace (as bwrap does): 127.0.0.1 is the
    sandbox's own, and connecting there is refused, not unreachable."""
    import fcntl
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", IFF_UP))


def _drop_capabilities() -> None:
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _set_limits(limits: dict[str, Any]) -> None:
    import resource

    for which, value in (
        (resource.RLIMIT_CPU, limits["cpu_seconds"]),
        (resource.RLIMIT_AS, limits["address_space_mb"] * 2**20),
        (resource.RLIMIT_FSIZE, limits["max_file_size_mb"] * 2**20),
        (resource.RLIMIT_NOFILE, limits["max_open_files"]),
        (resource.RLIMIT_NPROC, limits["max_processes"]),
    ):
        resource.setrlimit(which, (value, value))


def _reseed() -> None:
    """Random generators forked from the template would repeat across sessions.

    ``random`` reseeds itself after ``os.fork``; NumPy's global generator does not.
    """
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        with contextlib.suppress(Exception):
            numpy_random.seed()


def _open_fds() -> list[int]:
    return [int(name) for name in os.listdir("/proc/self/fd")]


def main(argv: list[str] | None = None) -> None:
    spec, fd = (argv or sys.argv[1:])[:2]
    control = socket.socket(fileno=int(fd))
    config_message, _, _, _ = socket.recv_fds(control, 1 << 20, 0)
    if not config_message:
        return
    config = orjson.loads(config_message)
    try:
        env_class = prepare(spec)
    except Exception as exc:
        socket.send_fds(control, [orjson.dumps({"ready": False, **error_reply(exc)})], [])
        return
    # Every worker shares the template's objects; a collection in a worker would write
    # to each of them (their GC headers), copying pages that need not be copied.
    gc.collect()
    gc.freeze()
    template = Template(control, env_class, config)
    template.send({"ready": True})
    template.run()


if __name__ == "__main__":
    main()
