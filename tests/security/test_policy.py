"""The sandbox policy itself: its seccomp filter, its configuration, the command it builds.

These run bwrap directly (no server) with a shell as the sandboxed command.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from openenv.runtime import sandbox as sandbox_module
from openenv.runtime import seccomp
from openenv.runtime.sandbox import (
    DENIED_SYSCALLS,
    CgroupLimits,
    SandboxLimits,
    SandboxPolicy,
    SandboxUnavailable,
    check_sandbox,
    python_executable,
)
from openenv.server import ServerConfig

pytestmark = pytest.mark.timeout(60)


def sandboxed(policy: SandboxPolicy, script: str) -> subprocess.CompletedProcess[str]:
    command = policy.command(["/bin/sh", "-c", script], packages={})
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def test_the_default_filter_compiles_to_bpf() -> None:
    program = seccomp.compile_filter(tuple(DENIED_SYSCALLS))
    assert program and len(program) % 8 == 0  # struct sock_filter is 8 bytes
    smaller = seccomp.compile_filter(("ptrace",), deny_namespaces=False)
    assert len(smaller) < len(program)
    # names this architecture lacks (vm86 on x86-64) are skipped, not an error
    assert seccomp.compile_filter(("vm86", "no_such_call"))


def test_the_default_sandbox_loads_the_filter() -> None:
    result = sandboxed(SandboxPolicy(), "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status")
    assert result.returncode == 0, result.stderr
    assert "Seccomp:\t2" in result.stdout and "NoNewPrivs:\t1" in result.stdout


def test_the_deny_list_is_configurable() -> None:
    policy = SandboxPolicy.model_validate({"seccomp": {"deny": ["mkdir", "mkdirat"]}})
    result = sandboxed(policy, "mkdir /workspace/d && echo made")
    assert result.returncode != 0 and "made" not in result.stdout
    assert "Operation not permitted" in result.stderr
    assert sandboxed(SandboxPolicy(), "mkdir /workspace/d && echo made").stdout == "made\n"


def test_the_filter_can_be_turned_off() -> None:
    for value in (False, {"enabled": False}):
        policy = SandboxPolicy.model_validate({"seccomp": value})
        assert not policy.seccomp.enabled
        assert "--seccomp" not in " ".join(policy.command(["true"], packages={}))
        result = sandboxed(policy, "grep '^Seccomp:' /proc/self/status")
        assert result.stdout == "Seccomp:\t0\n", result.stderr
    # without the filter, --disable-userns still stops new user namespaces
    result = sandboxed(SandboxPolicy(seccomp=False), "unshare -U true && echo made")
    assert "made" not in result.stdout


def test_limits_and_filter_from_openenv_yaml_settings() -> None:
    """The shape of ``sandbox:`` in openenv.yaml, as `openenv serve` passes it on."""
    settings = {"limits": {"memory_mb": 256, "max_processes": 16}, "seccomp": False}
    config = ServerConfig(isolation="sandbox", sandbox=settings)
    assert config.sandbox.limits.memory_mb == 256
    assert config.sandbox.limits.max_processes == 16
    assert config.sandbox.limits.cpu_seconds == SandboxLimits().cpu_seconds
    assert config.sandbox.seccomp.enabled is False


def test_rlimits_inside_the_sandbox() -> None:
    limits = {"cpu_seconds": 7, "address_space_mb": 900, "max_file_size_mb": 3}
    limits |= {"max_open_files": 77, "max_processes": 19}
    policy = SandboxPolicy(limits=SandboxLimits(**limits))
    code = (
        "import resource as r; print(*(r.getrlimit(getattr(r, 'RLIMIT_' + n))[0] for n in "
        "('CPU', 'AS', 'FSIZE', 'NOFILE', 'NPROC')))"
    )
    command = policy.command([python_executable(), "-S", "-c", code], packages={})
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    expected = [7, 900 * 2**20, 3 * 2**20, 77, 19]
    assert [int(n) for n in result.stdout.split()] == expected, result


def test_no_host_variable_reaches_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENENV_TEST_SECRET", "hunter2")
    monkeypatch.setenv("TZ", "UTC")
    result = sandboxed(SandboxPolicy(), "cat /proc/1/environ /proc/self/environ | tr '\\0' '\\n'")
    assert "hunter2" not in result.stdout
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines() if line}
    assert names <= {
        "HOME", "PATH", "PYTHONDONTWRITEBYTECODE", "PWD", "TZ", "LANG", "LC_ALL", "OPENENV_SANDBOX"
    }  # fmt: skip
    assert "TZ" in names  # allowlisted


def test_missing_libseccomp_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(*args: object, **kwargs: object) -> bytes:
        raise seccomp.SeccompUnavailable("no libseccomp here; apt-get install libseccomp2")

    monkeypatch.setattr(seccomp, "compile_filter", unavailable)
    with pytest.raises(SandboxUnavailable, match="libseccomp2"):
        check_sandbox(SandboxPolicy())
    check_sandbox(SandboxPolicy(seccomp=False))  # fine without it when turned off


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a sandbox as another user")
def test_process_limit_binds_when_the_server_is_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """RLIMIT_NPROC inside the sandbox's user namespace counts only that sandbox.

    Root is exempt from RLIMIT_NPROC (there the cgroup pids limit binds), so the
    sandbox is started as ``nobody``; it then needs only /usr (no interpreter).
    """
    monkeypatch.setattr(sandbox_module, "_python_paths", list)
    monkeypatch.setattr(sandbox_module, "_host_site_packages", list)
    policy = SandboxPolicy(limits=SandboxLimits(max_processes=4), seccomp=False)
    script = "for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; wait"
    command = policy.command(["/bin/sh", "-c", script], packages={})
    try:
        result = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except FileNotFoundError:
        pytest.skip("setpriv is not installed")
    if "No permissions to create new namespace" in result.stderr:
        pytest.skip("this kernel forbids unprivileged user namespaces")
    assert "Cannot fork" in result.stderr or "Resource temporarily" in result.stderr, result


def test_stale_cgroups_of_a_dead_server_are_swept() -> None:
    """Empty worker cgroups named after a pid that is gone are removed; ours are kept."""
    parents = [p for p in CgroupLimits.parents() if p.parent.exists()]
    if not parents:
        pytest.skip("no cgroup hierarchy here")
    try:
        stale = parents[0] / "openenv-999999999-stale"
        stale.mkdir(parents=True, exist_ok=True)
        ours = parents[0] / f"openenv-{os.getpid()}-ours"
        ours.mkdir(exist_ok=True)
    except OSError:
        pytest.skip("cgroups are not writable here")
    try:
        assert CgroupLimits.sweep_stale() >= 1
        assert not stale.exists()
        assert ours.exists()
    finally:
        ours.rmdir()
