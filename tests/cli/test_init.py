"""``openenv init``: the scaffolded package passes its own tests right away."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from openenv.cli.init import MAX_NAME_LENGTH, fit, placeholders
from tests.cli.helpers import assert_one_line_error, invoke, run

NAME = "guess_env"
GENERATED = [
    "pyproject.toml",
    "openenv.yaml",
    "README.md",
    "Dockerfile",
    f"{NAME}/__init__.py",
    f"{NAME}/agents.py",
    f"{NAME}/demo.py",
    f"{NAME}/models.py",
    f"{NAME}/client.py",
    f"{NAME}/server/__init__.py",
    f"{NAME}/server/environment.py",
    f"{NAME}/server/app.py",
    f"tests/test_{NAME}.py",
]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scaffold")
    result = invoke("init", NAME, "-o", str(out))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"Created {out / NAME}" in result.stdout
    return out / NAME


def test_it_writes_every_file_with_no_placeholder_left(package: Path) -> None:
    written = sorted(str(p.relative_to(package)) for p in package.rglob("*") if p.is_file())
    assert written == sorted(GENERATED)
    for relative in GENERATED:
        text = (package / relative).read_text()
        assert "{{" not in text and "__name__/" not in text, relative


def test_generated_tests_pass(package: Path) -> None:
    # The package is not pip-installed: its own pytest config puts it on the path.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPENENV_TOKEN")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 passed" in result.stdout  # check_env in-process and served, the demo among them


def assert_ruff_clean(package: Path) -> None:
    """ruff check and ruff format --check pass, with the package's own settings."""
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--no-cache", "."],
            cwd=package,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr


needs_ruff = pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="no ruff here")


@needs_ruff
def test_generated_code_is_ruff_clean(package: Path) -> None:
    assert_ruff_clean(package)


@needs_ruff
@pytest.mark.parametrize(
    "name",
    [
        "g",
        "abcdefghij",  # 10 characters: once too long for a line of the tests
        "ab_env",  # AbAction sorts before AsyncAbEnv
        "_2048_env",  # no letter to start a class name: Env2048
        "tic_tac_toe_xyz",  # __all__ once split as a call's arguments are, not as a list
        "a_really_long_environment_name_for_testing",
        "x" * MAX_NAME_LENGTH,
    ],
)
def test_any_valid_name_gives_ruff_clean_code(tmp_path: Path, name: str) -> None:
    result = invoke("init", name, "-o", str(tmp_path))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert_ruff_clean(tmp_path / name)


NAMES = ["AsyncTicTacToeEnv", "TicTacToeAction", "TicTacToeEnv", "TicTacToeObs"]
LONG = ", ".join(f'"{name}"' for name in [*NAMES, "TicTacToeState999999"])  # 94 characters
ENTRIES = ", ".join(f'"{name}": 1' for name in [*NAMES[1:], "TicTacToeState9", "TicTacTo"])


@needs_ruff
@pytest.mark.parametrize(
    "line",
    [
        f"__all__ = [{LONG}]",  # a list: one item a line
        f"x = call({LONG})",  # a call: the arguments on a line of their own
        f"y = table[{LONG}]",  # a subscript: likewise
        f"z = {{{ENTRIES}}}",  # a dict
        f"found = name in ({LONG})",  # a tuple
    ],
)
def test_fit_splits_a_long_line_as_ruff_format_does(line: str) -> None:
    """Each line is too long, and what is inside its last brackets would fit a line of
    its own: a call's arguments go there, a display's items one a line."""
    split = "\n".join(fit(line)) + "\n"
    inside = line[line.index(line[-1].translate(str.maketrans(")]}", "([{"))) + 1 : -1]
    assert len(line) > 100 and len("    " + inside) <= 100
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--line-length", "100", "-"],
        input=split,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert split == formatted


def test_the_demo_runner_plays_the_generated_scenario(package: Path) -> None:
    # Installed, the package joins `openenv demo` by its openenv.demos entry point; here
    # its scenario goes through the same runner without installing it.
    code = (
        "from openenv.cli.demo import run_scenario\n"
        f"from {NAME}.demo import SCENARIOS\n"
        "result = run_scenario(SCENARIOS[0], 2, 0, lambda: None)\n"
        "print(result.error, result.rewards)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPENENV_TOKEN")}
    env["PYTHONPATH"] = str(package)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "[1.0,", "1.0]"]


def test_settings_entry_point_and_dockerfile(package: Path) -> None:
    settings = yaml.safe_load((package / "openenv.yaml").read_text())
    assert settings["name"] == NAME
    assert settings["environment"] == f"{NAME}.server.environment:GuessEnvironment"
    assert settings["isolation"] == "none"

    pyproject = (package / "pyproject.toml").read_text()
    assert '[project.entry-points."openenv.environments"]' in pyproject
    assert f'{NAME} = "{NAME}.server.environment:GuessEnvironment"' in pyproject
    assert '[project.entry-points."openenv.demos"]' in pyproject
    assert f'{NAME} = "{NAME}.demo:SCENARIOS"' in pyproject

    # The recipe openenv build stages (tests/deploy build and run it): the package's
    # openenv.yaml is served, so its isolation and limits hold inside the image.
    dockerfile = (package / "Dockerfile").read_text().splitlines()
    assert "ARG BASE=python:3.11-slim" in dockerfile and "FROM ${BASE}" in dockerfile
    assert f'LABEL openenv.env="{NAME}" openenv.managed="1"' in dockerfile
    assert "COPY wheels/env/ openenv.yaml /opt/openenv/env/" in dockerfile
    serve = 'CMD ["openenv", "serve", "/opt/openenv/env", "--host", "0.0.0.0", "--port", "8000"]'
    assert serve in dockerfile


def test_the_folder_is_servable_without_installing(package: Path) -> None:
    code = (
        "from openenv.discovery import find_environment;"
        f"found = find_environment({str(package)!r});"
        "print(found.name, found.env_class.__name__, sorted(found.env_class.tools()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=package.parent
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [NAME, "GuessEnvironment", "['is_possible']"]


def test_init_into_an_empty_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "empty_env").mkdir()
    result = invoke("init", "empty_env", "--output-dir", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "empty_env" / "empty_env" / "server" / "environment.py").is_file()


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "taken_env"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    result = run("init", "taken_env", "-o", str(tmp_path))
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "already exists and is not empty")
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    assert (target / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("my-env", "not a valid Python identifier; try e.g. 'my_env'"),
        ("2048", "not a valid Python identifier"),
        ("class", "not a valid Python identifier"),
        ("json", "would shadow an existing module"),
        ("openenv", "would shadow an existing module"),
        ("x" * (MAX_NAME_LENGTH + 1), f"a package name of at most {MAX_NAME_LENGTH}"),
    ],
)
def test_init_refuses_bad_names(tmp_path: Path, name: str, fragment: str) -> None:
    result = invoke("init", name, "-o", str(tmp_path))
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, fragment)
    assert not any(tmp_path.iterdir())


def test_class_names() -> None:
    assert placeholders("guess_env")["Name"] == "Guess"
    assert placeholders("tic_tac_toe")["Name"] == "TicTacToe"
    assert placeholders("env")["Name"] == "Env"
    assert placeholders("_2048_env")["Name"] == "Env2048"
    assert placeholders("guess_env")["dist_name"] == "guess-env"
