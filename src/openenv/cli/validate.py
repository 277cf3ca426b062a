"""``openenv validate ENV|URL``: contract, rewards and integrity checks, as a table or JSON.

The checks themselves are in :mod:`openenv.validation`; this is the command around them.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..validation import DEFAULT_TASKS, DEFAULT_TIMEOUT_S, ValidationReport, validate
from .output import console, err_console

STYLES = {"pass": "green", "fail": "bold red", "warn": "yellow", "skip": "dim"}


def validate_command(
    target: Annotated[
        str, typer.Argument(help="An installed environment, a folder with openenv.yaml, or a URL.")
    ],
    deep: Annotated[
        bool, typer.Option("--deep", help="Also run levels 2 (rewards) and 3 (integrity).")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (for CI) instead of a table.")
    ] = False,
    tasks: Annotated[
        int, typer.Option("--tasks", min=1, help="Tasks sampled for levels 2 and 3.")
    ] = DEFAULT_TASKS,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=1.0, help="Seconds for the whole validation, all levels."),
    ] = DEFAULT_TIMEOUT_S,
) -> None:
    """Check an environment at three levels; exit 1 when a check fails.

    \b
    Level 1, the contract (always): schemas, reset/step, seeds, bad input, sessions,
      the checks of openenv.testing.run_checks.
    Level 2, rewards (--deep): on each sampled task, the environment's reference
      agents (<package>/agents.py): doing nothing earns 0, a random agent earns
      little, the known-good agent earns 1.0, unless the environment declares why
      not (shown in the detail).
    Level 3, integrity (--deep): the same seed and actions give the same
      observations and rewards in a fresh session; the hidden answer does not show
      in observations, state, tool results or errors before the end; code the agent
      runs gets no network (a port of the validator on 127.0.0.1, a public IP).

    A URL is checked where it runs; levels 2 and 3 then use the agents of the
    environment its /metadata names, if that package is installed here.
    """
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as progress:
        task = progress.add_task(f"validating {target}", total=None)
        report = validate(
            target,
            deep=deep,
            tasks=tasks,
            timeout_s=timeout,
            progress=lambda text: progress.update(task, description=escape(text)),
        )
    if json_output:
        console.print_json(json.dumps(report.to_dict()))
    else:
        console.print(report_table(report))
        verdict = "[green]OK[/]" if report.ok else "[bold red]FAILED[/]"
        levels = ", ".join(map(str, report.failed_levels()))
        console.print(
            f"{verdict} {escape(report.target)}" + (f": level {levels}" if levels else "")
        )
    if not report.ok:
        raise typer.Exit(1)


def report_table(report: ValidationReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title=f"openenv validate {escape(report.target)}")
    table.add_column("level", justify="right")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for check in report.checks:
        style = STYLES.get(check.status, "")
        table.add_row(
            str(check.level),
            escape(check.name),
            f"[{style}]{check.status}[/]",
            escape(check.detail),
        )
    return table
