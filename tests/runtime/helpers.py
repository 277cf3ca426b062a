"""Helpers for the runtime tests: process accounting, sandboxed servers, sessions.

Processes are counted from ``/proc`` as descendants of one process (this test
process for in-thread servers), so processes of other programs on the machine
never disturb the counts. PID 1 on some machines does not reap orphans, which is
why "gone" means: not among our descendants, and no zombie among them either.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection

from openenv.runtime.pool import WarmPool
from openenv.runtime.sandbox import SandboxLimits, SandboxPolicy
from openenv.runtime.zygote import is_template
from openenv.server import ServerConfig
from openenv.server.sessions import Session
from tests.conftest import Served, ask, open_ws, wait_until

SETTLE_S = 20.0


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    state: str
    name: str


def processes() -> dict[int, Proc]:
    found: dict[int, Proc] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        found[int(entry)] = Proc(int(entry), int(ppid), state, name)
    return found


def descendants(root: int | None = None) -> dict[int, Proc]:
    """Every process below ``root`` (default: this process), zombies included."""
    root = os.getpid() if root is None else root
    table = processes()
    kids: dict[int, list[int]] = {}
    for proc in table.values():
        kids.setdefault(proc.ppid, []).append(proc.pid)
    found: dict[int, Proc] = {}
    todo = list(kids.get(root, []))
    while todo:
        pid = todo.pop()
        if pid in table and pid not in found:
            found[pid] = table[pid]
            todo.extend(kids.get(pid, []))
    return found


def zombies(root: int | None = None) -> list[Proc]:
    return [p for p in descendants(root).values() if p.state == "Z"]


def worker_roots(procs: dict[int, Proc], parent: int | None = None) -> list[int]:
    """The outermost process of each live worker under ``parent`` (default: this process):
    a spawned worker's bwrap monitor (a child of ``parent``), or a forked worker (a child
    of a zygote's template, itself below a bwrap monitor child of ``parent``)."""
    parent = os.getpid() if parent is None else parent
    kids: dict[int, list[int]] = {}
    for proc in procs.values():
        kids.setdefault(proc.ppid, []).append(proc.pid)
    roots = []
    for monitor in kids.get(parent, []):
        if procs[monitor].name != "bwrap":
            continue
        inner = kids.get(monitor, [])
        if inner and is_template(inner[0]):
            roots += [pid for pid in kids.get(inner[0], []) if procs[pid].state != "Z"]
        else:
            roots.append(monitor)
    return roots


def stray_sandboxes() -> set[int]:
    """Live sandbox processes that lost their parent (re-parented to PID 1): leaks."""
    return {
        p.pid
        for p in processes().values()
        if p.ppid == 1 and p.state != "Z" and p.name in ("bwrap", "python3", "python3.11")
    }


def our_cgroups(pid: int | None = None) -> list[Path]:
    """Worker cgroups this process (or ``pid``) made that still exist (v1 or v2 layouts)."""
    root = Path("/sys/fs/cgroup")
    pattern = f"openenv-{os.getpid() if pid is None else pid}-*"
    found = [*root.glob(f"*/openenv/{pattern}"), *root.glob(f"openenv/{pattern}")]
    memory = root / "memory"
    if memory.is_dir():
        found += memory.glob(f"**/openenv/{pattern}")
    return sorted(set(found))


def sandbox_config(pool: int = 1, **limits: Any) -> ServerConfig:
    return ServerConfig(
        isolation="sandbox",
        sandbox=SandboxPolicy(limits=SandboxLimits(**limits)),
        warm_pool_size=pool,
    )


def pool_of(served: Served) -> WarmPool:
    return served.manager.factory.pool


def settled(served: Served, sessions: int = 0, timeout: float = SETTLE_S) -> dict[int, Proc]:
    """Wait until the server is at rest; our processes then.

    At rest: exactly ``sessions`` sessions are open (a session the client closed may
    still be closing on the server, its worker alive), the pool is full with nothing
    starting, every sandbox belongs to the pool or an open session, and no zombie is
    left. Counting processes any earlier counts a closing session's sandbox too.
    """
    pool = pool_of(served)

    def calm() -> tuple[dict[int, Proc]] | None:
        if len(served.sessions) != sessions:
            return None
        if len(pool.idle) != pool.size or pool.starting:
            return None
        procs = descendants()
        if any(p.state == "Z" for p in procs.values()):
            return None
        sandboxes = worker_roots(procs)
        in_sessions = sum(1 for s in served.sessions.values() if hasattr(s.env, "worker"))
        if len(sandboxes) != pool.size + in_sessions or len(served.sessions) != sessions:
            return None  # a session ended (or began) while we looked
        return (procs,)  # a tuple: an empty dict would read as "not yet"

    return wait_until(calm, timeout=timeout, interval=0.02)[0]


def worker_pids(session: Session) -> list[int]:
    """Host pids of a session's sandbox: its outermost process (a spawned worker's bwrap
    monitor, a forked worker itself) and everything below it."""
    from openenv.runtime.processes import process_tree

    return process_tree(session.env.worker.pid)  # type: ignore[attr-defined]


def assert_gone(pids: list[int], timeout: float = 5.0) -> None:
    """None of ``pids`` is left among our descendants (running or zombie)."""

    def gone() -> bool:
        mine = descendants()
        return not any(pid in mine for pid in pids)

    wait_until(gone, timeout=timeout)


@contextmanager
def session(served: Served, **reset: Any) -> Iterator[tuple[ClientConnection, Session]]:
    """A WebSocket session that has reset, and the server's :class:`Session` behind it."""
    before = set(served.sessions)
    ws = open_ws(served)
    try:
        frame = ask(ws, {"type": "reset", "data": reset}, timeout=30)
        assert frame["type"] == "observation", frame
        new = wait_until(lambda: set(served.sessions) - before, timeout=5)
        assert len(new) == 1
        yield ws, served.sessions[new.pop()]
    finally:
        ws.close()
