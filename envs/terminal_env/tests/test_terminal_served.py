"""The terminal environment as users run it: `openenv serve terminal_env`, a sandbox each."""

from __future__ import annotations

import httpx
import pytest
from terminal_env import TerminalAction, TerminalEnv
from terminal_env.server.tasks import TASKS

from openenv.client.core import EnvServerError
from openenv.runtime.programs import missing_for_sandboxed_programs

MISSING = missing_for_sandboxed_programs()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(
        "terminal_env"
    ).base_url  # `openenv serve NAME`: isolation from its openenv.yaml


@pytest.fixture
def client(base_url):
    with TerminalEnv(base_url=base_url) as env:
        yield env


def command(client: TerminalEnv, text: str, **kwargs):
    return client.step(TerminalAction(command=text, **kwargs)).observation


def test_the_shell_runs_in_a_sandbox(client):
    first = client.reset()
    assert first.observation.cwd == "/workspace"
    obs = command(client, "id -u; hostname; ls /opt/openenv/lib")
    assert obs.stdout.startswith("65534\nsandbox\n") and "Permission denied" in obs.stderr


def test_a_scripted_agent_solves_every_task_through_the_server(client):
    for task in TASKS.tasks.values():
        first = client.reset(task_id=task.id, seed=11)
        assert first.observation.prompt == task.prompt
        assert command(client, task.solution).exit_code == 0, task.id
        result = client.step(TerminalAction(evaluate=True))
        assert (result.reward, result.done) == (1.0, True), task.id


def test_a_wrong_agent_scores_lower(client):
    rewards = []
    for task_id in TASKS.ids()[:6]:
        client.reset(task_id=task_id, seed=11)
        command(client, "echo wrong > answer.txt; git init -q . 2>/dev/null; true")
        rewards.append(client.step(TerminalAction(evaluate=True)).reward)
    assert rewards == [0.0] * 6


def test_concurrent_sessions_cannot_see_each_other(base_url):
    with TerminalEnv(base_url=base_url) as first, TerminalEnv(base_url=base_url) as second:
        first.reset()
        second.reset()
        command(first, "echo mine > /workspace/secret.txt; echo t > /tmp/t; export SECRET=1")
        obs = command(second, 'ls -A /workspace /tmp; echo "[$SECRET]"; ps -e | wc -l')
        assert "secret.txt" not in obs.stdout and "\nt\n" not in obs.stdout
        assert "[]" in obs.stdout
        assert command(first, "cat /workspace/secret.txt").stdout == "mine\n"


def test_no_network_inside(client, base_url):
    port = base_url.rsplit(":", 1)[1]
    client.reset()
    obs = command(client, f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected")
    assert "connected" not in obs.stdout and obs.exit_code != 0


BAD_COMMANDS = {
    "fork bomb": "f() { f | f & }; f; sleep 2",
    "huge output": "yes",
    "infinite loop": "while :; do :; done",
    "syntax error": "if then fi (",
    "binary output": "head -c 1000000 /dev/urandom",
    "disk filler": "cat /dev/zero > /workspace/big",
    "kill everything": "kill -9 -1",
}


@pytest.mark.parametrize("name", list(BAD_COMMANDS))
def test_bad_commands_give_an_observation_and_the_server_survives(client, base_url, name):
    client.reset()
    obs = command(client, BAD_COMMANDS[name], timeout_s=3)
    assert obs.exit_code != 0 or name in {"binary output", "fork bomb"}
    assert obs.duration_s < 10
    assert command(client, "echo alive").stdout == "alive\n"
    assert httpx.get(f"{base_url}/health").status_code == 200
    with TerminalEnv(base_url=base_url) as fresh:
        fresh.reset()
        assert command(fresh, "echo fresh").stdout == "fresh\n"


def test_an_enormous_command_is_an_error_frame(client):
    client.reset()
    with pytest.raises(EnvServerError) as raised:
        client.step(
            TerminalAction.model_construct(command="x" * 200_000, timeout_s=None, evaluate=False)
        )
    assert raised.value.code == "VALIDATION_ERROR"
    assert command(client, "echo ok").stdout == "ok\n"


def test_list_tasks_is_an_mcp_tool(client):
    assert [t["id"] for t in client.call_tool("list_tasks")] == TASKS.ids()
