"""Tasks on files and directories: finding, renaming, permissions, links, archives,
checksums, and fixing a Python module."""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import posixpath
import random
import re
import tarfile
from typing import Any

from openenv.grading import approx, same
from openenv.grading.values import Approx

from ..verify import Verification
from .base import SetupWorkspace, Task

WORDS = ["apple", "breeze", "canyon", "dune", "echo", "falcon", "granite", "horizon", "island",
         "jungle", "kelp", "lagoon", "meadow", "nectar", "orbit", "prairie", "quill", "river",
         "summit", "thicket", "umber", "valley", "willow", "yonder", "zephyr"]  # fmt: skip


def answered_path(check: Verification, answer_file: str) -> str | None:
    """The one path written in ``answer_file``, relative to the workspace and normalised
    (``/workspace/a/../b`` and ``./b`` both read ``b``); ``None`` unless there is one."""
    text = check.files.read_text(answer_file, limit=65536)
    if text is None:
        return None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        return None
    return workspace_relative(check, lines[0])


def workspace_relative(check: Verification, path: str, base: str = "") -> str | None:
    """``path`` (absolute, or relative to the workspace directory ``base``) relative to
    the workspace, resolved lexically (no link is followed); ``None`` if outside it."""
    roots = {check.workspace.rstrip("/"), os.path.realpath(check.workspace), "/workspace"}
    for root in sorted(roots, key=len, reverse=True):
        if path == root or path.startswith(root + "/"):
            path = path[len(root) :].lstrip("/") or "."
            break
    else:
        if path.startswith("/"):
            return None
        path = posixpath.join(base, path)
    path = posixpath.normpath(path)
    return None if path == ".." or path.startswith("../") else path


def tree(check: Verification, directory: str) -> dict[str, str] | None:
    """Everything beneath the real directory ``directory``: path (with ``directory/``
    in front) → kind (``file``, ``dir``, ``symlink``, ``other``); ``None`` when it is
    no directory or holds more than a thousand entries."""
    if check.files.kind(directory) != "dir":
        return None
    try:
        entries = check.files.walk(directory, max_entries=1000)
    except ValueError:
        return None
    return {f"{directory}/{entry.path}": entry.kind for entry in entries}


class FindStringFile(Task):
    id = "find_string_file"
    title = "Find the file containing a string"
    difficulty = "easy"
    prompt = """\
Exactly one file under the directory `docs/` contains the string given on the
`search string:` line of TASK.md (exact, case-sensitive match). Write that file's
path relative to /workspace (for example `docs/a/b.txt`) as the only line of
`answer.txt` in /workspace.
"""
    solution = """\
token=$(sed -n 's/^search string: //p' TASK.md)
grep -rlF -- "$token" docs > answer.txt
"""

    def params(self, rng: random.Random) -> dict[str, Any]:
        dirs = ["docs"]
        for _ in range(7):
            directory = rng.choice(dirs) + "/" + rng.choice(WORDS)
            if directory not in dirs:
                dirs.append(directory)
        files: dict[str, list[str]] = {}
        while len(files) < 30:
            path = rng.choice(dirs) + "/" + rng.choice(WORDS) + rng.choice([".txt", ".md", ".log"])
            if path not in files:
                files[path] = [
                    " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10)))
                    for _ in range(rng.randint(3, 12))
                ]
        paths = sorted(files)
        word, word2 = (w.upper() for w in rng.sample(WORDS, 2))
        suffix, suffix2 = rng.sample(["AB", "CK", "DX", "FM", "HQ", "JR", "LT", "NW", "PZ"], 2)
        num, num2 = rng.sample(range(1000, 10000), 2)
        token = f"{word}-{num}-{suffix}"
        decoys = [f"{word}-{num}-{suffix2}", f"{word}-{num2}-{suffix}",
                  f"{word2}-{num}-{suffix}", f"{word}-{num}"]  # fmt: skip
        chosen = rng.sample(paths, 5)
        for path, text in zip(chosen, [token, *decoys], strict=True):
            lines = files[path]
            lines.insert(rng.randint(0, len(lines)), f"ref {text} {rng.choice(WORDS)}")
        return {"files": files, "token": token, "target": chosen[0]}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        for path, lines in p["files"].items():
            workspace.write(path, "\n".join(lines) + "\n")
        workspace.write("TASK.md", f"search string: {p['token']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        return answered_path(check, "answer.txt") == p["target"]


class FixFailingTest(Task):
    id = "fix_failing_test"
    title = "Fix the bugs that make a unit test fail"
    difficulty = "medium"
    prompt = """\
/workspace contains a small Python module and a unittest file for it (their names
are given in TASK.md). Some tests fail. Fix the bugs in the module so that
`python3 -m unittest` passes. Do not modify the test file: the fix must go in the
module, and the functions must behave as their docstrings describe.
"""
    solution = """\
mod=$(sed -n 's/^module: //p' TASK.md)
tests=$(sed -n 's/^tests: //p' TASK.md)
sed -i -e 's|sum(values) // len(values)|sum(values) / len(values)|' \\
  -e 's|min(lo, max(hi, x))|max(lo, min(hi, x))|' \\
  -e 's|len(text.split(" "))|len(text.split())|' \\
  -e 's|items\\[n:\\]|items[-n:]|' "$mod"
python3 -m unittest -q "${tests%.py}"
"""
    WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "lambda", "theta"]
    GOOD = {"mean": "    return sum(values) / len(values)",
            "clamp": "    return max(lo, min(hi, x))",
            "word_count": "    return len(text.split())",
            "last_n": "    return items[-n:]"}  # fmt: skip
    BAD = {"mean": "    return sum(values) // len(values)",
           "clamp": "    return min(lo, max(hi, x))",
           "word_count": '    return len(text.split(" "))',
           "last_n": "    return items[n:]"}  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        module = rng.choice(["calc", "helpers", "mathtools", "listutil", "numkit"])
        bugs = rng.sample(["mean", "clamp", "word_count", "last_n"], 2)
        a, b, c = rng.sample(range(1, 60), 3)
        while (a + b + c) % 3 == 0:  # a mean that is not a whole number
            c += 1
        d = rng.randint(-9, 9)
        lo, hi = rng.randint(-20, 0), rng.randint(5, 30)
        inside, below = rng.randint(lo + 1, hi - 1), lo - rng.randint(1, 9)
        above = hi + rng.randint(1, 9)
        words = rng.sample(self.WORDS, rng.randint(3, 6))
        text = "  " + words[0]
        for word in words[1:]:
            text += rng.choice(["  ", "\t", " \t ", "   "]) + word
        k = rng.choice([5, 7, 9, 11])
        n = rng.randint(1, k - 1)
        s = rng.randint(0, 50)
        return {"module": module, "bugs": bugs, "a": a, "b": b, "c": c, "d": d, "lo": lo,
                "hi": hi, "inside": inside, "below": below, "above": above, "text": text,
                "words": len(words), "k": k, "n": n, "s": s}  # fmt: skip

    def module_source(self, p: dict[str, Any]) -> str:
        line = {name: (self.BAD if name in p["bugs"] else self.GOOD)[name] for name in self.GOOD}
        return f'''"""Small helper functions."""


def mean(values):
    """Arithmetic mean of a non-empty list of numbers."""
{line["mean"]}


def clamp(x, lo, hi):
    """Limit x to the closed interval [lo, hi]."""
{line["clamp"]}


def word_count(text):
    """Number of whitespace-separated words in text."""
{line["word_count"]}


def last_n(items, n):
    """The last n items of a list (an empty list when n <= 0)."""
    if n <= 0:
        return []
{line["last_n"]}
'''

    def test_source(self, p: dict[str, Any]) -> str:
        a, b, c, d, lo, hi, s, k, n = (p[key] for key in "a b c d lo hi s k n".split())
        return f"""import unittest

from {p["module"]} import clamp, last_n, mean, word_count


class TestHelpers(unittest.TestCase):
    def test_mean(self):
        self.assertAlmostEqual(mean([{a}, {b}, {c}]), {a + b + c} / 3)
        self.assertAlmostEqual(mean([{d}]), {d})

    def test_clamp(self):
        self.assertEqual(clamp({p["inside"]}, {lo}, {hi}), {p["inside"]})
        self.assertEqual(clamp({p["below"]}, {lo}, {hi}), {lo})
        self.assertEqual(clamp({p["above"]}, {lo}, {hi}), {hi})

    def test_word_count(self):
        self.assertEqual(word_count({p["text"]!r}), {p["words"]})
        self.assertEqual(word_count(""), 0)

    def test_last_n(self):
        self.assertEqual(last_n(list(range({s}, {s + k})), {n}), list(range({s + k - n}, {s + k})))
        self.assertEqual(last_n([1, 2, 3], 0), [])


if __name__ == "__main__":
    unittest.main()
"""

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        module = p["module"]
        workspace.write(f"{module}.py", self.module_source(p))
        workspace.write(f"test_{module}.py", self.test_source(p))
        workspace.write("TASK.md", f"module: {module}.py\ntests: test_{module}.py\n")

    def checks(self, p: dict[str, Any]) -> list[tuple[str, Any]]:
        """What the fixed functions must give: the test file's cases, then some of ours."""
        a, b, c, d, lo, hi, s, k, n = (p[key] for key in "a b c d lo hi s k n".split())
        return [
            (f"mean([{a}, {b}, {c}])", approx((a + b + c) / 3)),
            (f"mean([{d}])", approx(d)),
            (f"clamp({p['inside']}, {lo}, {hi})", p["inside"]),
            (f"clamp({p['below']}, {lo}, {hi})", lo),
            (f"clamp({p['above']}, {lo}, {hi})", hi),
            (f"word_count({p['text']!r})", p["words"]),
            ('word_count("")', 0),
            (f"last_n(list(range({s}, {s + k})), {n})", list(range(s + k - n, s + k))),
            ("last_n([1, 2, 3], 0)", []),
            ("mean([1, 2])", approx(1.5)),
            ("mean([2.5, 3.5, 7])", approx(13 / 3)),
            ("clamp(5, 0, 10)", 5),
            ("clamp(-3, -1, 4)", -1),
            ("clamp(99, 1, 7)", 7),
            ("clamp(3, 3, 8)", 3),
            ('word_count(" a\\tb  c\\n d ")', 4),
            ('word_count("   ")', 0),
            ('word_count("one")', 1),
            ("last_n([1, 2, 3, 4, 5, 6, 7], 3)", [5, 6, 7]),
            ("last_n([1, 2], 0)", []),
            ("last_n([4, 5, 6, 7, 8, 9], 5)", [5, 6, 7, 8, 9]),
        ]

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        module = p["module"]
        if check.files.read_text(f"test_{module}.py", limit=65536) != self.test_source(p):
            return False
        source = check.files.read_text(f"{module}.py", limit=2**20)
        if source is None:
            return False
        with check.submission(source) as submission:
            if not submission.load(timeout_s=5).ok or not submission.begin({}, "", 5).ok:
                return False
            for expression, expected in self.checks(p):
                answer = submission.evaluate(expression, timeout_s=5)
                if not answer.ok:
                    return False
                whole = isinstance(expected, Approx) and expected.value.is_integer()
                if not (
                    same(expected, answer.value)
                    or (whole and same(int(expected.value), answer.value))  # mean([7]) == 7
                ):
                    return False
        return True


class LargestFile(Task):
    id = "largest_file"
    title = "Find the largest file"
    difficulty = "easy"
    prompt = """\
Find the largest regular file (by size in bytes) anywhere under `data/`, including
files in hidden directories and hidden files. Write its path relative to
/workspace (for example `data/x/y.bin`) as the only line of `largest.txt`.
"""
    solution = """\
find data -type f -printf '%s %p\\n' | sort -n | tail -n 1 | cut -d' ' -f2- > largest.txt
"""
    WORDS = ["core", "dump", "cache", "index", "blob", "chunk", "frame", "shard", "store",
             "tile", "trace", "batch", "image", "model", "table", "vault"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        words = self.WORDS
        dirs = ["data", "data/.cache"]
        for _ in range(6):
            directory = rng.choice(dirs) + "/" + rng.choice(words)
            if directory not in dirs:
                dirs.append(directory)
        sizes: dict[str, int] = {}
        for size in rng.sample(range(200, 60000), 25):
            while True:
                path = rng.choice(dirs) + "/" + rng.choice(["", "."]) + rng.choice(words)
                path += rng.choice([".bin", ".dat", ".txt", ".csv"])
                if path not in sizes:
                    break
            sizes[path] = size
        files = {path: [size, rng.choice(words) + "\n"] for path, size in sizes.items()}
        return {"dirs": dirs, "files": files, "target": max(sizes, key=sizes.__getitem__)}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        for directory in p["dirs"]:
            workspace.mkdir(directory)
        for path, (size, unit) in p["files"].items():
            workspace.write(path, (unit * (size // len(unit) + 1))[:size])

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        return answered_path(check, "largest.txt") == p["target"]


IMAGE_NAME = re.compile(r"IMG_([0-9]{4})\.jpeg")


class RenameByPattern(Task):
    id = "rename_by_pattern"
    title = "Rename files by pattern"
    difficulty = "medium"
    prompt = """\
In `photos/`, rename every file whose name is exactly `IMG_` followed by four
digits and `.jpeg` (e.g. `IMG_0042.jpeg`) to `<prefix>_<digits>.jpg`, where
<prefix> is given on the `prefix:` line of TASK.md and <digits> are the same four
digits (e.g. `beach_0042.jpg`). Keep the files in `photos/` and keep their
contents; do not rename, change or delete any other file.
"""
    solution = """\
prefix=$(sed -n 's/^prefix: //p' TASK.md)
for f in photos/IMG_[0-9][0-9][0-9][0-9].jpeg; do
  n=${f#photos/IMG_}
  n=${n%.jpeg}
  mv -- "$f" "photos/${prefix}_$n.jpg"
done
"""

    def params(self, rng: random.Random) -> dict[str, Any]:
        prefix = rng.choice(["beach", "trip", "party", "hike", "garden", "city", "snow"])
        prefix += str(rng.randint(2015, 2024))
        nums = [f"{n:04d}" for n in rng.sample(range(1, 10000), 14)]
        files = {}
        for n in nums[:10]:
            files[f"IMG_{n}.jpeg"] = f"jpeg {n} {rng.randint(0, 10**9)}\n"
        files[f"IMG_{nums[10]}.txt"] = f"caption for {nums[10]}\n"
        files[f"thumb_IMG_{nums[11]}.jpeg"] = f"thumb {rng.randint(0, 10**9)}\n"
        files[f"IMG_{nums[12]}.jpeg.bak"] = f"backup {rng.randint(0, 10**9)}\n"
        files[f"IMG_{nums[13][:2]}.jpeg"] = f"short {rng.randint(0, 10**9)}\n"
        files["README.txt"] = f"Photos from {prefix}\n"
        return {"prefix": prefix, "files": files}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        workspace.mkdir("photos")
        for name, text in p["files"].items():
            workspace.write(f"photos/{name}", text)
        workspace.write("TASK.md", f"prefix: {p['prefix']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        expected = {}
        for name, text in p["files"].items():
            match = IMAGE_NAME.fullmatch(name)
            expected[f"{p['prefix']}_{match[1]}.jpg" if match else name] = text
        return check.files.listdir("photos") == sorted(expected) and all(
            check.files.read_text(f"photos/{name}", limit=4096) == text
            for name, text in expected.items()
        )


class DirTree(Task):
    id = "dir_tree"
    title = "Create a directory tree"
    difficulty = "easy"
    prompt = """\
TASK.md lists a directory tree: a `root:` line, then `dir: <path>` and
`file: <path>` lines (paths relative to /workspace). Create exactly these
directories and files, and nothing else inside the root directory. All files must
be empty, except `<root>/README.md`, which must contain exactly one line:
`# <root>` (a hash, a space, the root directory name).
"""
    solution = """\
root=$(sed -n 's/^root: //p' TASK.md)
sed -n 's/^dir: //p' TASK.md | while IFS= read -r d; do mkdir -p "$d"; done
sed -n 's/^file: //p' TASK.md | while IFS= read -r f; do mkdir -p "$(dirname "$f")"; : > "$f"; done
echo "# $root" > "$root/README.md"
"""
    WORDS = ["atlas", "beacon", "comet", "drift", "ember", "flux", "gale", "halo", "ion",
             "jade", "karma", "lotus", "mosaic", "nimbus", "oasis", "pulse"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        root = rng.choice(["webapp", "toolkit", "service", "library", "pipeline"])
        root += "_" + rng.choice(self.WORDS)
        pkg, m1, m2 = rng.sample(self.WORDS, 3)
        dirs = [root, f"{root}/src", f"{root}/src/{pkg}", f"{root}/tests", f"{root}/docs"]
        files = [f"{root}/README.md", f"{root}/src/{pkg}/__init__.py", f"{root}/src/{pkg}/{m1}.py",
                 f"{root}/src/{pkg}/{m2}.py", f"{root}/tests/test_{m1}.py",
                 f"{root}/docs/index.md"]  # fmt: skip
        if rng.random() < 0.5:
            dirs.append(f"{root}/docs/" + rng.choice(["guides", "api", "howto"]))
        if rng.random() < 0.5:
            dirs += [f"{root}/data", f"{root}/data/raw", f"{root}/data/processed"]
            files.append(f"{root}/data/raw/.gitkeep")
        if rng.random() < 0.5:
            dirs.append(f"{root}/scripts")
            files.append(f"{root}/scripts/" + rng.choice(["build", "deploy", "release"]) + ".sh")
        if rng.random() < 0.5:
            dirs.append(f"{root}/config")
        return {"root": root, "dirs": dirs, "files": files}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        lines = [f"root: {p['root']}"]
        lines += [f"dir: {d}" for d in p["dirs"]] + [f"file: {f}" for f in p["files"]]
        workspace.write("TASK.md", "".join(line + "\n" for line in lines))

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        root = p["root"]
        found = tree(check, root)
        expected = {**dict.fromkeys(p["dirs"], "dir"), **dict.fromkeys(p["files"], "file")}
        if found is None or {root: "dir", **found} != expected:
            return False
        title = f"# {root}".encode()
        readme = f"{root}/README.md"
        return all(
            check.files.read_bytes(path, limit=4096)
            in ((title, title + b"\n") if path == readme else (b"",))
            for path in p["files"]
        )


class FixPermissions(Task):
    id = "fix_permissions"
    title = "Fix execute permissions of scripts"
    difficulty = "easy"
    prompt = """\
In `tools/`, every file whose first line starts with `#!` must be readable and
executable by its owner (u+rx). Every other file in `tools/` must have no execute
permission at all (no x bit for user, group or others). Do not change the contents
or names of any file.
"""
    solution = """\
for f in tools/*; do
  if [ "$(head -c 2 "$f")" = '#!' ]; then chmod u+rx "$f"; else chmod a-x "$f"; fi
done
"""
    WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]

    def params(self, rng: random.Random) -> dict[str, Any]:
        words = self.WORDS
        scripts = rng.sample(["deploy.sh", "backup.sh", "build.sh", "report.py", "cleanup.sh",
                              "sync.py", "lint.sh", "rotate.py"], rng.randint(3, 5))  # fmt: skip
        plain = rng.sample(["README.md", "config.ini", "helpers.sh", "notes.txt", "lib.py",
                            "data.csv", "usage.txt"], rng.randint(3, 5))  # fmt: skip
        files: dict[str, tuple[str, bool]] = {}
        for name in scripts:
            if name.endswith(".sh"):
                files[name] = (f"#!/bin/bash\necho {rng.choice(words)}\n", True)
            else:
                files[name] = (f"#!/usr/bin/env python3\nprint({rng.choice(words)!r})\n", True)
        for name in plain:
            if name.endswith(".sh"):
                text = f"# sourced by other scripts\n{rng.choice(words)}() {{ echo hi; }}\n"
            elif name.endswith(".py"):
                text = f"def {rng.choice(words)}():\n    return 1\n"
            else:
                text = f"see {rng.choice(words)} (#!/bin/sh is not needed)\n"
            files[name] = (text, False)
        names = sorted(files)
        modes = {}
        for name in names:
            if files[name][1]:
                modes[name] = rng.choice([0o644, 0o600, 0o755, 0o744, 0o664])
            else:
                modes[name] = rng.choice([0o644, 0o755, 0o711, 0o664, 0o654, 0o645])
        modes[rng.choice([n for n in names if files[n][1]])] = 0o644  # at least one of each
        modes[rng.choice([n for n in names if not files[n][1]])] = 0o755  # to fix
        return {"files": files, "modes": modes}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        workspace.mkdir("tools")
        for name in sorted(p["files"]):
            workspace.write(f"tools/{name}", p["files"][name][0], mode=p["modes"][name])

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        if check.files.listdir("tools") != sorted(p["files"]):
            return False
        for name, (text, script) in p["files"].items():
            path = f"tools/{name}"
            mode = check.files.mode(path)
            if check.files.read_text(path, limit=4096) != text or mode is None:
                return False
            if (mode & 0o500 != 0o500) if script else (mode & 0o111 != 0):
                return False
        return True


class TarArchive(Task):
    id = "tar_archive"
    title = "Create a compressed tar archive with exclusions"
    difficulty = "medium"
    prompt = """\
Create `backup.tar.gz` in /workspace: a gzip-compressed tar archive of the
`project/` directory whose member paths start with `project/` (e.g.
`project/README.md`). Include every file under `project/` except files whose name
matches the shell glob pattern on the `exclude:` line of TASK.md (at any depth).
Leave `project/` itself unchanged.
"""
    solution = """\
pat=$(sed -n 's/^exclude: //p' TASK.md)
tar -czf backup.tar.gz --exclude="$pat" project
"""
    WORDS = ["argon", "boron", "carbon", "cobalt", "copper", "helium", "iron", "neon", "nickel",
             "oxygen", "radon", "silver", "sodium", "zinc"]  # fmt: skip
    MAX_MEMBERS = 1000
    MAX_MEMBER_BYTES = 2**20

    def params(self, rng: random.Random) -> dict[str, Any]:
        words = self.WORDS
        exclude = rng.choice(["*.log", "*.tmp"])
        files = {"project/README.md": f"# {rng.choice(words)}\n"}
        for directory, ext, count in [("src", ".py", 3), ("docs", ".md", 2), ("logs", ".log", 2),
                                      ("src", ".tmp", 1), ("", ".log", 1), ("cache", ".tmp", 2),
                                      ("src/lib", ".py", 2), ("docs", ".txt", 1)]:  # fmt: skip
            for _ in range(count):
                path = "/".join(x for x in ["project", directory, rng.choice(words) + ext] if x)
                files[path] = "".join(
                    f"{rng.choice(words)} {rng.randint(0, 9999)}\n"
                    for _ in range(rng.randint(1, 6))
                )
        files[f"project/docs/{rng.choice(words)}.log.md"] = "not a log\n"
        return {"exclude": exclude, "files": files}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        for path, text in p["files"].items():
            workspace.write(path, text)
        workspace.write("TASK.md", f"exclude: {p['exclude']}\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        files = {path: text.encode() for path, text in p["files"].items()}
        expected = {
            path: data
            for path, data in files.items()
            if not fnmatch.fnmatchcase(posixpath.basename(path), p["exclude"])
        }
        left = tree(check, "project") or {}
        left = {path: kind for path, kind in left.items() if kind != "dir"}
        if left != dict.fromkeys(files, "file") or any(
            check.files.read_bytes(path, limit=65536) != data for path, data in files.items()
        ):
            return False  # project/ changed
        data = check.files.read_bytes("backup.tar.gz")
        return data is not None and data[:2] == b"\x1f\x8b" and self.members(data) == expected

    def members(self, data: bytes) -> dict[str, bytes] | None:
        """The regular files in the gzip-compressed tar ``data`` (name → content); ``None``
        for anything else in it, a name twice, or more than the limits (a gzip bomb)."""
        found: dict[str, bytes] = {}
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r|gz") as archive:
                for count, member in enumerate(archive):
                    if count >= self.MAX_MEMBERS or member.size > self.MAX_MEMBER_BYTES:
                        return None
                    name = member.name
                    while name.startswith("./"):
                        name = name[2:]
                    name = name.rstrip("/")
                    if member.isdir():
                        continue
                    content = archive.extractfile(member) if member.isfile() else None
                    if content is None or name in found:
                        return None
                    found[name] = content.read()
        except Exception:  # not a gzip-compressed tar archive
            return None
        return found


class ChecksumMismatch(Task):
    id = "checksum_mismatch"
    title = "Find the file with a bad checksum"
    difficulty = "medium"
    prompt = """\
`downloads/SHA256SUMS` lists the expected SHA-256 checksum of every file in
`downloads/` (in the format written by `sha256sum`). Exactly one file does not
match its listed checksum. Write `answer.txt` with exactly two lines: first the
name of that file (just the file name, e.g. `tool-1.2.tar`), then its actual
SHA-256 checksum (64 lowercase hex digits).
"""
    solution = """\
bad=$(cd downloads && sha256sum -c SHA256SUMS 2>/dev/null | awk -F': ' '$NF == "FAILED" { print $1 }')
sum=$(sha256sum "downloads/$bad" | cut -d' ' -f1)
printf '%s\\n%s\\n' "$bad" "$sum" > answer.txt
"""  # noqa: E501
    WORDS = ["atlas", "bolt", "crane", "dynamo", "engine", "forge", "gear", "hammer", "lever",
             "motor", "piston", "rivet", "spring", "turbine"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        names = [
            f"{word}-{rng.randint(0, 5)}.{rng.randint(0, 20)}."
            + rng.choice(["tar", "zip", "iso", "bin"])
            for word in rng.sample(self.WORDS, rng.randint(6, 9))
        ]
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789\n"
        data = {
            name: "".join(rng.choice(alphabet) for _ in range(rng.randint(200, 2000)))
            for name in names
        }
        sums = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in data.items()}
        bad = rng.choice(names)
        i = rng.randrange(len(data[bad]))
        data[bad] = data[bad][:i] + ("X" if data[bad][i] != "X" else "Y") + data[bad][i + 1 :]
        return {"data": data, "sums": sums, "bad": bad}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        workspace.mkdir("downloads")
        for name, text in p["data"].items():
            workspace.write(f"downloads/{name}", text)
        sums = "".join(f"{p['sums'][name]}  {name}\n" for name in sorted(p["data"]))
        workspace.write("downloads/SHA256SUMS", sums)

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        text = check.files.read_text("answer.txt", limit=65536)
        if text is None:
            return False
        bad = p["bad"]
        expected = [bad, hashlib.sha256(p["data"][bad].encode()).hexdigest()]
        return [line.strip() for line in text.strip().split("\n")] == expected


class SymlinkLatest(Task):
    id = "symlink_latest"
    title = "Point a symlink at the newest release"
    difficulty = "easy"
    prompt = """\
`releases/` contains one directory per release, named `MAJOR.MINOR.PATCH`. Create
a symbolic link named `current` in /workspace that points to the directory of the
highest version (compare versions numerically, component by component, so
1.10.0 is higher than 1.9.9). Do not modify `releases/`.
"""
    solution = """\
v=$(ls releases | sort -V | tail -n 1)
ln -sfn "releases/$v" current
"""

    def params(self, rng: random.Random) -> dict[str, Any]:
        while True:
            versions: set[tuple[int, int, int]] = set()
            while len(versions) < 7:
                versions.add((rng.randint(1, 3), rng.randint(0, 12), rng.randint(0, 15)))
            names = [".".join(map(str, v)) for v in sorted(versions)]
            if max(names) != names[-1]:  # sorting the names as text picks another one
                return {"releases": names}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        for name in p["releases"]:
            workspace.write(f"releases/{name}/VERSION", name + "\n")

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        names = p["releases"]
        if check.files.listdir("releases") != sorted(names) or any(
            check.files.listdir(f"releases/{name}") != ["VERSION"]
            or check.files.read_text(f"releases/{name}/VERSION", limit=4096) != name + "\n"
            for name in names
        ):
            return False  # releases/ changed
        target = check.files.readlink("current")
        return (
            target is not None
            and workspace_relative(check, target) == f"releases/{names[-1]}"
            and check.files.kind(f"releases/{names[-1]}") == "dir"
        )


class CleanupTmpFiles(Task):
    id = "cleanup_tmp_files"
    title = "Delete temporary files and empty directories"
    difficulty = "medium"
    prompt = """\
Under `build/` (recursively), delete every file whose name ends in `.tmp` or in
`~`. Then remove every directory under `build/` that is empty, including
directories that only become empty because of these deletions and directories
that were already empty; keep `build/` itself. Do not delete or change anything
else.
"""
    solution = """\
find build -type f \\( -name '*.tmp' -o -name '*~' \\) -delete
find build -mindepth 1 -type d -empty -delete
"""
    WORDS = ["alpha", "bravo", "delta", "gamma", "kilo", "lima", "mike", "oscar", "papa",
             "romeo", "tango", "zulu"]  # fmt: skip

    def params(self, rng: random.Random) -> dict[str, Any]:
        words = self.WORDS
        a, b, c, d = rng.sample(words, 4)
        keep_names = ["main.c", "util.h", "app.o", "notes.tmp.txt", "tmpdata.c", "run.log",
                      "Makefile"]  # fmt: skip
        dirs = {"build/obj": "mix", f"build/obj/{a}": "mix", "build/cache": "tmp",
                f"build/cache/{b}": "tmp", "build/src": "mix", f"build/empty_{c}": "none",
                f"build/out/{d}": "tmp", "build/out": "keep"}  # fmt: skip
        files = {}
        for directory, kind in sorted(dirs.items()):
            if kind in ("tmp", "mix"):
                for _ in range(rng.randint(1, 3)):
                    name = rng.choice(words) + rng.choice([".tmp", ".c~", ".txt~", ".o.tmp"])
                    files[f"{directory}/{name}"] = f"tmp {rng.randint(0, 10**6)}\n"
            if kind in ("keep", "mix"):
                for name in rng.sample(keep_names, rng.randint(1, 3)):
                    files[f"{directory}/{name}"] = f"keep {rng.randint(0, 10**6)}\n"
        return {"dirs": sorted(dirs), "files": files}

    def setup(self, workspace: SetupWorkspace, p: dict[str, Any]) -> None:
        for directory in p["dirs"]:
            workspace.mkdir(directory)
        for path, text in p["files"].items():
            workspace.write(path, text)

    def verify(self, check: Verification, p: dict[str, Any]) -> bool:
        kept = {
            path: text
            for path, text in p["files"].items()
            if not (path.endswith(".tmp") or path.endswith("~"))
        }
        dirs = {posixpath.dirname(path) for path in kept}
        for path in list(dirs):
            while path != "build":
                dirs.add(path)
                path = posixpath.dirname(path)
        dirs.discard("build")
        found = tree(check, "build")
        return found == {**dict.fromkeys(dirs, "dir"), **dict.fromkeys(kept, "file")} and all(
            check.files.read_text(path, limit=4096) == text for path, text in kept.items()
        )
