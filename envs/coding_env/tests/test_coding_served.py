"""The coding environment as users run it: `openenv serve coding_env`, a sandbox per session."""

from __future__ import annotations

import httpx
import pytest
from coding_env import CodeAction, CodingEnv
from coding_env.server.tasks import TASKS

from openenv.client.core import EnvServerError
from openenv.runtime.programs import missing_for_sandboxed_programs

MISSING = missing_for_sandboxed_programs()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(
        "coding_env"
    ).base_url  # `openenv serve NAME`: isolation from its openenv.yaml


@pytest.fixture
def client(base_url):
    with CodingEnv(base_url=base_url) as env:
        yield env


def assert_serves_a_fresh_session(base_url: str) -> None:
    assert httpx.get(f"{base_url}/health").status_code == 200
    with CodingEnv(base_url=base_url) as env:
        env.reset()
        assert env.step(CodeAction(code="print('fresh')")).observation.stdout == "fresh\n"


def test_sessions_run_in_a_sandbox(client):
    client.reset()
    obs = client.step(CodeAction(code="import os; print(os.getcwd(), os.getuid())")).observation
    assert obs.stdout == "/workspace 65534\n"
    obs = client.step(CodeAction(code="import os; os.listdir('/opt/openenv/lib')")).observation
    assert "PermissionError" in obs.stderr  # the environment's package: hidden tests inside


def test_a_scripted_agent_solves_every_task_through_the_server(client):
    for task in TASKS.tasks.values():
        first = client.reset(task_id=task.id)
        assert first.observation.prompt == task.prompt
        result = client.step(CodeAction(code=task.solution, submit=True))
        assert result.reward == 1.0, (task.id, result.observation.stdout)
        assert result.done


def test_a_wrong_agent_scores_lower(client):
    rewards = []
    for task_id in TASKS.ids()[:8]:
        client.reset(task_id=task_id)
        rewards.append(
            client.step(CodeAction(code=TASKS[task_id].wrong_solution, submit=True)).reward
        )
    assert all(r < 1.0 for r in rewards) and sum(rewards) < 8


def test_concurrent_sessions_cannot_see_each_other(base_url):
    with CodingEnv(base_url=base_url) as first, CodingEnv(base_url=base_url) as second:
        first.reset()
        second.reset()
        first.step(
            CodeAction(
                code="secret = 'mine'\nopen('/workspace/secret.txt', 'w').write('x')\n"
                "open('/tmp/secret.txt', 'w').write('x')"
            )
        )
        obs = second.step(
            CodeAction(
                code="import os\nprint(os.path.exists('/workspace/secret.txt'),"
                " os.path.exists('/tmp/secret.txt'), 'secret' in dir())"
            )
        )
        assert obs.observation.stdout == "False False False\n"
        mine = first.step(CodeAction(code="print(secret, open('/workspace/secret.txt').read())"))
        assert mine.observation.stdout == "mine x\n"


def test_no_network_inside(client, base_url):
    port = base_url.rsplit(":", 1)[1]
    client.reset()
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"
    obs = client.step(CodeAction(code=code)).observation
    assert obs.exit_code == 1 and ("PermissionError" in obs.stderr or "refused" in obs.stderr)


def test_same_seed_same_episode(base_url):
    def episode(seed: int) -> tuple[str | None, str]:
        with CodingEnv(base_url=base_url) as env:
            first = env.reset(seed=seed)
            out = env.step(CodeAction(code="import random; print(random.random())"))
            return first.observation.task_id, out.observation.stdout

    assert episode(11) == episode(11)
    assert episode(11) != episode(12)


BAD_CODE = {
    "fork bomb": "import os\nwhile True:\n    os.fork()",
    "huge output": "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)",
    "infinite loop": "while True:\n    pass",
    "syntax error": "def (:",
    "binary output": "import sys, os\nsys.stdout.buffer.write(os.urandom(100000))",
    "memory hog": "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2**20))",
    "deep recursion": "def f(n):\n    return f(n + 1)\nf(0)",
    "kill the process group": "import os, signal\nos.killpg(0, signal.SIGKILL)",
}


@pytest.mark.parametrize("name", list(BAD_CODE))
def test_bad_code_gives_an_observation_and_the_server_survives(client, base_url, name):
    client.reset()
    obs = client.step(CodeAction(code=BAD_CODE[name], timeout_s=3)).observation
    assert obs.exit_code != 0 or name == "binary output"
    assert obs.duration_s < 30
    after = client.step(CodeAction(code="print('alive')")).observation
    assert after.stdout == "alive\n"
    assert_serves_a_fresh_session(base_url)


def test_enormous_code_is_an_error_frame_and_the_session_goes_on(client, base_url):
    client.reset()
    with pytest.raises(EnvServerError) as raised:
        client.step(CodeAction.model_construct(code="x" * 2_000_000, submit=False, timeout_s=None))
    assert raised.value.code == "VALIDATION_ERROR"
    assert client.step(CodeAction(code="print(2)")).observation.stdout == "2\n"


def test_submitting_in_free_mode_is_an_error_frame(client):
    client.reset()
    with pytest.raises(EnvServerError, match="submit needs a task"):
        client.step(CodeAction(code="x = 1", submit=True))
    assert client.step(CodeAction(code="print(3)")).observation.stdout == "3\n"


def test_list_tasks_is_an_mcp_tool(client):
    listed = client.call_tool("list_tasks")
    assert [t["id"] for t in listed] == TASKS.ids()
