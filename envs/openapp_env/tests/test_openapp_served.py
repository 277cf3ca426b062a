"""OpenApp as users run it: the slides' quick start against `openenv serve openapp_env`."""

from __future__ import annotations

import base64

import pytest
from openapp_env import OpenAppAction, OpenAppEnv
from openapp_env.server.browser import BrowserUnavailable, chromium_path


def _chromium_missing() -> str | None:
    try:
        chromium_path()
    except BrowserUnavailable as exc:
        return str(exc)
    return None


pytestmark = pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing()))


@pytest.fixture(scope="module")
def base_url(openenv_serve) -> str:
    return openenv_serve(
        "openapp_env"
    ).base_url  # `openenv serve NAME`: isolation from its openenv.yaml


def test_the_slides_quick_start_verbatim(base_url):
    client = OpenAppEnv(base_url=base_url)
    result = client.reset()
    result = client.step(OpenAppAction(action_type="goto", url="/calendar"))
    result = client.step(OpenAppAction(action_type="click", bid="add-event"))
    result = client.step(OpenAppAction(action_type="fill", bid="title", text="Meeting"))
    print(result.observation.screenshot)  # base64 PNG
    print(result.reward)
    assert base64.b64decode(result.observation.screenshot)[:4] == b"\x89PNG"
    assert isinstance(result.reward, float)
    assert result.observation.last_action_error == ""
    assert result.observation.goal  # reset() is a task too: its goal is in every observation
    client.close()


def test_concurrent_sessions_share_one_browser_but_not_data(base_url):
    with OpenAppEnv(base_url=base_url) as first, OpenAppEnv(base_url=base_url) as second:
        first.reset(seed=1, free=True, screenshot=False)
        second.reset(seed=1, free=True, screenshot=False)
        first.step(OpenAppAction(action_type="goto", url="/notes"))
        first.step(OpenAppAction(action_type="click", bid="new-note"))
        first.step(OpenAppAction(action_type="fill", bid="note-title", text="only-in-first"))
        first.step(OpenAppAction(action_type="fill", bid="note-body", text="x"))
        mine = first.step(OpenAppAction(action_type="click", bid="save-note"))
        assert "only-in-first" in mine.observation.axtree_txt
        theirs = second.step(OpenAppAction(action_type="goto", url="/notes"))
        assert "only-in-first" not in theirs.observation.axtree_txt


def test_browsergym_strings_over_the_wire(base_url):
    with OpenAppEnv(base_url=base_url) as client:
        client.reset(seed=2, free=True, screenshot=False)
        result = client.step(OpenAppAction(action="goto('/shop')"))
        assert result.observation.url.endswith("/shop")
        bad = client.step(OpenAppAction(action="click('does-not-exist')"))
        assert "no element with bid" in bad.observation.last_action_error
        assert client.step(OpenAppAction(action="go_back()")).observation.last_action_error == ""


def test_tasks_are_listed_by_a_tool(base_url):
    with OpenAppEnv(base_url=base_url) as client:
        listed = client.call_tool("list_tasks")
        assert len(listed) >= 40 and {"id", "app", "title"} <= set(listed[0])
