"""``openenv eval ENV --policy P --episodes N``: a policy over episodes, recorded and summed up.

The work is :func:`openenv.evaluation.evaluate`; this is the command around it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from ..evaluation import EvalReport

from .output import CliError, console, err_console


def eval_command(
    env: Annotated[
        str, typer.Argument(help="An installed environment or a package folder (openenv.yaml).")
    ],
    policy: Annotated[
        str,
        typer.Option(
            "--policy",
            "-p",
            help="good, random or noop (the environment's reference agents, over its tasks), "
            "or module:function: a function of the observation returning the action, or "
            "play(session, first, task) playing a whole episode.",
        ),
    ] = "good",
    episodes: Annotated[int, typer.Option("--episodes", "-n", min=1, help="Episodes.")] = 10,
    seed: Annotated[
        int, typer.Option("--seed", help="First seed (or first task) ; then +1 per episode.")
    ] = 0,
    options: Annotated[
        str | None,
        typer.Option("--options", help='Reset options as JSON, e.g. \'{"task_id": "fizzbuzz"}\'.'),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Trajectories file (JSONL); default openenv-eval/ENV-TIME.jsonl."
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Use the server at this URL instead of starting one."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="OPENENV_TOKEN", show_envvar=True, help="--url's token."),
    ] = None,
    isolation: Annotated[
        str | None,
        typer.Option("--isolation", help="none or sandbox (default: the env's openenv.yaml)."),
    ] = None,
    max_steps: Annotated[
        int, typer.Option("--max-steps", min=1, help="Steps per episode, at most (functions).")
    ] = 1000,
    success_at: Annotated[
        float,
        typer.Option(
            "--success-at",
            help="Return that counts as success where the observation has no "
            "solved/success/won field.",
        ),
    ] = 1.0,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run a policy over episodes; record every trajectory; print reward, steps, success.

    \b
    Examples:
      openenv eval guess_number_env --policy good --episodes 20
      openenv eval wordle_env --policy random -n 50 -o runs/wordle.jsonl
      openenv eval echo_env --policy my_agents:policy --seed 100
    Episodes the infrastructure broke (server gone, worker dead) are counted
    apart as failed, never scored as a return of 0.
    """
    try:
        reset_options = json.loads(options) if options else {}
    except json.JSONDecodeError as exc:
        raise CliError(f"--options is not JSON: {exc}") from None
    if not isinstance(reset_options, dict):
        raise CliError("--options must be a JSON object")
    from ..evaluation import evaluate  # the client side, only when this command runs

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as progress:
        task = progress.add_task(f"{escape(env)}: {escape(policy)}", total=episodes)
        report = evaluate(
            env,
            policy,
            episodes=episodes,
            seed=seed,
            reset_options=reset_options,
            url=url,
            token=token,
            isolation=isolation,
            out=out,
            max_steps=max_steps,
            success_at=success_at,
            progress=lambda _: progress.advance(task),
        )
    if json_output:
        console.print_json(json.dumps(report.to_dict()))
        return
    console.print(report_table(report))
    console.print(f"trajectories: {escape(str(report.trajectories))}")


def report_table(report: EvalReport) -> Table:
    def number(value: float, digits: int = 3) -> str:
        return "-" if value != value else f"{value:.{digits}f}"

    table = Table(box=box.SIMPLE_HEAD, title=f"openenv eval {escape(report.env)}")
    for column in ("policy", "episodes", "reward mean", "min", "max", "steps", "success", "time"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    episodes = str(len(report.outcomes))
    if report.failed:
        episodes += f" ({report.failed} failed)"
    table.add_row(
        escape(report.policy),
        episodes,
        number(report.reward_mean),
        number(report.reward_min),
        number(report.reward_max),
        number(report.steps_mean, 1),
        "-" if report.success_rate != report.success_rate else f"{report.success_rate:.0%}",
        f"{report.seconds:.1f} s",
    )
    return table
