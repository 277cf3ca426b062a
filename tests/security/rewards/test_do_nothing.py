"""A do-nothing agent scores 0 on every task of every task set (docs/rewards.md).

Doing nothing is: submitting nothing (coding), evaluating an untouched workspace
(terminal), waiting (openapp) — and, for each, letting the episode run out at
``max_steps``. A task that paid for that would teach a policy to do nothing.
Seeds vary with the task, so setups differ from one task to the next.
"""

from __future__ import annotations

import pytest
from coding_env import CodeAction
from coding_env.server.environment import CodingEnvironment
from coding_env.server.tasks import TASKS as CODING_TASKS
from terminal_env import TerminalAction
from terminal_env.server.environment import TerminalEnvironment
from terminal_env.server.tasks import TASKS as TERMINAL_TASKS

from openenv.runtime import landlock

needs_landlock = pytest.mark.skipif(
    landlock.abi_version() == 0, reason="agent programs need Landlock"
)


@needs_landlock
def test_coding_tasks_pay_nothing_for_nothing():
    env = CodingEnvironment()
    try:
        for seed, task_id in enumerate(CODING_TASKS.ids()):
            env.reset(task_id=task_id, seed=seed)
            submitted = env.step(CodeAction(code="", submit=True))
            assert (submitted.reward, submitted.tests_passed) == (0.0, 0), task_id
            env.reset(task_id=task_id, seed=seed, max_steps=1)
            waited = env.step(CodeAction(code="pass"))
            assert (waited.reward, waited.done) == (0.0, True), task_id
    finally:
        env.close()


@needs_landlock
def test_terminal_tasks_pay_nothing_for_nothing():
    env = TerminalEnvironment()
    try:
        for seed, task_id in enumerate(TERMINAL_TASKS.ids()):
            env.reset(task_id=task_id, seed=seed)
            evaluated = env.step(TerminalAction(evaluate=True))
            assert (evaluated.reward, evaluated.solved) == (0.0, False), task_id
            env.reset(task_id=task_id, seed=seed, max_steps=1)
            waited = env.step(TerminalAction(command="true"))  # the last step: verified
            assert (waited.reward, waited.done) == (0.0, True), task_id
    finally:
        env.close()


def _chromium_missing() -> str | None:
    from openapp_env.server.browser import BrowserUnavailable, chromium_path

    try:
        chromium_path()
    except BrowserUnavailable as exc:
        return str(exc)
    return None


@pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing()))
async def test_openapp_tasks_pay_nothing_for_nothing():
    from openapp_env import OpenAppAction
    from openapp_env.server.environment import TASKS, OpenAppEnvironment

    env = OpenAppEnvironment()
    try:
        for seed, task_id in enumerate(TASKS.ids()):
            first = await env.reset_async(task_id=task_id, seed=seed, screenshot=False, max_steps=1)
            assert first.reward == 0.0, task_id
            waited = await env.step_async(OpenAppAction(action="noop()"))
            assert (waited.reward, waited.done) == (0.0, True), task_id
    finally:
        await env.close_async()
        await OpenAppEnvironment.close_shared()
