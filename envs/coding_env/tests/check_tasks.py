"""Validate the coding environment's task set (``coding_env/tasks.yaml``).

Run it as a plain script::

    python envs/coding_env/tests/check_tasks.py [path/to/tasks.yaml]

First the file's structure: keys, types, unique snake_case ids, at least 36 tasks, 6 to 12
tests each, and every test a valid :class:`openenv.grading.HiddenTest` (the format is in
``src/openenv/grading/hidden_tests.py``) that

* uses the entry point on the submission's side (in ``setup`` or in a check's expression;
  a test of "the input is not modified" calls it in ``setup`` and checks the input);
* never on the grader's side (``inputs`` and the expected values run in the grader, which
  has no submission);
* decides nothing in the submission's process: a check's expression returns a value for
  the grader to compare, so it holds no comparison (``==``, ``<``, ``in``: ``is`` only,
  for an identity the grader cannot see) and no ``all``/``any``/``isinstance``;
* sends ``inputs`` that encode as plain data (:func:`openenv.grading.encode`), at most
  ``MAX_INPUT_BYTES``, and whose expected values evaluate on the grader's side;
* is not a duplicate of another test of its task.

Then it grades every task's reference ``solution``, its ``wrong_solution`` and an empty
submission the way the environment does: :func:`openenv.grading.run_hidden_tests`, each
submission loaded in a confined process of its own (:class:`openenv.grading.Submission`
under a :class:`openenv.runtime.programs.Confinement`, which needs Landlock). Required:

* the solution passes every test, each in under ``MAX_TEST_SECONDS`` (setup and checks,
  process round trips included) and all of them in under ``MAX_GRADING_SECONDS``;
* the wrong solution passes at least one test and fails at least one (partial credit),
  each test also in under ``MAX_TEST_SECONDS``;
* the empty submission passes no test.

Prints one line per task and a total; exits 0 when everything is fine, 1 otherwise.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from openenv.grading import HiddenTest, Submission, TestResult, encode, run_hidden_tests
from openenv.runtime import landlock
from openenv.runtime.programs import Confinement, Workspace

TASKS_PATH = Path(__file__).resolve().parents[1] / "coding_env" / "tasks.yaml"
KEYS = ("id", "title", "difficulty", "prompt", "entry_point", "tests", "solution", "wrong_solution")
DIFFICULTIES = ("easy", "medium", "hard")
MIN_TASKS = 36
MIN_TESTS, MAX_TESTS = 6, 12
MAX_TEST_SECONDS = 1.0  # per test, for the solution and the wrong solution
MAX_GRADING_SECONDS = 30.0  # all tests of the solution (the environment allows 60 s)
GRADING_TIMEOUT_S = 60.0  # as CodingEnvironment.grading_timeout_s
MEMORY_MB = 512  # as CodingEnvironment's default memory_mb
MAX_INPUT_BYTES = 2**20  # encoded `inputs` of one test
WORKERS = 2
ID_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
VERDICT_CALLS = {"all", "any", "isinstance", "issubclass", "hasattr", "callable"}


# -- structure ------------------------------------------------------------------------------


def check_structure(tasks: Any) -> tuple[list[str], dict[str, list[HiddenTest]]]:
    """Problems with the file's shape (empty when it is fine), and each task's parsed tests."""
    if not isinstance(tasks, list):
        return [f"top level must be a list of tasks, got {type(tasks).__name__}"], {}
    problems: list[str] = []
    parsed: dict[str, list[HiddenTest]] = {}
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
        for key in ("solution", "wrong_solution"):
            try:
                compile(str(task.get(key, "")), f"<{task_id} {key}>", "exec")
            except SyntaxError as exc:
                problems.append(f"{where}: {key} does not compile: {exc}")
        tests = task.get("tests")
        if not isinstance(tests, list):
            problems.append(f"{where}: 'tests' must be a list")
            continue
        if not MIN_TESTS <= len(tests) <= MAX_TESTS:
            problems.append(f"{where}: needs {MIN_TESTS}-{MAX_TESTS} tests, has {len(tests)}")
        parsed_tests: list[HiddenTest] = []
        seen_tests: dict[tuple[Any, ...], int] = {}
        for number, raw in enumerate(tests):
            try:
                test = HiddenTest.model_validate(raw)
            except ValidationError as exc:
                why = "; ".join(error["msg"] for error in exc.errors())
                problems.append(f"{where}: test {number} is not a hidden test: {why}")
                continue
            except SyntaxError as exc:  # a setup that does not compile
                problems.append(f"{where}: test {number}: its setup does not compile: {exc}")
                continue
            parsed_tests.append(test)
            key = (test.inputs, test.setup, tuple(str(c) for c in test.checks), test.timeout_s)
            if key in seen_tests:
                problems.append(f"{where}: test {number} repeats test {seen_tests[key]}")
            seen_tests.setdefault(key, number)
            if isinstance(entry_point, str):
                found = problems_of_test(test, entry_point)
                problems += [f"{where}: test {number}: {problem}" for problem in found]
        if len(parsed_tests) == len(tests) and isinstance(task_id, str):
            parsed[task_id] = parsed_tests
    return problems, parsed


def problems_of_test(test: HiddenTest, entry_point: str) -> list[str]:
    """What is wrong with one parsed test of a task whose entry point is ``entry_point``."""
    problems = []
    submission_side = [ast.parse(test.setup, mode="exec")]
    submission_side += [ast.parse(c.expression.strip(), mode="eval") for c in test.checks]
    if not any(_names(tree) & {entry_point} for tree in submission_side):
        problems.append(f"uses {entry_point!r} neither in its setup nor in a check")
    try:
        inputs = ast.parse(test.inputs, mode="exec")
    except SyntaxError as exc:
        return [*problems, f"its inputs do not compile: {exc}"]
    if entry_point in _names(inputs):
        problems.append(f"its inputs use {entry_point!r}, which the grader does not have")
    for check in test.checks:
        verdict = _decides(ast.parse(check.expression.strip(), mode="eval"))
        if verdict:
            problems.append(
                f"check `{check}` decides in the submission's process ({verdict}): "
                "return the value and put what it must be on the right"
            )
        if check.expected is not None:
            if entry_point in _names(ast.parse(check.expected.strip(), mode="eval")):
                problems.append(f"the expected side of `{check}` uses {entry_point!r}")
    try:
        sent, names = test.prepare()
    except Exception as exc:
        return [*problems, f"its inputs fail on the grader: {type(exc).__name__}: {exc}"]
    try:
        size = len(encode(sent))
    except Exception as exc:  # NotPlainData, or too deeply nested
        return [*problems, f"its inputs are not plain data ({type(exc).__name__}: {exc})"]
    if size > MAX_INPUT_BYTES:
        problems.append(f"its inputs are {size} bytes encoded (limit {MAX_INPUT_BYTES})")
    for check in test.checks:
        if check.expected is None:
            continue
        try:
            eval(compile(check.expected, "<expected>", "eval"), dict(names))
        except Exception as exc:
            problems.append(
                f"the expected side of `{check}` fails on the grader: {type(exc).__name__}: {exc}"
            )
    return problems


def _names(tree: ast.AST) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _decides(tree: ast.AST) -> str:
    """How an expression computes a verdict itself (``""`` when it only computes a value)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and not all(
            isinstance(op, ast.Is | ast.IsNot) for op in node.ops
        ):
            return "a comparison"
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in VERDICT_CALLS
        ):
            return f"{node.func.id}()"
    return ""


# -- grading ---------------------------------------------------------------------------------


class TimedSubmission(Submission):
    """A :class:`Submission` that notes, per test, when it began and its last check answered."""

    def __init__(self, *args: Any, spans: list[list[float]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spans = spans

    def begin(self, inputs: dict[str, Any], setup: str, timeout_s: float) -> Any:
        now = time.perf_counter()
        self.spans.append([now, now])
        answer = super().begin(inputs, setup, timeout_s)
        self.spans[-1][1] = time.perf_counter()
        return answer

    def evaluate(self, expression: str, timeout_s: float) -> Any:
        answer = super().evaluate(expression, timeout_s)
        self.spans[-1][1] = time.perf_counter()
        return answer


def grade(
    code: str, tests: Sequence[HiddenTest], workspace: Workspace
) -> tuple[list[TestResult], list[float] | None, float]:
    """Grade ``code`` as the environment does: results, seconds per test (if known), total."""
    workspace.clear()
    confinement = Confinement(
        workspace=workspace.path,
        writable=workspace.writable,
        memory_mb=MEMORY_MB,
        environment={"PYTHONHASHSEED": "0"},
    )
    python, path = os.path.realpath(sys.executable), [p for p in sys.path if p]
    spans: list[list[float]] = []
    started = time.perf_counter()
    results = run_hidden_tests(
        lambda: TimedSubmission(code, confinement, python=python, path=path, spans=spans),
        tests,
        total_timeout_s=GRADING_TIMEOUT_S,
    )
    elapsed = time.perf_counter() - started
    seconds = [end - start for start, end in spans] if len(spans) == len(tests) else None
    return results, seconds, elapsed


def check_task(task: dict[str, Any], tests: list[HiddenTest]) -> tuple[str, list[str]]:
    """Grade one task's three submissions; return its summary line and its problems."""
    problems: list[str] = []
    passed: dict[str, int] = {}
    slowest = 0.0
    workspace = Workspace(prefix="openenv-check-tasks-")
    try:
        for name, code in (
            ("solution", task["solution"]),
            ("wrong", task["wrong_solution"]),
            ("empty", ""),
        ):
            try:
                results, seconds, elapsed = grade(code, tests, workspace)
            except Exception as exc:  # a test the grader itself cannot run
                problems.append(f"{name}: grading raised {type(exc).__name__}: {exc}")
                passed[name] = 0
                continue
            passed[name] = sum(r.passed for r in results)
            if name == "solution":
                for number, result in enumerate(results):
                    if not result.passed:
                        problems.append(f"solution fails test {number}: {result.detail}")
                if elapsed > MAX_GRADING_SECONDS:
                    problems.append(
                        f"solution: grading took {elapsed:.1f} s (limit {MAX_GRADING_SECONDS:g} s)"
                    )
            if name != "empty" and seconds is not None:
                if name == "solution":
                    slowest = max(seconds, default=0.0)
                for number, spent in enumerate(seconds):
                    if spent > MAX_TEST_SECONDS:
                        problems.append(
                            f"{name}: test {number} took {spent * 1000:.0f} ms "
                            f"(limit {MAX_TEST_SECONDS * 1000:.0f} ms)"
                        )
            elif name != "empty" and passed[name]:
                problems.append(f"{name}: not every test was run: {results[-1].detail}")
    finally:
        workspace.remove()
    n = len(tests)
    if passed["wrong"] == 0:
        problems.append("wrong_solution passes no test")
    if passed["wrong"] == n:
        problems.append("wrong_solution passes every test")
    if passed["empty"]:
        problems.append(f"empty submission passes {passed['empty']} test(s)")
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
    problems, parsed = check_structure(tasks)
    if problems:
        for problem in problems:
            print(f"FAIL {problem}")
        print(f"FAILED: {len(problems)} structural problem(s) in {path}")
        return 1
    if landlock.abi_version() == 0:
        print("FAIL cannot grade here: submissions run confined by Landlock, which is missing")
        return 1

    workers = max(1, min(WORKERS, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda t: check_task(t, parsed[t["id"]]), tasks))
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
