"""The escape suite's attacker: an environment whose action is Python code, run in its worker.

Each step runs ``exec(code)`` inside the sandboxed worker and returns what the code
printed and the exception it raised, if any. It is a top-level module on
purpose: the worker imports it by name (``attack_env``), so only this one file
is bound into the sandbox (at ``/opt/openenv/lib/attack_env.py``) — not the
``tests`` folder, which belongs to the server's source tree the suite checks is
invisible. Never serve it outside a sandbox.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

from openenv import Action, Environment, Observation, State

MAX_OUTPUT = 64_000


class AttackAction(Action):
    code: str


class AttackObservation(Observation):
    output: str = ""
    error: str | None = None


class AttackEnvironment(Environment[AttackAction, AttackObservation, State]):
    """Runs the agent's code in the worker process: what the sandbox must contain."""

    def _reset(
        self, seed: int | None = None, episode_id: str | None = None, **options: Any
    ) -> AttackObservation:
        return AttackObservation(output="ready")

    def _step(self, action: AttackAction, timeout_s: float | None = None) -> AttackObservation:
        printed = io.StringIO()
        error = None
        try:
            with contextlib.redirect_stdout(printed):
                exec(action.code, {"__name__": "__attack__"})
        except BaseException as exc:  # SystemExit and MemoryError too: report, never die
            error = f"{type(exc).__name__}: {exc}"
        return AttackObservation(output=printed.getvalue()[-MAX_OUTPUT:], error=error)
