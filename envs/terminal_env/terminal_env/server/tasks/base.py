"""What a terminal task is: seeded parameters, a trusted setup, a hidden verifier.

A task is a :class:`Task` subclass with four parts, each run by a different party:

* ``params(rng)`` — the seeded details of one episode (file names, values, the
  answer), computed from ``random.Random(f"{id}:{seed}")``; shared by setup and
  verifier, so they always agree;
* ``setup(workspace, params)`` — trusted code run by the environment before the
  agent acts, in an empty workspace with no agent process alive: it writes files
  (:class:`SetupWorkspace`) and may run ``git`` with a fixed identity and clock;
* ``verify(check, params)`` — trusted code run in a fresh, clean process after every
  agent process is gone (:mod:`..verify`): it reads the workspace as data and
  returns whether the task is solved; it never trusts a verdict the agent could
  print, nor any file the agent could edit except the artifacts being judged;
* ``solution`` — a bash script that solves the task for any seed by inspecting
  the workspace (the scripted agent of the tests and the demo).

The agent sees only ``prompt`` and what setup wrote (``TASK.md`` gives the seeded
details it needs).
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from ..verify import Verification

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "setup",
    "GIT_AUTHOR_EMAIL": "setup@openenv.local",
    "GIT_COMMITTER_NAME": "setup",
    "GIT_COMMITTER_EMAIL": "setup@openenv.local",
}
SETUP_CLOCK = 1_700_000_000
"""Commits made by setup are dated from here, a minute apart: same seed, same hashes."""


class Task:
    """One task; subclass it and fill in the parts described in the module docstring."""

    id: ClassVar[str]
    title: ClassVar[str]
    difficulty: ClassVar[Literal["easy", "medium", "hard"]]
    prompt: ClassVar[str]
    solution: ClassVar[str]

    def params(self, rng: random.Random) -> dict[str, Any]:
        """The seeded details of an episode (JSON-able)."""
        return {}

    def setup(self, workspace: SetupWorkspace, params: dict[str, Any]) -> None:
        """Fill the empty workspace (trusted; before the agent acts)."""

    def verify(self, check: Verification, params: dict[str, Any]) -> bool:
        """Whether the workspace as the agent left it solves the task (trusted)."""
        raise NotImplementedError(f"{type(self).__name__} must implement verify()")

    def params_for(self, seed: int) -> dict[str, Any]:
        """``params`` of the episode with ``seed``."""
        return self.params(random.Random(f"{self.id}:{seed}"))


class SetupWorkspace:
    """Writing an episode's files into the workspace (used by ``Task.setup`` only).

    The workspace is empty and nothing of the agent's runs, so plain file
    operations are safe here; paths are relative to the workspace.
    """

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        self._clock = SETUP_CLOCK

    def path(self, relative: str) -> Path:
        return self.root / relative

    def write(self, relative: str, content: str | bytes, mode: int | None = None) -> Path:
        """Write a file (parents made as needed); ``mode`` sets its permission bits."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def mkdir(self, relative: str) -> Path:
        path = self.root / relative
        path.mkdir(parents=True, exist_ok=True)
        return path

    def symlink(self, target: str, relative: str) -> None:
        os.symlink(target, self.root / relative)

    def git(self, *args: str, cwd: str = ".") -> str:
        """Run ``git args`` in ``cwd`` with no configuration but a fixed identity and a
        clock that advances a minute per call; return its output (raises on failure)."""
        self._clock += 60
        date = f"@{self._clock} +0000"
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.root),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
            "LANG": "C.UTF-8",
            **GIT_IDENTITY,
        }
        completed = subprocess.run(
            ["git", "-c", "init.defaultBranch=main", *args],
            cwd=self.root / cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"setup: git {' '.join(args)} failed: {completed.stderr.strip()}")
        return completed.stdout
