"""The verifier's side: judging a workspace in a fresh, clean, trusted process.

:meth:`TerminalEnvironment._evaluate` kills every process of the agent's, then runs
:func:`main` through :func:`openenv.grading.trusted.run_trusted`: a new interpreter
in isolated mode, working directory ``/``, ``HOME=/``, nothing the agent wrote on
its import or command path. :func:`main` calls the task's ``verify`` with a
:class:`Verification`, which offers only ways of reading the workspace as data:

* :attr:`Verification.files` — files and directories, never following a link
  (:class:`openenv.grading.files.WorkspaceFiles`);
* :meth:`Verification.repo` — a git repository read as objects (dulwich: no git
  binary, no hooks, no configuration of the agent's is acted on);
* :meth:`Verification.run` — run a program the agent wrote (a script the task asked
  for), confined like the agent's shell, and get its output to judge;
* :meth:`Verification.submission` — load a Python module the agent wrote in a
  process of its own and ask it for values (:class:`openenv.grading.Submission`).

What the agent's programs do while the verifier runs them can change the
workspace: read what you judge first, or judge only the program's output.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openenv.grading import Submission
from openenv.grading.files import WorkspaceFiles
from openenv.grading.trusted import run_trusted
from openenv.runtime.programs import Completed, Confinement, readable_paths, run_program

PACKAGE_DIR = Path(__file__).resolve().parent.parent
MAX_BLOB_BYTES = 4 * 2**20


VERIFY_TIMEOUT_S = 60.0


def run_verifier(task_id: str, seed: int, workspace: str, writable: Sequence[str]) -> Any:
    """Judge ``workspace`` in a fresh trusted process (what the environment does):
    ``{"solved": bool[, "error": ...]}``. ``writable`` are the agent's other directories
    (kept off the verifier's import path; ``writable[0]`` is its ``/tmp``). Raises
    :class:`openenv.grading.trusted.TrustedFailure` when the process fails or overruns."""
    job = {"task_id": task_id, "seed": seed, "workspace": workspace, "tmp": writable[0]}
    return run_trusted(
        "terminal_env.server.verify:main",
        job,
        timeout_s=VERIFY_TIMEOUT_S,
        untrusted=[workspace, *writable],
    )


def main(job: dict[str, Any]) -> dict[str, Any]:
    """Entry point in the verifier process: ``{"task_id", "seed", "workspace", "tmp"}``."""
    from .tasks import TASKS

    task = TASKS[job["task_id"]]
    check = Verification(job["workspace"], job["tmp"], int(job["seed"]))
    try:
        solved = task.verify(check, task.params_for(check.seed))
    except Exception as exc:  # a verifier must not crash on any workspace: report it
        return {"solved": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
    return {"solved": solved is True}


class Verification:
    """What a task's ``verify`` may use (see the module docstring)."""

    def __init__(self, workspace: str, tmp: str, seed: int) -> None:
        self.workspace = workspace
        self.tmp = tmp
        self.seed = seed
        self.files = WorkspaceFiles(workspace)

    def repo(self, relative: str) -> Repository | None:
        """The git repository at ``relative`` (a real directory with a ``.git`` directory)."""
        if self.files.kind(relative) != "dir" or self.files.kind(f"{relative}/.git") != "dir":
            return None
        from dulwich.errors import NotGitRepository
        from dulwich.repo import Repo

        try:
            repo = Repo(os.path.join(self.workspace, relative))
        except (NotGitRepository, OSError, ValueError, KeyError):
            return None
        return Repository(repo, self.files, relative)

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str = ".",
        stdin: bytes = b"",
        timeout_s: float = 10.0,
    ) -> Completed:
        """Run an agent-written program confined as the agent's shell was (no network,
        the workspace and ``/tmp`` writable, this package unreadable)."""
        confinement = Confinement(
            workspace=self.workspace,
            writable=[self.tmp],
            hidden=[PACKAGE_DIR],
            environment={"HOME": self.tmp},
        )
        return run_program(
            list(argv),
            confinement=confinement,
            timeout_s=timeout_s,
            stdin=stdin,
            output_limit=2**20,
            cwd=os.path.join(self.workspace, cwd),
        )

    def submission(self, code: str) -> Submission:
        """``code`` (a module the agent wrote, read as text) in a confined runner."""
        confinement = Confinement(
            workspace=self.workspace,
            writable=[self.tmp],
            hidden=[PACKAGE_DIR],
            environment={"PYTHONHASHSEED": "0"},
        )
        readable = readable_paths([PACKAGE_DIR])
        path = [p for p in sys.path if any(p == r or p.startswith(r + "/") for r in readable)]
        return Submission(code, confinement, python=os.path.realpath(sys.executable), path=path)


@dataclass(frozen=True)
class Commit:
    """A commit, as data."""

    sha: str
    parents: tuple[str, ...]
    message: str
    tree: str


class Repository:
    """A git repository read as objects (dulwich): refs, commits, trees, blobs, and the
    index and working tree compared by hashing here (nothing of git's is run)."""

    def __init__(self, repo: Any, files: WorkspaceFiles, root: str) -> None:
        self._repo = repo
        self._files = files  # the working tree is read through these, link-proof
        self._root = root.strip("/") or "."

    def head_branch(self) -> str | None:
        """The branch ``HEAD`` names (``"main"``), or ``None`` when detached or unreadable."""
        try:
            chain, _ = self._repo.refs.follow(b"HEAD")
        except (KeyError, ValueError, OSError):
            return None
        if len(chain) < 2 or not chain[1].startswith(b"refs/heads/"):
            return None
        return chain[1][len(b"refs/heads/") :].decode("utf-8", "replace")

    def branches(self) -> dict[str, str]:
        """Branch name → commit sha."""
        found = {}
        try:
            refs = self._repo.refs.as_dict(b"refs/heads/")
        except (KeyError, ValueError, OSError):
            return {}
        for name, sha in refs.items():
            found[name.decode("utf-8", "replace")] = sha.decode()
        return found

    def branch(self, name: str) -> str | None:
        return self.branches().get(name)

    def commit(self, sha: str) -> Commit | None:
        try:
            obj = self._repo[sha.encode()]
        except (KeyError, ValueError, OSError, AssertionError):
            return None
        if obj.type_name != b"commit":
            return None
        return Commit(
            sha=obj.id.decode(),
            parents=tuple(p.decode() for p in obj.parents),
            message=obj.message.decode("utf-8", "replace"),
            tree=obj.tree.decode(),
        )

    def first_parent_history(self, sha: str, limit: int = 10_000) -> list[Commit]:
        """``sha`` and its first parents back to the root, newest first."""
        history: list[Commit] = []
        current: str | None = sha
        while current is not None and len(history) < limit:
            commit = self.commit(current)
            if commit is None:
                break
            history.append(commit)
            current = commit.parents[0] if commit.parents else None
        return history

    def files(self, commit_sha: str) -> dict[str, bytes] | None:
        """Every file in a commit's tree (path → content; a link's content is its target)."""
        commit = self.commit(commit_sha)
        if commit is None:
            return None
        try:
            entries = list(self._repo.object_store.iter_tree_contents(commit.tree.encode()))
        except (KeyError, ValueError, OSError, AssertionError):
            return None
        found: dict[str, bytes] = {}
        for entry in entries:
            if stat.S_ISDIR(entry.mode) or entry.mode == 0o160000:  # submodule
                continue
            try:
                blob = self._repo[entry.sha]
            except (KeyError, ValueError, OSError, AssertionError):
                return None
            if blob.raw_length() > MAX_BLOB_BYTES:
                return None
            found[entry.path.decode("utf-8", "replace")] = blob.data
        return found

    def head(self) -> str | None:
        """The commit ``HEAD`` points at (through a branch or detached), or ``None``."""
        try:
            sha = self._repo.refs[b"HEAD"]
        except (KeyError, ValueError, OSError):
            return None
        return sha.decode() if self.commit(sha.decode()) is not None else None

    def index(self) -> dict[str, tuple[int, str]] | None:
        """The index (staging area): path → (mode, blob sha); ``None`` when unreadable
        or holding an unresolved merge conflict."""
        from dulwich.index import Stage, read_index

        data = self._files.read_bytes(self._path(".git/index"))
        if data is None:
            return None
        found: dict[str, tuple[int, str]] = {}
        try:
            for entry in read_index(io.BytesIO(data)):
                if entry.stage() != Stage.NORMAL:
                    return None
                found[entry.name.decode("utf-8", "surrogateescape")] = (
                    entry.mode,
                    entry.sha.decode(),
                )
        except Exception:  # whatever the agent wrote there, it is no index we can read
            return None
        return found

    def is_clean(self, untracked: bool = False) -> bool:
        """Nothing staged and no tracked file changed (``git status --untracked-files=no``
        is empty); with ``untracked``, also no file the index does not track (ignore
        rules are not applied: an ignored file counts).

        Read as data: the index is compared with ``HEAD``'s tree, and each tracked
        file's content (hashed here), type and execute bit with its index entry;
        no filter, hook or configuration of the repository's is acted on.
        """
        head = self.head()
        commit = self.commit(head) if head is not None else None
        index = self.index()
        if commit is None or index is None:
            return False
        try:
            entries = self._repo.object_store.iter_tree_contents(commit.tree.encode())
            tree = {
                e.path.decode("utf-8", "surrogateescape"): (e.mode, e.sha.decode()) for e in entries
            }
        except Exception:
            return False
        if tree != index:
            return False
        try:
            for path, (mode, sha) in index.items():
                if not self._unchanged(self._path(path), mode, sha):
                    return False
            if untracked:
                for entry in self._files.walk(self._root):
                    if entry.path == ".git" or entry.path.startswith(".git/"):
                        continue
                    if entry.kind != "dir" and entry.path not in index:
                        return False
        except ValueError:  # a path with '..' or absolute, or too many entries
            return False
        return True

    def _path(self, relative: str) -> str:
        return relative if self._root == "." else f"{self._root}/{relative}"

    def _unchanged(self, path: str, mode: int, sha: str) -> bool:
        """Whether the working-tree file ``path`` is what the index entry says."""
        kind = self._files.kind(path)
        if stat.S_ISLNK(mode):
            target = self._files.readlink(path)
            return (
                kind == "symlink" and target is not None and _blob_sha(os.fsencode(target)) == sha
            )
        if mode == 0o160000:  # a submodule: its directory must be there
            return kind == "dir"
        data = self._files.read_bytes(path, limit=MAX_BLOB_BYTES)
        if kind != "file" or data is None or _blob_sha(data) != sha:
            return False
        executable = bool((self._files.mode(path) or 0) & 0o100)
        return executable == (mode == 0o100755)


def _blob_sha(data: bytes) -> str:
    """The git object id of a blob with ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
