"""A submission: agent code in a confined process of its own, asked for values as data.

The grader's side of :mod:`.runner`. :class:`Submission` starts the runner under
the environment's :class:`~openenv.runtime.programs.Confinement` (Landlock, rlimits,
no network, unable to read the environment's package), loads the agent's code in
it, and asks it to evaluate expressions. Each answer comes back over a socket as
plain data (:mod:`.values`) within a time limit; nothing of the agent's process —
its objects, its ``__eq__``, its output — reaches the grader otherwise. Its
standard output and error go nowhere.

Example::

    with Submission(code, confinement, path=sys.path) as submission:
        submission.load(timeout_s=10)
        submission.begin(inputs={"xs": [3, 1, 2]}, setup="", timeout_s=5)
        answer = submission.evaluate("sorted_copy(xs)", timeout_s=5)
        same([1, 2, 3], answer.value)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..runtime.programs import Confinement, Interpreter
from . import values

RUNNER_SOURCE = (Path(__file__).parent / "runner.py").read_text(encoding="utf-8")
PYTHON_FLAGS = ("-S", "-s")
"""No site module, no user site. Not ``-I``, which would ignore the confinement's
``PYTHONHASHSEED`` (``hash()``, hence set order, reproducible)."""
MAX_ANSWER_BYTES = 16 * 2**20
"""Largest answer accepted for one expression; a longer one stops the runner."""


@dataclass
class Answer:
    """What the submission's process said about one request."""

    ok: bool
    value: Any = None
    """The decoded plain value (``ok`` and an expression was evaluated)."""
    raised: list[str] = field(default_factory=list)
    """The class names of the exception raised (most derived first), if one was."""
    problem: str = ""
    """Why there is no usable answer: ``timeout``, ``ended``, ``not plain data: ...``."""

    def raised_a(self, name: str) -> bool:
        """Whether the request raised an exception of class ``name`` (or a subclass)."""
        return name in self.raised


class Submission:
    """The agent's code loaded in a confined runner process (see the module docstring)."""

    def __init__(
        self,
        code: str,
        confinement: Confinement,
        *,
        python: str,
        path: Sequence[str],
        seed: int = 0,
    ) -> None:
        self.code = code
        self.path = list(path)
        self.seed = seed
        self.runner = Interpreter(
            [python, *PYTHON_FLAGS, "-c", RUNNER_SOURCE],
            confinement,
            output_limit=0,
            max_reply=MAX_ANSWER_BYTES,
        )
        self._ids = 0

    def __enter__(self) -> Submission:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def alive(self) -> bool:
        return self.runner.alive

    def load(self, timeout_s: float) -> Answer:
        """Start a fresh runner and run the submission in it (as module ``submission``)."""
        self.runner.start()
        request = {"op": "load", "code": self.code, "path": self.path, "seed": self.seed}
        return self._ask(request, timeout_s)

    def begin(self, inputs: dict[str, Any], setup: str, timeout_s: float) -> Answer:
        """A new test: a fresh namespace with ``inputs`` (plain data), then ``setup`` in it."""
        encoded = json.loads(values.encode(inputs))
        return self._ask({"op": "test", "inputs": encoded, "setup": setup}, timeout_s)

    def evaluate(self, expression: str, timeout_s: float) -> Answer:
        """The value of ``expression`` in the current test's namespace, as plain data."""
        return self._ask({"op": "eval", "expr": expression}, timeout_s)

    def stop(self) -> None:
        """End the runner and everything it started."""
        self.runner.stop()

    def _ask(self, request: dict[str, Any], timeout_s: float) -> Answer:
        if not self.runner.alive:
            return Answer(False, problem="ended")
        self._ids += 1
        request["id"] = self._ids
        exchange = self.runner.request(control=request, timeout_s=timeout_s)
        if exchange.timed_out:
            return Answer(False, problem="timeout")
        if exchange.reply is None:
            self.stop()
            return Answer(False, problem="too long" if exchange.reply_too_long else "ended")
        return self._read(exchange.reply)

    def _read(self, line: bytes) -> Answer:
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError):
            reply = None
        if not isinstance(reply, dict) or reply.get("id") != self._ids:
            self.stop()  # out of step with us: nothing more it says can be matched up
            return Answer(False, problem="not an answer")
        if reply.get("ok") is True:
            try:
                value = values.from_json(reply.get("value"))
            except (values.NotPlainData, RecursionError) as exc:
                return Answer(False, problem=f"not plain data: {exc}")
            return Answer(True, value=value)
        raised = reply.get("raised")
        if isinstance(raised, dict) and isinstance(raised.get("mro"), list):
            names = [str(name)[:100] for name in raised["mro"][:50]]
            return Answer(False, raised=names, problem="raised")
        return Answer(False, problem=f"not plain data: {str(reply.get('unencodable'))[:200]}")
