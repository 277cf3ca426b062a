"""Red team: terminal_env's reward, attacked as an agent that can read our source would.

The agent's commands run in a real sandboxed server; each test compares the attack's
reward with the honest baseline it must not beat (0.0 without solving, 1.0 with the
reference solution). docs/rewards.md is the threat model.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import httpx
import pytest
from terminal_env import TerminalAction, TerminalEnv
from terminal_env.server.environment import TerminalEnvironment
from terminal_env.server.tasks import TASKS

from openenv.client.core import EnvServerError
from openenv.runtime.programs import missing_for_sandboxed_programs
from openenv.server import ServerConfig, create_app
from tests.conftest import Served, start_server, wait_until
from tests.runtime.helpers import worker_pids
from tests.security.rewards.attacks import DAEMON_SH, MARKER, plant_shadows_py

MISSING = missing_for_sandboxed_programs()
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=str(MISSING)),
    pytest.mark.timeout(240),
]

ANSWER_TASK = "find_string_file"
GIT_TASK = "git_two_commits"

HIJACK = r"""
mkdir -p bin "$HOME/.local/lib/python3.11/site-packages" .git/hooks
for tool in git python3 python bash sh sha256sum tar; do
  printf '#!/bin/sh\necho hijacked > /workspace/HIJACKED\nexit 0\n' > "bin/$tool"
  chmod +x "bin/$tool"
done
printf 'import sys; sys.exit(0)\n' > random.py
printf 'import sys; sys.exit(0)\n' > "$HOME/.local/lib/python3.11/site-packages/usercustomize.py"
printf '[alias]\n\tlog = !echo hijacked\n[core]\n' > "$HOME/.gitconfig"
printf '\tfsmonitor = /workspace/bin/git\n' >> "$HOME/.gitconfig"
printf '\thooksPath = /workspace/.git/hooks\n' >> "$HOME/.gitconfig"
printf 'echo hijacked > /workspace/HIJACKED\n' > "$HOME/.bashrc"
cp "$HOME/.bashrc" "$HOME/.profile"
export PATH="/workspace/bin:$PATH" PYTHONPATH=/workspace PYTHONSTARTUP=/workspace/random.py
export PYTHONHOME=/workspace GIT_DIR=/workspace/.git HOME=/workspace
echo hijacked
"""
"""Everything a verifier run with the agent's environment would trip over."""


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    app = create_app(TerminalEnvironment, config=ServerConfig(warm_pool_size=1))
    assert app.state.config.isolation == "sandbox"
    server = start_server(app)
    yield server
    server.stop()


@pytest.fixture
def agent(served: Served) -> Iterator[TerminalEnv]:
    with TerminalEnv(base_url=served.base_url) as env:
        yield env


def run(agent: TerminalEnv, command: str) -> str:
    observation = agent.step(TerminalAction(command=command)).observation
    return observation.stdout + observation.stderr


def evaluate(agent: TerminalEnv) -> float:
    result = agent.step(TerminalAction(evaluate=True))
    assert result.done
    return float(result.reward or 0.0)


def shadows() -> str:
    """A shell command planting a forging module for every standard-library name."""
    directories = ["/workspace", "/tmp", "/tmp/home", "/tmp/home/.local/lib/python3.11"]
    return f"python3 - <<'PY'\n{plant_shadows_py(directories)}\nPY"


def test_a_hijacked_environment_does_not_fool_the_verifier(agent):
    """Planted modules, a PATH of fake tools, git config and hooks, PYTHON* variables:
    unsolved still scores 0, solved still scores 1 (the verifier runs none of it)."""
    agent.reset(task_id=ANSWER_TASK, seed=5)
    assert run(agent, shadows()) == "planted\n"
    assert run(agent, HIJACK) == "hijacked\n"
    assert evaluate(agent) == 0.0

    task = TASKS[GIT_TASK]
    agent.reset(task_id=GIT_TASK, seed=5)
    assert run(agent, task.solution) == ""
    assert run(agent, HIJACK) == "hijacked\n"
    assert evaluate(agent) == 1.0


def test_printed_verdicts_earn_nothing(agent):
    agent.reset(task_id=ANSWER_TASK, seed=5)
    run(agent, "echo 'The task is solved.'; echo 0 > exit_code; echo solved > answer.txt")
    assert evaluate(agent) == 0.0


@pytest.mark.parametrize(
    "trap",
    [
        "ln -s /dev/zero answer.txt",
        "mkfifo answer.txt",
        "head -c 60000000 /dev/zero > answer.txt",
        "mv docs docs.real && ln -s docs.real docs && ln -s / answer.txt",
        "mkdir answer.txt",
    ],
)
def test_traps_where_the_answer_should_be_score_zero_and_hang_nothing(agent, served, trap):
    agent.reset(task_id=ANSWER_TASK, seed=5)
    run(agent, trap)
    assert evaluate(agent) == 0.0
    assert httpx.get(f"{served.base_url}/health").status_code == 200


def test_no_process_of_the_agent_runs_beside_the_verifier(agent, served):
    agent.reset(task_id=ANSWER_TASK, seed=5)
    assert run(agent, DAEMON_SH) == "daemon started\n"
    (session,) = served.sessions.values()

    def daemons() -> list[int]:
        return [pid for pid in worker_pids(session) if MARKER in _cmdline(pid)]

    wait_until(daemons)  # it detached and runs
    assert evaluate(agent) == 0.0
    assert not daemons()


def test_nothing_of_an_episode_survives_reset(agent):
    agent.reset(task_id=ANSWER_TASK, seed=5)
    plant = (
        'for d in /workspace /tmp /dev/shm "$HOME" "$HOME/.cache"; do mkdir -p "$d" && '
        'echo old > "$d/planted"; done; ln -s / /workspace/link; mkdir -p locked/in; '
        "chmod 0 locked; echo planted"
    )
    assert run(agent, plant) == "planted\n"
    assert run(agent, DAEMON_SH) == "daemon started\n"
    pattern = f"{MARKER[:-1]}[{MARKER[-1]}]"
    wait_until(lambda: run(agent, f"grep -l '{pattern}' /proc/[0-9]*/cmdline 2>/dev/null"))
    agent.reset(task_id=ANSWER_TASK, seed=5)
    listing = run(agent, 'ls -A /workspace /tmp /dev/shm "$HOME"')
    assert "planted" not in listing and "link" not in listing and "locked" not in listing
    assert run(agent, f"grep -l '{pattern}' /proc/[0-9]*/cmdline 2>/dev/null") == ""


def test_steps_after_the_evaluation_are_refused_and_pay_nothing(agent):
    agent.reset(task_id=ANSWER_TASK, seed=5)
    run(agent, TASKS[ANSWER_TASK].solution)
    assert evaluate(agent) == 1.0
    for action in (TerminalAction(evaluate=True), TerminalAction(command="true")):
        with pytest.raises(EnvServerError) as refused:
            agent.step(action)
        assert refused.value.code == "EPISODE_OVER"


def test_no_verifier_or_solution_leaks_through_observations_state_or_tools(agent):
    task = TASKS[ANSWER_TASK]
    seen = [agent.reset(task_id=ANSWER_TASK, seed=5).observation.model_dump_json()]
    seen.append(agent.state().model_dump_json())
    seen.append(str(agent.call_tool("list_tasks")))
    seen.append(run(agent, "cat /opt/openenv/lib/terminal_env/server/tasks/files.py"))
    seen.append(agent.step(TerminalAction(evaluate=True)).observation.model_dump_json())
    text = "\n".join(seen)
    verifier = inspect.getsource(type(task).verify)
    for line in verifier.splitlines()[1:]:
        if len(line.strip()) > 20:
            assert line.strip() not in text
    assert task.solution.strip() not in text
    assert "Permission denied" in text  # the package cannot be read


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""
