"""The coding environment: real CPython, one REPL per episode, rewards from hidden tests.

Each session's environment runs in its own sandbox (``isolation: sandbox`` in
``openenv.yaml``); inside it the agent's code runs in a separate *kernel*
process (``kernel.py``), confined further (:class:`openenv.runtime.programs.Confinement`):
it can read the system and the Python installation — the whole standard library
and installed packages import — and write only its workspace and ``/tmp``. It
cannot read this package, so not the hidden tests, and has no TCP.

Modes (chosen at ``reset``):

* **task** — ``reset(task_id="fizzbuzz")``, or ``reset(seed=s)`` which picks a
  task from the seed. The first observation carries the task's ``prompt``. Steps
  run code in the kernel (reward ``0.0``); ``CodeAction(code, submit=True)`` grades
  ``code`` against the hidden tests: reward = fraction passed, no penalties, and
  the episode ends. It also ends, with reward ``0.0``, after ``max_steps`` steps
  without a submission.
* **free** — ``reset()`` or ``reset(free=True)``: a REPL, reward ``None``.

Limits per step: wall clock (``step_timeout_s``, and a shorter ``CodeAction.timeout_s``),
memory (``memory_mb``, address space), output (``output_limit_bytes`` per stream,
head and tail kept, a marker where cut). What each breach does:

* timeout — the kernel and everything it started are killed, ``exit_code`` 124,
  ``timed_out``; a fresh kernel starts: **the namespace is lost**
  (``namespace_reset``);
* memory — Python raises ``MemoryError``: a traceback, ``exit_code`` 1, **the
  namespace is kept**; if the kernel dies instead (killed by a signal), it is
  restarted as after a timeout;
* ``exit()``/``SystemExit(n)`` — ``exit_code`` n, the namespace is kept;
  ``os._exit`` or a crash ends the kernel: restarted, namespace lost.

Grading (docs/rewards.md): before it, every process the agent's code started is
killed (the whole sandbox but the environment). The submission then runs in a
fresh process of its own (:class:`openenv.grading.Submission`), as confined as
the kernel; each hidden test's check is evaluated there and only its value comes
back, as plain data, to be compared here with the expected value, which the
submission never sees (:mod:`openenv.grading.hidden_tests`). What the submission
prints goes nowhere. ``reset`` kills whatever the agent left running and empties
every directory it could write (workspace, ``/tmp``, ``/dev/shm``).
"""

from __future__ import annotations

import json
import marshal
import os
import sys
import time
from pathlib import Path
from typing import Annotated

from pydantic import Field

from openenv import Environment, FunctionRubric, derive_seed, tool
from openenv.grading import Submission, run_hidden_tests
from openenv.runtime.programs import (
    Confinement,
    Interpreter,
    Workspace,
    describe_exit,
    end_agent_programs,
    readable_paths,
    step_limit,
)

from ..models import CodeAction, CodeObservation, CodeState
from .tasks import TASKS, Task

PACKAGE_DIR = Path(__file__).resolve().parent.parent
KERNEL_CODE = marshal.dumps(
    compile((Path(__file__).parent / "kernel.py").read_text(encoding="utf-8"), "<kernel>", "exec")
).hex()
"""The kernel compiled once here (a zygote's template: once per server), for
:data:`KERNEL_LOADER`: compiling its source was ~1 ms of every kernel's start."""
KERNEL_LOADER = "import marshal, sys; exec(marshal.loads(bytes.fromhex(sys.argv.pop(1))))"
"""The kernel's ``-c`` program: runs :data:`KERNEL_CODE`, given as its first argument (the
kernel runs this interpreter, ``_python()``, so the marshal format is the same)."""
PYTHON_FLAGS = ("-S", "-s")
"""No site module, no user site: ``sys.path`` is set by the kernel from its config. Not
``-I``, which would ignore the PYTHONHASHSEED that makes ``hash()`` reproducible."""
TIMEOUT_EXIT_CODE = 124
DEFAULT_MAX_STEPS = 30


def fraction_passed(action: CodeAction, observation: CodeObservation) -> float:
    """The reward of a task step: tests passed / tests run on submit, else 0."""
    if not action.submit or not observation.tests_total:
        return 0.0
    return (observation.tests_passed or 0) / observation.tests_total


class CodingEnvironment(Environment[CodeAction, CodeObservation, CodeState]):
    """Runs Python in a per-episode kernel; grades submissions with hidden tests."""

    requires_sandbox = True  # it runs the agent's code

    grading_timeout_s: float = 60.0
    """How long grading a submission may take in all (each test has its own limit too)."""
    load_timeout_s: float = 10.0
    """How long the submission may take to load (run as a module) before the tests."""

    @classmethod
    def prepare_shared(cls) -> None:
        TASKS.tasks  # noqa: B018 - loaded once: a sandboxed session's worker is forked with it
        readable_paths([PACKAGE_DIR])  # cached: a forked worker starts its kernel without it

    def __init__(self) -> None:
        super().__init__()
        self.rubric = FunctionRubric(fraction_passed)
        self.workspace = Workspace(prefix="openenv-coding-")
        self.task: Task | None = None
        TASKS.tasks  # noqa: B018 - loaded now, while a pooled worker warms up, not at reset
        self.step_timeout_s = 10.0
        self.kernel = self._new_kernel(memory_mb=512, output_limit=65536)
        self.kernel.start()  # now, while the session is being set up, not in the first step
        self._agent_ran = False
        """Agent code has run since the kernel started (in it, or as a submission)."""
        self._request_id = 0

    # -- the API -----------------------------------------------------------------

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        task_id: str | None = None,
        free: bool = False,
        step_timeout_s: Annotated[float, Field(gt=0, le=600)] = 10.0,
        memory_mb: Annotated[int, Field(ge=64, le=65536)] = 512,
        output_limit_bytes: Annotated[int, Field(ge=256, le=16 * 2**20)] = 65536,
        max_steps: Annotated[int, Field(ge=1)] | None = None,
    ) -> CodeObservation:
        """Start an episode: a fresh kernel and workspace; a task unless free.

        ``task_id`` names a task; otherwise ``seed`` picks one, unless ``free`` or
        no seed was given (free mode). ``max_steps`` defaults to 30 in task mode
        and to no limit in free mode.
        """
        self.task = TASKS.choose(task_id, seed, free)
        self.step_timeout_s = step_timeout_s
        self.max_steps = max_steps or (DEFAULT_MAX_STEPS if self.task else None)
        self.state.task_id = self.task.id if self.task else None
        if self._agent_ran or self.kernel.confinement.memory_mb != memory_mb:
            end_agent_programs(self.kernel)  # nothing of the last episode runs on
            self.kernel = self._new_kernel(memory_mb, output_limit_bytes)
        self.workspace.clear()
        self.kernel.output_limit = output_limit_bytes
        if not self.kernel.alive:
            self.kernel.start()
        self._agent_ran = False
        seed_cell = self._run("", seed=derive_seed(self.seed or 0, "kernel"))
        if seed_cell.exit_code != 0:
            raise RuntimeError(f"the kernel did not start: {seed_cell.stderr.strip()[:500]}")
        return CodeObservation(
            task_id=self.state.task_id,
            prompt=self.task.prompt if self.task else None,
            reward=0.0 if self.task else None,
        )

    def _step(self, action: CodeAction, timeout_s: float | None = None) -> CodeObservation:
        limit = step_limit(action.timeout_s, self.step_timeout_s, timeout_s)
        if action.submit:
            if self.task is None:
                raise ValueError("submit needs a task: reset(task_id=...) or reset(seed=...)")
            observation = self._grade(action.code)
            observation.done = self.state.submitted = True
        else:
            self._agent_ran = True
            observation = self._run(action.code, limit)
        observation.task_id = self.state.task_id
        if self.task is None:
            return observation  # free mode: no reward
        return self.apply_rubric(action, observation)

    def close(self) -> None:
        end_agent_programs(self.kernel)
        self.workspace.remove()

    @tool
    def list_tasks(self) -> list[dict[str, str]]:
        """The tasks: id, title and difficulty (pass an id to reset as task_id)."""
        return TASKS.listing("title", "difficulty")

    # -- running code ------------------------------------------------------------------

    def _confinement(self, memory_mb: int) -> Confinement:
        return Confinement(
            workspace=self.workspace.path,
            writable=self.workspace.writable,
            hidden=[PACKAGE_DIR],
            memory_mb=memory_mb,
            environment={"PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"},
        )

    def _new_kernel(self, memory_mb: int, output_limit: int) -> Interpreter:
        config = {"path": self._python_path(), "memory_mb": memory_mb}
        argv = [_python(), *PYTHON_FLAGS, "-c", KERNEL_LOADER, KERNEL_CODE, json.dumps(config)]
        return Interpreter(argv, self._confinement(memory_mb), output_limit=output_limit)

    @staticmethod
    def _python_path() -> list[str]:
        """``sys.path`` for the agent's code: the entries it can read."""
        readable = readable_paths([PACKAGE_DIR])
        return [
            p for p in sys.path
            if p and any(p == r or p.startswith(r.rstrip("/") + "/") for r in readable)
        ]  # fmt: skip

    def _run(self, code: str, limit: float = 30.0, seed: int | None = None) -> CodeObservation:
        self._request_id += 1
        request: dict[str, object] = {"code": code, "id": self._request_id}
        if seed is not None:
            request["seed"] = seed  # seeds the kernel's `random` before the code runs
        exchange = self.kernel.request(control=request, timeout_s=limit)
        observation = CodeObservation(**exchange.output_fields())
        reply = _parse_reply(exchange.reply)
        if reply is not None and reply.get("id") == self._request_id:
            observation.exit_code = int(reply.get("exit_code", 1))  # type: ignore[call-overload]
            return observation
        self.state.kernel_restarts += 1
        observation.namespace_reset = True
        if exchange.reply is not None:  # the agent's code wrote on the kernel's channel
            observation.exit_code = 1
            why = "the kernel's control channel was written to by the code"
            self.kernel.stop()
        elif exchange.timed_out:
            observation.timed_out = True
            observation.exit_code = TIMEOUT_EXIT_CODE
            why = f"TimeoutError: the step ran past its {limit:g} s wall-clock limit"
        else:
            code = exchange.exit_code if exchange.exit_code is not None else -1
            observation.exit_code = 128 - code if code < 0 else code
            why = f"the Python process ended ({describe_exit(code)})"
        observation.stderr += f"\n{why}; the kernel was restarted and its variables are gone.\n"
        self.kernel.start()
        return observation

    def _grade(self, code: str) -> CodeObservation:
        """Run the hidden tests on ``code`` (see the module docstring); count the passes."""
        assert self.task is not None
        end_agent_programs(self.kernel)  # nothing of the agent's runs beside the grading
        self._agent_ran = True
        confinement = self.kernel.confinement
        python, path = _python(), self._python_path()
        seed = derive_seed(self.seed or 0, "grading")
        started = time.monotonic()
        results = run_hidden_tests(
            lambda: Submission(code, confinement, python=python, path=path, seed=seed),
            self.task.tests,
            load_timeout_s=self.load_timeout_s,
            total_timeout_s=self.grading_timeout_s,
        )
        end_agent_programs()  # and nothing the submission started outlives the grading
        count, total = sum(r.passed for r in results), len(results)
        summary = f"{count} of {total} hidden tests passed."
        if any(r.detail == "grading time is up" for r in results):
            summary += f" Grading stopped at its {self.grading_timeout_s:g} s limit."
        return CodeObservation(
            stdout=summary + "\n",
            exit_code=0 if count == total else 1,
            duration_s=round(time.monotonic() - started, 6),
            tests_passed=count,
            tests_total=total,
        )


def _python() -> str:
    return os.path.realpath(sys.executable)


def _parse_reply(line: bytes | None) -> dict[str, object] | None:
    try:
        reply = json.loads(line) if line is not None else None
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None
