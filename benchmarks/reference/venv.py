"""Create (once) and find the virtual environment holding the reference OpenEnv.

Optional *extras* add packages a particular reference server needs, installed into
the same venv on first use: ``reference_python(extras=["coding"])`` also installs
smolagents, which the reference coding environment runs its code with.

    python -m benchmarks.reference.venv                  # the venv's Python
    python -m benchmarks.reference.venv --extra coding   # ... with smolagents in it
"""

from __future__ import annotations

import argparse
import fcntl
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

REFERENCE_VERSION = "0.10.0"
DEFAULT_DIR = Path(
    os.environ.get("OPENENV_REFERENCE_VENV", Path.home() / ".cache" / "openenv-reference")
)
EXTRAS: dict[str, tuple[str, ...]] = {
    # The reference coding env (envs/coding_env in the public OpenEnv) executes each
    # action with smolagents' LocalPythonExecutor (benchmarks/reference/coding_server.py).
    "coding": ("smolagents==1.26.0",),
}
"""Optional package sets, by name, that :func:`reference_python` installs on demand."""


class ReferenceUnavailable(RuntimeError):
    """The reference venv, or one of its extras, could not be installed."""


def _pip_install(python: Path, packages: Iterable[str], what: str) -> None:
    """``pip install`` into the venv; :class:`ReferenceUnavailable` with pip's words if it fails."""
    command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    try:
        subprocess.run(
            [*command, *packages], check=True, capture_output=True, text=True, timeout=900
        )
    except subprocess.CalledProcessError as exc:
        tail = "\n".join((exc.stderr or exc.stdout or "").strip().splitlines()[-8:])
        raise ReferenceUnavailable(
            f"could not install {what} ({' '.join(packages)}) into {python.parent.parent}: "
            f"pip exited with {exc.returncode} (is the package index reachable?)\n{tail}"
        ) from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReferenceUnavailable(f"could not install {what}: {exc}") from None


def _marker(venv_dir: Path, extra: str) -> Path:
    """The file that says ``extra`` (at its pinned versions) is installed."""
    pins = "-".join(p.replace("==", "-") for p in EXTRAS[extra])
    return venv_dir / f".extra-{extra}-{pins}-ready"


def reference_python(venv_dir: Path = DEFAULT_DIR, extras: Iterable[str] = ()) -> Path:
    """Path of a Python that can ``import openenv`` at the reference version.

    Creates ``venv_dir`` and installs ``openenv==0.10.0`` into it the first time
    (about 30 s with PyPI reachable); later calls return at once. ``extras``
    (keys of :data:`EXTRAS`) are installed into it too, each the first time it is
    asked for. Safe to call from several processes: a file lock serialises the
    installs. Raises :class:`ReferenceUnavailable` (a ``RuntimeError``) with pip's
    last words when an install fails.
    """
    extras = list(extras)
    unknown = [e for e in extras if e not in EXTRAS]
    if unknown:
        raise ValueError(f"unknown extra(s) {unknown}; choose from {sorted(EXTRAS)}")
    python = venv_dir / "bin" / "python"
    marker = venv_dir / f".openenv-{REFERENCE_VERSION}-ready"
    if marker.exists() and all(_marker(venv_dir, e).exists() for e in extras):
        return python
    venv_dir.mkdir(parents=True, exist_ok=True)
    with open(venv_dir.parent / f".{venv_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True)
            _pip_install(python, [f"openenv=={REFERENCE_VERSION}"], "the reference OpenEnv")
            marker.touch()
        for extra in extras:
            if not _marker(venv_dir, extra).exists():
                _pip_install(python, EXTRAS[extra], f"the reference's {extra!r} extra")
                _marker(venv_dir, extra).touch()
    return python


def main(argv: list[str] | None = None) -> int:
    """Print the reference venv's Python, installing it (and any extras) first."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reference.venv", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--extra", action="append", default=[], choices=sorted(EXTRAS), help="also install this"
    )
    args = parser.parse_args(argv)
    try:
        print(reference_python(extras=args.extra))
    except ReferenceUnavailable as exc:
        print(f"reference unavailable: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
