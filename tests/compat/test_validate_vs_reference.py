"""``openenv validate URL --json``: ours against the REFERENCE CLI's (``openenv==0.10.0``).

The reference's own command runs in its venv against the same running servers as ours:
our echo server, the reference echo server, and one of ours that wants a token it is
not given (so that every criterion fails, in both). Ours must report every criterion
the reference reports, with the same ``passed`` (and the same ``expected`` and
``actual``) on OpenEnv's six, and the reference's top-level fields with the same
values: a tool that reads the reference's report reads ours.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openenv.validation_server import OPENENV_CRITERIA, OUR_CRITERIA
from tests.cli.helpers import invoke

# The first test may create the reference venv (pip install; about a minute).
pytestmark = pytest.mark.timeout(600)

TOP_LEVEL = ("validation_type", "standard_version", "standard_profile", "mode", "passed")


@pytest.fixture(scope="module")
def guarded_server() -> Iterator[str]:
    """Our echo server with a token that no one here sends."""
    from echo_env.server import EchoEnvironment

    from openenv.server import ServerConfig, create_app
    from tests.conftest import start_server

    served = start_server(create_app(EchoEnvironment, config=ServerConfig(token="not-sent")))
    yield served.base_url
    served.stop()


@pytest.fixture(scope="module")
def targets(
    our_servers: dict[str, str], reference_servers: dict[str, str], guarded_server: str
) -> dict[str, str]:
    return {
        "our echo server": our_servers["default"],
        "the reference echo server": reference_servers["default"],
        "a server wanting a token": guarded_server,
    }


REFERENCE_CLI = """
import json, sys
from typer.testing import CliRunner
from openenv.cli.__main__ import app

reports = {}
for url in sys.argv[1:]:
    result = CliRunner().invoke(app, ["validate", url, "--json"])
    reports[url] = {"exit_code": result.exit_code, "stdout": result.stdout}
print(json.dumps(reports))
"""
"""The reference's `openenv` command (its typer app), run as `openenv validate URL --json`
for each URL, in one process: one import of the reference instead of one per URL."""


@pytest.fixture(scope="module")
def reference_reports(
    reference_python: Path, reference_env: dict[str, str], targets: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """The reference CLI's ``openenv validate URL --json`` of every target."""
    done = subprocess.run(
        [str(reference_python), "-c", REFERENCE_CLI, *targets.values()],
        capture_output=True,
        text=True,
        env=reference_env,
        cwd=tempfile.gettempdir(),  # nothing called `openenv` on its path but the reference
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    reports = {}
    for name, url in targets.items():
        result = results[url]
        assert result["exit_code"] in (0, 1), f"reference validate of {name}: {result}"
        reports[name] = json.loads(result["stdout"])
    return reports


def ours(url: str) -> dict[str, Any]:
    result = invoke("validate", url, "--json", "--timeout", "120")
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "target", ["our echo server", "the reference echo server", "a server wanting a token"]
)
def test_our_report_is_a_superset_of_the_references(
    target: str, targets: dict[str, str], reference_reports: dict[str, dict[str, Any]]
) -> None:
    reference = reference_reports[target]
    report = ours(targets[target])

    assert set(reference) <= set(report)
    for key in TOP_LEVEL:
        if key != "passed":
            assert report[key] == reference[key], key
    assert set(reference["summary"]) <= set(report["summary"])

    theirs = {criterion["id"]: criterion for criterion in reference["criteria"]}
    mine = {criterion["id"]: criterion for criterion in report["criteria"]}
    assert list(theirs) == list(OPENENV_CRITERIA)  # the six we mirror are the reference's
    assert set(theirs) <= set(mine)
    assert set(OUR_CRITERIA) <= set(mine)
    for cid, criterion in theirs.items():
        assert set(criterion) <= set(mine[cid]), cid
        for key in ("passed", "required", "description", "expected", "actual"):
            assert mine[cid].get(key) == criterion.get(key), (cid, key)
    assert [c for c in reference["summary"]["failed_criteria"]] == [
        c for c in report["summary"]["failed_criteria"] if c in theirs
    ]

    if target == "our echo server":
        assert reference["passed"] is True and report["passed"] is True
    if target == "a server wanting a token":
        assert reference["passed"] is False and report["passed"] is False
        assert not any(criterion["passed"] for criterion in theirs.values())
