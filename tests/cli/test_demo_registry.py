"""The demo's registry: scenarios come from the environment packages, by entry point."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

import openenv.cli.scenarios as registry
from openenv.cli.output import CliError
from openenv.demos import ENTRY_POINT_GROUP, DemoCheckFailed, Scenario
from openenv.errors import OpenEnvError

CLI = Path(registry.__file__).parent

DEMO_ORDER = [
    "echo",
    "echo (sandboxed)",
    "echo (container)",
    "coding (sandboxed)",
    "coding: reward hacks (sandboxed)",
    "terminal (sandboxed)",
    "openapp",
    "wordle (solver)",
    "hangman",
    "guess the number (binary search)",
    "cartpole",
    "atari (breakout)",
    "openspiel (tic_tac_toe vs mcts)",
    "blackjack (basic strategy)",
    "chess (level 1)",
    "connect4",
    "maze (bfs)",
]
"""What `openenv demo` ran, in this order, when the scenarios lived in the CLI."""


def env_packages() -> set[str]:
    """Top-level packages of every installed environment."""
    return {e.value.split(".")[0] for e in entry_points(group="openenv.environments")}


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    registry.scenarios.cache_clear()
    yield
    registry.scenarios.cache_clear()


def test_every_bundled_scenario_is_found_in_the_order_of_the_tour() -> None:
    assert list(registry.scenarios()) == DEMO_ORDER
    assert all(isinstance(item, Scenario) for item in registry.scenarios().values())


def test_each_scenario_lives_in_its_own_environments_package() -> None:
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        package = entry.value.split(".")[0]
        for item in registry._load(entry):
            assert item.env == package == entry.name, item.name
            assert item.play.__module__ == f"{package}.demo", item.name
            assert item.client.__module__.split(".")[0] == package, item.name


def test_the_cli_imports_no_environment_package() -> None:
    """The runner finds environments by discovery and scenarios by entry point only."""
    envs = env_packages()
    assert "echo_env" in envs
    for path in sorted(CLI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in envs, f"{path.name}:{node.lineno} imports {name}"


def test_listing_the_scenarios_loads_no_server_of_any_environment() -> None:
    code = (
        "import sys\n"
        "from openenv.cli.scenarios import scenarios\n"
        "assert len(scenarios()) > 1\n"
        "print(' '.join(sorted(m for m in sys.modules if '.server' in m)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.split()
    assert not [m for m in loaded if m.split(".")[0] in env_packages()], loaded


def skip_play(client: object, seed: int, episode: object) -> None:
    """A scenario's play that plays nothing (these scenarios are listed, never run)."""


ONE = Scenario("one", env="one_env", client=object, play=skip_play)
TWO = [
    Scenario("two", env="two_env", client=object, play=skip_play),
    Scenario("three", env="two_env", client=object, play=skip_play),
]


def fake_entry(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_other_packages_follow_the_tour_by_name(
    monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    found = [
        fake_entry("zz_env", f"{__name__}:TWO"),
        fake_entry("aa_env", f"{__name__}:ONE"),
        fake_entry("echo_env", "echo_env.demo:SCENARIOS"),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: found)
    echo = ["echo", "echo (sandboxed)", "echo (container)"]
    assert list(registry.scenarios()) == [*echo, "one", "two", "three"]


def test_two_scenarios_of_one_name_are_refused(
    monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    found = [fake_entry("aa_env", f"{__name__}:ONE"), fake_entry("bb_env", f"{__name__}:ONE")]
    monkeypatch.setattr(registry, "entry_points", lambda group: found)
    with pytest.raises(CliError, match="two demos named 'one': entry points 'aa_env' and 'bb_env'"):
        registry.scenarios()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("no_such_package_xyz.demo:SCENARIOS", "cannot load the demos of broken_env"),
        ("echo_env.demo:play", "is not an openenv.demos.Scenario or a list of them"),
    ],
)
def test_a_broken_entry_point_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, fresh_registry: None, value: str, message: str
) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: [fake_entry("broken_env", value)])
    with pytest.raises(CliError, match=message):
        registry.scenarios()


def test_a_failed_check_is_an_openenv_error_and_an_assertion() -> None:
    assert issubclass(DemoCheckFailed, OpenEnvError)
    assert issubclass(DemoCheckFailed, AssertionError)
