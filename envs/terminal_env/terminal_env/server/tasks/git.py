"""Tasks on git repositories: commits, branches, merges, reverts, bisecting."""

from __future__ import annotations

import random
from typing import Any

from ..verify import Commit, Repository, Verification
from .base import SetupWorkspace, Task

WORDS = ["amber", "birch", "cedar", "delta", "ember", "fjord", "glade", "harbor", "iris",
         "juniper", "kestrel", "lumen", "maple", "nova", "onyx", "pine", "quartz", "raven",
         "sierra", "tundra"]  # fmt: skip


History = list[tuple[str, dict[str, str]]]
"""Commits as setup makes them, oldest first: (message, every file of the tree → text)."""


class SetupRepository:
    """A git repository built by setup commit by commit, each given as its whole tree."""

    def __init__(self, workspace: SetupWorkspace, path: str, modes: dict[str, int] | None = None):
        self.workspace, self.path, self.modes = workspace, path, modes or {}
        self.files: dict[str, str] = {}
        workspace.mkdir(path)
        workspace.git("init", "-q", cwd=path)

    def commit(self, message: str, files: dict[str, str]) -> None:
        """Make the working tree ``files`` exactly and commit all of it as ``message``."""
        self._become(files)
        self.workspace.git("add", "-A", cwd=self.path)
        self.workspace.git("commit", "-q", "-m", message, cwd=self.path)

    def commit_all(self, history: History) -> None:
        for message, files in history:
            self.commit(message, files)

    def checkout(self, *args: str, files: dict[str, str]) -> None:
        """``git checkout args``, after which the working tree holds ``files``."""
        self.workspace.git("checkout", "-q", *args, cwd=self.path)
        self.files = dict(files)

    def _become(self, files: dict[str, str]) -> None:
        for name in sorted(set(self.files) - set(files)):
            self.workspace.path(f"{self.path}/{name}").unlink()
        for name, text in files.items():
            if self.files.get(name) != text:
                self.workspace.write(f"{self.path}/{name}", text, self.modes.get(name))
        self.files = dict(files)


def history_is(repo: Repository, sha: str, expected: History) -> bool:
    """Whether ``sha`` and its first parents are exactly the commits of ``expected``
    (messages and trees; one parent each, the oldest none): setup's history, not rewritten."""
    history = repo.first_parent_history(sha, limit=len(expected) + 1)
    if len(history) != len(expected) or history[-1].parents:
        return False
    if any(len(commit.parents) != 1 for commit in history[:-1]):
        return False
    for commit, (message, files) in zip(reversed(history), expected, strict=True):
        if commit.message.strip() != message or repo.files(commit.sha) != encoded(files):
            return False
    return True


def encoded(files: dict[str, str]) -> dict[str, bytes]:
    return {name: text.encode() for name, text in files.items()}


def checked_out_main(
    check: Verification, relative: str = "repo"
) -> tuple[Repository, Commit] | None:
    """The repository at ``relative`` and the tip of its ``main``, when ``main`` is checked out."""
    repo = check.repo(relative)
    if repo is None or repo.head_branch() != "main":
        return None
    tip = repo.commit(repo.branch("main") or "")
    return (repo, tip) if tip is not None else None


class GitTwoCommits(Task):
    id = "git_two_commits"
    title = "Make a git repository with two commits"
    difficulty = "easy"
    prompt = """\
TASK.md in /workspace contains `key: value` lines: repository, file1, content1,
message1, file2, content2, message2.

Create a new git repository in the directory /workspace/<repository> and make
exactly two commits on its current branch:
  1. The first commit adds only the file <file1> (at the repository root), whose
     content is the single line <content1> followed by a newline. Its commit
     message is exactly <message1>.
  2. The second commit adds the file <file2> (at the repository root) containing
     the single line <content2>, with commit message exactly <message2>.
The git author/committer identity is already configured via environment variables.
"""
    solution = """\
T="$PWD/TASK.md"
get() { sed -n "s/^$1: //p" "$T"; }
repo=$(get repository)
mkdir -p "$repo"
cd "$repo"
git init -q
get content1 > "$(get file1)"
git add "$(get file1)"
git commit -q -m "$(get message1)"
get content2 > "$(get file2)"
git add "$(get file2)"
git commit -q -m "$(get message2)"
"""

    def params(self, rng: random.Random) -> dict[str, Any]:
        file1 = rng.choice(["notes", "todo", "plan", "ideas"]) + ".txt"
        file2 = rng.choice(["summary", "outline", "journal", "draft"]) + ".md"
        return {
            "repository": "repo-" + rng.choice(WORDS),
            "file1": file1,
            "content1": " ".join(rng.sample(WORDS, 4)),
            "message1": f"Add {file1} for {rng.choice(WORDS)}",
            "file2": file2,
            "content2": " ".join(rng.sample(WORDS, 5)),
            "message2": f"Write {file2}: {rng.choice(WORDS)} {rng.choice(WORDS)}",
        }

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        keys = ("repository", "file1", "content1", "message1", "file2", "content2", "message2")
        workspace.write("TASK.md", "".join(f"{key}: {p[key]}\n" for key in keys))

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        repo = check.repo(p["repository"])
        branch = repo.head_branch() if repo else None
        tip = repo.branch(branch) if repo and branch else None
        if repo is None or tip is None:
            return False
        history = repo.first_parent_history(tip)
        if len(history) != 2 or len(history[0].parents) != 1:
            return False
        second, first = history
        first_files, second_files = repo.files(first.sha), repo.files(second.sha)
        line1, line2 = (p["content1"] + "\n").encode(), (p["content2"] + "\n").encode()
        return (
            first.message.strip() == p["message1"]
            and second.message.strip() == p["message2"]
            and first_files == {p["file1"]: line1}
            and second_files == {p["file1"]: line1, p["file2"]: line2}
        )


class GitBranchMerge(Task):
    id = "git_branch_merge"
    title = "Create a branch, commit on it and merge it"
    difficulty = "medium"
    prompt = """\
The git repository `repo/` has a `main` branch. TASK.md gives `branch:`, `file:`,
`content:` and `message:` values. Create a branch named <branch> from the current
tip of `main`; on that branch commit a new file <file> (at the repository root)
containing the single line <content>, with commit message exactly <message>. Then
switch back to `main` and merge the branch into `main` with a real merge commit
(no fast-forward). Finish with `main` checked out, the branch still present, and
a clean working tree.
"""
    solution = """\
T="$PWD/TASK.md"
get() { sed -n "s/^$1: //p" "$T"; }
cd repo
git checkout -q -b "$(get branch)" main
get content > "$(get file)"
git add "$(get file)"
git commit -q -m "$(get message)"
git checkout -q main
git merge -q --no-ff --no-edit "$(get branch)"
"""
    WORDS = ["aster", "bloom", "clover", "daisy", "fern", "heather", "iris", "lilac", "moss",
             "orchid", "poppy", "rose", "sage", "thyme", "violet", "yarrow"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        words = self.WORDS
        a, b, c = rng.sample(words, 3)
        readme = f"# Project {a}\n"
        app = "".join(f"step {i}: {rng.choice(words)}\n" for i in range(rng.randint(3, 7)))
        return {
            "history": [
                ("Initial commit", {"README.md": readme}),
                ("Add app steps", {"README.md": readme, "app.txt": app}),
            ],
            "branch": "feature-" + b,
            "file": c + ".txt",
            "content": " ".join(rng.sample(words, 4)),
            "message": f"Add {c} notes about {rng.choice(words)}",
        }

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        SetupRepository(workspace, "repo").commit_all(p["history"])
        keys = ("branch", "file", "content", "message")
        workspace.write("TASK.md", "".join(f"{key}: {p[key]}\n" for key in keys))

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        found = checked_out_main(check)
        if found is None:
            return False
        repo, merge = found
        side = repo.commit(repo.branch(p["branch"]) or "")
        if side is None or len(merge.parents) != 2 or merge.parents[1] != side.sha:
            return False
        base = merge.parents[0]
        if not history_is(repo, base, p["history"]) or side.parents != (base,):
            return False
        before = encoded(p["history"][-1][1])
        added = [{**before, p["file"]: (p["content"] + end).encode()} for end in ("\n", "")]
        return (
            side.message.strip() == p["message"]
            and repo.files(side.sha) in added
            and merge.tree == side.tree
            and repo.is_clean()
        )


class GitRevert(Task):
    id = "git_revert"
    title = "Revert a bad commit"
    difficulty = "medium"
    prompt = """\
In the git repository `repo/`, one earlier commit on `main` (its commit message is
given on the `bad commit message:` line of TASK.md) introduced a bad change. Undo
exactly that commit's changes by adding one new commit on top of `main` (for
example with `git revert`). Do not rewrite, drop or reorder existing commits, and
keep all other changes. Finish with `main` checked out and a clean working tree.
"""
    solution = """\
msg=$(sed -n 's/^bad commit message: //p' TASK.md)
cd repo
bad=$(git log --format='%H %s' main | awk -v m="$msg" '{ h = $1; sub(/^[^ ]+ /, ""); if ($0 == m) print h }')
git revert --no-edit "$bad"
"""  # noqa: E501
    WORDS = ["acorn", "brook", "cliff", "dawn", "field", "grove", "hill", "lake", "marsh",
             "peak", "ridge", "shore", "stream", "vale", "wood"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        words = self.WORDS
        port, timeout, retries = rng.randint(2000, 9000), rng.randint(10, 90), rng.randint(2, 6)
        base = (
            f"[server]\nhost = 127.0.0.1\nport = {port}\ntimeout = {timeout}\nretries = {retries}\n"
        )
        bad = base.replace(f"timeout = {timeout}", "timeout = 0")
        bad = bad.replace(f"retries = {retries}", "retries = 0")
        good = [("README.md", f"Add usage notes for {rng.choice(words)}"),
                ("app.py", f"Add {rng.choice(words)} greeting"),
                ("CHANGELOG.md", f"Start changelog for {rng.choice(words)}"),
                ("logging.ini", f"Add {rng.choice(words)} logging config"),
                ("docs/settings.md", f"Document {rng.choice(words)} settings")]  # fmt: skip
        rng.shuffle(good)
        good = good[:4]
        k = rng.randint(0, 3)
        bad_message = rng.choice(["Tune server settings", "Speed up requests", "Adjust timeouts",
                                  "Optimize connection handling"])  # fmt: skip
        bad_message += f" ({rng.choice(words)})"
        files = {
            "README.md": f"# Service {rng.choice(words)}\n",
            "app.py": f"def main():\n    print({rng.choice(words)!r})\n",
            "settings.ini": base,
        }
        history = [("Initial commit", dict(files))]
        for path, message in [*good[:k], ("settings.ini", bad_message), *good[k:]]:
            if path == "settings.ini":
                files[path] = bad
            else:
                files[path] = files.get(path, "") + f"{rng.choice(words)} {rng.choice(words)}\n"
            history.append((message, dict(files)))
        return {
            "history": history,
            "bad_message": bad_message,
            "reverted": {**files, "settings.ini": base},
        }

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        SetupRepository(workspace, "repo").commit_all(p["history"])
        workspace.write("TASK.md", f"bad commit message: {p['bad_message']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        found = checked_out_main(check)
        if found is None:
            return False
        repo, tip = found
        return (
            len(tip.parents) == 1
            and history_is(repo, tip.parents[0], p["history"])
            and repo.files(tip.sha) == encoded(p["reverted"])
            and repo.is_clean()
        )


CHECK_SH = """\
#!/bin/bash
# Exits 0 when numbers.txt is valid.
total=0
while read -r x; do total=$((total + x)); done < numbers.txt
[ $((total % 2)) -eq 0 ]
"""


class GitBisect(Task):
    id = "git_bisect"
    title = "Find the first bad commit"
    difficulty = "hard"
    prompt = """\
The git repository `repo/` contains a script `check.sh` and a data file.
`./check.sh`, run from the repository root, exits with status 0 when the data in
the checked-out commit is valid and with a non-zero status otherwise. The first
(root) commit on `main` is valid and the latest one is not; once the data became
invalid it stayed invalid. Find the first commit on `main` for which `./check.sh`
fails, and write its full 40-character commit hash as the only line of
`answer.txt` in /workspace.
"""
    solution = """\
cd repo
git bisect start HEAD "$(git rev-list --max-parents=0 HEAD)" > /dev/null
git bisect run ./check.sh > /dev/null
git rev-parse refs/bisect/bad > ../answer.txt
git bisect reset > /dev/null 2>&1
"""
    WORDS = ["amber", "bronze", "coral", "denim", "ebony", "fawn", "ivory", "jade", "khaki",
             "lemon", "mauve", "ochre", "plum", "rust", "sand", "teal"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        n = rng.randint(18, 26)
        k = rng.randint(3, n - 2)
        numbers, history = "", []
        for i in range(1, n + 1):
            a, b = rng.randint(1, 999), rng.randint(1, 999)
            if (a + b) % 2 != (1 if i == k else 0):  # only commit k makes the total odd
                b += 1
            numbers += f"{a}\n{b}\n"
            message = f"Update data: {rng.choice(self.WORDS)} {rng.choice(self.WORDS)}"
            history.append((message, {"check.sh": CHECK_SH, "numbers.txt": numbers}))
        return {"history": history, "first_bad": k}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        SetupRepository(workspace, "repo", modes={"check.sh": 0o755}).commit_all(p["history"])

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        """The first commit on ``main`` (oldest first) whose data is invalid, by the rule
        check.sh states, applied here; it must be setup's commit, not a rewritten one."""
        repo = check.repo("repo")
        answer = check.files.read_text("answer.txt", limit=4096)
        if repo is None or answer is None:
            return False
        history = repo.first_parent_history(repo.branch("main") or "", limit=1000)
        for commit in reversed(history):
            if not valid_numbers((repo.files(commit.sha) or {}).get("numbers.txt")):
                return "".join(answer.split()) == commit.sha and history_is(
                    repo, commit.sha, p["history"][: p["first_bad"]]
                )
        return False


def valid_numbers(data: bytes | None) -> bool:
    """check.sh's rule: the numbers, one a line, add up to an even total."""
    try:
        numbers = [int(line) for line in (data or b"").decode().split("\n") if line.strip()]
    except ValueError:
        return False
    return data is not None and sum(numbers) % 2 == 0


class GitMergeConflict(Task):
    id = "git_merge_conflict"
    title = "Merge a branch and resolve a conflict"
    difficulty = "hard"
    prompt = """\
In the git repository `repo/`, merge the branch named on the `branch:` line of
TASK.md into `main`. The merge conflicts in `config.ini`. Resolve it so that
config.ini keeps every change from both sides: both branches changed a different
setting (keep both new values) and both appended new line(s) at the end of the
file (keep main's appended line(s) first, then the branch's). The result must not
contain conflict markers. Commit the merge as a merge commit whose first parent is
the previous tip of `main` and whose second parent is the branch tip. Finish with
`main` checked out and a clean working tree.
"""
    solution = """\
b=$(sed -n 's/^branch: //p' TASK.md)
cd repo
git merge --no-edit "$b" > /dev/null 2>&1 || true
sed -i -e '/^<<<<<<< /d' -e '/^=======$/d' -e '/^>>>>>>> /d' config.ini
git add config.ini
git commit -q --no-edit
"""
    KEYS = ["host", "port", "timeout", "retries", "log_level", "cache_size", "workers", "theme",
            "region", "buffer", "mode", "max_connections"]  # fmt: skip
    WORDS = ["alder", "aspen", "beech", "cherry", "elm", "hazel", "larch", "linden", "oak",
             "spruce"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        words = self.WORDS
        keys = rng.sample(self.KEYS, 10)
        values = [str(rng.randint(1, 999)) for _ in keys]
        base = [f"{key} = {value}" for key, value in zip(keys[:8], values[:8], strict=True)]
        i, j = rng.sample([1, 2, 4, 5], 2)
        if abs(i - j) < 2:  # changes two lines apart: a conflict only at the end
            j = 5 if i < 3 else 1
        ours, theirs = list(base), list(base)
        ours[i] = f"{keys[i]} = {1000 + rng.randint(0, 999)}"
        theirs[j] = f"{keys[j]} = {2000 + rng.randint(0, 999)}"
        ours.append(f"{keys[8]} = {rng.choice(words)}")
        theirs.append(f"{keys[9]} = {rng.choice(words)}")
        merged = list(base)
        merged[i], merged[j] = ours[i], theirs[j]
        merged += [ours[-1], theirs[-1]]
        branch = "topic-" + rng.choice(words)
        readme = f"# Config for {rng.choice(words)}\n"
        readme2 = f"Maintained by {rng.choice(words)}.\n"
        note, note_text = f"notes/{rng.choice(words)}.md", f"{rng.choice(words)}\n"

        def config(lines: list[str]) -> str:
            return "\n".join(lines) + "\n"

        initial = ("Initial config", {"config.ini": config(base), "README.md": readme})
        side = {"config.ini": config(theirs), "README.md": readme}
        return {
            "branch": branch,
            "main": [
                initial,
                ("Tune config on main", {"config.ini": config(ours), "README.md": readme}),
                ("Update README", {"config.ini": config(ours), "README.md": readme + readme2}),
            ],
            "side": [
                initial,
                (f"Tune config on {branch}", side),
                ("Add notes", {**side, note: note_text}),
            ],
            "merged": {
                "config.ini": config(merged),
                "README.md": readme + readme2,
                note: note_text,
            },
        }

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        repo = SetupRepository(workspace, "repo")
        main, side = p["main"], p["side"]
        repo.commit(*main[0])
        repo.checkout("-b", p["branch"], files=main[0][1])
        for message, files in side[1:]:
            repo.commit(message, files)
        repo.checkout("main", files=main[0][1])
        for message, files in main[1:]:
            repo.commit(message, files)
        workspace.write("TASK.md", f"branch: {p['branch']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        found = checked_out_main(check)
        if found is None or len(found[1].parents) != 2:
            return False
        repo, merge = found
        ours, theirs = merge.parents
        return (
            history_is(repo, ours, p["main"])
            and history_is(repo, theirs, p["side"])
            and repo.first_parent_history(ours)[-1] == repo.first_parent_history(theirs)[-1]
            and repo.files(merge.sha) == encoded(p["merged"])
            and repo.is_clean()
        )


class GitRestoreDeleted(Task):
    id = "git_restore_deleted"
    title = "Restore a file deleted in an earlier commit"
    difficulty = "medium"
    prompt = """\
In the git repository `repo/`, the file named on the `file:` line of TASK.md (a
path relative to the repository root) was deleted in some earlier commit. Restore
it with exactly the content it had just before it was deleted, and record this in
one new commit on top of `main`. Do not rewrite history and do not change anything
else. Finish with `main` checked out and a clean working tree.
"""
    solution = """\
f=$(sed -n 's/^file: //p' TASK.md)
cd repo
c=$(git rev-list -n 1 HEAD -- "$f")
git checkout "$c^" -- "$f"
git commit -q -m "Restore $f"
"""
    WORDS = ["anchor", "bridge", "castle", "dock", "fort", "gate", "harbor", "inn", "keep",
             "lodge", "mill", "pier", "quay", "tower", "wharf"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        words = self.WORDS
        target_word, other_word = rng.sample(words, 2)

        def text(lines: int) -> str:
            return "".join(
                f"{rng.choice(words)} {rng.choice(words)} {rng.randint(0, 999)}\n"
                for _ in range(lines)
            )

        target, other = f"docs/{target_word}.md", f"docs/{other_word}.md"
        v1, v2 = f"# {target_word}\n" + text(3), text(4)
        o1, o2 = f"# {other_word}\n" + text(2), text(2)
        r1, r2, r3 = f"# Town {rng.choice(words)}\n", text(1), text(1)
        a1, a2 = f"print({rng.choice(words)!r})\n", f"print({rng.choice(words)!r})\n"
        w1, w2 = rng.choice(words), rng.choice(words)
        readme, app = "README.md", "src/app.py"
        history: History = []
        files: dict[str, str] = {}
        for message, changes in [
            ("Initial commit", {readme: r1, app: a1}),
            (f"Add {target}", {target: v1}),
            (f"Describe the {w1} project", {readme: r1 + r2}),
            ("Expand docs", {target: v1 + v2}),
            (f"Add {other}", {other: o1}),
            ("Clean up docs", {target: None, other: o1 + o2}),
            (f"Improve {w2} output", {app: a1 + a2}),
            ("Update README", {readme: r1 + r2 + r3}),
        ]:
            for path, content in changes.items():
                if content is None:
                    del files[path]
                else:
                    files[path] = content
            history.append((message, dict(files)))
        return {"history": history, "file": target, "restored": {**files, target: v1 + v2}}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        SetupRepository(workspace, "repo").commit_all(p["history"])
        workspace.write("TASK.md", f"file: {p['file']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        found = checked_out_main(check)
        if found is None:
            return False
        repo, tip = found
        return (
            len(tip.parents) == 1
            and history_is(repo, tip.parents[0], p["history"])
            and repo.files(tip.sha) == encoded(p["restored"])
            and repo.is_clean()
        )
