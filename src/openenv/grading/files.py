"""Reading what the agent left in its workspace, as data, without following its links.

A verifier judges the workspace as the agent left it, and the agent may have left
traps there: a symbolic link where a file should be (to ``/dev/zero``, to the
verifier's own files, to ``/``), a directory swapped for a link halfway down a
path, a FIFO that blocks whoever opens it, a file of gigabytes. :class:`WorkspaceFiles`
reads beneath one root only: every component of a path is opened relative to the
one before with ``O_NOFOLLOW``, so a link anywhere on the way makes the path read
as missing; only regular files are read, up to a size limit; nothing is written.

Paths are relative to the root, ``/``-separated; ``..`` and absolute paths are refused.

Example::

    files = WorkspaceFiles("/workspace")
    files.read_text("answer.txt")        # None: missing, a link, not UTF-8, or too big
    files.kind("current")                # "symlink"
    files.readlink("current")            # "releases/1.10.0"
    [e.path for e in files.walk("build") if e.kind == "file"]
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = ["Entry", "WorkspaceFiles"]

Kind = Literal["file", "dir", "symlink", "other"]

MAX_FILE_BYTES = 16 * 2**20
"""Largest file read by default; a bigger one reads as ``None``."""
MAX_ENTRIES = 100_000
"""Most entries :meth:`WorkspaceFiles.walk` lists (a workspace of millions is refused)."""


@dataclass(frozen=True)
class Entry:
    """One thing in the workspace, as ``lstat`` saw it."""

    path: str
    """Relative to the root, ``/``-separated."""
    kind: Kind
    size: int
    mode: int
    """Permission bits (``stat.S_IMODE``)."""
    target: str | None = None
    """Where a symbolic link points (its text, never followed)."""


def _kind(mode: int) -> Kind:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


class WorkspaceFiles:
    """Read-only, link-proof access to the files beneath ``root``."""

    def __init__(self, root: str, max_file_bytes: int = MAX_FILE_BYTES) -> None:
        self.root = os.path.realpath(root)
        self.max_file_bytes = max_file_bytes

    # -- one path ----------------------------------------------------------------------

    def stat(self, path: str) -> os.stat_result | None:
        """``lstat`` of ``path`` (a link is not followed), or ``None`` if it cannot be reached."""
        with self._parent(path) as (parent, name):
            if parent is None:
                return None
            if name == "":
                return os.stat(parent)
            try:
                return os.stat(name, dir_fd=parent, follow_symlinks=False)
            except OSError:
                return None

    def kind(self, path: str) -> Kind | None:
        """``file``, ``dir``, ``symlink`` or ``other``; ``None`` when missing."""
        found = self.stat(path)
        return _kind(found.st_mode) if found is not None else None

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def mode(self, path: str) -> int | None:
        """Permission bits of ``path`` itself."""
        found = self.stat(path)
        return stat.S_IMODE(found.st_mode) if found is not None else None

    def readlink(self, path: str) -> str | None:
        """The text of the symbolic link ``path``; ``None`` when it is not one."""
        with self._parent(path) as (parent, name):
            if parent is None or name == "":
                return None
            try:
                return os.readlink(name, dir_fd=parent)
            except OSError:
                return None

    def read_bytes(self, path: str, limit: int | None = None) -> bytes | None:
        """The content of the regular file ``path``; ``None`` for anything else or too big."""
        limit = self.max_file_bytes if limit is None else limit
        with self._parent(path) as (parent, name):
            if parent is None or name == "":
                return None
            try:
                fd = os.open(
                    name,
                    os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                    dir_fd=parent,
                )
            except OSError:
                return None
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                    return None
                chunks, size = [], 0
                while chunk := os.read(fd, min(65536, limit + 1 - size)):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        return None
                return b"".join(chunks)
            except OSError:
                return None
            finally:
                os.close(fd)

    def read_text(self, path: str, limit: int | None = None) -> str | None:
        """``read_bytes`` decoded as UTF-8 (strictly: invalid text reads as ``None``)."""
        data = self.read_bytes(path, limit)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def listdir(self, path: str = ".") -> list[str] | None:
        """Sorted names in the directory ``path``; ``None`` when it is not a directory."""
        with self._open_dir(path) as fd:
            if fd is None:
                return None
            try:
                return sorted(os.listdir(fd))
            except OSError:
                return None

    def walk(self, path: str = ".", max_entries: int = MAX_ENTRIES) -> list[Entry]:
        """Every entry beneath the directory ``path`` (not itself), sorted, links not entered.

        Raises ``ValueError`` past ``max_entries``.
        """
        found: list[Entry] = []
        base = _clean(path)
        pending = [base]
        while pending:
            directory = pending.pop()
            names = self.listdir(directory or ".") or []
            for name in names:
                relative = f"{directory}/{name}" if directory else name
                info = self.stat(relative)
                if info is None:
                    continue
                kind = _kind(info.st_mode)
                target = self.readlink(relative) if kind == "symlink" else None
                found.append(
                    Entry(relative, kind, info.st_size, stat.S_IMODE(info.st_mode), target)
                )
                if len(found) > max_entries:
                    raise ValueError(f"more than {max_entries} entries under {path!r}")
                if kind == "dir":
                    pending.append(relative)
        prefix = f"{base}/" if base else ""
        return sorted(
            (Entry(e.path[len(prefix) :], e.kind, e.size, e.mode, e.target) for e in found),
            key=lambda e: e.path,
        )

    # -- walking down without following links --------------------------------------------

    @contextlib.contextmanager
    def _open_dir(self, path: str) -> Iterator[int | None]:
        """An ``O_PATH`` descriptor of the directory ``path``, reached link-free, or ``None``."""
        parts = [p for p in _clean(path).split("/") if p]
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            yield None
            return
        try:
            for part in parts:
                flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
                try:
                    inner = os.open(part, flags, dir_fd=fd)
                except OSError:
                    yield None
                    return
                os.close(fd)
                fd = inner
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _parent(self, path: str) -> Iterator[tuple[int | None, str]]:
        """The directory holding ``path`` (reached link-free) and ``path``'s last name."""
        clean = _clean(path)
        head, _, name = clean.rpartition("/")
        with self._open_dir(head) as parent:
            yield parent, name


def _clean(path: str) -> str:
    """``path`` normalised and relative; ``ValueError`` for absolute paths and ``..``."""
    if path.startswith("/"):
        raise ValueError(f"{path!r}: paths are relative to the workspace")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"{path!r}: '..' is not allowed")
    return "/".join(parts)
