"""Validate the coding environment's task set (``coding_env/tasks.yaml``).

Run it as a plain script::

    python envs/coding_env/tests/check_tasks.py [path/to/tasks.yaml]

It checks the file's structure (keys, types, unique snake_case ids, at least 36 tasks, 6 to 12
tests each), then runs every task's reference solution, its ``wrong_solution`` and an empty
submission against the hidden tests. Each submission runs in a fresh subprocess with a timeout:
the submission is exec'd once, and every test is exec'd separately in a shallow copy of the
resulting namespace; a test passes if it raises nothing. Required:

* the solution passes every test, each well under ``MAX_TEST_SECONDS``;
* the wrong solution passes at least one test and fails at least one (partial credit);
* the empty submission passes no test.

Prints one line per task and a total; exits 0 when everything is fine, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

TASKS_PATH = Path(__file__).resolve().parents[1] / "coding_env" / "tasks.yaml"
KEYS = ("id", "title", "difficulty", "prompt", "entry_point", "tests", "solution", "wrong_solution")
DIFFICULTIES = ("easy", "medium", "hard")
MIN_TASKS = 36
MIN_TESTS, MAX_TESTS = 6, 12
MAX_TEST_SECONDS = 0.1  # per test, for the solution and the wrong solution
SUBPROCESS_TIMEOUT = 10.0  # per submission (all of one task's tests)
ID_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Runs in the subprocess: reads {"code", "tests", "entry_point"} as JSON on stdin and writes
# {"loaded", "load_error", "defined", "results": [{"passed", "error", "seconds"}]} on stdout.
# Anything the submission or a test prints is swallowed so it cannot corrupt the answer.
RUNNER = r"""
import io, json, sys, time

payload = json.loads(sys.stdin.read())
answer_stream = sys.stdout
sys.stdout = io.StringIO()
sys.stderr = io.StringIO()


def describe(exc):
    return (type(exc).__name__ + ": " + str(exc))[:300]


namespace = {"__name__": "__submission__"}
loaded, load_error = True, None
try:
    exec(compile(payload["code"], "<submission>", "exec"), namespace)
except BaseException as exc:
    loaded, load_error = False, describe(exc)

results = []
for source in payload["tests"]:
    ns = dict(namespace)
    start = time.perf_counter()
    try:
        exec(compile(source, "<test>", "exec"), ns)
        passed, error = True, None
    except BaseException as exc:
        passed, error = False, describe(exc)
    results.append({"passed": passed, "error": error, "seconds": time.perf_counter() - start})

answer = {
    "loaded": loaded,
    "load_error": load_error,
    "defined": payload["entry_point"] in namespace,
    "results": results,
}
answer_stream.write(json.dumps(answer))
answer_stream.flush()
"""


def run_submission(code: str, tests: list[str], entry_point: str) -> dict[str, Any]:
    """Run ``code`` against ``tests`` in a fresh interpreter; return the runner's answer.

    On a timeout or a crashed interpreter, every test counts as failed and ``crash`` says why.
    """
    payload = json.dumps({"code": code, "tests": tests, "entry_point": entry_point})
    failed = {"passed": False, "error": None, "seconds": 0.0}
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-c", RUNNER],
            input=payload,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        crash = f"timed out after {SUBPROCESS_TIMEOUT:g}s"
        return {"crash": crash, "loaded": False, "defined": False, "results": [failed] * len(tests)}
    try:
        answer = json.loads(proc.stdout)
    except json.JSONDecodeError:
        crash = f"runner exited {proc.returncode}: {proc.stderr.strip()[-300:]}"
        return {"crash": crash, "loaded": False, "defined": False, "results": [failed] * len(tests)}
    answer["crash"] = None
    return answer


def check_structure(tasks: Any) -> list[str]:
    """Problems with the file's shape (empty list when it is fine)."""
    if not isinstance(tasks, list):
        return [f"top level must be a list of tasks, got {type(tasks).__name__}"]
    problems = []
    if len(tasks) < MIN_TASKS:
        problems.append(f"need at least {MIN_TASKS} tasks, found {len(tasks)}")
    seen_ids: set[str] = set()
    for index, task in enumerate(tasks):
        where = f"task #{index}"
        if not isinstance(task, dict):
            problems.append(f"{where}: must be a mapping, got {type(task).__name__}")
            continue
        where = f"task #{index} ({task.get('id', '?')})"
        missing = [k for k in KEYS if k not in task]
        extra = [k for k in task if k not in KEYS]
        if missing or extra:
            problems.append(f"{where}: missing keys {missing}, unknown keys {extra}")
        for key in KEYS:
            if key != "tests" and not (isinstance(task.get(key), str) and task[key].strip()):
                problems.append(f"{where}: {key!r} must be a non-empty string")
        task_id = task.get("id")
        if isinstance(task_id, str):
            if not ID_RE.match(task_id):
                problems.append(f"{where}: id must be snake_case")
            if task_id in seen_ids:
                problems.append(f"{where}: duplicate id")
            seen_ids.add(task_id)
        if task.get("difficulty") not in DIFFICULTIES:
            problems.append(f"{where}: difficulty must be one of {DIFFICULTIES}")
        entry_point = task.get("entry_point")
        if isinstance(entry_point, str):
            if not IDENT_RE.match(entry_point):
                problems.append(f"{where}: entry_point must be a Python identifier")
            elif f"`{entry_point}" not in str(task.get("prompt", "")):
                problems.append(f"{where}: the prompt must name the entry point in backticks")
        tests = task.get("tests")
        if not isinstance(tests, list):
            problems.append(f"{where}: 'tests' must be a list")
            continue
        if not MIN_TESTS <= len(tests) <= MAX_TESTS:
            problems.append(f"{where}: needs {MIN_TESTS}-{MAX_TESTS} tests, has {len(tests)}")
        strings = [t for t in tests if isinstance(t, str)]
        if len(set(strings)) != len(strings):
            problems.append(f"{where}: duplicate tests")
        for number, test in enumerate(tests):
            if not (isinstance(test, str) and test.strip()):
                problems.append(
                    f"{where}: test {number} must be a non-empty string (YAML quoting?)"
                )
                continue
            try:
                compile(test, f"<{task_id} test {number}>", "exec")
            except SyntaxError as exc:
                problems.append(f"{where}: test {number} does not compile: {exc}")
            if isinstance(entry_point, str) and entry_point not in test:
                problems.append(f"{where}: test {number} does not use {entry_point!r}")
        for key in ("solution", "wrong_solution"):
            try:
                compile(str(task.get(key, "")), f"<{task_id} {key}>", "exec")
            except SyntaxError as exc:
                problems.append(f"{where}: {key} does not compile: {exc}")
    return problems


def check_task(task: dict[str, Any]) -> tuple[str, list[str]]:
    """Run one task's three submissions; return its summary line and its problems."""
    tests, entry_point = task["tests"], task["entry_point"]
    runs = {
        name: run_submission(code, tests, entry_point)
        for name, code in (
            ("solution", task["solution"]),
            ("wrong", task["wrong_solution"]),
            ("empty", ""),
        )
    }
    problems = []
    passed = {}
    for name, run in runs.items():
        results = run["results"]
        passed[name] = sum(r["passed"] for r in results)
        if run["crash"]:
            problems.append(f"{name}: {run['crash']}")
        elif name != "empty" and not run["loaded"]:
            problems.append(f"{name}: failed to load: {run['load_error']}")
        elif name != "empty" and not run["defined"]:
            problems.append(f"{name}: does not define {entry_point!r}")
        if name != "empty":
            for number, r in enumerate(results):
                if r["seconds"] > MAX_TEST_SECONDS:
                    problems.append(
                        f"{name}: test {number} took {r['seconds'] * 1000:.0f} ms "
                        f"(limit {MAX_TEST_SECONDS * 1000:.0f} ms)"
                    )
    for number, r in enumerate(runs["solution"]["results"]):
        if not r["passed"]:
            problems.append(f"solution fails test {number}: {r['error']}")
    if passed["wrong"] == 0:
        problems.append("wrong_solution passes no test")
    if passed["wrong"] == len(tests):
        problems.append("wrong_solution passes every test")
    if passed["empty"]:
        problems.append(f"empty submission passes {passed['empty']} test(s)")
    slowest = max((r["seconds"] for r in runs["solution"]["results"]), default=0.0)
    n = len(tests)
    line = (
        f"{'ok  ' if not problems else 'FAIL'} {task['id']:<32} {task['difficulty']:<6} "
        f"tests={n:<2} solution={passed['solution']}/{n} wrong={passed['wrong']}/{n} "
        f"empty={passed['empty']}/{n} slowest={slowest * 1000:.1f}ms"
    )
    return line, problems


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else TASKS_PATH
    started = time.perf_counter()
    try:
        tasks = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        print(f"FAIL cannot load {path}: {exc}")
        return 1
    problems = check_structure(tasks)
    if problems:
        for problem in problems:
            print(f"FAIL {problem}")
        print(f"FAILED: {len(problems)} structural problem(s) in {path}")
        return 1

    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(check_task, tasks))
    failed = 0
    for line, task_problems in outcomes:
        print(line)
        for problem in task_problems:
            print(f"       - {problem}")
        failed += bool(task_problems)

    counts = {d: sum(t["difficulty"] == d for t in tasks) for d in DIFFICULTIES}
    n_tests = sum(len(t["tests"]) for t in tasks)
    mix = ", ".join(f"{counts[d]} {d}" for d in DIFFICULTIES)
    elapsed = time.perf_counter() - started
    if failed:
        print(f"FAILED: {failed} of {len(tasks)} tasks have problems ({elapsed:.1f}s)")
        return 1
    print(f"OK: {len(tasks)} tasks ({mix}), {n_tests} tests, all checks passed in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
