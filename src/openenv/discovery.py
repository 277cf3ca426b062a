"""Find an environment by name or folder: its :class:`~openenv.Environment` class and settings.

``ENV`` (as ``openenv serve ENV`` and the launchers take it) is one of:

* the name of an installed environment: an entry point in the group
  ``openenv.environments`` (``echo_env = "echo_env.server.environment:EchoEnvironment"``);
* an importable package with an ``openenv.yaml``, or whose ``<pkg>.server.environment``
  defines exactly one Environment subclass;
* a folder holding an ``openenv.yaml`` (the folder goes on ``sys.path`` and its
  ``environment: module:Class`` entry is imported).

Example::

    from openenv.discovery import find_environment, list_environments

    found = find_environment("echo_env")        # or "envs/echo_env"
    found.env_class                             # <class 'EchoEnvironment'>
    found.settings["isolation"]                 # "none", from openenv.yaml
    [info.name for info in list_environments()] # ["echo_env", ...]

Failures raise :class:`EnvironmentNotFound` with a one-line message that says what to do.

:func:`metadata_for` describes an environment class (``GET /metadata``, ``openenv list``)
from its package: ``openenv.yaml`` and the installed distribution.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import (
    Distribution,
    EntryPoint,
    distribution,
    distributions,
    entry_points,
    packages_distributions,
)
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .environment import Environment
from .errors import EnvironmentNotFound, InvalidSettings
from .types import EnvironmentMetadata

ENTRY_POINT_GROUP = "openenv.environments"
SETTINGS_FILE = "openenv.yaml"

SETTINGS_KEYS: dict[str, str] = {
    # OpenEnv's own (its `openenv init` template and validator)
    "spec_version": "version of this file's format",
    "name": "the environment's name",
    "version": "the environment's version",
    "description": "one line for `openenv list` and /metadata",
    "author": "who wrote it, for /metadata (metadata_for)",
    "documentation_url": "where its documentation is, for /metadata (metadata_for)",
    "type": "OpenEnv: deployment type (space)",
    "runtime": "OpenEnv: server runtime (fastapi)",
    "app": "module:attribute of the ASGI app (Dockerfile, `openenv build`)",
    "port": "default port of `openenv serve`",
    "validation": "OpenEnv: `openenv validate` manifest block",
    # ours
    "environment": "module:Class of the Environment subclass",
    "isolation": "none | sandbox: where sessions run",
    "sandbox": "the sandbox policy (limits, read_only, ...), see docs/isolation.md",
    "warm_pool_size": "sandboxed workers kept started ahead of sessions",
    "settings": "the environment's own settings (free-form; read by the environment)",
    "agents": "module:NAME of its reference agents (default <package>.agents:AGENTS)",
}
"""Every top-level key ``openenv.yaml`` may hold, and what reads it. Any other key is an
error naming it (with a "did you mean"); add a key here when a reader of it is added."""

EnvClass = type[Environment[Any, Any, Any]]


@dataclass(frozen=True)
class FoundEnvironment:
    """An environment class, the settings from its ``openenv.yaml``, and where it came from."""

    name: str
    env_class: EnvClass
    settings: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    """Human-readable origin, e.g. ``"openenv-echo-env 0.1.0 (entry point)"`` or a folder."""
    root: Path | None = None
    """The folder holding ``openenv.yaml``, when there is one."""
    factory: Callable[[], Any] | None = None
    """What makes each session's instance when it is not the class itself (an OpenEnv
    0.10 package whose ``create_app`` was given a factory function)."""
    max_sessions: int | None = None
    """The session limit the package's own app set (``max_concurrent_envs``), if any."""

    @property
    def description(self) -> str:
        return str(self.settings.get("description") or describe_class(self.env_class))

    @property
    def isolation(self) -> str | None:
        value = self.settings.get("isolation")
        return str(value) if value is not None else None

    @property
    def port(self) -> int | None:
        value = self.settings.get("port")
        return int(value) if value is not None else None

    @property
    def warm_pool_size(self) -> int | None:
        value = self.settings.get("warm_pool_size")
        return int(value) if value is not None else None


@dataclass(frozen=True)
class EnvironmentInfo:
    """One row of :func:`list_environments` (nothing imported beyond what is needed)."""

    name: str
    description: str
    source: str


# -- public API -------------------------------------------------------------------------------


def find_environment(target: str | Path) -> FoundEnvironment:
    """Resolve ``target`` (installed name, importable package, or folder) to an environment."""
    text = str(target)
    path = Path(text).expanduser()
    looks_like_path = isinstance(target, Path) or any(c in text for c in "/\\~.")
    if looks_like_path or (path / SETTINGS_FILE).is_file():
        return _from_folder(path)
    entry = _entry_points().get(text) or _entry_points().get(text.replace("-", "_"))
    if entry is not None:
        return _from_entry_point(entry)
    if text.isidentifier() and _module_exists(text):
        return _from_package(text)
    if path.is_dir():
        return _from_folder(path)  # says what the folder lacks
    raise EnvironmentNotFound(
        f"no environment named {text!r}; installed: {_installed_names()}. "
        f"Pass a folder with {SETTINGS_FILE} or pip install the package"
    )


def list_environments(search: Path | None = None) -> list[EnvironmentInfo]:
    """Installed environments, then folders with an ``openenv.yaml`` under ``search``.

    ``search`` (default: the current directory) is looked at for ``./openenv.yaml``
    and ``./envs/*/openenv.yaml``; names already installed are not repeated.
    """
    found: dict[str, EnvironmentInfo] = {}
    for name, entry in sorted(_entry_points().items()):
        found[name] = _describe_entry_point(name, entry)
    search = Path.cwd() if search is None else search
    for settings_file in [search / SETTINGS_FILE, *sorted(search.glob(f"envs/*/{SETTINGS_FILE}"))]:
        if not settings_file.is_file():
            continue
        try:
            settings = read_settings(settings_file)
        except EnvironmentNotFound as exc:
            settings = {"description": f"(unreadable: {exc})"}
        name = str(settings.get("name") or settings_file.parent.name)
        if name not in found:
            folder = _display_path(settings_file.parent)
            found[name] = EnvironmentInfo(name, str(settings.get("description", "")), folder)
    return list(found.values())


def read_settings(settings_file: Path) -> dict[str, Any]:
    """The mapping in an ``openenv.yaml`` (``{}`` for an empty file)."""
    try:
        data = yaml.safe_load(settings_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EnvironmentNotFound(f"cannot read {settings_file}: {detail}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise EnvironmentNotFound(f"{settings_file} must hold a mapping, not {type(data).__name__}")
    problem = settings_problem(data)
    if problem:
        raise InvalidSettings(f"{settings_file}: {problem}")
    return data


def settings_problem(settings: dict[str, Any]) -> str | None:
    """What is wrong with an ``openenv.yaml`` mapping (unknown keys, bad values), or None.

    (``isolation`` is checked where it is used, against the choices of that command.)
    """
    from .runtime.sandbox import SandboxPolicy
    from .suggest import describe_validation_error, unknown_keys_message

    unknown = [key for key in settings if key not in SETTINGS_KEYS]
    if unknown:
        return (
            unknown_keys_message(unknown, SETTINGS_KEYS)
            + " (an environment's own settings go under 'settings:')"
        )
    for key in ("port", "warm_pool_size"):
        value = settings.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{key}: {value!r} is not an integer"
        if value is not None and value < 0:
            return f"{key}: {value!r} is negative"
    sandbox = settings.get("sandbox")
    if sandbox is not None:
        try:
            SandboxPolicy.model_validate(sandbox)
        except ValidationError as exc:
            return describe_validation_error(exc, "sandbox", SandboxPolicy)
    own = settings.get("settings")
    if own is not None and not isinstance(own, dict):
        return f"settings: must be a mapping, not {type(own).__name__}"
    return None


def load_class(spec: str) -> EnvClass:
    """Import ``"package.module:ClassName"`` and check it is an Environment subclass."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise EnvironmentNotFound(f"{spec!r} is not of the form 'package.module:ClassName'")
    module = _import(module_name)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise EnvironmentNotFound(f"{module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not (inspect.isclass(obj) and issubclass(obj, Environment)):
        raise EnvironmentNotFound(f"{spec} is not a subclass of openenv.Environment")
    return obj


def describe_class(env_class: type) -> str:
    """An environment's one-line description: that of :func:`metadata_for`."""
    return metadata_for(env_class).description


README_FILE = "README.md"


def metadata_for(env_class: type) -> EnvironmentMetadata:
    """What ``GET /metadata`` and ``openenv list`` say about ``env_class``, from its package.

    * ``name``, ``description`` (and ``author``, ``documentation_url`` if given): the
      ``openenv.yaml`` of the class's package (found beside the package or the folder it
      sits in, as ``openenv serve`` finds it), when its ``environment:`` entry is this
      class or absent; else the class name, and the first paragraph of the class's *own*
      docstring (never one inherited from a base class);
    * ``version``: that of the installed distribution providing the package, else the
      ``version`` in ``openenv.yaml``, else the package's ``__version__``, else ``None``;
    * ``readme_content``: the ``README.md`` beside that ``openenv.yaml``.

    A ``metadata`` class attribute (an :class:`EnvironmentMetadata`) overrides field by
    field: the fields it was given win, the others come from the package.
    """
    module_name = str(getattr(env_class, "__module__", "") or "")
    package = module_name.split(".")[0]
    root = _settings_root_of(env_class)
    settings: dict[str, Any] = {}
    if root is not None:
        try:
            settings = read_settings(root / SETTINGS_FILE)
        except EnvironmentNotFound:
            settings = {}
        if not _settings_describe(settings, env_class):
            settings, root = {}, None
    own_doc = vars(env_class).get("__doc__")
    fields: dict[str, Any] = {
        "name": str(settings.get("name") or env_class.__name__),
        "description": str(
            settings.get("description") or inspect.cleandoc(own_doc or "").split("\n\n")[0]
        ).replace("\n", " "),
        "version": _package_version(package, root, settings.get("version")),
        "readme_content": _read_text(root / README_FILE) if root is not None else None,
    }
    for key in ("author", "documentation_url"):
        if settings.get(key):
            fields[key] = str(settings[key])
    explicit = getattr(env_class, "metadata", None)
    if isinstance(explicit, EnvironmentMetadata):
        fields.update(explicit.model_dump(include=explicit.model_fields_set))
    return EnvironmentMetadata(**fields)


# -- the three ways to find one ----------------------------------------------------------------


def _from_folder(path: Path) -> FoundEnvironment:
    if path.name == SETTINGS_FILE and path.is_file():
        path = path.parent
    if not path.is_dir():
        raise EnvironmentNotFound(f"no folder {str(path)!r}; pass an installed name or a folder")
    settings_file = path / SETTINGS_FILE
    if not settings_file.is_file():
        raise EnvironmentNotFound(f"folder {str(path)!r} has no {SETTINGS_FILE}")
    root = path.resolve()
    settings = read_settings(settings_file)
    spec = settings.get("environment")
    app_spec = settings.get("app")
    if not isinstance(spec, str) and not isinstance(app_spec, str):
        raise EnvironmentNotFound(
            f"{settings_file} has no 'environment: package.module:ClassName' entry "
            "(nor an OpenEnv 0.10 'app: module:app' entry)"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    name = str(settings.get("name") or root.name)
    if not isinstance(spec, str):
        _put_first(root)
        return _from_app(str(app_spec), name, settings, _display_path(root), root)
    env_class = load_class(spec)
    return FoundEnvironment(name, env_class, settings, _display_path(root), root)


def _from_app(
    spec: str, name: str, settings: dict[str, Any], source: str, root: Path | None
) -> FoundEnvironment:
    """An OpenEnv 0.10 package, found through the app its ``openenv.yaml`` names: what
    its ``create_app(...)`` call serves (see :mod:`openenv.core.env_server.http_server`)."""
    from .core.env_server.http_server import served_by

    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise EnvironmentNotFound(f"app: {spec!r} is not of the form 'module:attribute'")
    app = getattr(_import(module_name), attr, None)
    served = served_by(app)
    if served is None:
        raise EnvironmentNotFound(
            f"{spec} is not an app made by create_app() of openenv.core.env_server; "
            "name the class in openenv.yaml as 'environment: module:ClassName'"
        )
    return FoundEnvironment(
        name, served.env_class, settings, source, root, served.factory, served.max_sessions
    )


def _put_first(root: Path) -> None:
    """Make the top-level modules of ``root`` the ones imported by their names: ``root``
    first on ``sys.path``, and the modules imported from elsewhere under a name that
    ``root`` provides dropped from ``sys.modules``. OpenEnv 0.10 packages are imported
    as top-level ``server``, ``models``, ... from their folder: a second one in this
    process would otherwise get the first one's modules."""
    with contextlib.suppress(ValueError):
        sys.path.remove(str(root))
    sys.path.insert(0, str(root))
    provided = set()
    for path in root.iterdir():
        if path.suffix == ".py" and path.is_file() and path.stem != "__init__":
            provided.add(path.stem)
        elif (path / "__init__.py").is_file():
            provided.add(path.name)
    provided -= {*sys.stdlib_module_names, "openenv"}
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if name.partition(".")[0] in provided and where is not None:
            if not Path(os.path.abspath(where)).is_relative_to(root):
                del sys.modules[name]


def _from_entry_point(entry: EntryPoint) -> FoundEnvironment:
    try:
        obj = entry.load()
    except Exception as exc:
        raise EnvironmentNotFound(
            f"cannot load environment {entry.name!r} ({entry.value}): {_one_line(exc)}"
        ) from None
    if not (inspect.isclass(obj) and issubclass(obj, Environment)):
        raise EnvironmentNotFound(
            f"entry point {entry.name!r} ({entry.value}) is not an Environment"
        )
    root = _settings_root(entry.module.split(".")[0], entry.dist)
    settings = read_settings(root / SETTINGS_FILE) if root else {}
    return FoundEnvironment(entry.name, obj, settings, _dist_label(entry.dist), root)


def _from_package(package: str) -> FoundEnvironment:
    root = _settings_root(package, None)
    settings = read_settings(root / SETTINGS_FILE) if root else {}
    spec = settings.get("environment")
    name = str(settings.get("name") or package)
    if isinstance(spec, str):
        env_class = load_class(spec)
    elif isinstance(settings.get("app"), str):
        return _from_app(settings["app"], name, settings, f"package {package}", root)
    else:
        module_name = f"{package}.server.environment"
        if not _module_exists(module_name):
            raise EnvironmentNotFound(
                f"package {package!r} is not an environment: it has no {SETTINGS_FILE} "
                f"with an 'environment' entry and no {module_name} module"
            )
        env_class = _single_environment(_import(module_name))
    return FoundEnvironment(name, env_class, settings, f"package {package}", root)


# -- helpers ----------------------------------------------------------------------------------


def _entry_points() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def _installed_names() -> str:
    names = sorted(_entry_points())
    return ", ".join(names) if names else "none"


def _describe_entry_point(name: str, entry: EntryPoint) -> EnvironmentInfo:
    source = _dist_label(entry.dist)
    root = _settings_root(entry.module.split(".")[0], entry.dist)
    if root is not None:
        try:
            description = read_settings(root / SETTINGS_FILE).get("description")
        except EnvironmentNotFound:
            description = None
        if description:
            return EnvironmentInfo(name, str(description), source)
    try:
        return EnvironmentInfo(name, describe_class(entry.load()), source)
    except Exception as exc:
        return EnvironmentInfo(name, f"(cannot load: {_one_line(exc)})", source)


def _settings_root(package: str, dist: Distribution | None) -> Path | None:
    """The folder with the package's ``openenv.yaml``, without importing the package.

    Looked for inside the package, then in the project folder of an editable or
    source install (the package's parent, when that holds a ``pyproject.toml``).
    """
    candidates: list[Path] = []
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        package_dir = Path(next(iter(spec.submodule_search_locations)))
        candidates.append(package_dir)
        if (package_dir.parent / "pyproject.toml").is_file():
            candidates.append(package_dir.parent)
    project = _project_dir(dist) if dist is not None else None
    if project is not None:
        candidates.append(project)
    for candidate in candidates:
        if (candidate / SETTINGS_FILE).is_file():
            return candidate
    return None


def _project_dir(dist: Distribution) -> Path | None:
    """The source folder of a ``pip install -e <folder>`` / ``pip install <folder>``."""
    try:
        text = dist.read_text("direct_url.json")
        url = json.loads(text).get("url", "") if text else ""
    except (OSError, ValueError):
        return None
    if isinstance(url, str) and url.startswith("file://"):
        return Path(url.removeprefix("file://"))
    return None


def _settings_root_of(env_class: type) -> Path | None:
    """The folder with the ``openenv.yaml`` of ``env_class``'s package, if any.

    Looked for from the class's module up through its packages to the folder on
    ``sys.path`` that holds the top package (``<project>/pkg/server/environment.py``:
    ``server/``, ``pkg/``, ``<project>/``), then in the source folder of the
    distribution installed from it.
    """
    module_name = str(getattr(env_class, "__module__", "") or "")
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if not file:
        return None
    folder = Path(file).resolve().parent
    levels = module_name.count(".") + (2 if hasattr(module, "__path__") else 1)
    for candidate in [folder, *folder.parents][:levels]:
        if (candidate / SETTINGS_FILE).is_file():
            return candidate
    dist = _distribution_of(module_name.split(".")[0], None)
    project = _project_dir(dist) if dist is not None else None
    if project is not None and (project / SETTINGS_FILE).is_file():
        return project
    return None


def _settings_describe(settings: dict[str, Any], env_class: type) -> bool:
    """Whether these settings describe ``env_class``: their ``environment`` is it, or absent."""
    spec = settings.get("environment")
    if not isinstance(spec, str):
        return True
    module_name, _, attr = spec.partition(":")
    if attr != env_class.__qualname__:
        return False
    if module_name == env_class.__module__:
        return True
    module = sys.modules.get(module_name)
    return module is not None and getattr(module, attr, None) is env_class


@functools.lru_cache(maxsize=256)
def _distribution_of(package: str, root: Path | None) -> Distribution | None:
    """The installed distribution providing top-level ``package`` (source folder ``root``)."""
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.module.split(".")[0] == package and entry.dist is not None:
            return entry.dist
    names = packages_distributions().get(package)
    if names:
        try:
            return distribution(names[0])
        except Exception:
            pass
    if root is not None:  # an editable install whose files are not listed by package
        for dist in distributions():
            project = _project_dir(dist)
            if project is not None and project.resolve() == root:
                return dist
    return None


def _package_version(package: str, root: Path | None, declared: Any = None) -> str | None:
    dist = _distribution_of(package, root) if package else None
    if dist is not None and dist.version:
        return str(dist.version)
    if declared is not None:
        return str(declared)
    version = getattr(sys.modules.get(package), "__version__", None)
    return str(version) if version is not None else None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _dist_label(dist: Distribution | None) -> str:
    if dist is None:
        return "entry point"
    project = _project_dir(dist)
    where = f" from {_display_path(project)}" if project is not None else ""
    return f"{dist.name} {dist.version}{where}"


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _import(module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except Exception as exc:
        raise EnvironmentNotFound(f"cannot import {module_name}: {_one_line(exc)}") from None


def _single_environment(module: Any) -> EnvClass:
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Environment) and obj is not Environment
    ]
    own = [cls for cls in classes if cls.__module__ == module.__name__] or classes
    if len(own) != 1:
        names = ", ".join(sorted(cls.__name__ for cls in own)) or "none"
        raise EnvironmentNotFound(
            f"{module.__name__} must define exactly one Environment subclass (found: {names}); "
            f"name it in {SETTINGS_FILE} as 'environment: {module.__name__}:ClassName'"
        )
    return own[0]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _display_path(path: Path) -> str:
    try:
        relative = path.resolve().relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return f"./{relative}" if str(relative) != "." else "."
