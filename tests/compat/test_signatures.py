"""Each ``openenv.core`` alias keeps the signature of its OpenEnv 0.10 counterpart.

``signatures.py`` prints the signatures of the reference's public API, run once by the
reference venv's Python and once by ours (the import paths are the same). Every
parameter the reference has, ours has: same name, position, kind and default (a class
default compared by name). Ours may add parameters that have defaults, after the
reference's. The differences we chose are listed in ``DEVIATIONS`` with the reason
(docs/migrating.md says the same); any other drift fails here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(600)

SCRIPT = Path(__file__).with_name("signatures.py")

DEVIATIONS = {
    "openenv.core.env_server.interfaces.Environment.step": (
        "no **kwargs: our base class passes the step only its timeout, and refuses other "
        "keywords rather than dropping them"
    ),
    "openenv.core.env_server.interfaces.Environment.step_async": "as step",
    "openenv.core.env_server.mcp_environment.MCPEnvironment.step": "as Environment.step",
    "openenv.core.env_server.mcp_environment.MCPEnvironment.step_async": "as Environment.step",
}


def signatures(python: str, env: dict[str, str] | None) -> dict[str, Any]:
    done = subprocess.run(
        [python, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def normalised(default: str | None) -> str | None:
    """``<class 'pkg.mod.State'>`` → ``<class State>``: the same role, from either package."""
    if default is None:
        return None
    return re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"<class \1>", default)


def differences(theirs: Any, ours: Any) -> list[str]:
    if theirs in ("property", "no signature") or ours in ("property", "missing", "no signature"):
        return [] if theirs == ours else [f"reference: {theirs}, ours: {ours}"]
    problems = []
    var_kinds = {"VAR_POSITIONAL", "VAR_KEYWORD"}
    their_fixed = [p for p in theirs if p[1] not in var_kinds]
    our_fixed = [p for p in ours if p[1] not in var_kinds]
    for position, (name, kind, default) in enumerate(their_fixed):
        if position >= len(our_fixed):
            problems.append(f"missing parameter {name}")
            continue
        our_name, our_kind, our_default = our_fixed[position]
        if default is None:  # required there: a default here only accepts more calls
            our_default = None
        if (our_name, our_kind, normalised(our_default)) != (name, kind, normalised(default)):
            problems.append(
                f"parameter {position}: reference {name} {kind} default={default}, "
                f"ours {our_name} {our_kind} default={our_default}"
            )
    for name, _kind, default in our_fixed[len(their_fixed) :]:
        if default is None:
            problems.append(f"our extra parameter {name} has no default")
    for kind in {p[1] for p in theirs} & var_kinds:
        if kind not in {p[1] for p in ours}:
            problems.append(f"ours has no {kind}")
    return problems


@pytest.fixture(scope="module")
def reference(reference_python: Path, reference_env: dict[str, str]) -> dict[str, Any]:
    return signatures(str(reference_python), reference_env)


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    return signatures(sys.executable, None)


def test_every_alias_keeps_the_reference_signature(
    reference: dict[str, Any], ours: dict[str, Any]
) -> None:
    assert set(reference) == set(ours)
    drift = {
        name: problems
        for name in reference
        if name not in DEVIATIONS and (problems := differences(reference[name], ours[name]))
    }
    assert not drift, json.dumps(drift, indent=1)


def test_the_listed_deviations_are_still_real(
    reference: dict[str, Any], ours: dict[str, Any]
) -> None:
    # When one is fixed (or the reference changes), the list must shrink with it.
    for name in DEVIATIONS:
        assert differences(reference[name], ours[name]), f"{name} no longer differs"


def test_the_comparison_catches_drift() -> None:
    theirs = [["action", "POSITIONAL_OR_KEYWORD", None], ["timeout_s", "KEYWORD_ONLY", "None"]]
    assert not differences(theirs, theirs)
    renamed = [["act", "POSITIONAL_OR_KEYWORD", None], ["timeout_s", "KEYWORD_ONLY", "None"]]
    assert differences(theirs, renamed)
    new_default = [["action", "POSITIONAL_OR_KEYWORD", None], ["timeout_s", "KEYWORD_ONLY", "1"]]
    assert differences(theirs, new_default)
    required_extra = [*theirs, ["extra", "KEYWORD_ONLY", None]]
    assert differences(theirs, required_extra)
    assert not differences(theirs, [*theirs, ["extra", "KEYWORD_ONLY", "None"]])
    optional = [["action", "POSITIONAL_OR_KEYWORD", "None"], ["timeout_s", "KEYWORD_ONLY", "None"]]
    assert not differences(theirs, optional)  # a default where they require: more calls work
    assert differences("property", "missing")
