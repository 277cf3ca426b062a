"""Task mode: choosing tasks, grading by hidden tests, rewards that cannot be faked."""

from __future__ import annotations

import pytest
from coding_env import CodeAction
from coding_env.server.environment import CodingEnvironment
from coding_env.server.tasks import TASKS

from openenv.environment import EpisodeOver
from openenv.runtime import landlock

pytestmark = pytest.mark.skipif(
    landlock.abi_version() == 0, reason="the kernel's confinement needs Landlock"
)


@pytest.fixture(scope="module")
def env():
    environment = CodingEnvironment()
    yield environment
    environment.close()


def submit(env: CodingEnvironment, task_id: str, code: str):
    env.reset(task_id=task_id)
    return env.step(CodeAction(code=code, submit=True))


def test_the_task_set_is_large_enough_and_well_formed():
    assert len(TASKS) >= 30
    for task in TASKS.tasks.values():
        assert len(task.tests) >= 5, task.id
        assert task.entry_point in task.solution, task.id


def test_the_reference_solutions_score_one_on_every_task(env):
    for task in TASKS.tasks.values():
        obs = submit(env, task.id, task.solution)
        assert obs.reward == 1.0, (task.id, obs.stdout)
        assert (obs.tests_passed, obs.tests_total) == (len(task.tests), len(task.tests))
        assert obs.done and obs.exit_code == 0


def test_wrong_solutions_score_lower_and_get_partial_credit(env):
    for task in TASKS.tasks.values():
        obs = submit(env, task.id, task.wrong_solution)
        assert 0.0 < obs.reward < 1.0, (task.id, obs.reward)
        assert obs.reward == pytest.approx(obs.tests_passed / obs.tests_total)


@pytest.mark.parametrize(
    "code",
    [
        "",
        "def broken(:",
        "raise RuntimeError('no')",
        "import os; os._exit(0)",
        "import sys; sys.exit(0)",
        "while True: pass",
    ],
)
def test_submissions_that_do_not_work_score_zero(env, code, monkeypatch):
    monkeypatch.setattr(env, "load_timeout_s", 0.5)
    task = TASKS.ids()[0]
    obs = submit(env, task, code)
    assert obs.reward == 0.0 and obs.tests_passed == 0 and obs.done


def test_printing_fake_results_or_writing_the_result_channel_earns_nothing(env):
    task = TASKS.tasks[TASKS.ids()[0]]
    fake = "\n".join(f"print('{i} pass')" for i in range(len(task.tests)))
    forged = "import os\n" + "\n".join(
        f"os.write(3, b'{'0' * 32} {i} pass \\n')" for i in range(len(task.tests))
    )
    for code in (fake, forged):
        assert submit(env, task.id, code).reward == 0.0


def test_hidden_tests_never_appear_in_observations(env):
    for task in list(TASKS.tasks.values())[:10]:
        first = env.reset(task_id=task.id)
        seen = [first.model_dump_json()]
        seen.append(env.step(CodeAction(code=task.wrong_solution)).model_dump_json())
        seen.append(env.step(CodeAction(code=task.wrong_solution, submit=True)).model_dump_json())
        text = "\n".join(seen)
        for test in task.tests:
            for check in test.checks:  # what the grader checks, unless the prompt shows it
                if str(check) not in task.prompt:
                    assert str(check) not in text, (task.id, str(check))
                if check.expected and len(check.expected) > 8 and check.expected not in task.prompt:
                    assert check.expected not in text, (task.id, str(check))
        assert task.solution.strip() not in text


def test_the_first_observation_carries_the_prompt(env):
    task = TASKS.tasks[TASKS.ids()[3]]
    obs = env.reset(task_id=task.id)
    assert (obs.task_id, obs.prompt, obs.reward, obs.done) == (task.id, task.prompt, 0.0, False)
    assert env.state.task_id == task.id


def test_steps_before_submitting_run_code_with_reward_zero(env):
    env.reset(task_id=TASKS.ids()[0])
    obs = env.step(CodeAction(code="print(6 * 7)"))
    assert (obs.stdout, obs.reward, obs.done, obs.tests_total) == ("42\n", 0.0, False, None)


def test_the_episode_ends_after_a_submission(env):
    task = TASKS.tasks[TASKS.ids()[0]]
    submit(env, task.id, task.solution)
    assert env.state.submitted
    with pytest.raises(EpisodeOver, match="episode is over"):
        env.step(CodeAction(code="print(1)"))


def test_max_steps_ends_the_episode_with_reward_zero(env):
    env.reset(task_id=TASKS.ids()[0], max_steps=2)
    assert not env.step(CodeAction(code="1")).done
    last = env.step(CodeAction(code="2"))
    assert last.done and last.reward == 0.0


def test_submit_needs_a_task(env):
    env.reset()
    with pytest.raises(ValueError, match="submit needs a task"):
        env.step(CodeAction(code="x = 1", submit=True))


def test_a_seed_picks_the_same_task_every_time(env):
    picked = {seed: env.reset(seed=seed).task_id for seed in range(12)}
    assert picked == {seed: env.reset(seed=seed).task_id for seed in range(12)}
    assert len(set(picked.values())) > 3
    assert all(task_id in TASKS.tasks for task_id in picked.values())


def test_free_and_unknown_task_ids(env):
    assert env.reset(seed=3, free=True).task_id is None
    with pytest.raises(ValueError, match="unknown task_id 'nope'"):
        env.reset(task_id="nope")
    with pytest.raises(ValueError, match="cannot be used together"):
        env.reset(task_id=TASKS.ids()[0], free=True)


def test_list_tasks_tool(env):
    listed = env.list_tasks()
    assert [t["id"] for t in listed] == TASKS.ids()
    assert set(listed[0]) == {"id", "title", "difficulty"}
