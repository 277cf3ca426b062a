"""Hidden tests: checks on a submission, decided by the grader, never by the agent's code.

A test is a list of *checks*, each one line of Python with two sides::

    two_sum([2, 7, 11, 15], 9) == (0, 1)
    is_palindrome("") is True
    int_to_roman(0) raises ValueError

The left side runs in the submission's process (:class:`~.submission.Submission`)
and its value comes back as plain data; the right side is the expected value,
computed by the grader, which compares the two type-strictly
(:func:`~.values.same`: ``(0, 1)`` is not ``[0, 1]``, ``1`` is not ``True``). ``raises``
expects an exception of that class (or a subclass). The agent's code never sees
the expected side.

A test can also have ``inputs`` — Python the grader runs; the plain-data variables
it defines are sent to the submission's namespace and are usable on both sides
— and ``setup``, statements run in the submission's namespace before the checks
(making an object, calling a function whose effect a check then looks at). All
checks of a test share that namespace, in order; each test starts from a fresh
copy of the submission's. In YAML::

    tests:
      - two_sum([2, 7, 11, 15], 9) == (0, 1)
      - setup: |
          s = Stack()
          s.push(1)
        checks:
          - s.pop() == 1
          - s.is_empty() is True
      - inputs: data = [(f"p{i:04d}", i) for i in range(1000)]
        checks: [sort_people(data) == data[::-1]]

A test passes when every check does; a check that runs past the test's
``timeout_s`` fails, and the runner is replaced for the next test.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from ..errors import TaskError
from . import values
from .submission import Submission

__all__ = ["Check", "HiddenTest", "TaskError", "TestResult", "run_hidden_tests"]

_RAISES = re.compile(r"^(?P<expr>.+?)\s+raises\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*$", re.DOTALL)
EXPECTED_NAMES: dict[str, Any] = {
    "__builtins__": builtins,
    "approx": values.approx,
    "math": math,
    "itertools": itertools,
}
"""What an expected side (and ``inputs``) may use beyond the test's own inputs."""


class Check(BaseModel):
    """One check: ``expression`` (run by the submission) and what it must give."""

    expression: str
    expected: str | None = None
    """Python the grader evaluates for the expected value (``None`` with ``raises``)."""
    raises: str | None = None
    """The exception class name ``expression`` must raise."""
    operator: Literal["==", "is"] = "=="
    """As written; both compare type-strictly (:func:`~.values.same`)."""

    @classmethod
    def parse(cls, text: str) -> Check:
        """``EXPR == EXPECTED``, ``EXPR is EXPECTED`` or ``EXPR raises ExceptionName``."""
        text = text.strip()
        match = _RAISES.match(text)
        if match:
            expression = match["expr"].strip()
            _compiles(expression, text)
            return cls(expression=expression, raises=match["name"])
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"check {text!r} is not Python: {exc.msg}") from None
        node = tree.body
        if not (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.Eq | ast.Is)
        ):
            raise ValueError(
                f"check {text!r} must be `EXPR == EXPECTED`, `EXPR is EXPECTED` "
                "or `EXPR raises ExceptionName`"
            )
        right = node.comparators[0]
        if isinstance(node.ops[0], ast.Is) and not (
            isinstance(right, ast.Constant) and right.value in (None, True, False)
        ):
            raise ValueError(f"check {text!r}: `is` is for None, True and False only")
        left_source = ast.get_source_segment(text, node.left)
        right_source = ast.get_source_segment(text, right)
        assert left_source is not None and right_source is not None
        operator = "is" if isinstance(node.ops[0], ast.Is) else "=="
        return cls(expression=left_source, expected=right_source, operator=operator)

    def __str__(self) -> str:
        if self.raises is not None:
            return f"{self.expression} raises {self.raises}"
        return f"{self.expression} {self.operator} {self.expected}"


class HiddenTest(BaseModel):
    """One hidden test: optional ``inputs`` and ``setup``, then its checks."""

    checks: list[Check] = Field(min_length=1)
    inputs: str = ""
    """Python run by the grader; its plain-data variables go to the submission."""
    setup: str = ""
    """Statements run in the submission's process before the checks."""
    timeout_s: float = Field(5.0, gt=0, le=120)
    """Longest the setup or any one check may take."""

    @model_validator(mode="before")
    @classmethod
    def _one_check(cls, data: Any) -> Any:
        return {"checks": [data]} if isinstance(data, str) else data

    @field_validator("checks", mode="before")
    @classmethod
    def _parse_checks(cls, checks: Any) -> Any:
        if not isinstance(checks, list):
            return checks
        return [Check.parse(c) if isinstance(c, str) else c for c in checks]

    @field_validator("setup", "inputs")
    @classmethod
    def _compiles(cls, source: str) -> str:
        try:
            compile(source, "<test>", "exec")
        except SyntaxError as exc:
            raise ValueError(f"does not compile: {exc.msg} (line {exc.lineno})") from None
        return source

    def prepare(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Run ``inputs`` (grader side): the plain-data values to send (other names —
        modules, functions, a ``random.Random`` — stay with the grader), and every name
        for the expected sides. Raises :class:`TaskError` when ``inputs`` fails."""
        names: dict[str, Any] = dict(EXPECTED_NAMES)
        if self.inputs:
            try:
                exec(compile(self.inputs, "<inputs>", "exec"), names)
            except Exception as exc:
                raise TaskError(f"the inputs of test [{self}] failed: {exc!r}") from exc
        sent = {}
        for name, value in names.items():
            if name.startswith("_") or name in EXPECTED_NAMES:
                continue
            try:
                values.encode(value)
            except (values.NotPlainData, RecursionError):
                continue
            sent[name] = value
        return sent, names

    def __str__(self) -> str:
        return "; ".join(str(check) for check in self.checks)


@dataclass
class TestResult:
    """How one hidden test went (for logs and the environment's own tests, not the agent)."""

    __test__ = False  # not a pytest test class
    passed: bool
    detail: str = ""


def run_hidden_tests(
    start: Callable[[], Submission],
    tests: Sequence[HiddenTest],
    *,
    load_timeout_s: float = 10.0,
    total_timeout_s: float = 60.0,
) -> list[TestResult]:
    """Run ``tests`` against the submissions ``start`` makes; one result per test.

    A submission that does not load passes nothing. After a check times out or the
    runner ends, the next test gets a fresh runner (a fresh load). Tests not reached
    within ``total_timeout_s`` fail.
    """
    deadline = time.monotonic() + total_timeout_s
    results: list[TestResult] = []
    submission: Submission | None = None
    try:
        for test in tests:
            left = deadline - time.monotonic()
            if left <= 0:
                results.append(TestResult(False, "grading time is up"))
                continue
            if submission is None or not submission.alive:
                if submission is not None:
                    submission.stop()
                submission = start()
                loaded = submission.load(min(load_timeout_s, left))
                if not loaded.ok:
                    why = f"the submission did not load ({_why(loaded)})"
                    results += [TestResult(False, why)] * (len(tests) - len(results))
                    break
            results.append(_run_one(submission, test, deadline))
    finally:
        if submission is not None:
            submission.stop()
    return results


def _run_one(submission: Submission, test: HiddenTest, deadline: float) -> TestResult:
    sent, names = test.prepare()
    limit = min(test.timeout_s, max(deadline - time.monotonic(), 0.01))
    began = submission.begin(sent, test.setup, limit)
    if not began.ok:
        return TestResult(False, f"setup: {_why(began)}")
    for check in test.checks:
        limit = min(test.timeout_s, max(deadline - time.monotonic(), 0.01))
        answer = submission.evaluate(check.expression, limit)
        if check.raises is not None:
            if not answer.raised_a(check.raises):
                return TestResult(False, f"{check}: {_why(answer)}")
            continue
        if not answer.ok:
            return TestResult(False, f"{check}: {_why(answer)}")
        assert check.expected is not None
        try:
            expected = eval(compile(check.expected, "<expected>", "eval"), dict(names))
        except Exception as exc:
            raise TaskError(f"the expected side of [{check}] failed: {exc!r}") from exc
        if not values.same(expected, answer.value):
            return TestResult(False, f"{check}: got {_short(answer.value)}")
    return TestResult(True)


def _why(answer: Any) -> str:
    if answer.ok:
        return f"returned {_short(answer.value)}"
    if answer.raised:
        return f"raised {answer.raised[0]}"
    return answer.problem


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _compiles(expression: str, text: str) -> None:
    try:
        compile(expression, "<check>", "eval")
    except SyntaxError as exc:
        raise ValueError(f"check {text!r} is not Python: {exc.msg}") from None
