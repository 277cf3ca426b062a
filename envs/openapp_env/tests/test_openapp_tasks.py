"""OpenApp tasks through the environment: scripted agents solve all, random agents none."""

from __future__ import annotations

import random
import re

import pytest
import pytest_asyncio
from openapp_env import OpenAppAction
from openapp_env.server.browser import BrowserUnavailable, chromium_path
from openapp_env.server.environment import TASKS, OpenAppEnvironment


def _chromium_missing() -> str | None:
    try:
        chromium_path()
    except BrowserUnavailable as exc:
        return str(exc)
    return None


pytestmark = [
    pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing())),
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest_asyncio.fixture(loop_scope="module", scope="module", autouse=True)
async def browser():
    """The module's Chromium and Playwright driver, closed (and reaped) at its end."""
    yield
    await OpenAppEnvironment.close_shared()


@pytest_asyncio.fixture(loop_scope="module")
async def env():
    environment = OpenAppEnvironment()
    yield environment
    await environment.close_async()


async def test_there_are_enough_tasks_in_every_app():
    assert len(TASKS) >= 40
    apps = {task.app for task in TASKS.tasks.values()}
    assert {"calendar", "todo", "messages", "notes", "shop"} <= apps


@pytest.mark.slow
async def test_a_scripted_agent_solves_every_task_through_browser_actions(env):
    for task in TASKS.tasks.values():
        first = await env.reset_async(task_id=task.id, seed=4, screenshot=False)
        assert first.reward == 0.0 and first.goal == task.goal(env.params)
        result = first
        for text in task.solution(env.params):
            result = await env.step_async(OpenAppAction(action=text))
            assert result.last_action_error == "", (task.id, text, result.last_action_error)
        assert (result.reward, result.done) == (1.0, True), task.id
        assert env.state.solved


async def test_a_random_agent_scores_about_zero(env):
    rng = random.Random(0)
    total = 0.0
    episodes = 6
    for index in range(episodes):
        task_id = rng.choice(TASKS.ids())
        result = await env.reset_async(task_id=task_id, seed=index, screenshot=False,
                                       max_steps=12, action_timeout_s=2.0)  # fmt: skip
        while not result.done:
            bids = re.findall(r"^\s*\[([^\]]+)\]", result.axtree_txt, flags=re.M)
            choice = rng.random()
            if choice < 0.6 and bids:
                action = OpenAppAction(action_type="click", bid=rng.choice(bids))
            elif choice < 0.8 and bids:
                action = OpenAppAction(action_type="fill", bid=rng.choice(bids), text="asdf")
            else:
                action = OpenAppAction(action="go_back()")
            result = await env.step_async(action)
        total += result.reward or 0.0
    assert total / episodes <= 0.2


async def test_done_at_max_steps_without_solving(env):
    await env.reset_async(task_id=TASKS.ids()[0], seed=1, max_steps=2, screenshot=False)
    assert not (await env.step_async(OpenAppAction(action="noop()"))).done
    last = await env.step_async(OpenAppAction(action="noop()"))
    assert last.done and last.reward == 0.0


async def test_reset_task_aliases_and_seeded_choice(env):
    task_id = TASKS.ids()[2]
    assert (await env.reset_async(task=task_id, screenshot=False)).task_id == task_id
    picked = [(await env.reset_async(seed=s, screenshot=False)).task_id for s in range(5)]
    assert picked == [(await env.reset_async(seed=s, screenshot=False)).task_id for s in range(5)]
    with pytest.raises(ValueError, match="different tasks"):
        await env.reset_async(task=TASKS.ids()[0], task_id=TASKS.ids()[1])
    with pytest.raises(ValueError, match="unknown task_id"):
        await env.reset_async(task_id="nope")


async def test_list_tasks_tool():
    listed = OpenAppEnvironment().list_tasks()
    assert [t["id"] for t in listed] == TASKS.ids()
    assert {"id", "app", "title"} <= set(listed[0])
