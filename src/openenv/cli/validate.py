"""``openenv validate ENV|FOLDER|URL``: package, server, contract, rewards and integrity checks.

The checks themselves are in :mod:`openenv.validation` (and ``validation_package``,
``validation_server``); this is the command around them.
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
        str,
        typer.Argument(
            help="An installed environment, a package folder (with openenv.yaml), or a URL."
        ),
    ],
    deep: Annotated[
        bool, typer.Option("--deep", help="Also run levels 2 (rewards) and 3 (integrity).")
    ] = False,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the report as JSON (for CI) instead of a table; for a URL a superset "
            "of the reference `openenv validate URL --json` (passed, summary, criteria).",
        ),
    ] = False,
    tasks: Annotated[
        int, typer.Option("--tasks", min=1, help="Tasks sampled for levels 2 and 3.")
    ] = DEFAULT_TASKS,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=1.0, help="Seconds for the whole validation, all levels."),
    ] = DEFAULT_TIMEOUT_S,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="OPENENV_TOKEN",
            show_envvar=True,
            help="A URL's bearer token: sent on every request, and auth_enforced checks "
            "the server refuses requests without it (skipped when none is given).",
        ),
    ] = None,
    build: Annotated[
        bool,
        typer.Option("--build", help="A folder: also build its image (check 'Dockerfile builds')."),
    ] = False,
) -> None:
    """Check an environment; exit 1 when a check fails.

    \b
    Level 0, the package (a FOLDER): openenv.yaml present and valid, the
      package and its environment importable, its models (Action and
      Observation types) importable, tests/ with test_*.py files; with
      --build, its image builds.
    A running server (a URL): OpenEnv's six criteria, as its own
      `openenv validate URL` checks them (openapi_version_available,
      health_endpoint, metadata_endpoint, schema_endpoint, mcp_endpoint,
      mode_endpoint_consistency), then ours: typed_errors (bad input gets
      typed errors, the session goes on), concurrent_sessions_independent,
      reset_seed_reproducible, auth_enforced (with --token: refused
      without it, accepted with it; skipped without --token).
    Level 1, the contract (always): schemas, reset/step, seeds, bad input,
      sessions: the checks of openenv.testing.run_checks.
    Level 2, rewards (--deep): on each sampled task, the environment's
      reference agents (<package>/agents.py): doing nothing earns 0, a
      random agent earns little, the known-good agent earns 1.0, unless
      the environment declares why not (shown in the detail).
    Level 3, integrity (--deep): the same seed and actions give the same
      observations and rewards in a fresh session; the hidden answer does
      not show in observations, state, tool results or errors before the
      end; code the agent runs gets no network (a port of the validator on
      127.0.0.1, a public IP).

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
            token=token,
            build=build,
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
            escape(check.detail or check.description),
        )
    return table
