"""The coding environment's action, observation and state."""

from __future__ import annotations

from pydantic import Field

from openenv import Action, Observation, State
from openenv.types import NONDETERMINISTIC

MAX_CODE_CHARS = 1_000_000


class CodeAction(Action):
    """Python code to run in the episode's kernel, or to submit for grading.

    With ``submit=True`` (task mode only) ``code`` is the whole solution: it runs
    against the task's hidden tests in a fresh process, the reward is the fraction
    that pass, and the episode ends. It does not run in the kernel.
    """

    code: str = Field(description="Python source.", max_length=MAX_CODE_CHARS)
    submit: bool = Field(False, description="Grade `code` as the task's solution.")
    timeout_s: float | None = Field(
        None, gt=0, description="Wall-clock limit of this step; at most the episode's limit."
    )


class CodeObservation(Observation):
    """What running (or grading) the code gave."""

    stdout: str = Field("", description="Standard output, capped (see `stdout_truncated`).")
    stderr: str = Field("", description="Standard error: tracebacks, limit messages.")
    exit_code: int = Field(
        0, description="0 ok, 1 an exception, n from SystemExit(n), 124 a timeout."
    )
    timed_out: bool = Field(False, description="The step ran past its wall-clock limit.")
    duration_s: float = Field(
        0.0,
        ge=0,
        description="Wall-clock seconds the step took.",
        json_schema_extra=NONDETERMINISTIC,
    )
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    namespace_reset: bool = Field(
        False, description="The kernel was restarted during this step: variables are gone."
    )
    task_id: str | None = Field(None, description="The task of this episode (None: free mode).")
    prompt: str | None = Field(None, description="The task's statement (on reset).")
    tests_passed: int | None = Field(None, description="Hidden tests passed (after submit).")
    tests_total: int | None = Field(None, description="Hidden tests run (after submit).")


class CodeState(State):
    """Episode bookkeeping."""

    task_id: str | None = None
    submitted: bool = False
    kernel_restarts: int = 0
