"""Seccomp filters for sandboxes, compiled with libseccomp.

libseccomp (Debian ``libseccomp2``) is the library Docker, Podman, systemd and
Flatpak compile their filters with; it is maintained upstream and present on
practically every Linux system. We call its stable C API through :mod:`ctypes`
(six functions) instead of a Python binding: Debian's ``python3-seccomp`` only
exists for the system interpreter (a server in a virtualenv or pyenv Python
cannot import it) and the PyPI bindings are unmaintained (``pyseccomp``, last
release 2021). The filter is exported as a classic BPF program, which bubblewrap
loads with ``--seccomp FD`` just before it runs the sandboxed command.

A filter here is an allow-by-default deny list: each listed system call fails
with ``EPERM``, ``clone`` fails with ``EPERM`` when it asks for a new namespace,
``clone3`` reports ``ENOSYS`` (its flags sit in memory a filter cannot read;
the C library then falls back to ``clone``), ``ioctl(TIOCSTI)`` and
``ioctl(TIOCLINUX)`` (typing into a terminal) fail, and ``personality`` may only
query. A 32-bit system call on a 64-bit host kills the thread that made it
(libseccomp's default for a foreign architecture).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os
import tempfile

from ..errors import SeccompUnavailable

__all__ = ["SeccompUnavailable", "compile_filter", "syscall_number"]


_ALLOW = 0x7FFF0000


def _errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


_NE, _MASKED_EQ = 1, 7
_FLTATR_CTL_OPTIMIZE = 8

CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWTIME": 0x00000080,
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
PERSONALITY_QUERY = 0xFFFFFFFF


class _ArgCmp(ctypes.Structure):
    """``struct scmp_arg_cmp``."""

    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


@functools.lru_cache(maxsize=1)
def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as exc:
        raise SeccompUnavailable(
            f"the sandbox's seccomp filter needs libseccomp ({exc}); install it "
            "(Debian/Ubuntu: apt-get install libseccomp2) or turn the filter off "
            "(sandbox: {seccomp: false})"
        ) from None
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.restype = None
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_attr_set.restype = ctypes.c_int
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_export_bpf.restype = ctypes.c_int
    return lib


@functools.lru_cache(maxsize=8)
def compile_filter(denied: tuple[str, ...], deny_namespaces: bool = True) -> bytes:
    """The BPF program (``struct sock_filter[]``, native byte order) of a deny list.

    ``denied`` names system calls that fail with ``EPERM``; names this
    architecture does not have are skipped. ``deny_namespaces`` adds the
    ``clone``/``clone3`` rules that stop creating namespaces.
    """
    lib = _library()
    ctx = lib.seccomp_init(_ALLOW)
    if not ctx:
        raise SeccompUnavailable("libseccomp could not create a filter")
    try:
        # A binary tree of system call numbers (libseccomp >= 2.5), not a linear scan;
        # older versions refuse the attribute and keep the linear filter.
        lib.seccomp_attr_set(ctx, _FLTATR_CTL_OPTIMIZE, 2)

        def rule(action: int, name: str, *cmps: tuple[int, int, int, int]) -> None:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number == -1:  # __NR_SCMP_ERROR: not a system call here
                return
            array = (_ArgCmp * max(1, len(cmps)))(*(_ArgCmp(*c) for c in cmps))
            code = lib.seccomp_rule_add_array(ctx, action, number, len(cmps), array)
            if code < 0:
                raise SeccompUnavailable(
                    f"libseccomp refused the rule for {name}: {os.strerror(-code)}"
                )

        eperm = _errno(errno.EPERM)
        for name in dict.fromkeys(denied):
            if name == "personality":
                rule(eperm, name, (0, _NE, PERSONALITY_QUERY, 0))
            else:
                rule(eperm, name)
        if deny_namespaces:
            for flag in CLONE_NAMESPACE_FLAGS.values():
                rule(eperm, "clone", (0, _MASKED_EQ, flag, flag))
            rule(_errno(errno.ENOSYS), "clone3")
        for request in (TIOCSTI, TIOCLINUX):  # the kernel reads the request as 32 bits
            rule(eperm, "ioctl", (1, _MASKED_EQ, 0xFFFFFFFF, request))
        with tempfile.TemporaryFile() as out:
            code = lib.seccomp_export_bpf(ctx, out.fileno())
            if code < 0:
                raise SeccompUnavailable(f"libseccomp could not export: {os.strerror(-code)}")
            out.seek(0)
            return out.read()
    finally:
        lib.seccomp_release(ctx)


def syscall_number(name: str) -> int | None:
    """This architecture's number for system call ``name`` (None if it has none)."""
    number = _library().seccomp_syscall_resolve_name(name.encode())
    return None if number < 0 else number
