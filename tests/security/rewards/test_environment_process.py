"""Red team: nothing the agent writes can steer the environment's own process.

In a sandbox the agent writes ``/workspace``, ``/tmp`` and ``/dev/shm``; the
environment (the sandboxed worker) must never import, read configuration from, or
run anything there. The worker's code is :mod:`attack_env`'s ``exec``: it reports
what the environment process itself sees.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from openenv.runtime.sandbox import SandboxUnavailable, check_sandbox
from openenv.server import ServerConfig, create_app
from tests.conftest import Served, ask, open_ws, start_server

HERE = Path(__file__).resolve().parents[1]
if str(HERE) not in sys.path:  # attack_env is a top-level module (see its docstring)
    sys.path.insert(0, str(HERE))
AttackEnvironment = importlib.import_module("attack_env").AttackEnvironment

try:
    check_sandbox()
    MISSING = None
except SandboxUnavailable as exc:
    MISSING = str(exc)
pytestmark = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))

AGENT_WRITABLE = ("/workspace", "/tmp", "/dev/shm")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    server = start_server(create_app(AttackEnvironment, config=ServerConfig(isolation="sandbox")))
    yield server
    server.stop()


def test_the_environment_process_has_nothing_agent_writable_on_its_paths(served):
    with open_ws(served) as ws:
        assert ask(ws, {"type": "reset", "data": {}}, timeout=30)["type"] == "observation"
        code = (
            "import os, sys\n"
            "print(repr([sys.path, os.getcwd(), os.environ.get('HOME'), sys.flags.isolated,"
            " sys.flags.no_user_site, os.environ.get('PYTHONPATH')]))"
        )
        frame = ask(ws, {"type": "step", "data": {"code": code}}, timeout=30)
    path, cwd, home, isolated, no_user_site, pythonpath = ast.literal_eval(
        frame["data"]["observation"]["output"]
    )
    assert "" not in path and all(p.startswith("/") for p in path)
    assert not [p for p in path if p.startswith(AGENT_WRITABLE)], path
    assert cwd == "/" and home == "/"
    assert isolated == 1 and no_user_site == 1 and pythonpath is None
