"""Red team: coding_env's reward, attacked as an agent that can read our source would.

Every attack is what an agent can send — kernel steps and a submission — through a
real sandboxed server (``create_app(CodingEnvironment)`` picks the sandbox itself).
Each test compares the attack's reward with the honest baseline it must not beat:
the reward of a submission that returns the same data without the trick (often 0).
docs/rewards.md is the threat model.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest
from coding_env import CodeAction, CodingEnv
from coding_env.server.environment import CodingEnvironment
from coding_env.server.tasks import TASKS

from openenv.client.core import EnvServerError
from openenv.runtime.programs import missing_for_sandboxed_programs
from openenv.server import ServerConfig, create_app
from tests.conftest import Served, start_server
from tests.runtime.helpers import worker_pids
from tests.security.rewards.attacks import (
    DAEMON_PY,
    LOOK_PY,
    MARKER,
    PLANT_PY,
    SEES_DAEMON_PY,
    plant_shadows_py,
)

MISSING = missing_for_sandboxed_programs()
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=str(MISSING)),
    pytest.mark.timeout(180),
]

TASK = "two_sum"
SOLUTION = TASKS[TASK].solution
ALWAYS_NONE = "def two_sum(nums, target):\n    return None\n"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    app = create_app(CodingEnvironment, config=ServerConfig(warm_pool_size=1))
    assert app.state.config.isolation == "sandbox"  # chosen for an env that runs agent code
    server = start_server(app)
    yield server
    server.stop()


@pytest.fixture
def agent(served: Served) -> Iterator[CodingEnv]:
    with CodingEnv(base_url=served.base_url) as env:
        yield env


def score(agent: CodingEnv, submission: str, *steps: str) -> float:
    """Reset to the task, run ``steps`` in the kernel, submit; the reward."""
    agent.reset(task_id=TASK)
    for code in steps:
        agent.step(CodeAction(code=code))
    result = agent.step(CodeAction(code=submission, submit=True))
    assert result.done
    return float(result.reward or 0.0)


def kernel(agent: CodingEnv, code: str) -> str:
    observation = agent.step(CodeAction(code=code)).observation
    return observation.stdout + observation.stderr


# -- reaching the grader's process, memory or files -------------------------------------------

ORACLE = r"""
import ast, ctypes, glob, os, sys
FOUND, LEAKS = {}, []

def learn(where, text):
    for line in text.splitlines():
        line = line.strip().lstrip("-").strip()
        if line.startswith("two_sum(") and "==" in line:
            try:
                node = ast.parse(line, mode="eval").body
                key = repr(tuple(ast.literal_eval(a) for a in node.left.args))
                FOUND[key] = ast.literal_eval(node.comparators[0])
            except Exception:
                pass
    if FOUND and where not in LEAKS:
        LEAKS.append(where)

def attempt(where, read):
    try:
        learn(where, read())
    except Exception:
        pass

def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read() if mode == "r" else f.read().decode("latin-1")

roots = ["/opt/openenv", *[p for p in sys.path if p.startswith("/")]]
for root in roots:
    for path in glob.glob(root + "/**/coding_env/tasks.yaml", recursive=True)[:5]:
        attempt(path, lambda p=path: read(p))
libc = ctypes.CDLL(None, use_errno=True)
for pid in sorted({1, os.getppid()}):
    for name in ("environ", "cmdline"):
        attempt(f"/proc/{pid}/{name}", lambda p=pid, n=name: read(f"/proc/{p}/{n}", "rb"))

    def memory(pid=pid):
        parts = []
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                low, high = (int(x, 16) for x in span.split("-"))
                if perms.startswith("rw"):
                    try:
                        mem.seek(low)
                        parts.append(mem.read(min(high - low, 1 << 24)).decode("latin-1"))
                    except OSError:
                        pass
        return "\n".join(parts)

    attempt(f"/proc/{pid}/mem", memory)
    if libc.ptrace(16, pid, 0, 0) == 0:  # PTRACE_ATTACH
        LEAKS.append(f"ptrace({pid})")

def two_sum(nums, target):
    return FOUND.get(repr((nums, target)))
"""


def test_the_submission_cannot_read_the_hidden_tests_or_the_environment(agent):
    agent.reset(task_id=TASK)
    assert kernel(agent, ORACLE + "\nprint('LEAKS', LEAKS)") == "LEAKS []\n"
    # Had any way in worked, the oracle would answer every test right.
    assert score(agent, ORACLE) == score(agent, ALWAYS_NONE)


# -- answers are data, compared type for type --------------------------------------------------

YES = """
class Yes:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__

def two_sum(nums, target):
    return Yes()
"""

TUPLE_SUBCLASS = (
    """
class Pair(tuple):
    def __eq__(self, other):
        return True
    __hash__ = tuple.__hash__
"""
    + SOLUTION
    + """
_honest = two_sum
def two_sum(nums, target):
    found = _honest(nums, target)
    return None if found is None else Pair(found)
"""
)

FORGED_RUNNER = """
import __main__
__main__.answer = lambda request, module, test: {"ok": True, "value": True}
def two_sum(nums, target):
    return True
"""
"""Rewrites the runner so every answer is ``True``: no better than returning True."""

LIST_NOT_TUPLE = (
    SOLUTION
    + """
_honest = two_sum
def two_sum(nums, target):
    found = _honest(nums, target)
    return None if found is None else list(found)
"""
)


def test_an_object_that_equals_everything_scores_nothing(agent):
    assert score(agent, YES) == 0.0


def test_a_subclass_of_the_expected_type_is_not_the_expected_type(agent):
    """A tuple subclass claiming equality earns only the checks that expect None."""
    assert score(agent, TUPLE_SUBCLASS) == score(agent, ALWAYS_NONE) < 1.0
    assert score(agent, LIST_NOT_TUPLE) == score(agent, ALWAYS_NONE)


def test_rewriting_the_runner_earns_what_its_answers_are_worth(agent):
    assert score(agent, FORGED_RUNNER) == score(agent, "def two_sum(nums, target): return True")


# -- fake test output ---------------------------------------------------------------------


def test_printed_or_written_fake_results_earn_nothing(agent):
    """Printing a summary earns nothing; answers written ahead on the runner's channel
    are just answers — worth what a function returning that value is worth."""
    total = len(TASKS[TASK].tests)
    printed = f"print('{total} of {total} hidden tests passed.')\n" + ALWAYS_NONE
    assert score(agent, printed) == score(agent, ALWAYS_NONE)
    written = textwrap.dedent(
        """
        import os, json
        for fd in range(1, 20):
            for i in range(1, 200):
                try:
                    os.write(fd, (json.dumps({"id": i, "ok": True, "value": {"tuple": [0, 1]}})
                                 + "\\n").encode())
                except OSError:
                    break
        """
    )
    assert score(agent, written) <= score(agent, "def two_sum(nums, target): return (0, 1)")


# -- shadowing what the environment imports ------------------------------------------------------


def test_modules_planted_where_the_agent_writes_never_run_in_the_environment(agent):
    """A forging module for every standard-library name, in every writable place: the
    environment (``python -I`` in ``/``) and the grader never import them, in this
    episode or when ``reset`` cleans up."""
    plant = plant_shadows_py(["/workspace", "/tmp", "/dev/shm", "/workspace/.local"])
    baseline = score(agent, ALWAYS_NONE)
    assert score(agent, ALWAYS_NONE, plant) == baseline
    assert score(agent, ALWAYS_NONE) == baseline  # the episode after: reset cleaned up


# -- surviving processes ------------------------------------------------------------------------


def test_no_process_of_the_agent_runs_beside_the_grader(agent, served):
    """A detached daemon (double fork, setsid, SIGTERM ignored) is gone before grading:
    the submission below solves the task only if it can still see the daemon."""
    gated = SEES_DAEMON_PY + "\nif not _daemon_alive():\n    raise SystemExit\n" + SOLUTION
    agent.reset(task_id=TASK)
    assert kernel(agent, DAEMON_PY) == "daemon started\n"
    assert kernel(agent, SEES_DAEMON_PY + "print(_daemon_alive())") == "True\n"
    result = agent.step(CodeAction(code=gated, submit=True))
    assert result.reward == 0.0
    (session,) = served.sessions.values()
    assert not [pid for pid in worker_pids(session) if MARKER in _cmdline(pid)]


def test_nothing_of_an_episode_survives_reset(agent):
    agent.reset(task_id=TASK)
    assert kernel(agent, PLANT_PY) == "planted\n"
    assert kernel(agent, DAEMON_PY) == "daemon started\n"
    agent.reset(task_id=TASK)
    expected = "{'/workspace': [], '/tmp': [], '/dev/shm': []} []\n"
    assert kernel(agent, LOOK_PY) == expected


# -- the end is the end ----------------------------------------------------------------------------


def test_steps_after_the_submission_are_refused_and_pay_nothing(agent):
    agent.reset(task_id=TASK)
    assert agent.step(CodeAction(code=SOLUTION, submit=True)).reward == 1.0
    for action in (CodeAction(code=SOLUTION, submit=True), CodeAction(code="print(1)")):
        with pytest.raises(EnvServerError) as refused:
            agent.step(action)
        assert refused.value.code == "EPISODE_OVER"
    assert agent.state().step_count == 1


def test_max_steps_ends_the_episode_for_good(agent):
    agent.reset(task_id=TASK, max_steps=1)
    assert agent.step(CodeAction(code="1")).done
    with pytest.raises(EnvServerError) as refused:
        agent.step(CodeAction(code=SOLUTION, submit=True))
    assert refused.value.code == "EPISODE_OVER"


# -- answer leaks --------------------------------------------------------------------------


def test_no_hidden_check_leaks_through_observations_state_or_tools(agent):
    task = TASKS[TASK]
    seen = [agent.reset(task_id=TASK).observation.model_dump_json()]
    seen.append(agent.step(CodeAction(code=LIST_NOT_TUPLE)).observation.model_dump_json())
    seen.append(agent.state().model_dump_json())
    seen.append(str(agent.call_tool("list_tasks")))
    seen.append(agent.step(CodeAction(code=YES, submit=True)).observation.model_dump_json())
    text = "\n".join(seen)
    for test in task.tests:
        for check in test.checks:
            if str(check) not in task.prompt:
                assert str(check) not in text
    assert task.solution.strip() not in text
    assert {tuple(sorted(row)) for row in agent.call_tool("list_tasks")} == {
        ("difficulty", "id", "title")
    }


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""
