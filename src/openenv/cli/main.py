"""The ``openenv`` command: a Typer app with one module per command.

Every failure a user can fix (:class:`CliError`, an environment that cannot be
found, a server that did not start: any :class:`~openenv.errors.OpenEnvError`)
ends as one line on stderr and exit code 1, never a traceback. Usage errors (an
unknown option, ``--port abc``) are one line too, with exit code 2, never Typer's
box: a box is padded to the terminal's width, and launchers run ``openenv serve``
with ``COLUMNS=1000`` so that no line of its output wraps.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from .. import __version__
from ..discovery import EnvironmentNotFound
from ..errors import OpenEnvError
from .build import build_command
from .containers import down_command, ps_command
from .demo import demo
from .evaluate import eval_command
from .init import init
from .listing import list_command
from .output import CliError, err_console
from .push import push_command
from .serve import serve
from .train import train_command
from .validate import validate_command


class _OneLineErrors(TyperGroup):
    """Turns known failures of any command into ``error: <message>`` and exit code 1,
    and usage errors into ``error: <message> (see: openenv CMD --help)`` and exit code 2."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,
        **extra: Any,
    ) -> Any:
        try:  # the root's own usage errors: no such command, a bad root option
            return super().make_context(info_name, args, parent=parent, **extra)
        except Exception as exc:
            if _is_usage_error(exc):
                _usage_fail(exc)
            raise

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (CliError, EnvironmentNotFound, OpenEnvError) as exc:
            _fail(str(exc))
        except BrokenPipeError:
            raise  # output piped into e.g. `head`; click exits quietly
        except Exception as exc:
            if _is_usage_error(exc):  # a command's options or arguments
                _usage_fail(exc)
            # Exit, Abort and help belong to click (vendored by newer Typers).
            if type(exc).__module__.split(".")[0] in ("click", "typer"):
                raise
            if os.environ.get("OPENENV_DEBUG"):
                raise
            _fail(f"unexpected {type(exc).__name__}: {exc} (set OPENENV_DEBUG=1 for a traceback)")


def _is_usage_error(exc: BaseException) -> bool:
    """A click usage error (click's or the one Typer vendors), but not "no arguments: help"."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return (
        "UsageError" in names
        and "NoArgsIsHelpError" not in names
        and type(exc).__module__.split(".")[0] in ("click", "typer")
    )


def _fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(1)


def _usage_fail(exc: Any) -> None:
    """One line for a usage error, with the command whose ``--help`` explains it; exit 2."""
    message = " ".join(exc.format_message().split())  # click's messages may span lines
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "openenv"
    err_console.print(
        f"[bold red]error:[/] {escape(message)} (see: {escape(path)} --help)", soft_wrap=True
    )
    raise typer.Exit(getattr(exc, "exit_code", 2))


app = typer.Typer(
    name="openenv",
    cls=_OneLineErrors,
    help="OpenEnv: isolated environments for agentic RL, behind one typed API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"openenv {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """OpenEnv: isolated environments for agentic RL, behind one typed API."""


app.command("init")(init)
app.command("serve")(serve)
app.command("list")(list_command)
demo_app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
demo_app.callback(invoke_without_command=True)(demo)
demo_app.command("train")(train_command)
app.add_typer(demo_app, name="demo")
app.command("validate")(validate_command)
app.command("eval")(eval_command)
app.command("build")(build_command)
app.command("push")(push_command)
app.command("ps")(ps_command)
app.command("down")(down_command)


def main() -> None:
    """Console-script entry point (``openenv``)."""
    app()


if __name__ == "__main__":
    main()
