"""Landlock: a process confines its own filesystem, TCP and signal reach.

Environments that run agent-supplied programs (``coding_env``, ``terminal_env``)
start them confined with :func:`confine`: the program may read only the paths it
is given, write only the paths it is given, make no TCP connection, and signal
no process outside its own confinement. Inside a sandbox this hides what the
sandbox must still contain for the environment itself — the environment's
package, hence its hidden tests and verifiers — from the agent's code; outside a
sandbox it is a useful floor on its own.

Landlock is a Linux security module (5.13 and later) that needs no privilege;
the confinement is inherited by every child and survives ``exec``. Features
arrived in ABI versions (file truncation in 3, TCP in 4, device ioctls in 5,
signal and abstract-socket scoping in 6); :func:`confine` uses what the running
kernel has and :func:`abi_version` says which that is (0: none).

Example::

    subprocess.Popen(
        ["bash"],
        preexec_fn=functools.partial(confine, read=["/usr", "/etc"], write=["/workspace"]),
    )
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
from collections.abc import Iterable

from ..errors import LandlockUnavailable

__all__ = ["LandlockUnavailable", "abi_version", "confine"]

# System call numbers are the same on every architecture Landlock supports.
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights (include/uapi/linux/landlock.h) by the ABI that added them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = (1 << n for n in range(8, 13))
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FS_BY_ABI = {1: (1 << 13) - 1, 2: REFER, 3: TRUNCATE, 5: IOCTL_DEV}
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
"""The rights that apply to a file (the others apply to directories only)."""
READ = EXECUTE | READ_FILE | READ_DIR
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2  # ABI 4
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2  # ABI 6


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _syscall(number: int, *args: object) -> int:
    result = _libc().syscall(number, *args)
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


@functools.cache
def abi_version() -> int:
    """The Landlock ABI version of the running kernel; 0 when it has none."""
    if platform.system() != "Linux":
        return 0
    try:
        return _syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    except OSError:
        return 0


def _fs_rights(abi: int) -> int:
    return sum(bits for since, bits in _FS_BY_ABI.items() if abi >= since)


def confine(
    read: Iterable[str] = (),
    write: Iterable[str] = (),
    *,
    allow_tcp: bool = False,
    required: bool = True,
) -> int:
    """Confine the calling process (and its future children) for good.

    ``read``: paths (directories apply to everything beneath) that may be read and
    executed; ``write``: paths that may also be written, created and removed.
    Paths that do not exist are skipped. Everything else is denied, and so are TCP
    ``bind``/``connect`` unless ``allow_tcp`` (kernels with ABI 4), and signals to
    or abstract-socket connections with processes outside this confinement (ABI 6).

    Returns the ABI version used. Without Landlock, raises
    :class:`LandlockUnavailable` when ``required``, else returns 0 and confines
    nothing. Safe to call between ``fork`` and ``exec`` (``preexec_fn``).
    """
    abi = abi_version()
    if abi == 0:
        if required:
            raise LandlockUnavailable("this kernel has no Landlock (Linux 5.13+ with it enabled)")
        return 0
    fs = _fs_rights(abi)
    attr = _RulesetAttr(handled_access_fs=fs)
    if abi >= 4 and not allow_tcp:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL
    size = ctypes.sizeof(_RulesetAttr) if abi >= 4 else 8  # older kernels know one field
    ruleset = _syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    try:
        for paths, rights in ((read, READ & fs), (write, fs)):
            for path in paths:
                _allow(ruleset, path, rights)
        _no_new_privs()
        _syscall(_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)
    return abi


def _allow(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        _syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0)
    finally:
        os.close(fd)


def _no_new_privs() -> None:
    if _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
