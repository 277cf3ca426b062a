"""Cgroups for sandboxed workers: one group per worker, with memory, pids and CPU limits.

A sandbox's launcher joins its worker's group before ``exec bwrap`` (see
:meth:`openenv.runtime.sandbox.SandboxPolicy.command`), so every process of the
sandbox is in it and counted from the first instruction. Groups are made under
the server's own group (so the host's limits on the server still hold), in an
``openenv`` folder: ``openenv-<server pid>-<random>``. Both layouts work: the v2
unified tree (``memory.max``, ``pids.max``, ``cpu.max``) and v1's one tree per
controller (``memory``, ``pids``, ``cpu``). Where neither is writable,
:meth:`CgroupLimits.create` returns ``None`` and the sandbox relies on rlimits
alone (docs/isolation.md says what that loses).

Example::

    group = CgroupLimits.create(SandboxLimits(memory_mb=256))  # None: not writable here
    command = policy.command(argv, packages=..., cgroup=group)
    ...                                                        # the worker runs, and ends
    killed_by_oom = group.oom_killed()
    group.remove()                                             # once its processes are gone
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sandbox.py imports this module: no import cycle at run time
    from .sandbox import SandboxLimits

log = logging.getLogger("openenv.runtime")

ROOT = Path("/sys/fs/cgroup")
"""Where the cgroup filesystem is mounted: the v2 unified tree, or v1's controller trees."""


class CgroupLimits:
    """A cgroup for one worker, with memory, pids and CPU limits (v1 or v2).

    :meth:`create` returns ``None`` where this host does not let us write cgroups;
    the sandbox then relies on rlimits alone (see docs/isolation.md).
    """

    _usable: bool | None = None
    """Whether cgroups are writable here: unknown until the first :meth:`create`."""

    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs

    @property
    def procs_files(self) -> list[Path]:
        """The group's ``cgroup.procs`` files (one per v1 controller): writing a pid joins."""
        return [d / "cgroup.procs" for d in self.dirs]

    @classmethod
    def create(cls, limits: SandboxLimits) -> CgroupLimits | None:
        """A new group with ``limits``, or ``None`` where cgroups are not writable.

        The first group a server makes also sweeps away the empty groups of a
        server that was killed (:meth:`sweep_stale`).
        """
        if cls._usable is False:
            return None
        name = f"openenv-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            group = cls._create_v2(name, limits) if _is_v2() else cls._create_v1(name, limits)
        except OSError as exc:
            if cls._usable is None:
                log.warning("cgroups not writable (%s): sandboxes rely on rlimits only", exc)
            cls._usable = False
            return None
        if cls._usable is None:
            cls.sweep_stale()
        cls._usable = True
        return group

    @classmethod
    def parents(cls) -> list[Path]:
        """The folders our workers' cgroups are made in."""
        if _is_v2():
            return [ROOT / _own_group("") / "openenv"]
        return [ROOT / c / _own_group(c) / "openenv" for c in ("memory", "pids", "cpu")]

    @classmethod
    def sweep_stale(cls) -> int:
        """Remove empty worker cgroups left by a server that was killed; return how many."""
        removed = 0
        for parent in cls.parents():
            for directory in parent.glob("openenv-*-*"):
                pid = directory.name.split("-")[1]
                if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
                    continue
                try:
                    directory.rmdir()  # only an empty group can go
                    removed += 1
                except OSError:
                    pass
        return removed

    @classmethod
    def _create_v1(cls, name: str, limits: SandboxLimits) -> CgroupLimits:
        """The group in each v1 controller tree; nothing is left if one fails."""
        made: list[Path] = []
        try:
            for controller, settings in (
                ("memory", {"memory.limit_in_bytes": limits.memory_mb * 2**20}),
                ("pids", {"pids.max": limits.max_processes}),
                ("cpu", _v1_cpu(limits.cpu_cores)),
            ):
                # Nested under our own group, so the host's limits on us still hold.
                directory = ROOT / controller / _own_group(controller) / "openenv" / name
                directory.mkdir(parents=True)
                made.append(directory)
                for key, value in settings.items():
                    (directory / key).write_text(str(value))
                if controller == "memory":  # no swap escape hatch, where swap accounting exists
                    swap = directory / "memory.memsw.limit_in_bytes"
                    if swap.exists():
                        swap.write_text(str(limits.memory_mb * 2**20))
        except OSError:
            CgroupLimits(made).remove()
            raise
        return cls(made)

    @classmethod
    def _create_v2(cls, name: str, limits: SandboxLimits) -> CgroupLimits:
        """The group in the v2 unified tree (its parent delegates the three controllers)."""
        parent = ROOT / _own_group("") / "openenv"
        parent.mkdir(exist_ok=True)
        (parent / "cgroup.subtree_control").write_text("+memory +pids +cpu")
        directory = parent / name
        directory.mkdir()
        try:
            (directory / "memory.max").write_text(str(limits.memory_mb * 2**20))
            (directory / "memory.swap.max").write_text("0")
            (directory / "pids.max").write_text(str(limits.max_processes))
            if limits.cpu_cores is not None:
                (directory / "cpu.max").write_text(f"{int(limits.cpu_cores * 100000)} 100000")
        except OSError:
            directory.rmdir()
            raise
        return cls([directory])

    def join(self, pid: int) -> None:
        """Move process ``pid`` into this group (its children from now on follow it)."""
        for path in self.procs_files:
            path.write_text(str(pid))

    def oom_killed(self) -> bool:
        """Whether the memory limit killed something in this group."""
        for directory in self.dirs:
            for name in ("memory.oom_control", "memory.events"):
                path = directory / name
                try:
                    text = path.read_text()
                except OSError:
                    continue
                for line in text.splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and value.strip() not in ("", "0"):
                        return True
        return False

    def remove(self) -> None:
        """Remove the group (after its processes are gone); errors are logged, not raised."""
        for directory in self.dirs:
            try:
                directory.rmdir()
            except OSError as exc:
                log.debug("cannot remove cgroup %s: %s", directory, exc)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (another user's counts: it is not ours to sweep)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _own_group(controller: str) -> str:
    """This process's cgroup path for ``controller`` ("" for the v2 unified tree)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (not controller and not controllers):
            return path.lstrip("/")
    return ""


def _is_v2() -> bool:
    """Whether :data:`ROOT` is the v2 unified tree (else v1: a folder per controller)."""
    return (ROOT / "cgroup.controllers").exists()


def _v1_cpu(cores: float | None) -> dict[str, int]:
    """v1 ``cpu`` controller settings for a quota of ``cores`` (none: no quota)."""
    if cores is None:
        return {}
    return {"cpu.cfs_period_us": 100000, "cpu.cfs_quota_us": int(cores * 100000)}
