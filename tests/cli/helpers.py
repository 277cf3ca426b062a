"""Helpers for the CLI tests: run the ``openenv`` command in-process or as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from openenv.cli.main import app

REPO = Path(__file__).resolve().parents[2]
OPENENV = [sys.executable, "-m", "openenv"]


def invoke(*args: str):
    """Run ``openenv ARGS`` in-process; returns typer's result (stdout, stderr, exit_code)."""
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "120"})


def run(
    *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m openenv ARGS`` in a subprocess."""
    return subprocess.run(
        [*OPENENV, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "120"},
    )


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    """The failure is exactly one ``error: ...`` line, no traceback, with each fragment in it."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], stderr
