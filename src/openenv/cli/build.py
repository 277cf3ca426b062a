"""``openenv build ENV``: an OCI image that serves ENV on port 8000."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..deploy.base import DEFAULT_BASE
from .output import CliError, console, err_console


@contextmanager
def progress_display(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner with elapsed time on stderr; the callable it yields updates its line.

    Lines that start a new stage (``wheels``, ``building``, ``made``, a note) are kept
    above the spinner, so the terminal shows what happened; the rest only update it.
    """
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(escape(title), total=None)

        def say(message: str) -> None:
            progress.update(task, description=escape(message[:160]))
            if (
                not message.startswith(("debootstrap:", "STEP ", "Step "))
                or not err_console.is_terminal
            ):
                progress.console.print(f"[dim]·[/] {escape(message)}", soft_wrap=True)

        yield say


def build_command(
    env: Annotated[
        str, typer.Argument(help="An installed environment name, or its package folder.")
    ],
    tag: Annotated[
        str | None, typer.Option("--tag", "-t", help="Image name (default openenv-NAME:latest).")
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            help="Base image (default python:3.11-slim; when it cannot be pulled, a local "
            "Debian base is made once with debootstrap)."
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Rebuild every layer.")] = False,
    stage_only: Annotated[
        bool,
        typer.Option(
            "--stage-only",
            help="Only write the build context (Dockerfile and wheels) to --output, for "
            "docker build / podman build; needs no container engine.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where --stage-only writes (default ./NAME-image)."),
    ] = None,
) -> None:
    """Build an OCI image of ENV that runs `openenv serve ENV` on port 8000.

    \b
    Uses the Docker Engine API: $DOCKER_HOST, Docker's socket, or a Podman
    service started on demand. Nothing is downloaded at build time: the
    dependencies' wheels (pinned to what is installed here), OpenEnv's wheel
    (built from this tree) and the environment's wheel go into the build
    context, one layer each, so a source edit rebuilds in seconds. The image
    runs as an unprivileged user; run it with from_docker_image or
    `openenv serve ENV --isolation container` for a locked-down container.

    Example: openenv build echo_env -t echo-env:latest
    """
    from ..deploy.images import build_image, default_tag, stage
    from ..discovery import find_environment

    if output is not None and not stage_only:
        raise CliError("--output goes with --stage-only (openenv build stages into its cache)")
    if stage_only:
        target = output or Path(f"{find_environment(env).name.replace('_', '-')}-image")
        if target.exists() and any(target.iterdir()) and not (target / "Dockerfile").exists():
            raise CliError(f"{target} is not empty and holds no Dockerfile; pick another --output")
        with progress_display(f"staging {env}") as say:
            context = stage(env, target, base=base or DEFAULT_BASE, progress=say)
        console.print(
            f"staged [cyan]{escape(context.env)}[/] in {escape(str(target))} "
            f"({len(context.dependencies)} dependencies); build it with: "
            f"docker build -t {escape(default_tag(context.env))} {escape(str(target))}",
            soft_wrap=True,
        )
        return
    with progress_display(f"building {env}") as say:
        built = build_image(env, tag=tag, base=base, no_cache=no_cache, progress=say)
    console.print(
        f"[bold]built[/] [cyan]{escape(built.tag)}[/] ({built.id[:12]}, {built.size_mb:.0f} MB) "
        f"in {built.seconds:.1f} s; context: {escape(str(built.context))}",
        soft_wrap=True,
    )
    if built.note:
        err_console.print(f"note: {escape(built.note)}", soft_wrap=True)
    console.print(
        f"run it: openenv serve {escape(env)} --isolation container --image {escape(built.tag)}",
        soft_wrap=True,
    )
