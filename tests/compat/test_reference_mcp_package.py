"""An OpenEnv 0.10 package built on ``MCPEnvironment`` (FastMCP tools), served unchanged
by our ``openenv serve``.

The package is written here in the reference's style: ``FastMCP`` tools registered in
``__init__``, ``super().__init__(mcp)``, a ``step`` override calling ``super().step``,
``create_app(Env, CallToolAction, CallToolObservation)``, and a client that is a plain
``MCPToolClient``. One driver runs twice against the same server: in the reference's
venv (its ``MCPToolClient``: HTTP ``/mcp`` with a session, steps over ``/ws``) and in
ours (our ``openenv.core.MCPToolClient``: ``mcp`` frames on the session's WebSocket),
and once more with the server's sessions sandboxed; the reference's own server for the
package answers the driver the same. The reference's ``openenv validate`` accepts it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openenv.runtime.local import LocalRuntime
from tests.compat.conftest import ReferenceServer, free_port, wait_healthy
from tests.compat.test_reference_packages import (
    TOKEN,
    our_env,
    reference_validate,
    reference_yaml,
    write_package,
)

# The first test may create the reference venv (pip install; about a minute).
pytestmark = pytest.mark.timeout(600)

TOOLS_FILES = {
    "__init__.py": """
        from .client import RefToolsEnv
    """,
    "client.py": """
        from openenv.core.mcp_client import MCPToolClient


        class RefToolsEnv(MCPToolClient):
            pass
    """,
    "server/__init__.py": "",
    "server/tools_environment.py": """
        from uuid import uuid4

        from fastmcp import FastMCP

        from openenv.core.env_server.mcp_environment import MCPEnvironment
        from openenv.core.env_server.mcp_types import CallToolAction
        from openenv.core.env_server.types import Observation, State


        class RefToolsEnvironment(MCPEnvironment):
            SUPPORTS_CONCURRENT_SESSIONS = True

            def __init__(self):
                mcp = FastMCP("ref_tools")
                self._notes = []

                @mcp.tool
                def add(a: int, b: int = 1) -> int:
                    \"\"\"Add two integers.\"\"\"
                    return a + b

                @mcp.tool
                def divide(a: float, b: float) -> float:
                    \"\"\"Divide a by b.\"\"\"
                    return a / b

                @mcp.tool
                async def remember(note: str) -> dict:
                    \"\"\"Keep a note for this episode; says how many are kept.\"\"\"
                    self._notes.append(note)
                    return {"count": len(self._notes), "notes": list(self._notes)}

                super().__init__(mcp)
                self._state = State(episode_id=str(uuid4()), step_count=0)

            def reset(self, seed=None, episode_id=None, **kwargs):
                self._notes.clear()
                self._state = State(episode_id=episode_id or str(uuid4()), step_count=0)
                return Observation(done=False, reward=0.0, metadata={"status": "ready"})

            def _step_impl(self, action, timeout_s=None, **kwargs):
                return Observation(
                    done=False, reward=0.0,
                    metadata={"error": f"Unknown action type: {type(action).__name__}"},
                )

            def step(self, action, timeout_s=None, **kwargs):
                self._state.step_count += 1
                observation = super().step(action, timeout_s=timeout_s, **kwargs)
                if isinstance(action, CallToolAction) and observation.error is None:
                    observation.reward = 1.0
                return observation

            @property
            def state(self):
                return self._state
    """,
    "server/app.py": """
        from openenv.core.env_server.http_server import create_app
        from openenv.core.env_server.mcp_types import CallToolAction, CallToolObservation

        try:
            from .tools_environment import RefToolsEnvironment
        except ImportError:
            from server.tools_environment import RefToolsEnvironment


        app = create_app(
            RefToolsEnvironment, CallToolAction, CallToolObservation, env_name="ref_tools",
            max_concurrent_envs=4,
        )
    """,
    "openenv.yaml": reference_yaml("ref_tools", "tools"),
}

# Drives the package with its own client, in whichever venv runs it; prints JSON.
DRIVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from ref_tools import RefToolsEnv
from openenv.core.env_server.mcp_types import CallToolAction, ListToolsAction

url, token = sys.argv[2], sys.argv[3]
out = {}
with RefToolsEnv(base_url=url, headers={"Authorization": f"Bearer {token}"}).sync() as env:
    env.reset()
    out["tools"] = {t.name: [t.description, t.input_schema] for t in env.list_tools()}
    out["add"] = env.call_tool("add", a=2, b=3)
    out["remember"] = [env.call_tool("remember", note=n)["count"] for n in "ab"]
    out["divide"] = env.call_tool("divide", a=1, b=4)
    for name, arguments in (("nope", {}), ("add", {"a": "x"}), ("divide", {"a": 1, "b": 0})):
        try:
            env.call_tool(name, **arguments)
            out[name + "_error"] = None
        except RuntimeError as exc:
            out[name + "_error"] = str(exc)
    listed = env.step(ListToolsAction()).observation
    out["listed"] = [type(listed).__name__, sorted(t.name for t in listed.tools)]
    stepped = env.step(CallToolAction(tool_name="add", arguments={"a": 1, "b": 1}))
    result = stepped.observation.result
    data = result["data"] if isinstance(result, dict) else result.data
    out["step"] = [type(stepped.observation).__name__, data, stepped.reward]
    missing = env.step(CallToolAction(tool_name="nope")).observation.error
    out["step_missing"] = [missing.error_type.value, missing.message]
    out["steps"] = env.state().step_count
print(json.dumps(out))
"""

# Constructs an environment with a reserved tool name; prints the error's message.
RESERVED = """
from fastmcp import FastMCP
from openenv.core.env_server.mcp_environment import MCPEnvironment

class Shadowing(MCPEnvironment):
    def __init__(self):
        mcp = FastMCP("shadowing")

        @mcp.tool
        def reset(seed: int) -> int:
            return seed

        @mcp.tool
        def ok() -> int:
            return 1

        super().__init__(mcp)

    def _step_impl(self, action, timeout_s=None, **kwargs):
        raise NotImplementedError

    def reset(self, seed=None, episode_id=None, **kwargs):
        raise NotImplementedError

    @property
    def state(self):
        raise NotImplementedError

try:
    Shadowing()
    print("constructed")
except ValueError as exc:
    print(f"ValueError: {exc}")
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reference_mcp_package")
    write_package(root / "ref_tools", TOOLS_FILES)
    return root


@pytest.fixture(scope="module")
def served(package: Path) -> Iterator[str]:
    """Base URL of ``openenv serve FOLDER`` on the package (our CLI, its own process)."""
    runtime = LocalRuntime(package / "ref_tools", token=TOKEN)
    try:
        yield runtime.start()
    finally:
        runtime.stop()


def run(python: str, script: str, arguments: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [python, "-c", script, *arguments], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip(), done.stderr[-5000:]
    return done.stdout.strip().splitlines()[-1]


def drive(python: str, package: Path, url: str, env: dict[str, str]) -> dict[str, Any]:
    return json.loads(run(python, DRIVER, [str(package), url, TOKEN], env))


def check_report(report: dict[str, Any], server: str = "ours") -> None:
    tools = report["tools"]
    assert set(tools) == {"add", "divide", "remember"}
    description, schema = tools["add"]
    assert description == "Add two integers."
    assert schema["properties"] == {
        "a": {"type": "integer"},
        "b": {"default": 1, "type": "integer"},
    }
    assert schema["required"] == ["a"]
    assert tools["remember"][0] == "Keep a note for this episode; says how many are kept."
    assert tools["remember"][1]["properties"]["note"] == {"type": "string"}
    assert report["add"] == 5
    assert report["remember"] == [1, 2]  # the session's own instance keeps its notes
    assert "Unknown tool: 'nope'" in report["nope_error"]
    invalid = {"ours": "Invalid arguments for add", "reference": "validation error for call[add]"}
    assert invalid[server] in report["add_error"]
    assert report["divide"] == 0.25
    assert "division by zero" in report["divide_error"]  # a failing tool raises, not returns
    assert report["listed"] == ["ListToolsObservation", ["add", "divide", "remember"]]
    assert report["step_missing"] == ["tool_not_found", "Unknown tool: 'nope'"]
    if server == "ours":  # the env's step override runs: it pays, and counts each step
        assert report["step"] == ["CallToolObservation", 2, 1.0]
        assert report["steps"] == 3  # ListTools + two CallTool steps; tools/call is no step
    else:  # the reference's /ws runs MCPEnvironment.step_async, past a `step` override
        assert report["step"] == ["CallToolObservation", 2, None]
        assert report["steps"] == 0


def test_the_reference_mcp_client_drives_it(
    package: Path, served: str, reference_python: Path, reference_env: dict
) -> None:
    check_report(drive(str(reference_python), package, served, reference_env))


def test_our_mcp_client_drives_it(package: Path, served: str) -> None:
    check_report(drive(sys.executable, package, served, our_env()))


def test_the_reference_server_answers_the_same(
    package: Path, reference_python: Path, reference_env: dict
) -> None:
    """The same driver and checks against the reference's own server for the package:
    what the tests above expect of ours is what the reference does."""
    port = free_port()
    log = tempfile.TemporaryFile()
    command = [str(reference_python), "-m", "uvicorn", "server.app:app", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=package / "ref_tools", env=reference_env, stdout=log, stderr=log
    )
    server = ReferenceServer(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_healthy(server)
        report = drive(str(reference_python), package, server.base_url, reference_env)
        check_report(report, server="reference")
    finally:
        server.stop()


def test_it_runs_sandboxed(package: Path, reference_python: Path, reference_env: dict) -> None:
    """Each session's environment in its own sandboxed worker: its tools are listed
    there when it is made, called there, and their results relayed."""
    runtime = LocalRuntime(package / "ref_tools", isolation="sandbox", token=TOKEN)
    try:
        check_report(drive(str(reference_python), package, runtime.start(), reference_env))
    finally:
        runtime.stop()


def test_a_reserved_tool_name_is_refused_as_the_reference_refuses_it(
    reference_python: Path, reference_env: dict
) -> None:
    theirs = run(str(reference_python), RESERVED, [], reference_env)
    ours = run(sys.executable, RESERVED, [], our_env())
    assert ours == theirs
    assert ours.startswith("ValueError: MCP tools cannot use reserved names: ['reset']")


def test_the_reference_validate_accepts_it(
    package: Path, reference_python: Path, reference_env: dict
) -> None:
    report = reference_validate(reference_python, package / "ref_tools", reference_env)
    statuses = {r["check_id"]: r["status"] for r in report["results"]}
    assert statuses["static.manifest"] == "pass", report["results"][0]
    assert "fail" not in statuses.values(), statuses
