"""Every shipped environment keeps the contract: check_env in-process and served.

Served, each runs as users run it (`openenv serve NAME`, its openenv.yaml's isolation:
coding/terminal in sandboxes); the server comes from the openenv_serve fixture,
shared with the environment's own tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from openenv.runtime.programs import missing_for_sandboxed_programs
from openenv.testing import check_env

ENVS = sorted(p.parent.name for p in (Path(__file__).parents[2] / "envs").glob("*/openenv.yaml"))


def _missing(name: str) -> str | None:
    """What this machine lacks to run ``name`` (None: nothing)."""
    if name in ("coding_env", "terminal_env"):
        return missing_for_sandboxed_programs()
    if name == "openapp_env":
        from openapp_env.server.browser import BrowserUnavailable, chromium_path

        try:
            chromium_path()
        except BrowserUnavailable as exc:
            return str(exc)
    return None


def test_every_env_folder_is_checked():
    assert len(ENVS) >= 14 and "echo_env" in ENVS


@pytest.mark.parametrize("name", ENVS)
def test_in_process(name: str) -> None:
    missing = _missing(name)
    if missing:
        pytest.skip(missing)
    report = check_env(name)
    assert report.results[0].status == "pass"


@pytest.mark.parametrize("name", ENVS)
def test_served(name: str, openenv_serve) -> None:
    missing = _missing(name)
    if missing:
        pytest.skip(missing)
    check_env(openenv_serve(name).base_url)
