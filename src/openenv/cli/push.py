"""``openenv push ENV``: upload ENV as a Hugging Face Docker Space (or its image to a registry)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .build import progress_display
from .output import CliError, console, err_console


def push_command(
    env: Annotated[
        str, typer.Argument(help="An installed environment name, or its package folder.")
    ],
    repo_id: Annotated[
        str | None,
        typer.Option(
            "--repo-id",
            help="The Space, OWNER/NAME or NAME (default: YOUR-USER/ENV-NAME, '_' as '-').",
        ),
    ] = None,
    private: Annotated[
        bool, typer.Option("--private", help="Create the Space private (a new Space only).")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Stage and show what would be uploaded; send nothing, need no token."
        ),
    ] = False,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", help="Hugging Face token (default: $HF_TOKEN, else `hf auth login`'s)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to stage (default ~/.cache/openenv/space/NAME)."
        ),
    ] = None,
    # -- another target: an OCI registry instead of a Space (openenv.deploy.registry) --
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            metavar="HOST:PORT/NS",
            help="Push the image (built if missing) to this OCI registry instead of a Space.",
        ),
    ] = None,
) -> None:
    """Upload ENV to a Hugging Face Space that builds and serves it on port 8000.

    \b
    Staged in ~/.cache/openenv/space/NAME (or --output), then uploaded as
    one commit:
      Dockerfile        `openenv build`'s recipe, on python:3.11-slim
      openenv.yaml      ENV's settings
      wheels/           every dependency (pinned to what is installed
                        here), OpenEnv's wheel and ENV's: the Space's
                        builder downloads nothing but the base image
      README.md         front matter for a Docker Space (sdk: docker,
                        app_port: 8000, tags: openenv), then ENV's README
    The Space is created if missing; pushing again updates it.

    \b
    The token is --token, else $HF_TOKEN, else the one `hf auth login`
    saved (--dry-run needs none). $HF_ENDPOINT names another Hub.
    --registry HOST:PORT/NS pushes ENV's OCI image to a registry instead.

    \b
    Example: openenv push echo_env --dry-run
             openenv push echo_env --repo-id team/echo-env
    """
    if registry is not None:
        if repo_id is not None or private or dry_run or output is not None:
            raise CliError(
                "--registry pushes an image: --repo-id, --private, --dry-run and --output "
                "are for Spaces"
            )
        _push_to_registry(env, registry)
        return
    if output is not None and output.exists() and any(output.iterdir()):
        if not (output / "Dockerfile").exists():
            raise CliError(f"{output} is not empty and holds no Dockerfile; pick another --output")

    from ..deploy.push import push_space

    with progress_display(f"pushing {env}") as say:
        pushed = push_space(
            env,
            repo_id=repo_id,
            private=private,
            token=token,
            dry_run=dry_run,
            progress=say,
            dest=output,
        )
    if dry_run:
        _show_dry_run(pushed.staged, pushed.files, pushed.repo_id, pushed.url)
        return
    console.print(
        f"[bold]pushed[/] [cyan]{escape(env)}[/] to {escape(pushed.url)} "
        f"({len(pushed.files)} files, commit {escape((pushed.commit or '')[:12])})",
        soft_wrap=True,
    )
    try:
        from ..deploy.registry import space_url
    except ImportError:
        return
    console.print(
        f"once the Space is built it answers on {escape(space_url(pushed.repo_id))}; "
        f'connect: GenericEnvClient.from_hub("{escape(pushed.repo_id)}", run="remote")',
        soft_wrap=True,
    )


def _push_to_registry(env: str, registry: str) -> None:
    """``--registry HOST:PORT/NS``: the image, through :mod:`openenv.deploy.registry`."""
    try:
        from ..deploy.registry import push_image
    except ImportError as exc:  # the module (another part of OpenEnv) is not installed
        if exc.name in (None, "openenv.deploy.registry"):
            raise CliError("pushing to a registry is not available") from None
        raise CliError(
            f"pushing to a registry needs {exc.name}: pip install 'openenv-rl[containers]'"
        ) from None
    with progress_display(f"pushing {env} to {registry}") as say:
        pushed = push_image(env, registry, tag=None, progress=say)
    digest = getattr(pushed, "digest", None)
    console.print(
        f"[bold]pushed[/] [cyan]{escape(str(getattr(pushed, 'reference', pushed)))}[/]"
        + (f" ({escape(str(digest))})" if digest else ""),
        soft_wrap=True,
    )


def _show_dry_run(staged: Path, files: tuple[str, ...], repo_id: str, url: str) -> None:
    sizes = {file: (staged / file).stat().st_size for file in files}
    console.print(
        f"[bold]dry run[/]: nothing sent; would upload {len(files)} files "
        f"({_size(sum(sizes.values()))}) to {escape(repo_id)} ({escape(url)})",
        soft_wrap=True,
    )
    rows: list[tuple[str, str]] = []
    deps = [file for file in files if file.startswith("wheels/deps/")]
    for file in files:
        if file in deps:
            if file == deps[0]:
                wheels = [d for d in deps if d.endswith(".whl")]
                rows.append(
                    (
                        "wheels/deps/",
                        f"{len(wheels)} wheels + requirements.txt, "
                        f"{_size(sum(sizes[d] for d in deps))}",
                    )
                )
            continue
        rows.append((file, _size(sizes[file])))
    width = max(len(name) for name, _ in rows)
    for name, size in rows:
        console.print(f"  {escape(name.ljust(width))}  {size}", soft_wrap=True, highlight=False)
    readme = (staged / "README.md").read_text(encoding="utf-8")
    front = readme.split("---\n", 2)[1] if readme.startswith("---\n") else ""
    console.print("README.md front matter:", soft_wrap=True)
    for line in ["---", *front.splitlines(), "---"]:
        console.print(f"  {escape(line)}", soft_wrap=True, highlight=False)
    err_console.print(f"staged in {escape(str(staged))}", soft_wrap=True)


def _size(count: float) -> str:
    """``512`` → ``"512 B"``, ``2048`` → ``"2.0 kB"``, ``3e7`` → ``"30.0 MB"``."""
    if count < 1000:
        return f"{count:.0f} B"
    if count < 1e6:
        return f"{count / 1e3:.1f} kB"
    return f"{count / 1e6:.1f} MB"
