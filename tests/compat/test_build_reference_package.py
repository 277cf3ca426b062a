"""``openenv build --stage-only`` of a package made by OpenEnv 0.10's ``openenv init``.

The staged context is checked without a container engine: it holds our distribution's
wheel (``openenv-rl``, built from this tree) and not the reference's, and the image it
describes is emulated step by step: a fresh virtual environment gets the staged
wheels exactly as the Dockerfile installs them (pip from its own wheel, no index),
the package's folder in the image gets what the Dockerfile copies there, and the
Dockerfile's ``CMD`` (``openenv serve /opt/openenv/env``) is run from a folder with
nothing else on its path, then stepped. Such a package imports its app as
``server.app`` from its folder; installed from its wheel it is ``<name>.server.app``,
which the staged ``openenv.yaml`` names.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from openenv.runtime.local import LocalRuntime

pytestmark = pytest.mark.timeout(600)

CMD = ["openenv", "serve", "/opt/openenv/env", "--host", "0.0.0.0", "--port", "8000"]
OPENENV = str(Path(sys.executable).with_name("openenv"))


def dockerfile_steps(dockerfile: str) -> tuple[list[str], list[str]]:
    """The Dockerfile's ``COPY`` lines and its ``CMD``."""
    copies = [line for line in dockerfile.splitlines() if line.startswith("COPY ")]
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    return copies, json.loads(cmd[len("CMD ") :])


def run(*command: str | Path) -> None:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-3000:])


def test_a_reference_package_is_staged_with_our_openenv_and_served_by_the_cmd(
    tmp_path: Path,
    reference_python: Path,
    reference_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = subprocess.run(
        [
            str(reference_python.parent / "openenv"),
            "init",
            "ref_echo",
            "--output-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=reference_env,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    package = tmp_path / "ref_echo"
    assert "app: server.app:app" in (package / "openenv.yaml").read_text()
    assert '"openenv>=' in (package / "pyproject.toml").read_text()  # the reference's name

    context = tmp_path / "context"
    run(OPENENV, "build", package, "--stage-only", "-o", context)

    # Our distribution, from the wheel staged from this tree; nothing of the reference's.
    (ours,) = (context / "wheels" / "openenv").glob("*.whl")
    assert ours.name.startswith("openenv_rl-")
    with zipfile.ZipFile(ours) as wheel:
        metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        assert "\nName: openenv-rl\n" in wheel.read(metadata).decode()
    pins = (context / "wheels" / "deps" / "requirements.txt").read_text().split()
    names = {re.split(r"==", pin)[0].lower().replace("_", "-") for pin in pins}
    assert not names & {"openenv", "openenv-core", "openenv-rl"}, pins
    deps = [p.name.lower() for p in (context / "wheels" / "deps").glob("*.whl")]
    assert not [name for name in deps if re.match(r"openenv(_core)?-\d", name)], deps
    (env_wheel,) = (context / "wheels" / "env").glob("*.whl")
    assert env_wheel.name.startswith("openenv_ref_echo-")

    # The image's folder names the installed app; the rest of openenv.yaml is the package's.
    staged = yaml.safe_load((context / "openenv.yaml").read_text())
    original = yaml.safe_load((package / "openenv.yaml").read_text())
    assert staged["app"] == "ref_echo.server.app:app"
    assert {k: v for k, v in staged.items() if k != "app"} == {
        k: v for k, v in original.items() if k != "app"
    }

    dockerfile = (context / "Dockerfile").read_text()
    copies, cmd = dockerfile_steps(dockerfile)
    assert cmd == CMD
    assert "COPY wheels/env/ openenv.yaml /opt/openenv/env/" in copies
    assert 'LABEL openenv.env="ref_echo"' in dockerfile

    # The image, emulated: /opt/openenv as a venv with the wheels installed as the
    # Dockerfile does (no index: only what was staged), then its CMD.
    opt = tmp_path / "image" / "opt" / "openenv"
    run(sys.executable, "-m", "venv", "--without-pip", opt)
    python = opt / "bin" / "python"
    (pip_wheel,) = (context / "wheels" / "deps").glob("pip-*.whl")
    pip = [python, pip_wheel / "pip", "install", "--no-cache-dir", "--no-index"]
    find_links = ["--find-links", context / "wheels" / "deps"]
    run(*pip, *find_links, "-r", context / "wheels" / "deps" / "requirements.txt")
    run(*pip, "--no-deps", ours)
    served = opt / "env"
    served.mkdir()
    shutil.copy2(env_wheel, served)
    shutil.copy2(context / "openenv.yaml", served)
    run(*pip, "--no-deps", served / env_wheel.name)
    probe = subprocess.run(
        [
            python,
            "-c",
            "import importlib.metadata as m, openenv; "
            "print(m.version('openenv-rl'), openenv.__file__)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    assert str(opt) in probe.stdout  # our openenv, installed in the image's venv

    monkeypatch.chdir(tmp_path / "image")  # the image's WORKDIR holds nothing importable
    runtime = LocalRuntime(Path(cmd[2].replace("/opt/openenv", str(opt))), python=str(python))
    from openenv import GenericEnvClient

    try:
        with GenericEnvClient(base_url=runtime.start(), token=runtime.token) as env:
            assert env.reset().observation["echoed_message"] == "Ref Echo environment ready!"
            result = env.step({"message": "built"})
        assert result.observation["echoed_message"] == "built" and result.reward == 0.5
    finally:
        runtime.stop()
