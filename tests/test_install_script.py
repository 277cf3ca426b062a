"""scripts/install.sh runs pip only when what pip installs from has changed.

The script runs for real, in a scratch copy of the layout it expects (a root and
two env packages with their ``pyproject.toml``), with a ``.venv`` whose ``python``
is a stand-in: ``python -m pip`` is recorded (or made to fail), anything else runs
this interpreter. No network, no Debian package (the list is empty), no real install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

FAKE_PYTHON = """#!/bin/sh
root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ "$1" = "-m" ] && [ "$2" = "pip" ] && [ "$3" = "show" ]; then
    [ -e "$root/openenv-installed" ]  # a distribution called openenv is there, or not
    exit $?
fi
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
    echo "$*" >> "$root/pip-calls"
    [ -e "$root/pip-fails" ] && exit 1
    exit 0
fi
exec {python} "$@"
"""

ENV_PYPROJECT = """[project]
name = "{name}"
version = "0.1.0"
dependencies = ["openenv-rl"]

[project.entry-points."openenv.environments"]
{name} = "{name}.server.environment:Env"
"""


class Scratch:
    """A copy of the layout install.sh works on, and what it asked pip to do."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dropin = root / "containers.conf.d" / "50-openenv.conf"
        (root / "scripts").mkdir(parents=True)
        shutil.copy(REPO / "scripts" / "install.sh", root / "scripts" / "install.sh")
        (root / "scripts" / "apt-packages.txt").write_text("# none here\n")
        shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
        for name in ("a_env", "b_env"):
            self.add_env(name)
        venv = root / ".venv"
        (venv / "bin").mkdir(parents=True)
        (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
        python = venv / "bin" / "python"
        python.write_text(FAKE_PYTHON.format(python=sys.executable))
        python.chmod(0o755)
        script = venv / "bin" / "openenv"
        script.write_text("#!/bin/sh\n")
        script.chmod(0o755)

    def add_env(self, name: str) -> None:
        folder = self.root / "envs" / name
        folder.mkdir(parents=True)
        (folder / "pyproject.toml").write_text(ENV_PYPROJECT.format(name=name))

    def install(self, *args: str, ok: bool = True) -> str:
        """Run install.sh; its output. Fails the test if the exit status is not as expected."""
        result = subprocess.run(
            ["bash", str(self.root / "scripts" / "install.sh"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "OPENENV_CONTAINERS_DROPIN": str(self.dropin)},
        )
        assert (result.returncode == 0) == ok, result
        return result.stdout + result.stderr

    def pip_calls(self) -> list[str]:
        """Every pip command so far; clears the record."""
        record = self.root / "pip-calls"
        calls = record.read_text().splitlines() if record.exists() else []
        record.unlink(missing_ok=True)
        return calls


@pytest.fixture
def scratch(tmp_path: Path) -> Scratch:
    return Scratch(tmp_path / "repo")


def test_second_run_skips_pip(scratch: Scratch) -> None:
    out = scratch.install("--test")
    [call] = scratch.pip_calls()
    assert call.startswith("-m pip install ") and "-e .[test] -e envs/a_env -e envs/b_env" in call
    assert call.endswith(" torch==2.13.0")  # the CPU build, not the CUDA one a bare torch pulls
    assert "OpenEnv installed in .venv" in out
    out = scratch.install("--test")
    assert scratch.pip_calls() == []
    assert "nothing changed since" in out
    scratch.install()  # the test tools are a superset of the plain install
    assert scratch.pip_calls() == []


def test_asking_for_the_test_tools_after_a_plain_install(scratch: Scratch) -> None:
    scratch.install()
    [call] = scratch.pip_calls()
    assert "-e .[containers] -e envs/a_env" in call and "torch" not in call
    scratch.install("--test")
    [call] = scratch.pip_calls()
    assert "-e .[test] " in call
    scratch.install("--test")
    assert scratch.pip_calls() == []


@pytest.mark.parametrize(
    "change",
    [
        "a new entry point in an env's pyproject.toml",
        "the root pyproject.toml",
        "a new env package",
        "an env package removed",
        "scripts/apt-packages.txt",
        "the venv's Python",
        "install.sh itself",
    ],
)
def test_a_change_reinstalls(scratch: Scratch, change: str) -> None:
    scratch.install("--test")
    scratch.pip_calls()
    root = scratch.root
    if change == "a new entry point in an env's pyproject.toml":
        with (root / "envs" / "b_env" / "pyproject.toml").open("a") as file:
            file.write('twin = "b_env.server.environment:Env"\n')
    elif change == "the root pyproject.toml":
        text = (root / "pyproject.toml").read_text()
        (root / "pyproject.toml").write_text(text.replace('"rich>=13.0"', '"rich>=13.1"'))
    elif change == "a new env package":
        scratch.add_env("c_env")
    elif change == "an env package removed":
        shutil.rmtree(root / "envs" / "a_env")
    elif change == "scripts/apt-packages.txt":
        (root / "scripts" / "apt-packages.txt").write_text("# none here, still\n")
    elif change == "the venv's Python":
        (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.1\n")
    else:
        with (root / "scripts" / "install.sh").open("a") as file:
            file.write("# edited\n")
    scratch.install("--test")
    [call] = scratch.pip_calls()
    assert ("-e envs/c_env" in call) == (change == "a new env package")
    assert ("-e envs/a_env" in call) == (change != "an env package removed")
    scratch.install("--test")
    assert scratch.pip_calls() == []


def test_a_failed_pip_leaves_no_stamp(scratch: Scratch) -> None:
    scratch.install("--test")
    scratch.pip_calls()
    with (scratch.root / "pyproject.toml").open("a") as file:
        file.write("\n# changed\n")
    (scratch.root / "pip-fails").touch()
    scratch.install("--test", ok=False)
    assert len(scratch.pip_calls()) == 1
    (scratch.root / "pip-fails").unlink()
    scratch.install("--test")  # tried again, not skipped
    assert len(scratch.pip_calls()) == 1
    scratch.install("--test")
    assert scratch.pip_calls() == []


def test_a_broken_venv_and_reinstall_run_pip(scratch: Scratch) -> None:
    scratch.install("--test")
    scratch.pip_calls()
    (scratch.root / ".venv" / "bin" / "openenv").unlink()  # e.g. pip uninstall openenv
    scratch.install("--test")
    assert len(scratch.pip_calls()) == 1
    (scratch.root / ".venv" / "bin" / "openenv").write_text("#!/bin/sh\n")
    (scratch.root / ".venv" / "bin" / "openenv").chmod(0o755)
    scratch.install("--test", "--reinstall")
    assert len(scratch.pip_calls()) == 1
    assert "usage:" in scratch.install("--tset", ok=False)


@pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed")
def test_podman_gets_its_drop_in_once_and_never_over_a_file_of_yours(scratch: Scratch) -> None:
    scratch.install()
    text = scratch.dropin.read_text()
    assert 'runtime = "runc"' in text and 'cgroup_manager = "cgroupfs"' in text
    scratch.dropin.write_text("# mine\n")
    scratch.install("--reinstall")
    assert scratch.dropin.read_text() == "# mine\n"


def test_a_distribution_called_openenv_is_removed_first(scratch: Scratch) -> None:
    # OpenEnv 0.10 (or this project under its old name) provides the same `openenv` module.
    (scratch.root / "openenv-installed").touch()
    out = scratch.install()
    uninstall, install = scratch.pip_calls()
    assert uninstall == "-m pip uninstall --quiet --yes openenv"
    assert install.startswith("-m pip install ")
    assert "its 'openenv' module is replaced by openenv-rl's" in out
