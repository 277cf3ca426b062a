"""The terminal environment's action, observation and state."""

from __future__ import annotations

from pydantic import Field

from openenv import Action, Observation, State
from openenv.types import NONDETERMINISTIC

MAX_COMMAND_CHARS = 100_000


class TerminalAction(Action):
    """A bash command line to run in the episode's shell, or a request to be graded.

    The shell persists for the episode: ``cd``, variables and functions carry over
    from one command to the next. ``evaluate=True`` (task mode) runs the task's
    hidden verifier instead of a command; the reward is 1.0 if it passes, and the
    episode ends.
    """

    command: str = Field("", description="Bash source to run.", max_length=MAX_COMMAND_CHARS)
    timeout_s: float | None = Field(
        None, gt=0, description="Wall-clock limit of this command; at most the episode's."
    )
    evaluate: bool = Field(False, description="Run the task's verifier; ends the episode.")


class TerminalObservation(Observation):
    """What the command printed, how it ended, and where the shell is."""

    # A shell prints the clock, process ids and the hashes of commits made now: its
    # output is not expected to repeat exactly under the same seed (docs/testing.md).
    stdout: str = Field("", json_schema_extra=NONDETERMINISTIC)
    stderr: str = Field("", json_schema_extra=NONDETERMINISTIC)
    exit_code: int = Field(0, description="The command's status; 124 when it timed out.")
    cwd: str = Field(
        "",
        description="The shell's working directory after the command.",
        json_schema_extra=NONDETERMINISTIC,  # a per-episode directory unless sandboxed
    )
    timed_out: bool = False
    duration_s: float = Field(0.0, ge=0, json_schema_extra=NONDETERMINISTIC)
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    shell_restarted: bool = Field(
        False, description="The shell was restarted: its variables and functions are gone."
    )
    task_id: str | None = None
    prompt: str | None = Field(None, description="The task's statement (on reset).")
    solved: bool | None = Field(None, description="The verifier's verdict (after evaluate).")


class TerminalState(State):
    """Episode bookkeeping."""

    task_id: str | None = None
    cwd: str = ""
    evaluated: bool = False
    shell_restarts: int = 0
