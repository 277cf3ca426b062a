"""A coding server built with the *reference* OpenEnv (``openenv==0.10.0``) and smolagents.

Run it with the reference virtual environment's Python, with the ``coding`` extra
installed (see :mod:`venv`), never with ours: both packages are called ``openenv``::

    $(python -m benchmarks.reference.venv --extra coding) \\
        benchmarks/reference/coding_server.py --port 8002

It stands for the public OpenEnv's ``coding_env`` (not published as a package),
written here against the public APIs: a reference ``Environment`` served by the
reference ``create_app``, whose every step runs the action's ``code`` through
smolagents' ``LocalPythonExecutor`` — an interpreter that walks the code's AST in
the server process, with smolagents' default limits (30 s, 10 million evaluated
nodes, only allow-listed imports; ``json`` added to them, as there). One executor
per session keeps its variables from step to step; ``reset`` starts a new one.

The wire fields match our ``coding_env`` so one load generator drives both:
the action is ``{"code": str}``; the observation has ``stdout`` (what the code
printed, then the JSON, else the ``repr``, of the value of its last expression
when that is not ``None``), ``stderr`` (the error, with its traceback, when the
code failed) and ``exit_code`` (0 ok, 1 failed). Sessions are concurrent: the
reference runs each one's ``step`` in that session's own thread.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import traceback
from typing import Any
from uuid import uuid4

import uvicorn
from pydantic import Field
from smolagents import LocalPythonExecutor

from openenv.core.env_server.http_server import create_app
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, Observation, State

AUTHORIZED_IMPORTS = ["json"]
"""Imports allowed beyond smolagents' base list (the public coding env adds ``json``)."""


class CodeAction(Action):
    """Python code to run in the session's interpreter."""

    code: str = Field(description="Python source.")


class CodeObservation(Observation):
    """What running the code gave."""

    stdout: str = Field(default="", description="Printed output, then the last value.")
    stderr: str = Field(default="", description="The error, when the code failed.")
    exit_code: int = Field(default=0, description="0 ok, 1 an error.")


class CodeState(State):
    """Episode bookkeeping: the last step's exit code."""

    last_exit_code: int = 0


def _shown(value: Any) -> str:
    """A value as the observation shows it: JSON when it has one, else its ``repr``."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


class Interpreter:
    """One session's smolagents ``LocalPythonExecutor``: its variables persist across runs."""

    def __init__(self) -> None:
        self.executor = LocalPythonExecutor(additional_authorized_imports=list(AUTHORIZED_IMPORTS))
        self.executor.send_tools({})  # smolagents' base tools: print, len, range, ...

    def run(self, code: str) -> CodeObservation:
        """Run ``code``; never raises (a failure is ``exit_code`` 1 with the error in stderr)."""
        try:
            result = self.executor(code)
        except Exception:
            printed = str(self.executor.state.get("_print_outputs", ""))
            return CodeObservation(stdout=printed, stderr=traceback.format_exc(), exit_code=1)
        stdout = str(result.logs or "")
        if result.output is not None:
            stdout += _shown(result.output)
        return CodeObservation(stdout=stdout, exit_code=0)


class CodingEnvironment(Environment):
    """Runs each action's code in the session's interpreter (smolagents, in-process)."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self) -> None:
        super().__init__()
        self.interpreter = Interpreter()
        self._state = CodeState(episode_id=str(uuid4()), step_count=0)

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> CodeObservation:
        self.interpreter = Interpreter()  # a clean namespace
        self._state = CodeState(episode_id=episode_id or str(uuid4()), step_count=0)
        return CodeObservation()

    def step(
        self, action: CodeAction, timeout_s: float | None = None, **kwargs: Any
    ) -> CodeObservation:
        if not isinstance(action, CodeAction):
            raise TypeError(f"unexpected action {type(action).__name__}")
        observation = self.interpreter.run(action.code)
        self._state.step_count += 1
        self._state.last_exit_code = observation.exit_code
        return observation

    @property
    def state(self) -> CodeState:
        return self._state


def build_app(max_sessions: int) -> Any:
    return create_app(
        CodingEnvironment,
        CodeAction,
        CodeObservation,
        env_name="coding_env",
        max_concurrent_envs=max_sessions,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--max-sessions", type=int, default=1024)
    parser.add_argument("--backlog", type=int, default=4096, help="listen() backlog")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.environ.pop("ENABLE_WEB_INTERFACE", None)  # the plain FastAPI app, no Gradio UI
    uvicorn.run(
        build_app(args.max_sessions),
        host=args.host,
        port=args.port,
        backlog=args.backlog,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
