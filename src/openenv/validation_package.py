"""``openenv validate FOLDER``'s static checks (level 0): is this a complete env package?

Each is its own check in the report, with the id it has among the report's criteria:

=====================  ======================  ==============================================
check                  criterion id            passes when
=====================  ======================  ==============================================
openenv.yaml valid     openenv_yaml_valid      the folder has an ``openenv.yaml`` that parses,
                                               has only known keys and names its
                                               ``environment: package.module:Class`` (or,
                                               in an OpenEnv 0.10 package, its ``app:``)
package importable     package_importable      the package and its Environment class import
                                               (from this folder, in a fresh Python)
models importable      models_importable       ``<package>.models`` (``models`` in an OpenEnv
                                               0.10 package) imports and defines an Action
                                               and an Observation type
tests present          tests_present           ``tests/`` holds ``test_*.py`` files (only a
                                               warning for an OpenEnv 0.10 package: its
                                               ``openenv init`` writes none)
Dockerfile builds      docker_build            only with ``build=True``: the image builds
                                               (by :func:`openenv.deploy.images.build_image`)
=====================  ======================  ==============================================

The imports run in a subprocess (this folder first on its path), so a broken package
cannot break the validator, and a package of the same name installed here is not
mistaken for this one. An OpenEnv 0.10 package (``app: server.app:app`` and no
``environment:``) is loaded as ``openenv serve`` loads it: its environment is what its
``create_app(...)`` call serves, its modules are top-level (``server``, ``models``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .validation import STATIC_LEVEL, Check

IMPORT_TIMEOUT_S = 120.0

SETTINGS_FILE = "openenv.yaml"
BLOCKING = frozenset({"openenv_yaml_valid", "package_importable"})
"""Criteria whose failure leaves nothing for the contract checks to run."""

_PROBE = r"""
import importlib, inspect, json, os, sys
folder, package, spec, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
sys.path.insert(0, folder)

def line(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__

out = {}
try:
    module = importlib.import_module(package)
    out["package"] = {"file": getattr(module, "__file__", None) or str(list(module.__path__)[0])}
except BaseException as exc:
    out["package"] = {"error": f"cannot import {package}: {line(exc)}"}
env_class = None
if spec and "error" not in out["package"]:
    from openenv.discovery import find_environment, load_class
    try:
        # "app=": an OpenEnv 0.10 package, whose environment its app serves
        env_class = (find_environment(folder).env_class if spec.startswith("app=")
                     else load_class(spec))
        out["environment"] = {"name": env_class.__name__}
    except BaseException as exc:
        out["environment"] = {"error": str(exc) if type(exc).__name__ == "EnvironmentNotFound"
                              else f"cannot import {spec}: {line(exc)}"}
from openenv import Action, Observation

def names(values, base):
    return sorted({v.__name__ for v in values
                   if inspect.isclass(v) and issubclass(v, base) and v is not base})

base = os.path.join(folder, *models.split(".")[:-1])
found = os.path.isfile(os.path.join(base, "models.py")) or os.path.isfile(
    os.path.join(base, "models", "__init__.py"))
if found:
    try:
        module = importlib.import_module(models)
        values = list(vars(module).values())
        out["models"] = {"actions": names(values, Action),
                         "observations": names(values, Observation)}
    except BaseException as exc:
        out["models"] = {"error": f"cannot import {models}: {line(exc)}"}
elif env_class is not None:
    types = [getattr(env_class, "action_type", None), getattr(env_class, "observation_type", None)]
    out["models"] = {"absent": models, "actions": names(types[:1], Action),
                     "observations": names(types[1:], Observation)}
else:
    out["models"] = {"absent": models}
print("\n@@openenv-validate@@" + json.dumps(out))
"""


def package_checks(folder: Path, *, build: bool = False) -> list[Check]:
    """The static checks of the env package in ``folder``, in order (see the module doc)."""
    checks: list[Check] = []
    settings, yaml_check = _settings(folder)
    checks.append(yaml_check)
    spec = settings.get("environment") if isinstance(settings.get("environment"), str) else ""
    package = spec.partition(":")[0].split(".")[0] if spec else _guess_package(folder)
    models = f"{package}.models"
    reference_style = not spec and _app_spec(settings) is not None
    if reference_style:  # OpenEnv 0.10: top-level modules, the environment behind the app
        app = str(_app_spec(settings))
        package, spec, models = app.partition(":")[0].split(".")[0], f"app={app}", "models"
    checks += _import_checks(folder, package, spec, models)
    checks.append(_tests(folder, reference_style))
    checks.append(build_check(folder, build))
    return checks


def blocks_contract(checks: list[Check]) -> bool:
    """Whether a failed static check leaves the environment impossible to load."""
    return any(check.id in BLOCKING and check.status == "fail" for check in checks)


def _check(name: str, criterion: str, status: Any, detail: str) -> Check:
    return Check(STATIC_LEVEL, name, status, detail, id=criterion)


# -- openenv.yaml ----------------------------------------------------------------------------


def _settings(folder: Path) -> tuple[dict[str, Any], Check]:
    from .discovery import read_settings
    from .errors import EnvironmentNotFound

    name, criterion = "openenv.yaml valid", "openenv_yaml_valid"
    path = folder / SETTINGS_FILE
    if not path.is_file():
        return {}, _check(
            name,
            criterion,
            "fail",
            f"no {SETTINGS_FILE} in {folder} (`openenv init NAME` writes one; "
            "it names the environment: 'environment: package.module:ClassName')",
        )
    try:
        settings = read_settings(path)
    except EnvironmentNotFound as exc:  # InvalidSettings too: unknown keys, bad values
        return {}, _check(name, criterion, "fail", str(exc))
    spec = settings.get("environment")
    module, sep, attr = spec.partition(":") if isinstance(spec, str) else ("", "", "")
    if spec is None and _app_spec(settings) is not None:
        detail = f"an OpenEnv 0.10 package: its environment is what app {settings['app']} serves"
        return settings, _check(name, criterion, "pass", f"name {settings.get('name')}, {detail}")
    if not (module and sep and attr):
        return settings, _check(
            name,
            criterion,
            "fail",
            f"{SETTINGS_FILE} needs 'environment: package.module:ClassName'"
            + (f", not {spec!r}" if spec is not None else ""),
        )
    if not settings.get("name"):
        return settings, _check(
            name, criterion, "warn", f"no 'name:'; the folder's name is used; environment {spec}"
        )
    return settings, _check(name, criterion, "pass", f"name {settings['name']}, environment {spec}")


def _app_spec(settings: dict[str, Any]) -> str | None:
    """An OpenEnv 0.10 package's ``app: module:attribute``, when well formed."""
    app = settings.get("app")
    module, sep, attr = app.partition(":") if isinstance(app, str) else ("", "", "")
    return app if module and sep and attr else None


def _guess_package(folder: Path) -> str:
    """Without an ``openenv.yaml``: the package named like the folder, or the only one."""
    if (folder / folder.name / "__init__.py").is_file():
        return folder.name
    packages = [p.name for p in folder.iterdir() if (p / "__init__.py").is_file()]
    packages = [p for p in packages if p not in ("tests", "test")]
    return packages[0] if len(packages) == 1 else ""


# -- imports ---------------------------------------------------------------------------------


def _import_checks(folder: Path, package: str, spec: str, models: str) -> list[Check]:
    package_name, models_name = "package importable", "models importable"
    if not package:
        why = "skipped: no package named (no openenv.yaml, and no single package folder)"
        return [
            _check(package_name, "package_importable", "skip", why),
            _check(models_name, "models_importable", "skip", why),
        ]
    found, problem = _probe(folder, package, spec, models)
    if found is None:
        return [
            _check(package_name, "package_importable", "fail", problem),
            _check(models_name, "models_importable", "skip", "skipped: " + problem),
        ]
    return [_package(folder, package, spec, found), _models(models, found)]


def _probe(folder: Path, package: str, spec: str, models: str) -> tuple[dict[str, Any] | None, str]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(folder.resolve()), package, spec, models],
            capture_output=True,
            text=True,
            timeout=IMPORT_TIMEOUT_S,
            cwd=folder,
        )
    except subprocess.TimeoutExpired:
        return None, f"importing {package} took longer than {IMPORT_TIMEOUT_S:g} s"
    _, marker, payload = done.stdout.rpartition("@@openenv-validate@@")
    if not marker:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"importing {package} ended the Python process ({done.returncode}): {tail[0]}"
    return json.loads(payload), ""


def _package(folder: Path, package: str, spec: str, found: dict[str, Any]) -> Check:
    name, criterion = "package importable", "package_importable"
    imported = found["package"]
    if "error" in imported:
        return _check(name, criterion, "fail", imported["error"])
    environment = found.get("environment", {})
    if "error" in environment:
        return _check(name, criterion, "fail", environment["error"])
    where = Path(imported["file"] or "").resolve()
    detail = f"{package}" + (f", environment {environment['name']}" if environment else "")
    if not where.is_relative_to(folder.resolve()):
        return _check(
            name,
            criterion,
            "warn",
            f"{package} was imported from {where}, not from this folder "
            "(another package of that name comes first on the path)",
        )
    if not spec:
        return _check(name, criterion, "warn", detail + " (no environment named to import)")
    return _check(name, criterion, "pass", detail)


def _models(module: str, found: dict[str, Any]) -> Check:
    name, criterion = "models importable", "models_importable"
    models = found["models"]
    if "error" in models:
        return _check(name, criterion, "fail", models["error"])
    actions, observations = models.get("actions", []), models.get("observations", [])
    missing = [
        what
        for what, names in (("an Action", actions), ("an Observation", observations))
        if not names
    ]
    if "absent" in models:
        if missing or not (actions or observations):
            return _check(
                name,
                criterion,
                "fail",
                f"no {models['absent']} module, and no Action/Observation types on the environment",
            )
        return _check(
            name,
            criterion,
            "warn",
            f"no {models['absent']} module; the environment's types: "
            f"{', '.join(actions + observations)}",
        )
    if missing:
        return _check(
            name,
            criterion,
            "fail",
            f"{module} defines no {' and no '.join(m.split(' ', 1)[1] for m in missing)} "
            "subclass (openenv.Action / openenv.Observation)",
        )
    return _check(name, criterion, "pass", ", ".join(actions + observations))


# -- tests and the image ---------------------------------------------------------------------


def _tests(folder: Path, reference_style: bool = False) -> Check:
    name, criterion = "tests present", "tests_present"
    tests = folder / "tests"
    files = sorted({*tests.rglob("test_*.py"), *tests.rglob("*_test.py")}) if tests.is_dir() else []
    if not files:
        where = "tests/ has no test_*.py files" if tests.is_dir() else "no tests/ folder"
        return _check(
            name,
            criterion,
            "warn" if reference_style else "fail",
            f"{where} in {folder} (`openenv init` writes tests/test_<name>.py)",
        )
    return _check(name, criterion, "pass", f"{len(files)} test file(s) in tests/")


def build_check(folder: Path, build: bool) -> Check:
    """The image-build hook: ``build_image(folder)`` of :mod:`openenv.deploy.images` when
    that module imports (else ``skip``); ``skip`` without ``build``."""
    name, criterion = "Dockerfile builds", "docker_build"
    if not build:
        return _check(name, criterion, "skip", "skipped: pass --build to build the image")
    try:
        from openenv.deploy.images import build_image
    except ImportError:
        return _check(name, criterion, "skip", "skipped: openenv.deploy not available")
    try:
        built = build_image(folder)
    except Exception as exc:
        text = str(exc).strip().splitlines()
        return _check(
            name, criterion, "fail", f"{type(exc).__name__}: {text[0]}" if text else repr(exc)
        )
    return _check(name, criterion, "pass", f"built {getattr(built, 'tag', None) or built}")
