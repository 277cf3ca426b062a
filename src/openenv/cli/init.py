"""``openenv init NAME``: scaffold an environment package that passes its own tests.

The files come from ``templates/env``: paths and contents have ``__name__`` /
``{{name}}``-style placeholders and a ``.tmpl`` suffix (so no tool mistakes them
for code of this package). The package passes its own lint too (ruff, as its
``pyproject.toml`` sets it) whatever the name: class names grow with it, so the
Python it renders is laid out as ruff would lay it out (:func:`tidy`).
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .output import CliError, console

TEMPLATE_DIR = Path(__file__).parent / "templates" / "env"
RESERVED = frozenset({"openenv", "test", "tests", "server", "models", "client"})
MAX_NAME_LENGTH = 64
"""Longer names would make lines that no layout fits in :data:`LINE_LENGTH`."""
LINE_LENGTH = 100
"""The generated package's own ruff ``line-length`` (``templates/env/pyproject.toml``)."""


def placeholders(name: str) -> dict[str, str]:
    """The values templates use: ``guess_env`` → ``Name=Guess``, ``dist_name=guess-env``."""
    base = name[: -len("_env")] if name.endswith("_env") and len(name) > len("_env") else name
    camel = "".join(part[:1].upper() + part[1:] for part in base.split("_") if part)
    if not camel[:1].isalpha():  # "" or "_2048" → "Env", "Env2048": a class name needs a letter
        camel = "Env" + camel
    return {
        "name": name,
        "Name": camel,
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
    if len(name) > MAX_NAME_LENGTH:
        raise CliError(
            f"{name[:20]}... is {len(name)} characters long; "
            f"a package name of at most {MAX_NAME_LENGTH} keeps its class names readable"
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


# -- laying out rendered Python as ruff would ------------------------------------------------
# A template is written for a short name; with a long one, a line may no longer fit, and
# ``Async{{Name}}Env`` may no longer sort first among imported names. The templates keep
# each long line to one shape that ruff splits in a known way (a bracketed tail), and
# these functions split it that way.

FROM_IMPORT = re.compile(r"(?P<indent> *)from (?P<module>[\w.]+) import (?P<names>\w+(, \w+)*)")
OPENING, CLOSING = "([{", ")]}"


def tidy(text: str, *, markdown: bool = False) -> str:
    """Rendered Python (or a Markdown file's ``python`` blocks) as ruff format and ruff's
    isort would leave it: imported names sorted, lines over :data:`LINE_LENGTH` split.

    Example::

        tidy("from .models import LongNameObservation, LongNameAction")
        # "from .models import LongNameAction, LongNameObservation" (split if too long)
    """
    lines: list[str] = []
    python = not markdown
    for line in text.split("\n"):
        if markdown and line.startswith("```"):
            python = line.strip() == "```python"
            lines.append(line)
        elif python:
            lines.extend(fit(sort_imported(line)))
        else:
            lines.append(line)
    return "\n".join(lines)


def sort_imported(line: str) -> str:
    """``from m import b, A`` with its names in isort's order: CONSTANTS, Classes, others,
    each case-insensitively (ruff's default ``order-by-type``)."""
    match = FROM_IMPORT.fullmatch(line)
    if match is None:
        return line
    names = sorted(match["names"].split(", "), key=_member_key)
    return f"{match['indent']}from {match['module']} import {', '.join(names)}"


def _member_key(name: str) -> tuple[int, str, str]:
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name.lower(), name


def fit(line: str) -> list[str]:
    """``line`` split as ruff format splits a line too long, at its last brackets: the
    inside on a line of its own if it fits, else one item a line with a trailing comma
    (each split again if need be); an import, one name a line."""
    if len(line) <= LINE_LENGTH:
        return [line]
    indent = line[: len(line) - len(line.lstrip(" "))]
    inner = indent + "    "
    imported = FROM_IMPORT.fullmatch(line)
    if imported is not None:
        names = [f"{inner}{name}," for name in imported["names"].split(", ")]
        return [f"{indent}from {imported['module']} import (", *names, f"{indent})"]
    brackets = _last_brackets(line)
    if brackets is None:
        return [line]  # nothing to split: the lint will say so (see MAX_NAME_LENGTH)
    start, end = brackets
    head, body, tail = line[: start + 1], line[start + 1 : end], indent + line[end:]
    items = _top_level_items(body)
    # A list, set, dict or tuple display goes one item a line at once; the arguments
    # of a call (or a subscript) first try a line of their own.
    exploded = _opens_display(line, start) and len(items) > 1
    if not exploded and (len(items) == 1 or len(inner + body) <= LINE_LENGTH):
        return [head, *fit(inner + body), tail]
    return [head, *(part for item in items for part in fit(f"{inner}{item},")), tail]


def _opens_display(line: str, start: int) -> bool:
    """Whether the bracket at ``start`` opens a display (a list, set, dict, or with
    commas a tuple), not a call's or a subscript's brackets."""
    before = line[:start].split()
    last = before[-1] if before else ""
    keywords = ("in", "return", "yield", "not", "and", "or", "is", "else")
    return not last or last in keywords or not (last[-1].isalnum() or last[-1] in "_)]}")


def _last_brackets(line: str) -> tuple[int, int] | None:
    """Where the last closing bracket of ``line`` and its opening one are."""
    stack: list[int] = []
    last = None
    for index, char in _code(line):
        if char in OPENING:
            stack.append(index)
        elif char in CLOSING and stack:
            last = (stack.pop(), index)
    return last


def _top_level_items(body: str) -> list[str]:
    """``body`` split at its commas outside brackets (a trailing comma ends no item)."""
    commas, depth = [], 0
    for index, char in _code(body):
        depth += (char in OPENING) - (char in CLOSING)
        if char == "," and depth == 0:
            commas.append(index)
    bounds = zip([-1, *commas], [*commas, len(body)], strict=True)
    return [item for a, b in bounds if (item := body[a + 1 : b].strip())]


def _code(line: str) -> Iterator[tuple[int, str]]:
    """The characters of ``line`` outside its strings, up to a comment, with their index."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote and line[index - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            return
        else:
            yield index, char


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
        text = render(template.read_text(encoding="utf-8"), values)
        if destination.suffix in (".py", ".md"):
            text = tidy(text, markdown=destination.suffix == ".md")
        destination.write_text(text, encoding="utf-8")
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
