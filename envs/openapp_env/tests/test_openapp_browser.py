"""OpenApp in-process: the real browser, observations, bad input, isolation between sessions."""

from __future__ import annotations

import asyncio
import base64
import struct

import pytest
import pytest_asyncio
from openapp_env import OpenAppAction
from openapp_env.server import environment as environment_module
from openapp_env.server.browser import BrowserUnavailable, chromium_path
from openapp_env.server.environment import OpenAppEnvironment
from starlette.responses import HTMLResponse
from starlette.routing import Route

from openenv.environment import EpisodeNotStarted, EpisodeOver


def _chromium_missing() -> str | None:
    try:
        chromium_path()
    except BrowserUnavailable as exc:
        return str(exc)
    return None


pytestmark = [
    pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing())),
    pytest.mark.asyncio(loop_scope="module"),  # one Chromium for the module
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


def act(**fields) -> OpenAppAction:
    return OpenAppAction(**fields)


def png_size(b64: str) -> tuple[int, int]:
    data = base64.b64decode(b64)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_the_quick_start_flow(env):
    first = await env.reset_async(seed=3)
    assert first.task_id and first.goal and first.reward == 0.0
    await env.step_async(act(action_type="goto", url="/calendar"))
    await env.step_async(act(action_type="click", bid="add-event"))
    result = await env.step_async(act(action_type="fill", bid="title", text="Meeting"))
    assert result.last_action_error == ""
    assert 'value="Meeting"' in result.axtree_txt or "Meeting" in result.axtree_txt
    assert png_size(result.screenshot) == (1024, 768)
    assert result.reward in (0.0, 1.0)


async def test_observation_has_bids_tree_html_and_pages(env):
    obs = await env.reset_async(seed=1, free=True)
    assert obs.reward is None and obs.goal == "" and obs.task_id is None
    assert obs.url == "http://openapp.local/"
    assert "[nav-calendar] link" in obs.axtree_txt
    assert (
        'bid="nav-calendar"' in obs.html and "<script" not in obs.html and "<style" not in obs.html
    )
    assert obs.open_pages_urls == [obs.url] and obs.active_page_index == 0
    numbered = [line for line in obs.axtree_txt.splitlines() if line.strip().startswith("[1")]
    assert numbered, "elements without a semantic bid get numbers"


async def test_browsergym_strings_and_automatic_bids(env):
    obs = await env.reset_async(seed=1, free=True)
    await env.step_async(act(action="click('nav-todo')"))
    obs = await env.step_async(act(action="noop()"))
    assert obs.url.endswith("/todo")
    number = next(
        line.split("]")[0].strip().lstrip("[")
        for line in obs.axtree_txt.splitlines()
        if line.strip().startswith("[") and line.split("]")[0].strip("[ ").isdigit()
    )
    after = await env.step_async(act(action=f"hover('{number}')"))
    assert after.last_action_error == ""


async def test_screenshots_can_be_switched_off_and_resized(env):
    obs = await env.reset_async(seed=1, free=True, screenshot=False)
    assert obs.screenshot is None
    obs = await env.reset_async(seed=1, free=True, viewport_width=640, viewport_height=480)
    assert png_size(obs.screenshot) == (640, 480)


@pytest.mark.parametrize(
    ("action", "error"),
    [
        (act(action_type="click", bid="no-such-bid"), "no element with bid 'no-such-bid'"),
        (act(action_type="goto", url="https://example.com/"), "blocked"),
        (act(action_type="goto", url="http://[::1"), "malformed URL"),
        (act(action_type="goto", url="file:///etc/passwd"), "blocked"),
        (act(action="teleport('x')"), "unknown action 'teleport'"),
        (act(action="click("), "not an action"),
        (act(action_type="fill", bid="nav-todo", text="x"), "fill('nav-todo', 'x') failed"),
    ],
)
async def test_bad_actions_set_last_action_error_and_the_episode_goes_on(env, action, error):
    await env.reset_async(seed=2, free=True, action_timeout_s=3.0)
    obs = await env.step_async(action)
    assert error in obs.last_action_error
    assert obs.done is False
    ok = await env.step_async(act(action_type="goto", url="/notes"))
    assert ok.last_action_error == "" and ok.url.endswith("/notes")


async def test_links_to_other_hosts_are_blocked_inside_pages(env):
    await env.reset_async(seed=2, free=True)
    page = env.page
    await page.set_content('<a bid="out" href="https://example.com/">out</a>')
    obs = await env.step_async(act(action_type="click", bid="out"))
    assert "example.com" not in obs.url
    assert all("example.com" not in url for url in obs.open_pages_urls)


async def test_javascript_dialogs_are_accepted_and_reported(env):
    await env.reset_async(seed=2, free=True)
    await env.page.set_content(
        "<button bid='ask' onclick=\"document.title = confirm('Really?') ? 'yes' : 'no'\">"
        "x</button>"
    )
    obs = await env.step_async(act(action_type="click", bid="ask"))
    assert obs.dialogs == ["confirm: Really?"] and obs.last_action_error == ""
    assert await env.page.title() == "yes"


async def test_slow_pages_time_out_into_last_action_error(env, monkeypatch):
    original = environment_module.create_web_app

    def with_a_slow_page(db, today):
        app = original(db, today)

        async def slow(request):
            await asyncio.sleep(5)
            return HTMLResponse("<p>late</p>")

        app.router.routes.insert(0, Route("/slow", slow))
        return app

    monkeypatch.setattr(environment_module, "create_web_app", with_a_slow_page)
    await env.reset_async(seed=2, free=True, action_timeout_s=0.5)
    obs = await env.step_async(act(action_type="goto", url="/slow"))
    assert "timed out" in obs.last_action_error
    ok = await env.step_async(act(action_type="goto", url="/todo"))
    assert ok.last_action_error == "" and ok.url.endswith("/todo")


@pytest.mark.parametrize(
    "action",
    [
        act(action_type="send_keys", bid="t", text="x" * 100_000),
        act(action_type="send_keys", text="x" * 100_000),
        act(action_type="fill", bid="t", text="x" * 100_000),
    ],
    ids=["send_keys to an element", "send_keys to the page", "fill"],
)
async def test_huge_text_stops_at_the_action_timeout(env, action):
    """The timeout holds whatever the payload: typing stops there, and does not go on
    in the browser after the step returned."""
    await env.reset_async(seed=2, free=True, action_timeout_s=0.05)
    await env.page.set_content("<textarea bid='t'></textarea>")
    await env.page.focus("textarea")
    obs = await env.step_async(action)
    assert "timed out after 0.05 s" in obs.last_action_error
    assert len(obs.last_action) < 1000  # the observation does not echo the payload
    typed = await env.page.eval_on_selector("textarea", "t => t.value.length")
    assert typed < len(action.text)  # it stopped part-way (or before it began, when busy)
    later = await env.step_async(act(action="noop(300)"))
    assert later.last_action_error == ""
    assert await env.page.eval_on_selector("textarea", "t => t.value.length") == typed


async def test_an_action_playwright_gives_up_on_says_the_same_timeout(env):
    """A click on a disabled button waits until Playwright's own limit (the same deadline)
    ends it: the agent reads the action timeout, as when our clock ends it first."""
    await env.reset_async(seed=2, free=True, action_timeout_s=0.05)
    await env.page.set_content("<button bid='b' disabled>no</button>")
    obs = await env.step_async(act(action_type="click", bid="b"))
    assert obs.last_action_error == "click('b') timed out after 0.05 s"


async def test_sessions_do_not_see_each_others_data():
    first, second = OpenAppEnvironment(), OpenAppEnvironment()
    try:
        await first.reset_async(seed=5, free=True)
        await second.reset_async(seed=5, free=True)
        await first.step_async(act(action_type="goto", url="/todo"))
        await first.step_async(act(action_type="fill", bid="new-todo", text="zebra-unique-item"))
        mine = await first.step_async(act(action_type="click", bid="add-todo"))
        assert "zebra-unique-item" in mine.axtree_txt
        theirs = await second.step_async(act(action_type="goto", url="/todo"))
        assert "zebra-unique-item" not in theirs.axtree_txt
        assert first.db is not second.db and first.context is not second.context
    finally:
        await first.close_async()
        await second.close_async()


async def test_the_seed_decides_the_initial_state(env):
    async def home(seed: int) -> str:
        return (await env.reset_async(seed=seed, free=True, screenshot=False)).axtree_txt

    assert await home(7) == await home(7)
    assert await home(7) != await home(8)


async def test_reset_restores_the_initial_state(env):
    await env.reset_async(seed=9, free=True)
    await env.step_async(act(action_type="goto", url="/todo"))
    await env.step_async(act(action_type="fill", bid="new-todo", text="temporary-item"))
    await env.step_async(act(action_type="click", bid="add-todo"))
    # Browser state the agent's actions can leave: storage, cookies, another tab.
    await env.page.evaluate(
        "localStorage.setItem('planted', '1'); sessionStorage.setItem('planted', '1');"
        "document.cookie = 'planted=1; path=/'; window.open('/notes')"
    )
    await env.reset_async(seed=9, free=True)
    obs = await env.step_async(act(action_type="goto", url="/todo"))
    assert "temporary-item" not in obs.axtree_txt
    left = await env.page.evaluate(
        "[localStorage.getItem('planted'), sessionStorage.getItem('planted'), document.cookie]"
    )
    assert left == [None, None, ""]
    assert len(obs.open_pages_urls) == 1


async def test_step_before_reset_is_an_error():
    fresh = OpenAppEnvironment()
    with pytest.raises(EpisodeNotStarted, match="call reset before step"):
        await fresh.step_async(act(action="noop()"))


async def test_a_solved_episode_is_over_for_good(env):
    """After the task is solved (done), no step runs and none pays, whatever it does."""
    await env.reset_async(task_id="todo_add", seed=4)
    env.check = lambda: 1.0  # the checker says solved at the next step
    solved = await env.step_async(act(action="noop()"))
    assert (solved.reward, solved.done) == (1.0, True)
    for action in (act(action="noop()"), act(action_type="goto", url="/todo")):
        with pytest.raises(EpisodeOver):
            await env.step_async(action)
    assert env.state.step_count == 1


async def test_free_mode_has_no_step_limit_unless_asked(env):
    await env.reset_async(seed=2, free=True)
    assert env.max_steps is None
    await env.reset_async(seed=2, free=True, max_steps=2)
    assert [(await env.step_async(act(action="noop()"))).done for _ in range(2)] == [False, True]


def _drivers() -> dict[str, str]:
    """This process's Playwright drivers (``node ... run-driver``): pid -> state."""
    import os

    found = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and (b"run-driver" in argv or fields[0] == "Z"):
                found[pid] = fields[0]  # a zombie has no cmdline left: counted too
    return found


async def test_close_shared_stops_the_browser_and_reaps_its_driver():
    from openapp_env.server.browser import BrowserHost

    environment = OpenAppEnvironment()
    await environment.reset_async(seed=1, free=True, screenshot=False)
    drivers = {pid for pid, state in _drivers().items() if state != "Z"}
    assert drivers, "no Playwright driver runs as a child of this process"
    await environment.close_async()
    await OpenAppEnvironment.close_shared()
    assert asyncio.get_running_loop() not in BrowserHost._hosts

    def left() -> dict[str, str]:
        return {pid: state for pid, state in _drivers().items() if pid in drivers}

    deadline = asyncio.get_running_loop().time() + 30
    while left() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert not left(), left()  # gone for good: neither running nor a zombie
