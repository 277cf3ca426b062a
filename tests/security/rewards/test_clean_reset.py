"""Clean-up never follows a link and never touches anything outside the session's own
directories — also as root, also with ``isolation: none``, where nothing but the
Landlock confinement stands between the agent's links and the host.

The links point at a directory the test made (never at ``/``): were clean-up to follow
them, the damage would stay in the test's own temporary directory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from coding_env import CodeAction
from coding_env.server.environment import CodingEnvironment
from terminal_env import TerminalAction
from terminal_env.server.environment import TerminalEnvironment

from openenv.runtime import landlock
from openenv.runtime.programs import Workspace

needs_landlock = pytest.mark.skipif(
    landlock.abi_version() == 0, reason="agent programs need Landlock"
)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory of the host's, next to nothing the agent owns."""
    root = tmp_path / "host"
    (root / "sub").mkdir(parents=True)
    (root / "file.txt").write_text("host data")
    (root / "sub" / "deep.txt").write_text("deep")
    root.chmod(0o751)
    (root / "sub").chmod(0o755)
    (root / "file.txt").chmod(0o640)
    return root


def snapshot(root: Path) -> list[tuple[str, int, str]]:
    found = []
    for path in sorted([root, *root.rglob("*")]):
        content = path.read_text() if path.is_file() else ""
        found.append((str(path.relative_to(root)), stat.S_IMODE(path.lstat().st_mode), content))
    return found


def plant(directory: str, outside: Path) -> None:
    """Every trap a clean-up could fall into, made the way agent code can make them."""
    base = Path(directory)
    (base / "link-to-host").symlink_to(outside)
    (base / "link-to-file").symlink_to(outside / "file.txt")
    (base / "link-to-host-sub").symlink_to(outside / "sub")
    locked = base / "locked" / "inner"
    locked.mkdir(parents=True)
    (locked / "link").symlink_to(outside / "sub")
    (locked / "file").write_text("x")
    locked.chmod(0)
    (base / "locked").chmod(0)
    os.mkfifo(base / "fifo")
    (base / "unreadable").write_text("x")
    (base / "unreadable").chmod(0)


def test_workspace_clear_removes_traps_without_following_them(outside: Path):
    workspace = Workspace(prefix="openenv-test-")
    try:
        before = snapshot(outside)
        for directory in (workspace.path, *workspace.writable):
            plant(directory, outside)
        workspace.clear()
        for directory in (workspace.path, *workspace.writable):
            assert os.listdir(directory) == []
        assert snapshot(outside) == before  # not one mode changed through a link
    finally:
        workspace.remove()
    assert not os.path.exists(workspace.root)
    assert snapshot(outside) == before


def test_in_process_workspaces_never_include_the_hosts_shared_memory():
    workspace = Workspace(prefix="openenv-test-")
    try:
        assert "/dev/shm" not in workspace.writable
        assert all(p.startswith(workspace.root) for p in workspace.writable)
    finally:
        workspace.remove()


@needs_landlock
def test_coding_reset_in_process_leaves_the_host_alone(outside: Path):
    env = CodingEnvironment()  # isolation none: the server's own process
    try:
        before = snapshot(outside)
        env.reset()
        code = (
            "import os\n"
            f"os.symlink({str(outside)!r}, 'link')\n"
            f"os.symlink({str(outside / 'file.txt')!r}, 'f')\n"
            f"os.makedirs('d/e'); os.symlink({str(outside)!r}, 'd/e/host'); os.chmod('d/e', 0)\n"
            "os.chmod('d', 0)\n"
            "print('planted')"
        )
        assert env.step(CodeAction(code=code)).stdout == "planted\n"
        env.reset()
        assert os.listdir(env.workspace.path) == []
        assert snapshot(outside) == before
    finally:
        env.close()
    assert snapshot(outside) == before


@needs_landlock
def test_terminal_reset_in_process_leaves_the_host_alone(outside: Path):
    env = TerminalEnvironment()
    try:
        before = snapshot(outside)
        env.reset()
        command = (
            f"ln -s {outside} link && mkdir -p d/e && ln -s {outside} d/e/l "
            f'&& chmod 0 d/e d && ln -s {outside} "$HOME/link" && echo planted'
        )
        assert env.step(TerminalAction(command=command)).stdout == "planted\n"
        env.reset()
        assert os.listdir(env.workspace.path) == []
        assert snapshot(outside) == before
    finally:
        env.close()
    assert snapshot(outside) == before
