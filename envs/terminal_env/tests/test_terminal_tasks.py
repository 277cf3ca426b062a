"""Task mode: setup from the seed, hidden verifiers, rewards only for solving."""

from __future__ import annotations

import hashlib
import inspect
import os

import pytest
from terminal_env import TerminalAction
from terminal_env.server.environment import TerminalEnvironment
from terminal_env.server.tasks import TASKS

from openenv.runtime import landlock

pytestmark = pytest.mark.skipif(
    landlock.abi_version() == 0, reason="the shell's confinement needs Landlock"
)


@pytest.fixture(scope="module")
def env():
    environment = TerminalEnvironment()
    yield environment
    environment.close()


def workspace_digest(path: str) -> str:
    digest = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(path)):
        dirs[:] = sorted(d for d in dirs if d != ".tmp")
        for name in sorted(files):
            full = os.path.join(root, name)
            digest.update(os.path.relpath(full, path).encode())
            if not os.path.islink(full):
                with open(full, "rb") as f:
                    digest.update(f.read())
    return digest.hexdigest()


def test_there_are_enough_tasks():
    assert len(TASKS) >= 15


def test_a_scripted_agent_solves_every_task(env):
    for task in TASKS.tasks.values():
        first = env.reset(task_id=task.id, seed=3)
        assert first.prompt == task.prompt and first.task_id == task.id
        run = env.step(TerminalAction(command=task.solution))
        assert run.exit_code == 0, (task.id, run.stderr)
        result = env.step(TerminalAction(evaluate=True))
        assert (result.reward, result.solved, result.done) == (1.0, True, True), task.id


# Doing nothing scores 0 on every task: tests/security/rewards/test_do_nothing.py.


def test_a_solution_for_another_seed_does_not_transfer(env):
    """Answers depend on the seed: replaying seed 1's answer file on seed 2 fails."""
    task = TASKS["find_string_file"]
    env.reset(task_id=task.id, seed=1)
    env.step(TerminalAction(command=task.solution))
    answer = env.step(TerminalAction(command="cat answer.txt")).stdout
    env.reset(task_id=task.id, seed=2)
    env.step(TerminalAction(command=f"printf %s {answer.strip()!r} > answer.txt"))
    assert env.step(TerminalAction(evaluate=True)).reward == 0.0


def test_seeds_change_the_setup_and_repeat_it(env):
    def digest(task_id: str, seed: int) -> str:
        env.reset(task_id=task_id, seed=seed)
        return workspace_digest(env.workspace.path)

    varied = [t for t in TASKS.ids() if digest(t, 1) != digest(t, 2)]
    assert len(varied) >= len(TASKS) - 2
    assert all(digest(t, 4) == digest(t, 4) for t in TASKS.ids()[:5])


def test_the_verifier_stays_hidden(env):
    for task in list(TASKS.tasks.values())[:8]:
        first = env.reset(task_id=task.id, seed=0)
        seen = first.model_dump_json()
        seen += env.step(
            TerminalAction(command="ls -laR; cat TASK.md 2>/dev/null")
        ).model_dump_json()
        seen += env.step(TerminalAction(evaluate=True)).model_dump_json()
        source = inspect.getsource(type(task).verify)
        body = [line for line in source.splitlines() if len(line.strip()) > 25]
        assert body and not any(line.strip() in seen for line in body), task.id


def test_max_steps_runs_the_verifier_at_the_end(env):
    task = TASKS["find_string_file"]
    env.reset(task_id=task.id, seed=0, max_steps=2)
    assert not env.step(TerminalAction(command="true")).done
    last = env.step(TerminalAction(command=task.solution))
    assert last.done and last.solved and last.reward == 1.0


def test_the_episode_is_over_after_evaluate(env):
    env.reset(task_id=TASKS.ids()[0], seed=0)
    env.step(TerminalAction(evaluate=True))
    with pytest.raises(ValueError, match="episode is over"):
        env.step(TerminalAction(command="true"))


def test_a_seed_picks_a_task(env):
    picked = [env.reset(seed=s).task_id for s in range(10)]
    assert picked == [env.reset(seed=s).task_id for s in range(10)]
    assert len(set(picked)) > 3
