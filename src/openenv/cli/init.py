"""``openenv init NAME``: scaffold an environment package that passes its own tests.

The files come from ``templates/env``: paths and contents have ``__name__`` /
``{{name}}``-style placeholders and a ``.tmpl`` suffix (so no tool mistakes them
for code of this package).
"""

from __future__ import annotations

import keyword
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .output import CliError, console

TEMPLATE_DIR = Path(__file__).parent / "templates" / "env"
RESERVED = frozenset({"openenv", "test", "tests", "server", "models", "client"})


def placeholders(name: str) -> dict[str, str]:
    """The values templates use: ``guess_env`` → ``Name=Guess``, ``dist_name=guess-env``."""
    base = name[: -len("_env")] if name.endswith("_env") and len(name) > len("_env") else name
    camel = "".join(part[:1].upper() + part[1:] for part in base.split("_") if part)
    return {
        "name": name,
        "Name": camel or "Env",
        "dist_name": name.strip("_").replace("_", "-"),
        "title": " ".join(part.capitalize() for part in name.split("_") if part),
    }


def check_name(name: str) -> None:
    """Refuse names that cannot be, or should not be, a Python package name."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise CliError(f"{name!r} is not a valid Python identifier; try e.g. {_suggest(name)!r}")
    if name in RESERVED or name in sys.stdlib_module_names:
        raise CliError(
            f"{name!r} would shadow an existing module; pick another name, e.g. {name}_env"
        )


def _suggest(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_") or "my"
    cleaned = f"env_{cleaned}" if cleaned[0].isdigit() else cleaned
    return cleaned if cleaned.endswith("_env") or cleaned.startswith("env_") else f"{cleaned}_env"


def render(text: str, values: dict[str, str]) -> str:
    """Replace every ``{{key}}`` in ``text``."""
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def scaffold(name: str, target: Path) -> list[Path]:
    """Write the package for ``name`` into ``target``; returns the files written."""
    check_name(name)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CliError(
            f"{target} already exists and is not empty; pick another NAME or --output-dir"
        )
    values = placeholders(name)
    written = []
    for template in sorted(TEMPLATE_DIR.rglob("*.tmpl")):
        relative = template.relative_to(TEMPLATE_DIR).with_suffix("")
        destination = target / str(relative).replace("__name__", name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(
            render(template.read_text(encoding="utf-8"), values), encoding="utf-8"
        )
        written.append(destination)
    return written


def init(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Package name of the environment, e.g. guess_env.")
    ],
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Folder to create NAME/ in.", file_okay=False)
    ] = Path("."),
) -> None:
    """Create an environment package NAME/ that passes its own tests right away.

    Inside: models, clients, a server (a seeded game with a rubric and a tool), tests.

    Example: openenv init guess_env -o envs
    """
    target = output_dir / name
    try:
        written = scaffold(name, target)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    console.print(
        f"[green]Created[/] {escape(str(target))}/ ({len(written)} files)", soft_wrap=True
    )
    console.print(
        f"Next: cd {escape(str(target))} && python -m pytest && pip install -e . "
        f"&& openenv serve {name}",
        soft_wrap=True,
    )
