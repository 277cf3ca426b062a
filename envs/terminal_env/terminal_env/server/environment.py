"""The terminal environment: a bash shell per episode in a sandboxed workspace.

Each session's environment runs in its own sandbox (``isolation: sandbox`` in
``openenv.yaml``); inside it the shell runs confined further
(:class:`openenv.runtime.programs.Confinement`): it reads the system (coreutils,
grep, sed, awk, find, tar, git, python3 …) and writes only the workspace and
``/tmp``; it cannot read this package — so not the verifiers — and has no TCP.

Modes (chosen at ``reset``), as in ``coding_env``:

* **task** — ``reset(task_id=...)``, or ``reset(seed=s)`` which picks a task. The
  task's ``setup`` fills the workspace (what it makes depends on the seed) and the
  first observation carries the ``prompt``. ``TerminalAction(evaluate=True)`` runs
  the hidden verifier: reward 1.0 when it passes, else 0.0, and the episode ends.
  Other steps have reward 0.0. After ``max_steps`` steps the verifier runs by
  itself on the last one.

Grading (docs/rewards.md): every process the agent started is killed first (the
whole sandbox but the environment, whatever ``setsid`` it did); the verifier then
runs in a fresh trusted process (:mod:`.verify`) that reads the workspace as data.
``reset`` kills what the agent left running and empties every directory it could
write (workspace, ``/tmp`` with ``$HOME``, ``/dev/shm``) before the task's setup.
* **free** — ``reset()`` or ``reset(free=True)``: a shell, reward ``None``.

The shell persists across steps (``cd``, variables, functions). Each command
runs with stdin from ``/dev/null``. A command past its wall-clock limit
(``step_timeout_s``, or a shorter ``TerminalAction.timeout_s``) is killed with
everything it started, ``exit_code`` 124; the shell restarts in the same
directory (``shell_restarted``: variables and functions are gone, files stay).
``exit`` ends the shell the same way. Output a background job writes after its
command ended shows up in a later step.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path
from typing import Annotated

from pydantic import Field

from openenv import Environment, FunctionRubric, tool
from openenv.grading.trusted import TrustedFailure
from openenv.runtime.programs import (
    Confinement,
    Interpreter,
    Workspace,
    describe_exit,
    end_agent_programs,
    readable_paths,
    step_limit,
)

from ..models import TerminalAction, TerminalObservation, TerminalState
from .tasks import TASKS, SetupWorkspace, Task
from .verify import run_verifier

log = logging.getLogger("terminal_env")

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASH = "/bin/bash"
TIMEOUT_EXIT_CODE = 124
DEFAULT_MAX_STEPS = 50
AGENT_IDENTITY = {
    "GIT_AUTHOR_NAME": "agent",
    "GIT_AUTHOR_EMAIL": "agent@openenv.local",
    "GIT_COMMITTER_NAME": "agent",
    "GIT_COMMITTER_EMAIL": "agent@openenv.local",
    "TERM": "dumb",
}


def verdict(action: TerminalAction, observation: TerminalObservation) -> float:
    """The reward of a task step: 1.0 when the verifier passed, else 0.0."""
    return 1.0 if observation.solved else 0.0


class TerminalEnvironment(Environment[TerminalAction, TerminalObservation, TerminalState]):
    """Runs bash commands in a per-episode shell; grades tasks with hidden verifiers."""

    requires_sandbox = True  # it runs the agent's commands

    @classmethod
    def prepare_shared(cls) -> None:
        readable_paths([PACKAGE_DIR])  # cached: a forked worker starts its shell without it

    def __init__(self) -> None:
        super().__init__()
        self.rubric = FunctionRubric(verdict)
        self.workspace = Workspace(prefix="openenv-terminal-")
        self.task: Task | None = None
        TASKS.tasks  # noqa: B018 - loaded now, while a pooled worker warms up, not at reset
        self.step_timeout_s = 30.0
        self.shell = Interpreter([BASH, "--norc", "--noprofile"], self._confinement())
        self._prepare_home()
        self.shell.start()  # now, while the session is set up, not in the first step
        self._shell_used = False
        self._state.cwd = self.workspace.path

    # -- the API -----------------------------------------------------------------

    def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        task_id: str | None = None,
        free: bool = False,
        step_timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0,
        output_limit_bytes: Annotated[int, Field(ge=256, le=16 * 2**20)] = 65536,
        max_steps: Annotated[int, Field(ge=1)] | None = None,
    ) -> TerminalObservation:
        """Start an episode: an empty workspace, a fresh shell, a task unless free.

        ``task_id`` names a task; otherwise ``seed`` picks one, unless ``free`` or
        no seed was given. ``max_steps`` defaults to 50 in task mode, no limit in
        free mode.
        """
        self.task = TASKS.choose(task_id, seed, free)
        self.step_timeout_s = step_timeout_s
        self.max_steps = max_steps or (DEFAULT_MAX_STEPS if self.task else None)
        self.state.task_id = self.task.id if self.task else None
        if self._shell_used:
            end_agent_programs(self.shell)  # nothing of the last episode runs on
        self.workspace.clear()
        self._prepare_home()
        self.shell.output_limit = output_limit_bytes
        if self.task is not None:
            assert self.seed is not None
            self.task.setup(SetupWorkspace(self.workspace.path), self.task.params_for(self.seed))
        if not self.shell.alive:
            self.shell.start()
        self._shell_used = False
        self.state.cwd = self.workspace.path
        return TerminalObservation(
            cwd=self.state.cwd,
            task_id=self.state.task_id,
            prompt=self.task.prompt if self.task else None,
            reward=0.0 if self.task else None,
        )

    def _step(self, action: TerminalAction, timeout_s: float | None = None) -> TerminalObservation:
        limit = step_limit(action.timeout_s, self.step_timeout_s, timeout_s)
        if action.evaluate:
            if self.task is None:
                raise ValueError("evaluate needs a task: reset(task_id=...) or reset(seed=...)")
            observation = self._evaluate()
        else:
            self._shell_used = True
            observation = self._run(action.command, limit)
            if self.at_step_limit and self.task is not None:  # the last step: grade what is there
                observation.solved = self._evaluate().solved
        observation.task_id = self.state.task_id
        observation.done = action.evaluate or self.at_step_limit
        if self.task is None:
            return observation  # free mode: no reward
        return self.apply_rubric(action, observation)

    def close(self) -> None:
        end_agent_programs(self.shell)
        self.workspace.remove()

    @tool
    def list_tasks(self) -> list[dict[str, str]]:
        """The tasks: id, title and difficulty (pass an id to reset as task_id)."""
        return TASKS.listing("title", "difficulty")

    # -- the shell -----------------------------------------------------------------------

    def _confinement(self) -> Confinement:
        return Confinement(
            workspace=self.workspace.path,
            writable=self.workspace.writable,
            hidden=[PACKAGE_DIR],
            memory_mb=1024,
            environment={"HOME": self._home, **AGENT_IDENTITY},
        )

    @property
    def _home(self) -> str:
        return os.path.join(self.workspace.tmp, "home")

    def _prepare_home(self) -> None:
        os.makedirs(self._home, exist_ok=True)

    def _run(self, command: str, limit: float) -> TerminalObservation:
        # The command travels in a quoted here-document under a random delimiter, so no
        # text in it can end it early; `read` and `eval` are builtins, so a shell that
        # cannot fork any more (a fork bomb) still runs builtins, and `cd` sticks.
        delimiter = f"__OPENENV_END_{secrets.token_hex(8)}"
        script = (
            f"IFS= read -r -d '' __openenv_command <<'{delimiter}'\n{command}\n{delimiter}\n"
            'eval "$__openenv_command" </dev/null\n'
            'printf \'%s %s\\n\' "$?" "$PWD" >&3\n'
        )
        exchange = self.shell.request(stdin=script.encode(), timeout_s=limit)
        observation = TerminalObservation(**exchange.output_fields())
        if exchange.reply is not None:
            status, _, cwd = exchange.reply.decode("utf-8", "replace").partition(" ")
            observation.exit_code = int(status) if status.isdigit() else 1
            self.state.cwd = cwd or self.state.cwd
            observation.cwd = self.state.cwd
            return observation
        self.state.shell_restarts += 1
        observation.shell_restarted = True
        if exchange.timed_out:
            observation.timed_out = True
            observation.exit_code = TIMEOUT_EXIT_CODE
            why = f"TimeoutError: the command ran past its {limit:g} s wall-clock limit"
        else:
            code = exchange.exit_code if exchange.exit_code is not None else -1
            observation.exit_code = 128 - code if code < 0 else code
            why = f"the shell ended ({describe_exit(code)})"
        cwd = self.state.cwd if os.path.isdir(self.state.cwd) else self.workspace.path
        self.shell.start(cwd=cwd)
        self.state.cwd = observation.cwd = cwd
        observation.stderr += (
            f"\n{why}; a new shell started in {cwd} (variables and functions are gone).\n"
        )
        return observation

    def _evaluate(self) -> TerminalObservation:
        """Run the hidden verifier on the workspace as the agent left it (module docstring)."""
        assert self.task is not None
        end_agent_programs(self.shell)  # nothing of the agent's runs beside the verifier
        self._shell_used = True
        self.state.evaluated = True
        started = time.monotonic()
        try:
            assert self.seed is not None
            result = run_verifier(
                self.task.id, self.seed, self.workspace.path, self.workspace.writable
            )
        except TrustedFailure as exc:
            log.warning("verifier of %s failed: %s %s", self.task.id, exc, exc.stderr[-500:])
            result = {"solved": False}
        if result.get("error"):
            log.error("verifier of %s raised %s", self.task.id, result["error"])
        end_agent_programs()  # programs the verifier ran for the agent do not outlive it
        solved = result.get("solved") is True
        return TerminalObservation(
            stdout="The task is solved.\n" if solved else "The task is not solved.\n",
            exit_code=0 if solved else 1,
            cwd=self.state.cwd,
            duration_s=round(time.monotonic() - started, 6),
            solved=solved,
        )
