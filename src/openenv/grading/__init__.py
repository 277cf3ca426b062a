"""The grader's side of the wall: judging what agent code did, as data, apart from it.

Agent code, grader and observer are three surfaces with separate privileges
(docs/rewards.md). This package is the grader's toolkit, shared by the
environments that grade agent-supplied code and commands:

* :mod:`.values` — the plain-data format answers cross the wall in, and strict,
  type-for-type comparison (``same``, ``approx``);
* :mod:`.submission` — agent code loaded in a confined process of its own and asked
  for values (its runner is :mod:`.runner`, the only part of this package that
  runs on the agent's side);
* :mod:`.hidden_tests` — hidden tests as checks (``EXPR == EXPECTED``) whose expected
  side the agent never sees;
* :mod:`.files` — reading what the agent left in its workspace as data, never
  following its links;
* :mod:`.trusted` — running a verifier in a fresh, clean process of its own.
"""

from ..errors import NotPlainData, TaskError
from .hidden_tests import Check, HiddenTest, TestResult, run_hidden_tests
from .submission import Answer, Submission
from .values import approx, decode, encode, same

__all__ = [
    "Answer",
    "Check",
    "HiddenTest",
    "NotPlainData",
    "Submission",
    "TaskError",
    "TestResult",
    "approx",
    "decode",
    "encode",
    "run_hidden_tests",
    "same",
]
