"""The sandbox policy, in one place: what a sandboxed environment may see and use.

Each sandboxed session's environment runs in its own worker process under
bubblewrap (``bwrap``):

* every namespace unshared — no network (an empty network namespace: loopback
  only), private PID, IPC, UTS, cgroup and mount namespaces, its own user
  namespace (uid/gid 65534 inside) in which no further user namespace can be
  made, all capabilities dropped, no new privileges, a new session (no
  terminal), ``--die-with-parent``; when the worker ends, bwrap's PID 1 ends
  and the kernel kills everything left in the PID namespace;
* a filesystem built from nothing: ``/usr`` (and its ``/bin``, ``/lib``
  symlinks), the Python installation, the Python packages the environment
  imports and the environment's own package — all read-only; a fresh ``/proc``
  (read-only: no sysctl, no ``/proc/<pid>`` writes) and a minimal ``/dev``; a
  private tmpfs ``/workspace`` (the agent's working directory), ``/tmp`` and
  ``/dev/shm``, each capped in size; everything else read-only, the worker's own
  working directory and ``$HOME`` (``/``) included. Nothing else
  of the host: not ``/root``, not ``/etc/shadow``, not the server's source tree
  or config, not another session's workspace;
* an environment scrubbed to an allowlist (a secret in the server's environment
  is not visible inside — not even in the environment bwrap itself started with);
* a seccomp filter (:class:`SeccompPolicy`, compiled with libseccomp, see
  :mod:`.seccomp`): ``ptrace``, ``mount``, ``unshare``, ``setns``, ``bpf``,
  ``keyctl``, ``kexec``, module loading and other kernel attack surface fail with
  ``EPERM``;
* rlimits (CPU seconds, address space, file size, open files) set by the
  launcher just before ``exec bwrap``, the process count inside the sandbox's
  user namespace (where it counts only this sandbox), and, where the host lets
  us write cgroups
  (v1 or v2), a cgroup per worker with memory, pids and CPU limits, joined before
  the sandbox starts so nothing escapes it (:mod:`.cgroups`).

Limits have defaults (:class:`SandboxLimits`) and can be set per environment
(``sandbox:`` in ``openenv.yaml``) and per server (``ServerConfig.sandbox``).
docs/isolation.md has the threat model and what each limit does.

Example::

    policy = SandboxPolicy(limits=SandboxLimits(memory_mb=256, max_processes=32))
    argv = policy.command(["python", "-S", "-m", "worker"], packages={...})
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import threading
from typing import Any

from pydantic import Field, field_validator

from ..errors import SandboxUnavailable
from ..suggest import StrictModel
from .cgroups import CgroupLimits  # also importable from here, where it always was

log = logging.getLogger("openenv.runtime")

SANDBOX_UID = 65534
"""The uid (and gid) a sandboxed worker has inside its user namespace: ``nobody``."""

WORKSPACE = "/workspace"
"""The sandbox's private, writable tmpfs: the agent's working directory."""
LIBRARY = "/opt/openenv/lib"
"""Where the environment's own packages appear inside the sandbox (read-only)."""
SITE = "/opt/openenv/site"
"""Where the server's site-packages appear inside the sandbox (read-only)."""
INSIDE_MARKER = "OPENENV_SANDBOX"
"""Set (to ``1``) in every sandboxed worker's environment; see :func:`inside_sandbox`."""


def inside_sandbox() -> bool:
    """True in a sandboxed worker: its ``/workspace`` is private, its network empty."""
    return os.environ.get(INSIDE_MARKER) == "1"


class SandboxLimits(StrictModel):
    """Resource limits of one sandboxed worker. Every one has a default."""

    memory_mb: int = Field(1024, ge=16, description="cgroup memory limit (where cgroups work)")
    address_space_mb: int = Field(
        4096, ge=64, description="RLIMIT_AS: a backstop where cgroups are not writable"
    )
    cpu_seconds: int = Field(300, ge=1, description="RLIMIT_CPU: CPU time per process")
    cpu_cores: float | None = Field(1.0, gt=0, description="cgroup CPU quota in cores")
    max_processes: int = Field(
        64,
        ge=2,
        description="cgroup pids limit; also RLIMIT_NPROC inside the sandbox's user "
        "namespace (binds only when the server does not run as root)",
    )
    max_open_files: int = Field(256, ge=16, description="RLIMIT_NOFILE")
    max_file_size_mb: int = Field(64, ge=1, description="RLIMIT_FSIZE: largest file written")
    workspace_mb: int = Field(128, ge=1, description="size of the /workspace tmpfs")
    tmp_mb: int = Field(64, ge=1, description="size of the /tmp tmpfs")


DENIED_SYSCALLS = (
    # debugging other processes, reading or writing their memory
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    # rearranging the filesystem or joining other namespaces
    "mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "pivot_root", "chroot",
    "unshare", "setns",
    # the kernel itself: modules, kexec, BPF, perf, keyrings, reboot, swap, clocks
    "init_module", "finit_module", "delete_module", "create_module",
    "kexec_load", "kexec_file_load", "bpf", "perf_event_open",
    "keyctl", "add_key", "request_key", "reboot", "swapon", "swapoff",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime",
    "syslog", "acct", "quotactl", "quotactl_fd", "lookup_dcookie", "vhangup",
    "iopl", "ioperm", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl",
    "get_kernel_syms", "query_module", "vm86", "vm86old",
    # frequent sources of kernel exploits that sandboxed code does not need
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "open_by_handle_at", "name_to_handle_at", "fanotify_init",
    # only querying stays allowed (setting it can turn off address randomisation)
    "personality",
)  # fmt: skip
"""System calls the default seccomp filter makes fail with ``EPERM``."""


class SeccompPolicy(StrictModel):
    """The sandbox's seccomp filter: a deny list, each call failing with ``EPERM``.

    In ``openenv.yaml``, ``seccomp: false`` turns it off; ``seccomp: {deny: [...]}``
    replaces the list.
    """

    enabled: bool = Field(True, description="Load a seccomp filter into every sandbox.")
    deny: list[str] = Field(
        default_factory=lambda: list(DENIED_SYSCALLS),
        description="System calls that fail with EPERM (names this CPU lacks are skipped).",
    )
    deny_namespaces: bool = Field(
        True, description="clone() with namespace flags fails (EPERM); clone3() gets ENOSYS."
    )

    def program(self) -> bytes | None:
        """The compiled BPF program, or None when the filter is off."""
        if not self.enabled:
            return None
        from .seccomp import SeccompUnavailable, compile_filter

        try:
            return compile_filter(tuple(self.deny), self.deny_namespaces)
        except SeccompUnavailable as exc:
            raise SandboxUnavailable(str(exc)) from None


class SandboxPolicy(StrictModel):
    """Everything a sandbox is allowed; :meth:`command` turns it into a launch command."""

    limits: SandboxLimits = Field(default_factory=SandboxLimits)
    env_allowlist: list[str] = Field(
        default_factory=lambda: ["LANG", "LC_ALL", "TZ"],
        description="Host environment variables passed in; everything else is scrubbed.",
    )
    read_only: list[str] = Field(
        default_factory=list, description="Extra host paths bound read-only at the same place."
    )
    cgroups: bool = Field(True, description="Use cgroups for memory/pids/CPU where writable.")
    seccomp: SeccompPolicy = Field(
        default_factory=SeccompPolicy, description="The seccomp filter (false: none)."
    )
    zygote: bool = Field(
        True,
        description="Fork each worker from a template that has imported the environment "
        "once (milliseconds a start); false: a fresh interpreter per worker. Workers are "
        "forked only with the seccomp filter on, namespaces denied.",
    )

    @classmethod
    def _unknown_key_hint(cls, key: object) -> str | None:
        if isinstance(key, str) and key in SandboxLimits.model_fields:
            where = f"sandbox: {{limits: {{{key}: ...}}}}"
            return f"{key!r} is a limit: put it under 'limits' ({where})"
        return None

    @field_validator("seccomp", mode="before")
    @classmethod
    def _seccomp_switch(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value

    def command(
        self,
        argv: list[str],
        *,
        packages: dict[str, str],
        cgroup: CgroupLimits | None = None,
        template: bool = False,
    ) -> list[str]:
        """The host command that runs ``argv`` inside this sandbox.

        ``packages`` maps host directories to names under :data:`LIBRARY`
        (``{"/src/openenv": "openenv"}``). The command is a ``/bin/sh`` that joins
        ``cgroup``, sets the rlimits, opens the seccomp filter and ``exec``s bwrap
        with an empty environment, so the limits hold from the sandbox's first
        instruction and no host variable reaches it.

        ``template=True``: the command of a zygote's template (:mod:`.template`),
        which builds each worker's sandbox itself: the same filesystem and
        environment, as the host's uid in its user namespace (no second, nested one:
        the worker's ``/proc`` could not be mounted under it) with the capabilities
        that building takes, a writable ``/proc`` (for the workers' uid maps), and
        no rlimits, cgroup or seccomp filter of its own (each worker sets its own).
        """
        bwrap = bubblewrap_path()
        if template:
            identity = [
                "--cap-drop", "ALL",
                *(arg for cap in TEMPLATE_CAPABILITIES for arg in ("--cap-add", cap)),
                "--uid", str(os.getuid()),
                "--gid", str(os.getgid()),
            ]  # fmt: skip
        else:
            identity = [
                *_disable_userns(bwrap),  # no nested user namespace, hence no mounts of its own
                "--cap-drop", "ALL",
                "--uid", str(SANDBOX_UID),
                "--gid", str(SANDBOX_UID),
            ]  # fmt: skip
        args = [
            bwrap,
            "--unshare-all",
            "--unshare-user",
            "--die-with-parent",
            # The worker is the sandbox's pid 1: no bwrap reaper to be orphaned (and
            # left as a zombie on hosts whose init does not reap) when the worker dies.
            "--as-pid-1",
            "--new-session",
            *identity,
            *_hostname(bwrap),
            "--ro-bind", "/usr", "/usr",
            # The writable tmpfs first: host paths bound below may live under /tmp
            # (a checkout there, its .venv), and a later mount would hide them.
            "--size", str(self.limits.tmp_mb * 2**20), "--tmpfs", "/tmp",
            "--size", str(self.limits.workspace_mb * 2**20), "--tmpfs", WORKSPACE,
        ]  # fmt: skip
        for link in ("bin", "lib", "lib64", "sbin"):
            target = os.readlink(f"/{link}") if os.path.islink(f"/{link}") else None
            if target is not None:
                args += ["--symlink", target, f"/{link}"]
            elif os.path.isdir(f"/{link}"):
                args += ["--ro-bind", f"/{link}", f"/{link}"]
        for path in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"):
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        for path in self.host_paths():
            args += ["--ro-bind", path, path]
        for host_dir, name in packages.items():
            args += ["--ro-bind", host_dir, f"{LIBRARY}/{name}"]
        for host_dir, inside in zip(_host_site_packages(), site_packages(), strict=True):
            args += ["--ro-bind", host_dir, inside]
        limits = self.limits
        args += [
            "--proc", "/proc",
        ]  # fmt: skip
        for path in MASKED_PROC_FILES:  # host information a sandbox has no use for
            if os.path.exists(path):
                args += ["--ro-bind", "/dev/null", path]
        if not template:  # no sysctl or /proc/<pid> writes (the host uid may be 0)
            args += ["--remount-ro", "/proc"]
        args += [
            "--dev", "/dev",
            "--size", str(limits.tmp_mb * 2**20), "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev",
            "--remount-ro", "/",  # the root tmpfs bwrap built: nothing uncapped to write to
            # The environment's own directory and home are read-only: the workspace is
            # the agent's, and nothing there may steer the environment (docs/rewards.md).
            "--chdir", "/",
            "--clearenv",
            "--setenv", "HOME", "/",
            "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            "--setenv", INSIDE_MARKER, "1",
        ]  # fmt: skip
        for name in self.env_allowlist:
            if name in os.environ:
                args += ["--setenv", name, os.environ[name]]
        # RLIMIT_NPROC set inside the sandbox's own user namespace counts only this
        # sandbox's processes (set outside, it would count every process of the
        # server's uid). `ulimit -u` in bash, `-p` in dash.
        if template:
            env = shlex.quote(shutil.which("env") or "/usr/bin/env")
            return ["/bin/sh", "-c", f'exec {env} -i "$@"', "sandbox", *args, "--", *argv]
        nproc = limits.max_processes
        inner = f'ulimit -u {nproc} 2>/dev/null || ulimit -p {nproc} || exit 98; exec "$@"'
        args += ["--", "/bin/sh", "-c", inner, "sandbox", *argv]
        program = self.seccomp.program()
        launcher = self._launcher(cgroup, _filter_file(program) if program else None)
        return ["/bin/sh", "-c", launcher, "sandbox", *args]

    def host_paths(self) -> list[str]:
        """Host paths bound read-only at their own place: the Python installation and
        ``read_only``."""
        return _python_paths() + self.read_only

    def _launcher(self, cgroup: CgroupLimits | None, seccomp_file: str | None) -> str:
        """Shell prologue: join the cgroup, set rlimits, then exec the rest of argv.

        bwrap is started through ``env -i``: ``--clearenv`` only clears the
        sandboxed command's environment, while bwrap's own initial environment
        stays readable in ``/proc/<pid>/environ``.
        """
        limits = self.limits
        lines = []
        if cgroup is not None:
            lines += [f"echo $$ > {shlex.quote(str(p))} || exit 97" for p in cgroup.procs_files]
        for flag, value in (  # units of sh's ulimit: seconds, KiB, 512-byte blocks, count
            ("t", limits.cpu_seconds),
            ("v", limits.address_space_mb * 1024),
            ("f", limits.max_file_size_mb * 2048),
            ("n", limits.max_open_files),
        ):
            lines.append(f"ulimit -{flag} {value} || exit 98")
        env = shlex.quote(shutil.which("env") or "/usr/bin/env")
        if seccomp_file is None:
            lines.append(f'exec {env} -i "$@"')
        else:
            # A free descriptor (the worker's channel is inherited too) for bwrap --seccomp.
            lines += [
                "fd=3",
                'while [ -e "/proc/$$/fd/$fd" ]; do fd=$((fd + 1)); done',
                '[ "$fd" -le 9 ] || exit 96',
                f'eval "exec $fd<{seccomp_file}" || exit 96',
                'bwrap="$1"; shift',
                f'exec {env} -i "$bwrap" --seccomp "$fd" "$@"',
            ]
        return "\n".join(lines)


TEMPLATE_CAPABILITIES = (
    "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SETPCAP", "CAP_SETUID", "CAP_SETGID", "CAP_SETFCAP"
)  # fmt: skip
"""What a zygote's template keeps, in its own user namespace only: to make each worker's
namespaces and mounts, bring up its loopback, empty its bounding set, and write its uid
and gid maps (mapping uid 0, the host's root, takes ``CAP_SETFCAP``)."""

MASKED_PROC_FILES = (
    "/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/timer_list",
    "/proc/sched_debug", "/proc/latency_stats", "/proc/sysrq-trigger",
)  # fmt: skip
"""Host ``/proc`` files hidden (bound over with ``/dev/null``), as Docker does."""


@functools.lru_cache(maxsize=4)
def _disable_userns(bwrap: str) -> tuple[str, ...]:
    """``--disable-userns`` where this bwrap has it (0.8.0 and later)."""
    version = ""
    try:
        version = subprocess.run(
            [bwrap, "--version"], capture_output=True, text=True, timeout=10
        ).stdout
        numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    except (OSError, ValueError, subprocess.SubprocessError):
        numbers = ()
    if numbers >= (0, 8) and not _proc_sys_read_only():
        return ("--disable-userns",)
    if numbers >= (0, 8):
        # In a container /proc/sys is mounted read-only, and bwrap's --disable-userns
        # works by writing user.max_user_namespaces there.
        log.info("/proc/sys is read-only: the seccomp filter alone stops new user namespaces")
        return ()
    log.warning(
        "bubblewrap %s lacks --disable-userns; the seccomp filter alone stops new user namespaces",
        version.strip() or "(unknown version)",
    )
    return ()


def _proc_sys_read_only() -> bool:
    """Whether ``/proc/sys`` is read-only (container engines mount it so by default):
    bwrap's ``--disable-userns`` writes ``user.max_user_namespaces`` there."""
    try:
        return bool(os.statvfs("/proc/sys").f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _probe(bwrap: str, *options: str) -> subprocess.CompletedProcess[str]:
    """Run ``true`` in the smallest sandbox bwrap makes here, with ``options`` added."""
    # --as-pid-1: no bwrap init that could briefly outlive the probe as an orphan.
    probe = [bwrap, "--unshare-all", "--unshare-user", *_disable_userns(bwrap), "--as-pid-1",
             "--die-with-parent", *options, "--ro-bind", "/usr", "/usr", "--proc", "/proc",
             "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib"]  # fmt: skip
    if os.path.isdir("/lib64") and not os.path.islink("/lib64"):
        probe += ["--ro-bind", "/lib64", "/lib64"]
    elif os.path.islink("/lib64"):
        probe += ["--symlink", os.readlink("/lib64"), "/lib64"]
    return subprocess.run([*probe, "/usr/bin/true"], capture_output=True, text=True, timeout=30)


@functools.lru_cache(maxsize=4)
def _hostname(bwrap: str) -> tuple[str, ...]:
    """``--hostname sandbox`` where sethostname is allowed: a container engine's default
    seccomp profile refuses it, and the sandbox then keeps the container's hostname (in
    a UTS namespace of its own all the same). Probed, not guessed from markers such as
    ``/.dockerenv``, which hosts that allow it may have too."""
    try:
        allowed = _probe(bwrap, "--hostname", "sandbox").returncode == 0
    except (OSError, subprocess.SubprocessError):
        allowed = False
    return ("--hostname", "sandbox") if allowed else ()


@functools.lru_cache(maxsize=1)
def in_container() -> bool:
    """Whether this process runs in an OCI container (Docker's, Podman's or our images')."""
    markers = ("/.dockerenv", "/run/.containerenv")
    return os.environ.get("OPENENV_IN_CONTAINER") == "1" or any(map(os.path.exists, markers))


_filters: dict[tuple[int, bytes], int] = {}
_filters_lock = threading.Lock()


def _filter_file(program: bytes) -> str:
    """A path the launcher can open to read ``program``: a sealed memfd of this process.

    Made once per process and program; ``/proc/<our pid>/fd/<fd>`` opens it afresh
    (at offset 0) for each sandbox, and nothing is left on disk when we exit.
    """
    key = (os.getpid(), hashlib.sha256(program).digest())
    with _filters_lock:
        fd = _filters.get(key)
        if fd is None:
            fd = os.memfd_create("openenv-seccomp", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
            view = memoryview(program)
            while view:
                view = view[os.write(fd, view) :]
            seals = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals | fcntl.F_SEAL_WRITE)
            _filters[key] = fd
    return f"/proc/{key[0]}/fd/{fd}"


def _python_paths() -> list[str]:
    """Host paths the interpreter needs at their own place: its installation."""
    paths = {sys.base_prefix}
    executable = os.path.realpath(sys.executable)
    if not any(executable.startswith(p.rstrip("/") + "/") for p in paths):
        paths.add(os.path.dirname(executable))
    return sorted(p for p in paths if os.path.isdir(p))


def _host_site_packages() -> list[str]:
    found: list[str] = []
    for key in ("purelib", "platlib"):
        path = sysconfig.get_paths()[key]
        if path not in found and os.path.isdir(path):
            found.append(path)
    return found


def python_executable() -> str:
    """The interpreter to run inside the sandbox (the server's own, resolved)."""
    return os.path.realpath(sys.executable)


def site_packages() -> list[str]:
    """Where the server's site-packages appear inside the sandbox, in ``sys.path`` order.

    They are bound under ``/opt/openenv/site`` rather than at their host path, which
    may lie in the checkout (a ``.venv``) or under ``/tmp``: the sandbox sees neither.
    """
    return [f"{SITE}/{i}" for i in range(len(_host_site_packages()))]


def bubblewrap_path() -> str:
    """Where ``bwrap`` is; :class:`SandboxUnavailable` (what to install) if it is not."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(
            "isolation 'sandbox' needs bubblewrap: install it (Debian/Ubuntu: "
            "apt-get install bubblewrap) or choose --isolation none"
        )
    return path


def check_sandbox(policy: SandboxPolicy | None = None) -> None:
    """Raise :class:`SandboxUnavailable` with a clear message if sandboxes cannot start here.

    Checks that the paths ``policy`` binds read-only exist, that bwrap can make its
    namespaces and, unless ``policy`` turns the filter off, that the seccomp filter
    compiles.
    """
    policy = policy or SandboxPolicy()
    for path in policy.read_only:
        if not os.path.isabs(path):
            raise SandboxUnavailable(f"sandbox.read_only: {path!r} is not an absolute path")
        if not os.path.exists(path):
            raise SandboxUnavailable(
                f"sandbox.read_only: {path!r} does not exist on this host, so sandboxes "
                "cannot bind it; create it or remove it from the policy"
            )
    result = _probe(bubblewrap_path())
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no output"
        if "proc" in detail and in_container():
            raise SandboxUnavailable(
                f"sandboxes cannot start in this container ({detail}): its engine masks parts "
                "of /proc, so bubblewrap cannot mount a /proc of its own; run the container "
                "with --security-opt unmask=/proc/* (Podman) or systempaths=unconfined "
                "(Docker), as from_docker_image does unless sandboxes=False"
            )
        raise SandboxUnavailable(
            f"bubblewrap cannot create namespaces here ({detail}); the kernel may forbid "
            "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or "
            "user.max_user_namespaces > 0), or run in a container that allows them; "
            "otherwise choose --isolation none"
        )
    policy.seccomp.program()
