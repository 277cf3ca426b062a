"""Create (once) and find the virtual environment holding the reference OpenEnv."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

REFERENCE_VERSION = "0.10.0"
DEFAULT_DIR = Path(
    os.environ.get("OPENENV_REFERENCE_VENV", Path.home() / ".cache" / "openenv-reference")
)


def reference_python(venv_dir: Path = DEFAULT_DIR) -> Path:
    """Path of a Python that can ``import openenv`` at the reference version.

    Creates ``venv_dir`` and installs ``openenv==0.10.0`` into it the first time
    (about 30 s with PyPI reachable); later calls return at once. Safe to call
    from several processes: a file lock serialises the install.
    """
    python = venv_dir / "bin" / "python"
    marker = venv_dir / f".openenv-{REFERENCE_VERSION}-ready"
    if marker.exists():
        return python
    venv_dir.mkdir(parents=True, exist_ok=True)
    with open(venv_dir.parent / f".{venv_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 f"openenv=={REFERENCE_VERSION}"],
                check=True,
            )
            marker.touch()
    return python


if __name__ == "__main__":
    print(reference_python())
