"""OCI images of environment packages: ``openenv build``.

:func:`stage` writes a build context any engine builds with no registry or index
reachable (``docker build`` / ``podman build`` work on it as well as
:func:`build_image`)::

    Dockerfile          the recipe (cli/templates/env/Dockerfile.tmpl, which
                        ``openenv init`` also writes into every new package)
    wheels/deps/        every third-party wheel the server needs, pinned to the
                        versions installed here, and pip's own wheel
    wheels/openenv/     this project's wheel, built from this tree
    wheels/env/         the environment package's wheel, built from its folder
    .dockerignore

The Dockerfile installs them in that order, one layer each, so editing the
environment's source rebuilds only the last layers (seconds), and a change to
OpenEnv's own code only the last two. The dependency wheels are bind-mounted
(``RUN --mount``), never copied into a layer, so the image holds those files once;
the two small wheels of ours are copied, so that every builder sees their changes.
The server runs as an unprivileged user (uid :data:`UID`) from a virtual environment
in ``/opt/openenv``, writes only to ``/tmp`` (the runtime makes the root file system
read-only with a tmpfs there) and serves ``openenv serve ENV`` on port 8000.

Example::

    from openenv.deploy.images import build_image

    built = build_image("echo_env", tag="echo-env:latest", progress=print)
    built.tag, built.size_mb, built.seconds
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ..discovery import FoundEnvironment, find_environment
from ..errors import ImageBuildError
from .base import DEFAULT_BASE, ensure_base

UID = 10001
"""The unprivileged user the server runs as inside the image."""
PORT = 8000
"""The port the image serves on (see the Dockerfile's ``EXPOSE`` and ``CMD``)."""
PROJECT = "openenv-rl"
"""This project's distribution name (its import name is ``openenv``)."""
REPLACED = ("openenv", "openenv-core")
"""The distributions of OpenEnv 0.10, which ours replaces: an OpenEnv 0.10 package's
requirement of them is met by ours, not installed beside it."""

Progress = Callable[[str], object]

DOCKERFILE = Path(__file__).resolve().parents[1] / "cli" / "templates" / "env" / "Dockerfile.tmpl"
"""The recipe, shared with ``openenv init`` (which writes it into every new package)."""


@dataclass(frozen=True)
class BuildContext:
    """A staged build context: the folder and what went into it."""

    path: Path
    env: str
    """The environment's name (what the image serves)."""
    base: str
    dependencies: tuple[str, ...]
    """``name==version`` of every third-party wheel staged."""


@dataclass(frozen=True)
class BuiltImage:
    """What :func:`build_image` made."""

    tag: str
    id: str
    size_mb: float
    seconds: float
    context: Path
    note: str | None = None
    """Set when the base is not the one asked for (see :func:`~.base.ensure_base`)."""


def default_tag(env: str) -> str:
    """``openenv-<name>:latest``, with ``_`` as ``-`` (image names take no ``_`` runs)."""
    return f"openenv-{env.replace('_', '-')}:latest"


def stage(
    env: str | Path,
    dest: Path | None = None,
    *,
    base: str = DEFAULT_BASE,
    progress: Progress | None = None,
) -> BuildContext:
    """Write the build context of ``env`` (a name or a package folder) into ``dest``.

    ``dest`` defaults to ``~/.cache/openenv/build/<name>``; it is emptied first.
    Raises :class:`~openenv.errors.ImageBuildError` when a wheel cannot be built.
    """
    say = progress or (lambda _message: None)
    found = find_environment(env)
    folder = package_folder(found)
    dest = dest or cache_dir() / "build" / found.name
    if dest.exists():
        shutil.rmtree(dest)
    wheels = dest / "wheels"
    for part in ("deps", "openenv", "env"):
        (wheels / part).mkdir(parents=True)

    pins = dependency_pins(folder)
    say(f"wheels for {len(pins)} dependencies")
    house = _wheelhouse(pins, say)
    for wheel in house.iterdir():
        _link(wheel, wheels / "deps" / wheel.name)
    (wheels / "deps" / "requirements.txt").write_text("\n".join(pins) + "\n")

    say(f"wheel of {PROJECT} (this tree)")
    _build_wheel(project_root(), wheels / "openenv")
    say(f"wheel of {found.name} ({_shown(folder)})")
    env_wheel = _build_wheel(folder, wheels / "env")

    recipe = DOCKERFILE.read_text().replace("{{name}}", found.name)
    (dest / "Dockerfile").write_text(
        recipe.replace("ARG BASE=python:3.11-slim", f"ARG BASE={base}")
    )
    settings = (found.root or folder) / "openenv.yaml"
    (dest / "openenv.yaml").write_text(installed_settings(found, settings, env_wheel))
    (dest / ".dockerignore").write_text("**/__pycache__\n")
    return BuildContext(dest, found.name, base, tuple(pins))


def build_image(
    env: str | Path,
    *,
    tag: str | None = None,
    base: str | None = None,
    no_cache: bool = False,
    progress: Progress | None = None,
) -> BuiltImage:
    """Build the OCI image of ``env`` and return what was built.

    ``base=None`` takes ``python:3.11-slim`` when it is here or pullable, else a local
    Debian base made once (:func:`~.base.ensure_base`; ``BuiltImage.note`` says so).
    """
    from ..runtime.engine import engine

    say = progress or (lambda _message: None)
    started = time.monotonic()
    client = engine()
    found = find_environment(env)
    tag = tag or default_tag(found.name)
    base_image, note = ensure_base(client, base, progress=say)
    if note:
        say(note)
    context = stage(env, base=base_image, progress=say)
    say(f"building {tag} from {base_image}")
    image_id = _engine_build(client, context.path, tag, no_cache=no_cache, say=say)
    image = client.images.get(image_id)
    return BuiltImage(
        tag=tag,
        id=image_id,
        size_mb=round(image.attrs.get("Size", 0) / 1e6, 1),
        seconds=round(time.monotonic() - started, 1),
        context=context.path,
        note=note,
    )


def _engine_build(client: Any, path: Path, tag: str, *, no_cache: bool, say: Progress) -> str:
    """Build ``path`` with the engine's API, streaming its steps; return the image id."""
    tail: list[str] = []
    image_id: str | None = None
    stream = client.api.build(
        path=str(path),
        tag=tag,
        rm=True,
        forcerm=True,
        nocache=no_cache,
        decode=True,
        labels={"openenv.managed": "1"},
    )
    for chunk in stream:
        if chunk.get("error"):
            problem = " ".join(str(chunk["error"]).split())
            raise ImageBuildError(
                f"building {tag} failed: {problem}; its last output: " + " | ".join(tail[-6:])
            )
        if isinstance(chunk.get("aux"), dict):
            image_id = chunk["aux"].get("ID") or image_id
        for line in str(chunk.get("stream", "")).splitlines():
            line = line.strip()
            if not line:
                continue
            tail = [*tail[-29:], line]
            if line.startswith(("STEP ", "Step ")):
                say(line)
            built = re.match(r"^Successfully built\s+([0-9a-f]{12,64})$", line)
            if built:
                image_id = built.group(1)
    if image_id is None:  # never the image the tag named before: that would hide a failure
        raise ImageBuildError(
            f"building {tag} ended without an image: " + " | ".join(tail[-6:] or ["no output"])
        )
    return str(image_id)


# -- what goes into the image ------------------------------------------------------------


def project_root() -> Path:
    """The source tree of this project (where its ``pyproject.toml`` is)."""
    here = Path(__file__).resolve().parents[3]
    pyproject = here / "pyproject.toml"
    if pyproject.is_file() and re.search(rf'(?m)^name\s*=\s*"{PROJECT}"', pyproject.read_text()):
        return here
    raise ImageBuildError(
        f"openenv build needs OpenEnv's source tree, and {here} is not one "
        "(OpenEnv is installed from a wheel): install it from its repository (pip install -e .)"
    )


def package_folder(found: FoundEnvironment) -> Path:
    """The folder holding the environment's ``pyproject.toml``."""
    for folder in [found.root, *(found.root.parents if found.root else [])][:3]:
        if folder is not None and (folder / "pyproject.toml").is_file():
            return folder
    raise ImageBuildError(
        f"{found.name} has no package folder with a pyproject.toml "
        f"(found {found.source}); openenv build needs one: see openenv init"
    )


def installed_settings(found: FoundEnvironment, settings: Path, env_wheel: Path) -> str:
    """The text of ``openenv.yaml`` for the image, where the package is installed from
    ``env_wheel`` rather than served from its folder.

    An OpenEnv 0.10 package (``app: server.app:app``, no ``environment:``) imports its
    app from its folder as a top-level module; installed, that module is
    ``<package>.server.app`` (its ``pyproject.toml`` maps the folder to the package), so
    the staged ``app:`` names it there. Raises :class:`ImageBuildError` when the wheel
    lacks the app's module: the image could not serve it.
    """
    text = settings.read_text()
    spec = found.settings.get("app")
    if found.settings.get("environment") or not isinstance(spec, str) or found.root is None:
        return text
    module, _, attr = spec.partition(":")
    relative = module.replace(".", "/")
    candidates = [f"{relative}.py", f"{relative}/__init__.py"]
    source = next((found.root / c for c in candidates if (found.root / c).is_file()), None)
    if source is None:  # not a module of the folder: imported from elsewhere as it is
        return text
    inside = source.relative_to(found.root).as_posix()
    with zipfile.ZipFile(env_wheel) as wheel:
        names = [
            name
            for name in wheel.namelist()
            if (name == inside or name.endswith(f"/{inside}"))
            and wheel.read(name) == source.read_bytes()
        ]
    if not names:
        raise ImageBuildError(
            f"the wheel of {found.name} ({env_wheel.name}) holds no {inside}, the module of "
            f"its openenv.yaml's app: {spec}: list that package in its pyproject.toml"
        )
    prefix = min(names, key=len)[: -len(inside)].rstrip("/").replace("/", ".")
    if not prefix:
        return text
    installed = f"{prefix}.{module}:{attr}"
    line = f"app: {installed}  # {spec} in the package's folder; installed here"
    return re.sub(r"(?m)^app:.*$", lambda _match: line, text, count=1)


def dependency_pins(env_folder: Path) -> list[str]:
    """``name==version`` of every distribution the server needs, as installed here.

    The closure of OpenEnv's own requirements and the environment package's, with
    their extras, evaluated for this interpreter (the image runs the same Python
    minor version and platform).
    """
    import tomllib

    project = tomllib.loads((env_folder / "pyproject.toml").read_text()).get("project", {})
    roots = [Requirement(text) for text in project.get("dependencies", [])]
    roots += [Requirement(text) for text in metadata.requires(PROJECT) or []]
    skip = {canonicalize_name(PROJECT), canonicalize_name(str(project.get("name", "")))}
    skip |= {canonicalize_name(name) for name in REPLACED}
    pins: dict[str, str] = {}
    _closure(roots, skip, pins, default_environment())
    return sorted(f"{name}=={version}" for name, version in pins.items())


def _closure(
    requirements: Iterable[Requirement],
    skip: set[str],
    pins: dict[str, str],
    environment: dict[str, str],
    extras: frozenset[str] = frozenset(),
) -> None:
    for requirement in requirements:
        if requirement.marker is not None:
            wanted = extras or frozenset({""})
            if not any(requirement.marker.evaluate({**environment, "extra": e}) for e in wanted):
                continue
        name = canonicalize_name(requirement.name)
        if name in skip:
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            raise ImageBuildError(
                f"{requirement.name} is required but not installed here; install it first"
            ) from None
        seen = f"{name}[{','.join(sorted(requirement.extras))}]"
        if seen in skip:
            continue
        skip.add(seen) if requirement.extras else None
        first_visit = name not in pins
        pins[name] = version
        if first_visit or requirement.extras:
            children = [Requirement(text) for text in metadata.requires(requirement.name) or []]
            _closure(children, skip, pins, environment, frozenset(requirement.extras))


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/openenv`` (``~/.cache/openenv``)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "openenv"


def _wheelhouse(pins: list[str], say: Progress) -> Path:
    """A folder with a wheel for each pin and for pip, made once per set of pins."""
    pip_pin = f"pip=={metadata.version('pip')}"
    key = hashlib.sha256("\n".join([*pins, pip_pin, sys.version]).encode()).hexdigest()[:16]
    house = cache_dir() / "wheels" / key
    if (house / ".complete").exists():
        return house
    partial = house.with_name(key + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    (partial / "pins.txt").write_text("\n".join([*pins, pip_pin]) + "\n")
    say(f"collecting {len(pins) + 1} wheels (once; cached in {_shown(house)})")
    _pip(
        ["wheel", "--no-deps", "--wheel-dir", str(partial), "-r", str(partial / "pins.txt")],
        what="collecting dependency wheels",
    )
    (partial / "pins.txt").unlink()
    (partial / ".complete").write_text(json.dumps(pins))
    shutil.rmtree(house, ignore_errors=True)
    partial.rename(house)
    return house


def _build_wheel(folder: Path, into: Path) -> Path:
    """Build the wheel of the project in ``folder`` into ``into``; return its path.

    With the build backend installed here (hatchling for ours, setuptools for an
    OpenEnv 0.10 package), pip uses it (no download); else pip fetches it."""
    options = ["--no-build-isolation"] if _has_backend(folder) else []
    _pip(
        ["wheel", "--no-deps", *options, "--wheel-dir", str(into), str(folder)],
        what=f"building the wheel of {folder.name}",
    )
    built = sorted(into.glob("*.whl"))
    if len(built) != 1:
        raise ImageBuildError(f"building the wheel of {folder} gave {len(built)} wheels")
    return built[0]


def _has_backend(folder: Path) -> bool:
    import tomllib

    try:
        system = tomllib.loads((folder / "pyproject.toml").read_text()).get("build-system", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False
    backend = str(system.get("build-backend") or "setuptools.build_meta:__legacy__")
    return importlib.util.find_spec(backend.split(".")[0].split(":")[0]) is not None


def _pip(args: list[str], *, what: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        capture_output=True,
        text=True,
        errors="replace",
    )
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        lines = [line for line in lines if not line.startswith("WARNING: Location")]
        raise ImageBuildError(f"{what} failed: " + " | ".join(lines[-4:] or ["no output"]))


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _shown(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)
