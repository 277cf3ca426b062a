#!/usr/bin/env python3
"""Validate the terminal environment's task set (``terminal_env.server.tasks``).

Plain script, not a pytest module:

    python envs/terminal_env/tests/check_tasks.py [--only ID ...] [--seeds 0 1 7] [-v]

For every task and seed it
  * runs the task's setup in a fresh temp workspace and checks that the verifier
    FAILS there (doing nothing scores 0);
  * runs setup again in another fresh workspace and checks that it made the same
    workspace (commit hashes included);
  * runs the solution with bash in that workspace and checks that the verifier
    PASSES and does not modify the workspace.
The verifier runs as the environment runs it: in a fresh trusted process
(``openenv.grading.trusted.run_trusted``), reading the workspace as data; a verifier
that raises is an error. It also reports tasks whose setup does not depend on the
seed, and workspaces solved for one seed that also pass for another (warnings).
Exit status 0 when everything is fine.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # terminal_env, if not installed

from terminal_env.server.environment import AGENT_IDENTITY
from terminal_env.server.tasks import TASKS, SetupWorkspace, Task
from terminal_env.server.verify import run_verifier

from openenv.grading.trusted import TrustedFailure

DIFFICULTIES = {"easy", "medium", "hard"}
ID_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
MIN_TASKS = 18
DEFAULT_SEEDS = (0, 1, 7)
MAX_WORKERS = 2
SOLUTION_TIMEOUT_S = 30
SLOW_VERIFY_S = 2.0  # an honest workspace should verify well under a second (plus start-up)
MAX_SEED_INVARIANT_FRACTION = 0.1


@dataclass
class TaskReport:
    task_id: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    hashes: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0
    slowest_verify: float = 0.0


def workspace_hash(root: str, index: bool = False) -> str:
    """Hash of paths, types, permission bits, contents and link targets, ``.git``
    included (objects, refs, logs) but for its index unless ``index`` (the index holds
    file times, so two setups differ there)."""
    digest = hashlib.sha256()
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(base, name)
            relative = os.path.relpath(path, root)
            if not index and relative.split(os.sep)[-2:] == [".git", "index"]:
                continue
            info = os.lstat(path)
            digest.update(relative.encode() + b"\0" + oct(info.st_mode).encode() + b"\0")
            if os.path.islink(path):
                digest.update(os.readlink(path).encode())
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    digest.update(hashlib.sha256(f.read()).digest())
            digest.update(b"\n")
    return digest.hexdigest()


def run_solution(task: Task, workspace: str, home: str) -> tuple[int, str]:
    """The task's solution in ``bash -e``, as a scripted agent would run it."""
    env = {"HOME": home, "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    process = subprocess.Popen(
        ["bash", "-e", "-c", task.solution],
        cwd=workspace,
        env={**env, **AGENT_IDENTITY},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = process.communicate(timeout=SOLUTION_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        return -1, "timed out: " + out.decode(errors="replace")
    return process.returncode, out.decode(errors="replace")


def verify(task: Task, seed: int, workspace: str, tmp: str) -> tuple[bool | None, str, float]:
    """(solved, why it could not say, seconds): the verifier as the environment runs it."""
    started = time.monotonic()
    try:
        result = run_verifier(task.id, seed, workspace, [tmp])
    except TrustedFailure as exc:
        return None, f"{exc} {exc.stderr[-300:]}", time.monotonic() - started
    seconds = time.monotonic() - started
    if result.get("error"):
        return None, f"the verifier raised {result['error']}", seconds
    return result.get("solved") is True, "", seconds


def fresh_workspace(parent: str, name: str, task: Task, seed: int) -> str:
    workspace = os.path.join(parent, name)
    os.mkdir(workspace)
    task.setup(SetupWorkspace(workspace), task.params_for(seed))
    return workspace


def tail(text: str, n: int = 6) -> str:
    lines = text.strip().splitlines()[-n:]
    return " | ".join(line.strip() for line in lines)[:400]


def check_seed(task: Task, seed: int, other_seed: int, report: TaskReport, verbose: bool) -> str:
    """Check one seed (errors and warnings go to ``report``); the setup's hash."""
    with tempfile.TemporaryDirectory(prefix=f"tt_{task.id}_{seed}_") as parent:
        tmp = os.path.join(parent, "tmp")
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        try:
            params = task.params_for(seed)
            if json.loads(json.dumps(params)) != json.loads(json.dumps(task.params_for(seed))):
                report.errors.append(f"seed {seed}: params are not deterministic")
        except (TypeError, ValueError) as exc:
            report.errors.append(f"seed {seed}: params are not JSON-able: {exc}")

        # 1. doing nothing scores 0
        try:
            untouched = fresh_workspace(parent, "ws_a", task, seed)
        except Exception as exc:
            report.errors.append(f"seed {seed}: setup failed: {type(exc).__name__}: {exc}")
            return ""
        setup_hash = workspace_hash(untouched)
        if "TASK.md" in task.prompt and not os.path.isfile(os.path.join(untouched, "TASK.md")):
            report.errors.append(f"seed {seed}: the prompt mentions TASK.md; setup made none")
        solved, why, _ = verify(task, seed, untouched, tmp)
        if solved is None:
            report.errors.append(f"seed {seed}: untouched workspace: {why}")
        elif solved:
            report.errors.append(f"seed {seed}: the verifier passes the untouched workspace")

        # 2. setup is deterministic; the solution solves it
        try:
            workspace = fresh_workspace(parent, "ws_b", task, seed)
        except Exception as exc:
            report.errors.append(f"seed {seed}: second setup failed: {type(exc).__name__}: {exc}")
            return setup_hash
        if workspace_hash(workspace) != setup_hash:
            report.errors.append(f"seed {seed}: setup is not deterministic")
        rc, out = run_solution(task, workspace, home)
        if rc != 0:
            report.errors.append(f"seed {seed}: the solution failed (rc={rc}): {tail(out)}")
        before = workspace_hash(workspace, index=True)
        solved, why, seconds = verify(task, seed, workspace, tmp)
        report.slowest_verify = max(report.slowest_verify, seconds)
        if not solved:
            because = f": {why}" if why else ""
            report.errors.append(f"seed {seed}: the verifier fails after the solution{because}")
            if verbose:
                report.errors.append(f"seed {seed}: solution output: {tail(out, 12)}")
        if workspace_hash(workspace, index=True) != before:
            report.errors.append(f"seed {seed}: the verifier modified the workspace")
        if seconds > SLOW_VERIFY_S:
            report.warnings.append(f"seed {seed}: verifying took {seconds:.1f}s")

        # 3. an answer for this seed should not pass for another seed
        if other_seed != seed:
            solved, why, _ = verify(task, other_seed, workspace, tmp)
            if solved is None:
                report.errors.append(f"seed {seed}'s workspace as seed {other_seed}: {why}")
            elif solved:
                report.warnings.append(
                    f"workspace solved for seed {seed} also verifies as seed {other_seed}"
                )
    return setup_hash


def schema_errors(tasks: list[Task]) -> list[str]:
    errors = []
    if len(tasks) < MIN_TASKS:
        errors.append(f"only {len(tasks)} tasks, need at least {MIN_TASKS}")
    for task in tasks:
        tid = getattr(task, "id", repr(task))
        if not isinstance(task, Task):
            errors.append(f"{tid}: not a Task")
            continue
        for name in ("id", "title", "prompt", "solution"):
            value = getattr(task, name, None)
            if not isinstance(value, str) or not value.strip():
                errors.append(f"{tid}: {name} must be a non-empty string")
        if not isinstance(tid, str) or not ID_RE.match(tid):
            errors.append(f"{tid}: id is not snake_case")
        if getattr(task, "difficulty", None) not in DIFFICULTIES:
            errors.append(f"{tid}: difficulty must be one of {sorted(DIFFICULTIES)}")
        if type(task).verify is Task.verify:
            errors.append(f"{tid}: no verify()")
    return errors


def check_task(task: Task, seeds: tuple[int, ...], verbose: bool) -> TaskReport:
    report = TaskReport(task.id)
    start = time.monotonic()
    for i, seed in enumerate(seeds):
        other = seeds[(i + 1) % len(seeds)]
        report.hashes[seed] = check_seed(task, seed, other, report, verbose)
    report.seconds = time.monotonic() - start
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="check only these task ids")
    parser.add_argument("--seeds", nargs="*", type=int, default=list(DEFAULT_SEEDS))
    parser.add_argument("-j", "--jobs", type=int, default=MAX_WORKERS, help="at most 2")
    parser.add_argument("-v", "--verbose", action="store_true", help="more on failures")
    args = parser.parse_args()

    start = time.monotonic()
    tasks = list(TASKS.tasks.values())
    errors = schema_errors(tasks)
    for error in errors:
        print(f"SCHEMA {error}")
    if args.only:
        unknown = sorted(set(args.only) - set(TASKS.ids()))
        if unknown:
            print(f"unknown task ids: {', '.join(unknown)}")
            return 1
        tasks = [t for t in tasks if t.id in args.only]
    seeds = tuple(args.seeds) or DEFAULT_SEEDS
    workers = max(1, min(args.jobs, MAX_WORKERS))

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        reports = list(pool.map(lambda t: check_task(t, seeds, args.verbose), tasks))

    failed, invariant = [], []
    for task, report in zip(tasks, reports, strict=True):
        note = ""
        hashes = [report.hashes.get(s) for s in seeds[:2]]
        if len(seeds) > 1 and hashes[0] and hashes[0] == hashes[1]:
            invariant.append(task.id)
            note = " [seed-invariant setup]"
        status = "FAIL" if report.errors else "ok  "
        print(
            f"{status} {task.id:<22} {task.difficulty:<6} {report.seconds:5.1f}s "
            f"(verify <= {report.slowest_verify:.2f}s){note}"
        )
        for error in report.errors:
            print(f"       error: {error}")
        for warning in report.warnings:
            print(f"       warning: {warning}")
        if report.errors:
            failed.append(task.id)

    counts = {d: sum(1 for t in tasks if t.difficulty == d) for d in sorted(DIFFICULTIES)}
    warnings = sum(len(r.warnings) for r in reports)
    too_invariant = len(invariant) > MAX_SEED_INVARIANT_FRACTION * max(len(tasks), 1)
    print(
        f"TOTAL: {len(tasks) - len(failed)}/{len(tasks)} tasks passed "
        f"(seeds {', '.join(map(str, seeds))}; "
        + ", ".join(f"{n} {d}" for d, n in counts.items())
        + f"); schema errors: {len(errors)}; warnings: {warnings}; "
        f"seed-invariant setups: {', '.join(invariant) if invariant else 'none'}; "
        f"{time.monotonic() - start:.1f}s"
    )
    if too_invariant:
        print("too many seed-invariant setups")
    return 1 if failed or errors or too_invariant else 0


if __name__ == "__main__":
    sys.exit(main())
