"""The escape suite: agent code inside a sandboxed session tries to get out, and fails.

Every attack is Python code sent as the action of :mod:`attack_env`, served with
``isolation="sandbox"`` on a real uvicorn server on 127.0.0.1 and driven over a
real WebSocket; the code runs in the session's sandboxed worker. Attack code
reports each attempt with :data:`PRELUDE`'s helpers — ``blocked <what>: <why>``
or ``ESCAPED <what>`` — and every test asserts nothing escaped, with a line
saying what stops the attack. After every test a fresh session must still
reset and step (the ``sandbox`` fixture), so the server survived the attack.

docs/isolation.md describes the threat model these attacks come from.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openenv.runtime.sandbox import (
    LIBRARY,
    SITE,
    CgroupLimits,
    SandboxLimits,
    SandboxPolicy,
    _python_paths,
)
from openenv.runtime.seccomp import syscall_number
from openenv.server import ServerConfig, create_app
from tests.conftest import Served, ask, free_socket, open_ws, recv, send, start_server

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(HERE) not in sys.path:  # imported as the top-level module `attack_env` (see its docstring)
    sys.path.insert(0, str(HERE))
AttackEnvironment = importlib.import_module("attack_env").AttackEnvironment

pytestmark = pytest.mark.timeout(60)

SECRET_VAR = "OPENENV_TEST_SECRET"
SECRET = f"s3cret-{uuid.uuid4().hex}"
LIMITS = SandboxLimits(
    memory_mb=192,
    address_space_mb=1024,
    cpu_seconds=60,
    cpu_cores=1.0,
    max_processes=24,
    max_open_files=64,
    max_file_size_mb=4,
    workspace_mb=8,
    tmp_mb=4,
)
STEP_TIMEOUT_S = 30.0

PRELUDE = '''
import ctypes, errno, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)

def blocked(what, why):
    print(f"blocked {what}: {why}")

def escaped(what):
    print(f"ESCAPED {what}"[:400])

def attempt(what, fn):
    """Run fn(); an exception means the attack was stopped."""
    try:
        result = fn()
    except BaseException as exc:
        blocked(what, f"{type(exc).__name__}: {exc}")
    else:
        escaped(f"{what} -> {result!r}")

def call(what, fn, *args):
    """A libc call that returns -1 and sets errno when it fails."""
    ctypes.set_errno(0)
    result = fn(*args)
    if result == -1:
        blocked(what, errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno()))
    else:
        escaped(f"{what} returned {result}")
    return result
'''


# -- servers and sessions ------------------------------------------------------------------


def attack_server(
    step_timeout_s: float = STEP_TIMEOUT_S, forked: bool = True, **limits: Any
) -> Served:
    """The attacked server: workers forked from a zygote (the default) or spawned afresh."""
    policy = SandboxPolicy(limits=SandboxLimits(**{**LIMITS.model_dump(), **limits}), zygote=forked)
    config = ServerConfig(
        isolation="sandbox", sandbox=policy, warm_pool_size=2, step_timeout_s=step_timeout_s
    )
    return start_server(create_app(AttackEnvironment, config=config))


@pytest.fixture(scope="module", params=["forked", "spawned"])
def server(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The attacked server, with a secret in its environment (the test process's); every
    attack runs against forked workers and against spawned ones."""
    previous = os.environ.get(SECRET_VAR)
    os.environ[SECRET_VAR] = SECRET  # before the warm pool starts its first workers
    served = attack_server(forked=request.param == "forked")
    try:
        yield served
    finally:
        served.stop()
        if previous is None:
            os.environ.pop(SECRET_VAR, None)
        else:
            os.environ[SECRET_VAR] = previous


@pytest.fixture
def sandbox(server: Served) -> Iterator[Served]:
    """The server; after the test, a fresh session must still reset and step."""
    yield server
    assert_fresh_session_works(server)


def assert_fresh_session_works(served: Served) -> None:
    assert served.thread.is_alive(), "the server died"
    with attacker(served) as fresh:
        assert fresh.output("print(6 * 7)") == "42\n"


class Attacker:
    """One sandboxed session, driven over a real WebSocket."""

    def __init__(self, served: Served) -> None:
        self.ws = open_ws(served)
        frame = ask(self.ws, {"type": "reset", "data": {}}, timeout=STEP_TIMEOUT_S)
        assert frame["type"] == "observation", frame

    def run(self, code: str, timeout: float = STEP_TIMEOUT_S, **args: Any) -> dict[str, Any]:
        """Run ``code`` (after the prelude, with ``ARGS``) in the sandbox; the reply frame."""
        source = f"{PRELUDE}\nARGS = {args!r}\n{textwrap.dedent(code)}"
        return ask(self.ws, {"type": "step", "data": {"code": source}}, timeout=timeout)

    def output(self, code: str, **args: Any) -> str:
        """What ``code`` printed (and the exception it raised, if any)."""
        frame = self.run(code, **args)
        assert frame["type"] == "observation", frame
        observation = frame["data"]["observation"]
        error = observation.get("error")
        return observation["output"] + (f"raised {error}\n" if error else "")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            send(self.ws, {"type": "close"})
            recv(self.ws, timeout=2)
        self.ws.close()


@contextlib.contextmanager
def attacker(served: Served) -> Iterator[Attacker]:
    session = Attacker(served)
    try:
        yield session
    finally:
        session.close()


def assert_blocked(output: str, attempts: int | None = None, because: str | None = None) -> None:
    """Nothing escaped, every attempt was reported blocked (``because`` in each line)."""
    lines = [line for line in output.splitlines() if line.startswith(("blocked ", "ESCAPED "))]
    assert not [line for line in lines if line.startswith("ESCAPED")], output
    assert lines, f"the attack reported nothing: {output!r}"
    if attempts is not None:
        assert len(lines) == attempts, output
    if because is not None:
        assert all(because in line for line in lines), output


# -- host-side views -----------------------------------------------------------------------


def pid_namespace_members(link: str) -> list[int]:
    """Host pids of the processes in the PID namespace ``link`` (``pid:[inode]``)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{entry}/ns/pid") == link:
                    found.append(int(entry))
    return found


def processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry))
    return found


def wait_for(predicate: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def cgroups_usable() -> bool:
    group = CgroupLimits.create(LIMITS)
    if group is None:
        return False
    group.remove()
    return True


# -- network -------------------------------------------------------------------------------


def test_tcp_to_a_host_port_on_loopback(sandbox: Served) -> None:
    """Stopped by the empty network namespace: its 127.0.0.1 is not the host's."""
    listener = free_socket()
    port = listener.getsockname()[1]
    try:
        with attacker(sandbox) as session:
            out = session.output(
                """
                for port in ARGS["ports"]:
                    attempt(f"connect 127.0.0.1:{port}",
                            lambda: socket.create_connection(("127.0.0.1", port), timeout=2))
                """,
                ports=[port, sandbox.port],
            )
        assert_blocked(out, attempts=2, because="ConnectionRefusedError")
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):  # nothing ever reached the host's listener
            listener.accept()
    finally:
        listener.close()


def test_tcp_and_udp_to_outside_addresses(sandbox: Served) -> None:
    """Stopped by the empty network namespace: no interface but lo, no route anywhere."""
    with attacker(sandbox) as session:
        out = session.output(
            """
            print("interfaces", socket.if_nameindex())
            for host, port in (("192.0.2.1", 80), ("1.1.1.1", 443)):
                attempt(f"tcp {host}:{port}",
                        lambda: socket.create_connection((host, port), timeout=3))
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            attempt("udp 1.1.1.1:53", lambda: udp.sendto(b"x", ("1.1.1.1", 53)))
            """
        )
    assert "interfaces [(1, 'lo')]" in out, out
    # "unreachable" on each: refused at once; a filtered network would say "timed out".
    assert_blocked(out, attempts=3, because="unreachable")


def test_dns_lookup(sandbox: Served) -> None:
    """Stopped by the network namespace (no resolver reachable) and no /etc/resolv.conf."""
    with attacker(sandbox) as session:
        out = session.output(
            """
            attempt("getaddrinfo example.com", lambda: socket.getaddrinfo("example.com", 443))
            attempt("resolv.conf", lambda: open("/etc/resolv.conf").read())
            """
        )
    assert_blocked(out, attempts=2)


def test_raw_and_packet_sockets(sandbox: Served) -> None:
    """Stopped by --cap-drop ALL: no CAP_NET_RAW, even in the sandbox's own namespaces."""
    with attacker(sandbox) as session:
        out = session.output(
            """
            for name, family, kind, proto in (
                ("raw icmp", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
                ("raw ipv6", socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6),
                ("raw tcp", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP),
                ("packet", socket.AF_PACKET, socket.SOCK_RAW, 0x0300),
            ):
                attempt(name, lambda: socket.socket(family, kind, proto))
            """
        )
    assert_blocked(out, attempts=4, because="PermissionError")


def test_abstract_unix_socket_of_the_host(sandbox: Served) -> None:
    """Stopped by the network namespace: abstract Unix sockets belong to it."""
    name = f"\0openenv-escape-{uuid.uuid4().hex}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(name)
    listener.listen(1)
    try:
        with attacker(sandbox) as session:
            out = session.output(
                """
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                attempt("connect abstract socket", lambda: s.connect(ARGS["name"]))
                """,
                name=name,
            )
        assert_blocked(out, attempts=1, because="ConnectionRefusedError")
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


# -- reading what is not ours ----------------------------------------------------------------


def test_read_etc_shadow_and_host_config(sandbox: Served) -> None:
    """Stopped by the mount namespace: of /etc only ld.so.cache, localtime, alternatives exist."""
    with attacker(sandbox) as session:
        out = session.output(
            """
            for path in ("/etc/shadow", "/etc/passwd", "/etc/sudoers", "/etc/hosts",
                         "/etc/ssh/ssh_host_ed25519_key"):
                attempt(f"read {path}", lambda: open(path, "rb").read())
            print("etc", sorted(os.listdir("/etc")))
            """
        )
    assert_blocked(out, attempts=5, because="FileNotFoundError")
    assert "etc ['alternatives', 'ld.so.cache', 'localtime']" in out or "etc [" in out


def test_read_root_home(sandbox: Served) -> None:
    """Stopped by the mount namespace: of /root only the path to the Python prefix exists."""
    host_entries = sorted(os.listdir("/root")) if os.access("/root", os.R_OK) else []
    with attacker(sandbox) as session:
        out = session.output(
            """
            for name in ARGS["entries"] + [".ssh/id_rsa", ".bash_history", ".bashrc"]:
                path = "/root/" + name
                if any(p == path or p.startswith(path + "/") for p in ARGS["python"]):
                    continue  # on the way to the interpreter: bound read-only on purpose
                attempt(f"read {path}", lambda: os.listdir(path) if os.path.isdir(path)
                        else open(path, "rb").read())
            print("root", os.listdir("/root") if os.path.isdir("/root") else None)
            """,
            entries=host_entries,
            python=_python_paths(),
        )
    assert_blocked(out, because="FileNotFoundError")
    listed = out.split("root ", 1)[1].splitlines()[0]
    allowed = {p.split("/")[2] for p in _python_paths() if p.startswith("/root/")}
    assert listed == "None" or set(eval(listed)) <= allowed, out


def test_read_the_servers_source_tree(sandbox: Served) -> None:
    """Stopped by the mount namespace: only the openenv package and the env's module are bound.

    "Source tree" means the repository the server runs from: its README, pyproject,
    tests, .git, other environments, configuration. The openenv package itself and
    the environment's own package are visible read-only under /opt/openenv/lib,
    on purpose: the worker runs them.
    """
    assert AttackEnvironment.__module__ == "attack_env"  # so only that one file is bound
    targets = [
        REPO / "README.md",
        REPO / "pyproject.toml",
        REPO / "tests" / "conftest.py",
        HERE / "test_escapes.py",
        REPO / ".git" / "config",
        REPO / "envs",
        REPO / "src" / "openenv" / "server" / "app.py",
        Path(LIBRARY) / "tests",
    ]
    assert all(p.exists() for p in targets[:6])  # they are there, on the host
    with attacker(sandbox) as session:
        out = session.output(
            """
            for path in ARGS["targets"]:
                attempt(f"read {path}", lambda: os.listdir(path) if os.path.isdir(path)
                        else open(path, "rb").read())
            print("library", sorted(os.listdir(ARGS["library"])))
            print("openenv", os.path.exists(ARGS["library"] + "/openenv/__init__.py"))
            """,
            targets=[str(p) for p in targets],
            library=LIBRARY,
        )
    assert_blocked(out, attempts=len(targets), because="FileNotFoundError")
    assert "library ['attack_env.py', 'openenv']" in out, out
    assert "openenv True" in out


def test_nothing_else_of_the_host_filesystem_is_visible(sandbox: Served) -> None:
    """Stopped by the mount namespace: a walk of / finds only what the policy binds."""
    allowed = ["/usr", "/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", LIBRARY,
               SITE, "/workspace", "/tmp", "/proc", "/dev", *_python_paths()]  # fmt: skip
    with attacker(sandbox) as session:
        out = session.output(
            """
            allowed = ARGS["allowed"]
            def inside(path):
                return any(path == a or path.startswith(a.rstrip("/") + "/") for a in allowed)
            found = 0
            for top, dirs, files in os.walk("/"):
                dirs[:] = [d for d in dirs if not inside(os.path.join(top, d))]
                for name in files:
                    path = os.path.join(top, name)
                    if not inside(path) and not os.path.islink(path):
                        escaped(f"host file visible: {path}")
                found += 1
            blocked("walk of /", f"{found} directories outside the bound paths, no file")
            """,
            allowed=allowed,
        )
    assert_blocked(out, attempts=1)


def test_read_another_sessions_workspace(sandbox: Served) -> None:
    """Stopped by per-session mount namespaces: each /workspace, /tmp, /dev/shm is its own tmpfs."""
    with attacker(sandbox) as first, attacker(sandbox) as second:
        written = first.output(
            """
            for folder in ("/workspace", "/tmp", "/dev/shm"):
                with open(f"{folder}/first-session-secret", "w") as f:
                    f.write(ARGS["secret"])
            print(open("/workspace/first-session-secret").read())
            """,
            secret=SECRET,
        )
        assert written == SECRET + "\n"
        out = second.output(
            """
            for folder in ("/workspace", "/tmp", "/dev/shm"):
                path = f"{folder}/first-session-secret"
                attempt(f"read {path}", lambda: open(path).read())
                if os.listdir(folder):
                    escaped(f"{folder} is not empty: {os.listdir(folder)}")
            """
        )
    assert_blocked(out, attempts=3, because="FileNotFoundError")


def test_open_another_sessions_terminal(sandbox: Served) -> None:
    """Stopped by a devpts of each sandbox's own: another session's pseudo-terminals
    are not in this one's /dev/pts (a shared instance would let it read their input)."""
    with attacker(sandbox) as first, attacker(sandbox) as second:
        opened = first.output(
            """
            import sys
            parent, child = os.openpty()
            sys.held_terminal = (parent, child)  # open until the session ends
            os.write(parent, b"typed by the first session\\n")
            print(os.ttyname(child))
            """
        ).strip()
        assert opened.startswith("/dev/pts/"), opened
        out = second.output(
            """
            attempt(f"open {ARGS['tty']}", lambda: os.open(ARGS["tty"], os.O_RDWR))
            others = [name for name in os.listdir("/dev/pts") if name.isdigit()]
            if others:
                escaped(f"another session's terminals in /dev/pts: {others}")
            """,
            tty=opened,
        )
        first.output("print(1)")  # the first session still holds its terminal
    assert_blocked(out, attempts=1, because="FileNotFoundError")


def test_read_a_secret_from_the_servers_environment(sandbox: Served) -> None:
    """Stopped by env -i before bwrap and --clearenv: only HOME, PATH and allowlisted names."""
    assert os.environ[SECRET_VAR] == SECRET  # the server process has it
    with attacker(sandbox) as session:
        out = session.output(
            """
            attempt("os.environ", lambda: os.environ[ARGS["var"]])
            print("environ", sorted(os.environ))
            for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
                for part in ("environ", "cmdline"):
                    try:
                        data = open(f"/proc/{pid}/{part}", "rb").read()
                    except OSError as exc:
                        blocked(f"/proc/{pid}/{part}", exc)
                        continue
                    if ARGS["secret"].encode() in data:
                        escaped(f"secret in /proc/{pid}/{part}")
                    else:
                        blocked(f"/proc/{pid}/{part}", "secret not in it")
            """,
            var=SECRET_VAR,
            secret=SECRET,
        )
    assert_blocked(out)
    environ = out.split("environ ", 1)[1].splitlines()[0]
    assert set(eval(environ)) <= {"HOME", "PATH", "PYTHONDONTWRITEBYTECODE", "PWD", "LANG",
                                  "LC_ALL", "TZ", "OPENENV_SANDBOX"}, environ  # fmt: skip


# -- writing where we may not --------------------------------------------------------------


def test_write_outside_the_workspace(sandbox: Served) -> None:
    """Stopped by read-only binds and a read-only root, /dev and /proc."""
    init = Path(sys.modules["openenv"].__file__)  # type: ignore[arg-type]
    before = init.stat().st_mtime_ns
    targets = ["/usr/openenv-escape", "/etc/openenv-escape", f"{LIBRARY}/openenv/__init__.py",
               f"{LIBRARY}/openenv-escape", "/openenv-escape", "/root/openenv-escape",
               "/dev/openenv-escape", "/proc/openenv-escape",
               *(f"{p}/openenv-escape" for p in _python_paths())]  # fmt: skip
    with attacker(sandbox) as session:
        out = session.output(
            """
            for path in ARGS["targets"]:
                attempt(f"write {path}", lambda: open(path, "a").write("pwned"))
            """,
            targets=targets,
        )
    assert_blocked(out, attempts=len(targets))
    assert init.stat().st_mtime_ns == before
    assert not any(os.path.exists(p) for p in targets if "openenv-escape" in p)


def test_write_kernel_settings_through_proc(sandbox: Served) -> None:
    """Stopped by --remount-ro /proc (the sandbox's host uid may be root's, so this matters).

    Only opens for writing; never writes a byte, even if an open succeeded.
    """
    with attacker(sandbox) as session:
        out = session.output(
            """
            for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches",
                         "/proc/sys/kernel/hostname", "/proc/self/oom_score_adj",
                         "/proc/1/mem", "/proc/sysrq-trigger"):
                def probe():
                    fd = os.open(path, os.O_WRONLY)
                    os.close(fd)  # opened: that alone is an escape; nothing is written
                attempt(f"open {path} for writing", probe)
            """
        )
    assert_blocked(out, attempts=6)


# -- resources -----------------------------------------------------------------------------


def test_fork_bomb(sandbox: Served) -> None:
    """Stopped by the cgroup pids limit; the PID namespace dies with the session."""
    if os.geteuid() == 0 and not cgroups_usable():
        pytest.skip("no writable cgroups, and RLIMIT_NPROC does not bind root")
    with attacker(sandbox) as session:
        out = session.output(
            """
            print("ns", os.readlink("/proc/self/ns/pid"))
            if os.fork() == 0:  # the bomb: every process forks for ever
                while True:
                    try:
                        os.fork()
                    except OSError:
                        time.sleep(0.01)
            time.sleep(1.0)
            for made in range(200):
                try:
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                except OSError as exc:
                    blocked("fork", f"after {made} more: {exc}")
                    break
            else:
                escaped("200 more forks")
            print("processes", len([p for p in os.listdir("/proc") if p.isdigit()]))
            """
        )
        assert_blocked(out, attempts=1, because="Resource temporarily unavailable")
        count = int(out.split("processes ", 1)[1].split()[0])
        assert count <= LIMITS.max_processes, out
        namespace = out.split("ns ", 1)[1].split()[0]
        assert pid_namespace_members(namespace)
    assert wait_for(lambda: not pid_namespace_members(namespace)), "bomb processes outlived it"


def test_memory_bomb(sandbox: Served) -> None:
    """Stopped by the cgroup memory limit (the worker is killed) or RLIMIT_AS (MemoryError)."""
    with attacker(sandbox) as session:
        frame = session.run(
            """
            hoard = []
            while True:
                hoard.append(b"x" * (8 << 20))  # written, so really resident
            """
        )
    if frame["type"] == "error":
        assert frame["data"]["code"] == "SESSION_ERROR", frame
        assert "memory" in frame["data"]["message"] or "SIGKILL" in frame["data"]["message"]
    else:
        assert "MemoryError" in (frame["data"]["observation"]["error"] or ""), frame


FILL = """
chunk = b"x" * (1 << 20)
def fill(path, mb):
    with open(path, "wb") as f:
        for _ in range(mb):
            f.write(chunk)
            f.flush()
"""


def test_disk_fill_one_big_file(sandbox: Served) -> None:
    """Stopped by RLIMIT_FSIZE: EFBIG, or SIGXFSZ ends the worker where it is not ignored."""
    with attacker(sandbox) as session:
        frame = session.run(FILL + 'attempt("one 64 MB file", lambda: fill("/workspace/big", 64))')
    if frame["type"] == "error":
        assert frame["data"]["code"] == "SESSION_ERROR", frame
        assert "file size" in frame["data"]["message"], frame
    else:
        out = frame["data"]["observation"]["output"]
        assert_blocked(out, attempts=1, because="File too large")


def test_disk_fill_many_files(sandbox: Served) -> None:
    """Stopped by the size cap of each tmpfs: /workspace, /tmp and /dev/shm."""
    with attacker(sandbox) as session:
        out = session.output(
            FILL
            + textwrap.dedent(
                """
            for folder in ("/workspace", "/tmp", "/dev/shm"):
                def many():
                    for i in range(64):
                        fill(f"{folder}/part{i}", 3)
                attempt(f"fill {folder}", many)
                total = sum(os.path.getsize(f"{folder}/{n}") for n in os.listdir(folder))
                print(folder, total >> 20, "MB")
            """
            )
        )
    assert_blocked(out, attempts=3, because="No space left on device")
    assert f"/workspace {LIMITS.workspace_mb} MB" in out, out
    assert f"/tmp {LIMITS.tmp_mb} MB" in out and f"/dev/shm {LIMITS.tmp_mb} MB" in out, out


@pytest.mark.timeout(180)
@pytest.mark.parametrize("forked", [True, False], ids=["forked", "spawned"])
def test_cpu_spin_past_the_limit(forked: bool) -> None:
    """Stopped by RLIMIT_CPU: SIGXCPU ends the worker, and the session with it."""
    # CPU time, not wall time: on a loaded machine two CPU seconds may take long.
    served = attack_server(cpu_seconds=2, step_timeout_s=150, forked=forked)
    try:
        with attacker(served) as session:
            spin = "while time.process_time() < 60: pass\nescaped('60 CPU seconds')"
            frame = session.run(spin, timeout=150)
            assert frame["type"] == "error", frame
            assert frame["data"]["code"] == "SESSION_ERROR", frame
            assert "CPU" in frame["data"]["message"], frame
        assert_fresh_session_works(served)
    finally:
        served.stop()


def test_open_files_past_the_limit(sandbox: Served) -> None:
    """Stopped by RLIMIT_NOFILE."""
    with attacker(sandbox) as session:
        out = session.output(
            """
            files = []
            def hoard():
                while len(files) < 100_000:
                    files.append(open("/dev/null"))
            attempt("open 100000 files", hoard)
            print("held", len(files))
            """
        )
    assert_blocked(out, attempts=1, because="Too many open files")
    assert int(out.split("held ", 1)[1].split()[0]) < LIMITS.max_open_files


# -- other processes -----------------------------------------------------------------------


def test_signal_the_server_and_other_sessions(sandbox: Served) -> None:
    """Stopped by the PID namespace: host pids do not exist inside; kill(-1) reaches only us."""
    with attacker(sandbox) as other:
        marker = f"other-session-{uuid.uuid4().hex}"
        other.output(
            """
            import subprocess
            subprocess.Popen([sys.executable, "-c", f"import time; time.sleep(60) # {ARGS['m']}"])
            """,
            m=marker,
        )
        assert wait_for(lambda: processes_with(marker))
        targets = [os.getpid(), os.getppid(), *processes_with(marker)]
        with attacker(sandbox) as session:
            out = session.output(
                """
                import signal
                for pid in ARGS["pids"]:
                    if os.path.exists(f"/proc/{pid}"):
                        continue  # the same number is one of ours in here
                    attempt(f"kill {pid}", lambda: os.kill(pid, signal.SIGKILL))
                    attempt(f"killpg {pid}", lambda: os.killpg(pid, signal.SIGKILL))
                os.kill(-1, signal.SIGKILL)  # every process we may signal: only this sandbox's
                """,
                pids=targets,
            )
        assert_blocked(out, attempts=2 * len(targets), because="ProcessLookupError")
        assert processes_with(marker), "the other session's process was killed"
        assert other.output("print('alive')") == "alive\n"
    assert os.getpid()  # and we are alive to say so


def test_ptrace_the_server_and_our_own_child(sandbox: Served) -> None:
    """Stopped by the seccomp filter (ptrace, process_vm_readv: EPERM) and the PID namespace."""
    with attacker(sandbox) as session:
        out = session.output(
            """
            PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
            call("ptrace attach server", libc.ptrace, PTRACE_ATTACH, ARGS["server"], 0, 0)
            child = os.fork()
            if child == 0:
                time.sleep(30)
                os._exit(0)
            call("ptrace seize own child", libc.ptrace, PTRACE_SEIZE, child, 0, 0)
            buf = ctypes.create_string_buffer(8)
            call("process_vm_readv", libc.process_vm_readv, child, None, 0, None, 0, 0)
            os.kill(child, 9)
            os.waitpid(child, 0)
            print([l for l in open("/proc/self/status").read().splitlines()
                   if l.startswith(("Seccomp:", "NoNewPrivs:", "CapEff:"))])
            """,
            server=os.getpid(),
        )
    assert_blocked(out, attempts=3, because="EPERM")
    assert "'Seccomp:\\t2'" in out and "'NoNewPrivs:\\t1'" in out, out
    assert "'CapEff:\\t0000000000000000'" in out, out


def test_read_the_servers_memory_through_proc(sandbox: Served) -> None:
    """Stopped by the PID namespace: /proc has no entry for any host process."""
    server = os.getpid()
    with attacker(sandbox) as session:
        out = session.output(
            """
            pid = ARGS["server"]
            if os.path.exists(f"/proc/{pid}"):
                print("skipped: the same number is one of ours in here")
            for part in ("mem", "environ", "maps", "root/etc/shadow", "cwd"):
                attempt(f"/proc/{pid}/{part}", lambda: open(f"/proc/{pid}/{part}", "rb").read(64))
            """,
            server=server,
        )
    if "skipped" in out:
        pytest.skip("host pid collides with one inside the sandbox")
    assert_blocked(out, attempts=5, because="FileNotFoundError")


def test_list_other_processes_in_proc(sandbox: Served) -> None:
    """Stopped by the PID namespace and a fresh /proc: only this sandbox's processes."""
    with attacker(sandbox) as session:
        out = session.output(
            """
            for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")[0].decode()
                if os.path.basename(cmd) in ("bwrap", os.path.basename(sys.executable)) \\
                        or cmd.startswith(sys.base_prefix):
                    blocked(f"pid {pid}", f"ours: {cmd}")
                else:
                    escaped(f"foreign process {pid}: {cmd}")
            """
        )
    assert_blocked(out, because="ours")
    assert out.count("blocked pid") <= 3, out  # bwrap's pid 1, the worker


# -- privileges and namespaces ----------------------------------------------------------------


def test_mount_and_unshare(sandbox: Served) -> None:
    """Stopped by the seccomp filter and --disable-userns (and no CAP_SYS_ADMIN anyway)."""
    with attacker(sandbox) as session:
        out = session.output(
            """
            import subprocess
            os.makedirs("/tmp/m", exist_ok=True)
            call("mount tmpfs", libc.mount, b"none", b"/tmp/m", b"tmpfs", 0, None)
            call("bind /", libc.mount, b"/", b"/tmp/m", None, 0x1000, None)
            call("umount /usr", libc.umount2, b"/usr", 2)
            for flag, name in ((0x10000000, "user"), (0x00020000, "mount"),
                               (0x40000000, "net"), (0x20000000, "pid")):
                call(f"unshare {name}", libc.unshare, flag)
            fd = os.open("/proc/self/ns/net", os.O_RDONLY)
            call("setns", libc.setns, fd, 0)
            unshare = "/usr/bin/unshare"
            if os.path.exists(unshare):
                done = subprocess.run([unshare, "-r", "-m", "id", "-u"], capture_output=True)
                if done.returncode:
                    blocked("unshare -r -m", done.stderr.decode().strip())
                else:
                    escaped(f"unshare -r -m: {done.stdout!r}")
            """
        )
    assert_blocked(out)
    assert out.count("EPERM") >= 8, out


def test_setuid_and_chroot(sandbox: Served) -> None:
    """Stopped by the user namespace (only uid 65534 is mapped), no capabilities, seccomp."""
    with attacker(sandbox) as session:
        out = session.output(
            """
            attempt("setuid 0", lambda: os.setuid(0))
            attempt("setgid 0", lambda: os.setgid(0))
            attempt("setgroups [0]", lambda: os.setgroups([0]))
            attempt("setresuid 0", lambda: os.setresuid(0, 0, 0))
            call("chroot /tmp", libc.chroot, b"/tmp")
            call("pivot_root", libc.syscall, ARGS["pivot_root"], b"/tmp", b"/tmp")
            print("uid", os.getuid(), os.geteuid(), os.getgid())
            """,
            pivot_root=syscall_number("pivot_root"),
        )
    assert_blocked(out, attempts=6)
    assert "uid 65534 65534 65534" in out


def test_setuid_binaries_give_nothing(sandbox: Served) -> None:
    """Stopped by no_new_privs and nosuid mounts: a setuid-root program runs as nobody."""
    with attacker(sandbox) as session:
        out = session.output(
            """
            import stat, subprocess
            found = [os.path.join("/usr/bin", n) for n in sorted(os.listdir("/usr/bin"))
                     if os.stat(os.path.join("/usr/bin", n)).st_mode & stat.S_ISUID]
            for program in [p for p in found if os.path.basename(p) in ("mount", "su")][:1]:
                done = subprocess.run([program, "-t", "tmpfs", "none", "/tmp"]
                                      if program.endswith("mount") else [program, "-c", "id"],
                                      capture_output=True, stdin=subprocess.DEVNULL, timeout=10)
                if done.returncode:
                    blocked(program, done.stderr.decode().strip()[:200])
                else:
                    escaped(f"{program}: {done.stdout!r}")
            blocked("effective uid", os.geteuid())
            """
        )
    assert_blocked(out)


def test_raw_devices(sandbox: Served) -> None:
    """Stopped by a minimal /dev (null, zero, full, random, urandom, tty), no /sys, no mknod."""
    devices = ["/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/mem", "/dev/kmem", "/dev/port",
               "/dev/kmsg", "/dev/kvm", "/dev/fuse", "/dev/net/tun", "/sys/block",
               "/sys/kernel"]  # fmt: skip
    with attacker(sandbox) as session:
        out = session.output(
            """
            import stat
            for path in ARGS["devices"]:
                attempt(f"open {path}", lambda: os.open(path, os.O_RDONLY))
            attempt("read /proc/kmsg", lambda: open("/proc/kmsg", "rb").read(1))
            attempt("mknod /tmp/sda", lambda: os.mknod("/tmp/sda", stat.S_IFBLK | 0o600,
                                                       os.makedev(8, 0)))
            print("dev", sorted(os.listdir("/dev")))
            """,
            devices=devices,
        )
    assert_blocked(out, attempts=len(devices) + 2)
    listed = set(eval(out.split("dev ", 1)[1].splitlines()[0]))
    assert listed <= {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts",
                      "shm", "fd", "stdin", "stdout", "stderr", "core"}, listed  # fmt: skip


def test_kernel_attack_surface(sandbox: Served) -> None:
    """Stopped by the seccomp filter: each of these system calls fails with EPERM (or ENOSYS).

    Arguments are all zero: harmless even if a call got through, and most would then
    fail with EFAULT or EINVAL rather than EPERM, which is how we know seccomp answered.
    """
    names = ["bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
             "io_uring_setup", "init_module", "finit_module", "delete_module", "kexec_load",
             "swapon", "open_by_handle_at", "name_to_handle_at", "unshare", "setns",
             "reboot", "acct", "syslog", "process_vm_writev", "fsopen"]  # fmt: skip
    numbers = {name: syscall_number(name) for name in names}
    with attacker(sandbox) as session:
        out = session.output(
            """
            libc.syscall.restype = ctypes.c_long
            for name, number in ARGS["numbers"].items():
                if number is not None:
                    call(name, libc.syscall, number, 0, 0, 0, 0, 0)
            CLONE_NEWUSER, SIGCHLD = 0x10000000, 17
            pid = call("clone(CLONE_NEWUSER)", libc.syscall, ARGS["clone"],
                       CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
            if pid == 0:
                os._exit(0)
            call("clone3", libc.syscall, ARGS["clone3"], 0, 0)
            call("personality(ADDR_NO_RANDOMIZE)", libc.personality, ctypes.c_ulong(0x0040000))
            for request in (0x5412, 0x100005412):  # TIOCSTI, and with high bits set
                call(f"ioctl {request:#x}", libc.ioctl, 0, ctypes.c_ulong(request), b"x")
            """,
            numbers=numbers,
            clone=syscall_number("clone"),
            clone3=syscall_number("clone3"),
        )
    expected = sum(n is not None for n in numbers.values()) + 5
    assert_blocked(out, attempts=expected)
    assert out.count("EPERM") == expected - 1 and "blocked clone3: ENOSYS" in out, out


# -- trusting nothing the worker says ----------------------------------------------------------


def test_forged_frames_to_the_server(sandbox: Served) -> None:
    """Stopped by the server: a worker is untrusted, a bad frame ends only its own session."""
    with attacker(sandbox) as session:
        frame = session.run(
            """
            import stat
            for fd in map(int, os.listdir("/proc/self/fd")):
                try:
                    if stat.S_ISSOCK(os.fstat(fd).st_mode):
                        os.write(fd, b"\\xff\\xff\\xff\\xff" + b"A" * 64)
                except OSError:
                    pass
            """
        )
        assert frame["type"] == "error", frame
        assert frame["data"]["code"] == "SESSION_ERROR", frame


def test_a_child_process_that_outlives_its_session(sandbox: Served) -> None:
    """Stopped by the PID namespace: when the session's worker ends, the kernel kills the rest."""
    marker = f"outlive-{uuid.uuid4().hex}"
    with attacker(sandbox) as session:
        out = session.output(
            """
            if os.fork() == 0:  # double fork, new session: the classic daemon
                os.setsid()
                if os.fork() == 0:
                    os.execv(sys.executable, [sys.executable, "-c",
                             f"import time; time.sleep(600) # {ARGS['m']}"])
                os._exit(0)
            os.wait()
            print("ns", os.readlink("/proc/self/ns/pid"))
            """,
            m=marker,
        )
        assert wait_for(lambda: processes_with(marker)), "the daemon never started"
        namespace = out.split("ns ", 1)[1].split()[0]
        members = set(pid_namespace_members(namespace))
        assert members
    assert wait_for(lambda: not processes_with(marker)), "the daemon outlived its session"
    # Compare pids, not just the namespace: a new sandbox (the warm pool refilling) may
    # be given the freed namespace's inode number.
    assert wait_for(lambda: not members & set(pid_namespace_members(namespace)))


def test_the_server_survived_everything(server: Served) -> None:
    """The final check: health, and a fresh session that resets and steps."""
    assert_fresh_session_works(server)
    with attacker(server) as session:
        assert session.output("print(open('/workspace/x', 'w').write('ok'))") == "2\n"
    signal.getsignal(signal.SIGTERM)  # the test process (the server's) is unharmed
