"""Finding and ending processes: a process's descendants, and everything in a sandbox.

Used where processes must be gone for good: a sandbox being ended
(:mod:`.isolated`), and the agent's programs before a grader runs or a new
episode starts (:mod:`.programs`).

Inside a sandboxed worker — pid 1 of the sandbox's own PID namespace
(``bwrap --as-pid-1``) — every other process in the namespace was started by the
environment for the agent, and :func:`end_all_others` ends them all with one
``kill(-1, SIGKILL)``, however they tried to get away (``setsid``, double forks,
new process groups): the kernel knows them by namespace, not by family. Outside a
sandbox, :func:`kill_tree` can only follow parent links, so a process that left
its family (double fork plus ``setsid``) is not found: one reason environments that
run agent code require a sandbox.

Example::

    if is_namespace_init():
        end_all_others()          # nothing but this process is left in the sandbox
    else:
        kill_tree(pid)            # pid, its group, and its descendants
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Iterator

log = logging.getLogger("openenv.runtime")

END_WAIT_S = 5.0
"""How long :func:`end_all_others` waits for killed processes to disappear."""


def children(pid: int) -> list[int]:
    """Pids of ``pid``'s children, made by any of its threads (empty when it is gone)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(p) for p in f.read().split())
        except (OSError, ValueError):
            continue
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, parents first."""
    tree, seen, i = [pid], {pid}, 0
    while i < len(tree):
        for child in children(tree[i]):
            if child not in seen:
                seen.add(child)
                tree.append(child)
        i += 1
    return tree


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid``, its process group, and every descendant it still has."""
    tree = process_tree(pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for member in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(member, signal.SIGKILL)


def is_namespace_init() -> bool:
    """Whether this process is pid 1 of its PID namespace (a sandboxed worker)."""
    return os.getpid() == 1


def end_all_others(wait_s: float = END_WAIT_S) -> int:
    """From pid 1 of a PID namespace: kill every other process in it, reap, and wait.

    Returns how many processes were still there to kill. Only for pid 1 (raises
    ``RuntimeError`` elsewhere: on a host, ``kill(-1)`` would hit every process of
    this user).
    """
    if not is_namespace_init():
        raise RuntimeError("end_all_others() is for pid 1 of a sandbox's PID namespace")
    found = len(_living_others())
    deadline = time.monotonic() + wait_s
    while True:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)  # from pid 1: everyone in the namespace but us
        reap_children()
        if not _living_others():
            return found
        if time.monotonic() > deadline:
            log.warning("processes %s survived SIGKILL", _living_others())
            return found
        time.sleep(0.001)


def reaped() -> Iterator[tuple[int, int]]:
    """Collect each child that has exited: its pid and exit code (as
    ``os.waitstatus_to_exitcode`` gives it), without waiting for any other."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, os.waitstatus_to_exitcode(status)


def reap_children() -> None:
    """Collect every exited child (pid 1 inherits orphans, which no one else reaps)."""
    for _ in reaped():
        pass


def _living_others() -> list[int]:
    """Pids in this namespace's ``/proc`` other than ours that are not zombies."""
    me = os.getpid()
    living: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # gone meanwhile
        if state not in (b"Z", b"X"):
            living.append(int(name))
    return living
