#!/usr/bin/env python3
"""Validate the terminal environment task set (terminal_env/tasks.yaml).

Plain script, not a pytest module:

    python envs/terminal_env/tests/check_tasks.py [--only ID ...] [--seeds 0 1 7] [-v]

For every task and seed it
  * runs `setup` (bash -e) in a fresh temp workspace and checks that `verify` FAILS there;
  * runs `setup` again in another fresh workspace, checks that setup is deterministic
    (same workspace hash), runs `solution`, and checks that `verify` PASSES, prints at
    most one short line, and does not modify the workspace.
It also reports tasks whose setup output does not depend on the seed, and tasks where
the workspace solved for one seed also passes verification for another seed.
Exit status 0 when everything is fine.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

TASKS_FILE = Path(__file__).resolve().parents[1] / "terminal_env" / "tasks.yaml"
REQUIRED_KEYS = ("id", "title", "difficulty", "prompt", "setup", "verify", "solution")
DIFFICULTIES = {"easy", "medium", "hard"}
ID_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
MIN_TASKS = 18
DEFAULT_SEEDS = (0, 1, 7)
TIMEOUT_S = 20
MAX_VERIFY_OUTPUT = 80  # characters; verify must print nothing revealing
MAX_SEED_INVARIANT_FRACTION = 0.1


@dataclass
class Result:
    rc: int
    out: str
    timed_out: bool = False


@dataclass
class TaskReport:
    task_id: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    hashes: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0


def make_env(seed: int, home: str) -> dict[str, str]:
    return {
        "HOME": home,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "GIT_AUTHOR_NAME": "agent",
        "GIT_AUTHOR_EMAIL": "agent@openenv.local",
        "GIT_COMMITTER_NAME": "agent",
        "GIT_COMMITTER_EMAIL": "agent@openenv.local",
        "SEED": str(seed),
    }


def run_bash(script: str, cwd: str, env: dict[str, str], errexit: bool) -> Result:
    cmd = ["bash", "-e", "-c", script] if errexit else ["bash", "-c", script]
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
        return Result(proc.returncode, out.decode(errors="replace"))
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        return Result(-1, out.decode(errors="replace"), timed_out=True)


def workspace_hash(root: str) -> str:
    """Hash of paths, types, permission bits, contents and link targets (.git excluded)."""
    h = hashlib.sha256()
    for base, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(dirs + files):
            path = os.path.join(base, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            h.update(rel.encode() + b"\0" + oct(st.st_mode).encode() + b"\0")
            if os.path.islink(path):
                h.update(os.readlink(path).encode())
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
            h.update(b"\n")
    return h.hexdigest()


def tail(text: str, n: int = 6) -> str:
    lines = text.strip().splitlines()[-n:]
    return " | ".join(line.strip() for line in lines)[:400]


def check_seed(task: dict, seed: int, other_seed: int, verbose: bool) -> tuple[list, list, str]:
    """Returns (errors, warnings, setup hash) for one task and seed."""
    errors: list[str] = []
    warnings: list[str] = []
    tid = task["id"]
    with tempfile.TemporaryDirectory(prefix=f"tt_{tid}_{seed}_") as tmp:
        home = os.path.join(tmp, "home")
        ws_a = os.path.join(tmp, "ws_a")
        ws_b = os.path.join(tmp, "ws_b")
        for d in (home, ws_a, ws_b):
            os.mkdir(d)
        env = make_env(seed, home)

        # 1. untouched workspace must not verify
        r = run_bash(task["setup"], ws_a, env, errexit=True)
        if r.rc != 0:
            errors.append(f"seed {seed}: setup failed (rc={r.rc}): {tail(r.out)}")
            return errors, warnings, ""
        hash_a = workspace_hash(ws_a)
        r = run_bash(task["verify"], ws_a, env, errexit=False)
        if r.timed_out:
            errors.append(f"seed {seed}: verify timed out on untouched workspace")
        elif r.rc == 0:
            errors.append(f"seed {seed}: verify passes on the untouched workspace")

        # 2. setup is deterministic; solution solves it
        r = run_bash(task["setup"], ws_b, env, errexit=True)
        if r.rc != 0:
            errors.append(f"seed {seed}: second setup failed (rc={r.rc}): {tail(r.out)}")
            return errors, warnings, hash_a
        if workspace_hash(ws_b) != hash_a:
            errors.append(f"seed {seed}: setup is not deterministic")
        r = run_bash(task["solution"], ws_b, env, errexit=True)
        if r.rc != 0:
            errors.append(f"seed {seed}: solution failed (rc={r.rc}): {tail(r.out)}")
        before = workspace_hash(ws_b)
        r = run_bash(task["verify"], ws_b, env, errexit=False)
        if r.rc != 0:
            msg = "timed out" if r.timed_out else f"rc={r.rc}"
            errors.append(f"seed {seed}: verify fails after solution ({msg})")
            if verbose:
                debug = run_bash(
                    task["verify"].replace("exec >/dev/null 2>&1", ""), ws_b, env, False
                )
                errors.append(f"seed {seed}: verify output: {tail(debug.out, 12)}")
        out = r.out.strip()
        if len(out) > MAX_VERIFY_OUTPUT or "\n" in out:
            errors.append(f"seed {seed}: verify prints too much ({len(r.out)} chars)")
        if workspace_hash(ws_b) != before:
            errors.append(f"seed {seed}: verify modified the workspace")

        # 3. an answer for this seed should not pass for another seed
        if other_seed != seed:
            r = run_bash(task["verify"], ws_b, make_env(other_seed, home), errexit=False)
            if r.rc == 0:
                warnings.append(
                    f"workspace solved for seed {seed} also verifies as seed {other_seed}"
                )
    return errors, warnings, hash_a


def validate_schema(tasks: object) -> list[str]:
    errors = []
    if not isinstance(tasks, list):
        return ["top level of tasks.yaml must be a list"]
    if len(tasks) < MIN_TASKS:
        errors.append(f"only {len(tasks)} tasks, need at least {MIN_TASKS}")
    seen = set()
    for i, t in enumerate(tasks):
        if not isinstance(t, dict):
            errors.append(f"task #{i} is not a mapping")
            continue
        tid = t.get("id", f"#{i}")
        keys = set(t)
        missing = [k for k in REQUIRED_KEYS if k not in keys]
        extra = sorted(keys - set(REQUIRED_KEYS))
        if missing:
            errors.append(f"{tid}: missing keys {missing}")
        if extra:
            errors.append(f"{tid}: unknown keys {extra}")
        for k in REQUIRED_KEYS:
            if k in t and not isinstance(t[k], str):
                errors.append(f"{tid}: {k} must be a string")
        for k in ("id", "title", "prompt", "verify", "solution"):
            if isinstance(t.get(k), str) and not t[k].strip():
                errors.append(f"{tid}: {k} is empty")
        if isinstance(tid, str) and not ID_RE.match(tid):
            errors.append(f"{tid}: id is not snake_case")
        if tid in seen:
            errors.append(f"{tid}: duplicate id")
        seen.add(tid)
        if t.get("difficulty") not in DIFFICULTIES:
            errors.append(f"{tid}: difficulty must be one of {sorted(DIFFICULTIES)}")
        prompt, setup = t.get("prompt", ""), t.get("setup", "")
        if isinstance(prompt, str) and "TASK.md" in prompt and "TASK.md" not in str(setup):
            errors.append(f"{tid}: prompt mentions TASK.md but setup does not create it")
    return errors


def check_task(task: dict, seeds: tuple[int, ...], verbose: bool) -> TaskReport:
    report = TaskReport(task["id"])
    start = time.monotonic()
    for i, seed in enumerate(seeds):
        other = seeds[(i + 1) % len(seeds)]
        errors, warnings, h = check_seed(task, seed, other, verbose)
        report.errors += errors
        report.warnings += warnings
        report.hashes[seed] = h
    report.seconds = time.monotonic() - start
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="check only these task ids")
    parser.add_argument("--seeds", nargs="*", type=int, default=list(DEFAULT_SEEDS))
    parser.add_argument("-j", "--jobs", type=int, default=max(4, 2 * (os.cpu_count() or 1)))
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show verify output on failure"
    )
    args = parser.parse_args()

    start = time.monotonic()
    with open(TASKS_FILE) as f:
        tasks = yaml.safe_load(f)
    schema_errors = validate_schema(tasks)
    for e in schema_errors:
        print(f"SCHEMA {e}")
    if not isinstance(tasks, list):
        return 1
    runnable = [
        t
        for t in tasks
        if isinstance(t, dict) and all(isinstance(t.get(k), str) for k in REQUIRED_KEYS)
    ]
    if args.only:
        runnable = [t for t in runnable if t["id"] in args.only]
    seeds = tuple(args.seeds)

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        reports = list(pool.map(lambda t: check_task(t, seeds, args.verbose), runnable))

    failed, invariant = [], []
    for t, rep in zip(runnable, reports, strict=True):
        varies = ""
        if 0 in rep.hashes and 1 in rep.hashes and rep.hashes[0] and rep.hashes[0] == rep.hashes[1]:
            invariant.append(rep.task_id)
            varies = " [seed-invariant setup]"
        status = "FAIL" if rep.errors else "ok  "
        print(f"{status} {rep.task_id:<22} {t['difficulty']:<6} {rep.seconds:5.1f}s{varies}")
        for e in rep.errors:
            print(f"       error: {e}")
        for w in rep.warnings:
            print(f"       warning: {w}")
        if rep.errors:
            failed.append(rep.task_id)

    counts = {d: sum(1 for t in runnable if t["difficulty"] == d) for d in sorted(DIFFICULTIES)}
    too_invariant = len(invariant) > MAX_SEED_INVARIANT_FRACTION * max(len(runnable), 1)
    print(
        f"TOTAL: {len(runnable) - len(failed)}/{len(runnable)} tasks passed "
        f"(seeds {', '.join(map(str, seeds))}; "
        + ", ".join(f"{n} {d}" for d, n in counts.items())
        + f"); schema errors: {len(schema_errors)}; "
        f"seed-invariant setups: {', '.join(invariant) if invariant else 'none'}; "
        f"{time.monotonic() - start:.1f}s"
    )
    if too_invariant:
        print("too many seed-invariant setups")
    return 1 if failed or schema_errors or too_invariant else 0


if __name__ == "__main__":
    sys.exit(main())
