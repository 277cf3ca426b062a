"""OpenApp: five web apps in a real browser, and tasks checked on the apps' database.

Each episode gets a fresh SQLite database filled from the seed (names, dates,
items), the apps (calendar, todo, messages, notes, shop — ``apps/``) serving it,
and a fresh Chromium context whose requests to ``http://openapp.local`` reach
only those apps (``browser.py``). The agent acts through the browser — click,
fill, select, type, scroll, navigate — by **bid**: interactive elements carry
semantic bids (``add-event``, ``title``), every other element gets a number.

Reward: in task mode, the task's checker reads the database after every step —
1.0 once the task is solved (the episode then ends), else 0.0; ``done`` also at
``max_steps`` (default 30 in task mode, no limit in free mode; the base class
refuses any step after the end). In free mode (``free=True``) there is no goal and the reward is
``None``. ``reset(task_id=...)`` (or ``task=...``) picks a task, otherwise the
seed picks one — drawn at random when no seed is given, so ``reset()`` is a task
too.

An action that cannot be done — an unknown bid, a malformed URL, a host other
than the apps, an element that never becomes clickable, a slow page — does not
end anything: the observation's ``last_action_error`` says what went wrong and
the episode continues. JavaScript dialogs are accepted and listed in ``dialogs``.
"""

from __future__ import annotations

import asyncio
import base64
import random
import sqlite3
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urljoin, urlsplit

from playwright.async_api import BrowserContext, Dialog, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from pydantic import Field

from openenv import Environment, Rubric, derive_seed, tool
from openenv.tasks import TaskSet

from ..models import OpenAppAction, OpenAppObservation, OpenAppState
from .actions import Command, InvalidAction, from_action
from .apps import TODAY_FOR, create_web_app, seed_database
from .browser import APP_ORIGIN, Activity, BrowserHost, serve_apps
from .tasks import TASKS as TASKS_BY_ID
from .tasks import Task

TASKS = TaskSet.of(TASKS_BY_ID.values())
DEFAULT_MAX_STEPS = 30
OBSERVE_JS = (Path(__file__).parent / "observe.js").read_text(encoding="utf-8")
TEXT_CHUNK = 64
"""Characters typed (or inserted) between two looks at the clock."""
BACKSTOP_S = 2.0
"""Past the action timeout, how long anything else in an action may take before it is cut."""
OBSERVE_TIMEOUT_S = 5.0
"""At least this long for reading the page and its screenshot (longer if the actions may be)."""


def prepare(task: Task | None, seed: int) -> tuple[sqlite3.Connection, dict[str, Any]]:
    """An episode's database and its task's parameters, both from ``seed``.

    Scripted agents (tests, the demo) call it too: the same seed gives them the
    parameters the environment holds (the names and values the goal mentions).
    """
    db = sqlite3.connect(":memory:", check_same_thread=False)
    seed_database(db, seed)
    params = task.setup(db, random.Random(derive_seed(seed, "task"))) if task else {}
    db.commit()
    return db, params


class TaskSolved(Rubric):
    """1.0 when the episode's task checker says solved, else 0.0 (it reads the database)."""

    def __init__(self, environment: OpenAppEnvironment) -> None:
        super().__init__()
        self.environment = environment

    def forward(self, action: Any, observation: Any) -> float:
        return self.environment.check()


class OpenAppEnvironment(Environment[OpenAppAction, OpenAppObservation, OpenAppState]):
    """Web apps in Chromium; rewards from checkers on the apps' database."""

    def __init__(self) -> None:
        super().__init__()
        self.rubric = TaskSolved(self)
        self.task: Task | None = None
        self.params: dict[str, Any] = {}
        self.db: sqlite3.Connection | None = None
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        self.screenshots = True
        self.action_timeout_s = 5.0
        self.dialogs: list[str] = []
        self.activity = Activity()

    # -- the API -----------------------------------------------------------------

    async def _reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        task_id: str | None = None,
        task: str | None = None,
        free: bool = False,
        screenshot: bool = True,
        viewport_width: Annotated[int, Field(ge=320, le=3840)] = 1024,
        viewport_height: Annotated[int, Field(ge=240, le=2160)] = 768,
        max_steps: Annotated[int, Field(ge=1, le=10_000)] | None = None,
        action_timeout_s: Annotated[float, Field(gt=0, le=120)] = 5.0,
    ) -> OpenAppObservation:
        """A fresh database and browser context; a task unless ``free``.

        ``task`` is the same as ``task_id``. ``screenshot=False`` leaves
        ``observation.screenshot`` empty (faster); the viewport sets its size.
        """
        if task is not None and task_id is not None and task != task_id:
            raise ValueError("task and task_id name different tasks; give one")
        self.task = TASKS.choose(task_id or task, self.seed, free)
        self.screenshots = screenshot
        self.max_steps = max_steps or (DEFAULT_MAX_STEPS if self.task else None)
        self.action_timeout_s = action_timeout_s
        await self._close_episode()
        self.db, self.params = prepare(self.task, self.seed or 0)
        app = create_web_app(self.db, TODAY_FOR(self.seed or 0))
        self.context = await BrowserHost.current().new_context(viewport_width, viewport_height)
        self.activity = await serve_apps(self.context, app)
        self.context.on("page", self._watch)
        self.page = await self.context.new_page()
        self.dialogs = []
        self.state.task_id = self.task.id if self.task else None
        error = await self._perform(Command("goto", url=self.task.start_url if self.task else "/"))
        observation = await self._observe(error)
        observation.reward = 0.0 if self.task else None
        return observation

    async def _step(
        self, action: OpenAppAction, timeout_s: float | None = None
    ) -> OpenAppObservation:
        assert self.page is not None  # the base class refuses steps outside an episode
        self.dialogs = []
        try:
            command = from_action(action)
        except InvalidAction as exc:
            command, error = Command("noop"), str(exc)
        else:
            error = await self._perform(command, timeout_s)
        observation = await self._observe(error, command)
        if self.task is None:
            return observation
        observation = self.apply_rubric(action, observation)
        self.state.solved = observation.reward == 1.0
        observation.done = self.state.solved  # and the base class ends it at max_steps
        return observation

    async def close_async(self) -> None:
        await self._close_episode()

    @classmethod
    async def close_shared(cls) -> None:
        """Close the server's Chromium and its Playwright driver (at server shutdown)."""
        await BrowserHost.close_current()

    def check(self) -> float:
        """The task's score on the database as it is now (0.0 without a task)."""
        if self.task is None or self.db is None:
            return 0.0
        return float(self.task.check(self.db, self.params))

    @tool
    def list_tasks(self) -> list[dict[str, str]]:
        """The tasks: id, app and title (pass an id to reset as task_id)."""
        return TASKS.listing("app", "title")

    # -- the browser -------------------------------------------------------------------

    def _watch(self, page: Page) -> None:
        page.on("dialog", self._accept)
        self.activity.watch(page)

    async def _accept(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        try:
            await dialog.accept()
        except PlaywrightError:  # the page went away meanwhile
            pass

    async def _perform(self, command: Command, deadline_s: float | None = None) -> str:
        """Do ``command`` on the active page within the action timeout; '' or why it failed.

        The timeout holds whatever the payload: text is typed (or filled) in chunks,
        with the clock checked between them, so a megabyte of text stops at the limit
        rather than typing on in the browser after the step returned.
        """
        assert self.page is not None
        timeout_s = self.action_timeout_s
        if deadline_s is not None:
            timeout_s = max(min(timeout_s, deadline_s - 1.0), 0.1)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        page = self.page
        try:
            async with asyncio.timeout(timeout_s + BACKSTOP_S):
                await self._act(page, command, deadline)
                await self.activity.settle(page, max(deadline - loop.time(), 0.1))
        except InvalidAction as exc:
            return str(exc)
        except (TimeoutError, PlaywrightTimeout):
            # Playwright's own limit is the same deadline (at least 0.1 s): one message,
            # whichever clock noticed first (a loaded machine decides which).
            return f"{command.describe()} timed out after {timeout_s:g} s"
        except PlaywrightError as exc:
            return _short(exc, command)
        return ""

    async def _act(self, page: Page, command: Command, deadline: float) -> None:
        timeout_ms = max(deadline - asyncio.get_running_loop().time(), 0.1) * 1000
        if command.name == "goto":
            await page.goto(_app_url(command.url or "/"), timeout=timeout_ms)
        elif command.name == "go_back":
            await page.go_back(timeout=timeout_ms)
        elif command.name == "go_forward":
            await page.go_forward(timeout=timeout_ms)
        elif command.name == "scroll":
            await page.mouse.wheel(command.delta_x, command.delta_y)
        elif command.name == "noop":
            await page.wait_for_timeout(min(command.wait_ms, timeout_ms))
        elif command.name == "send_keys" and command.bid is None:
            if command.key is not None:
                await page.keyboard.press(command.key)
            else:
                await _in_chunks(command.text or "", page.keyboard.type, deadline)
        else:
            await self._on_element(page, command, deadline)

    async def _on_element(self, page: Page, command: Command, deadline: float) -> None:
        timeout_ms = max(deadline - asyncio.get_running_loop().time(), 0.1) * 1000
        bid = command.bid or ""
        locator = page.locator(f'[bid="{_css_string(bid)}"]')
        if await locator.count() == 0:
            raise InvalidAction(f"no element with bid {bid!r} on this page")
        target = locator.first
        if command.name == "click":
            await target.click(timeout=timeout_ms)
        elif command.name == "dblclick":
            await target.dblclick(timeout=timeout_ms)
        elif command.name == "hover":
            await target.hover(timeout=timeout_ms)
        elif command.name == "focus":
            await target.focus(timeout=timeout_ms)
        elif command.name == "clear":
            await target.clear(timeout=timeout_ms)
        elif command.name == "fill":
            text = command.text or ""
            await target.fill(text[:TEXT_CHUNK], timeout=timeout_ms)
            await _in_chunks(text[TEXT_CHUNK:], page.keyboard.insert_text, deadline)
        elif command.name == "select_option":
            value = command.text or ""
            try:
                await target.select_option(value, timeout=timeout_ms)
            except PlaywrightError:
                await target.select_option(label=value, timeout=timeout_ms)
        elif command.name == "send_keys":
            if command.key is not None:
                await target.press(command.key, timeout=timeout_ms)
            else:
                await target.focus(timeout=timeout_ms)
                await _in_chunks(command.text or "", page.keyboard.type, deadline)
        else:
            raise InvalidAction(f"unknown action {command.name!r}")

    async def _observe(self, error: str, command: Command | None = None) -> OpenAppObservation:
        assert self.context is not None
        pages = [p for p in self.context.pages if not p.is_closed()]
        if pages and (self.page is None or self.page.is_closed() or self.page not in pages):
            self.page = pages[-1]
        elif pages and pages[-1] is not self.page and command is not None:
            self.page = pages[-1]  # a new tab opened by this action becomes active
        page = self.page
        assert page is not None
        tree: dict[str, str] = {"axtree": "", "html": ""}
        for attempt in range(2):
            try:
                tree = await asyncio.wait_for(page.evaluate(OBSERVE_JS), self._observe_timeout_s)
                break
            except (PlaywrightError, TimeoutError) as exc:  # navigating mid-way: once more
                if attempt:
                    error = error or f"the page could not be read: {_first_line(exc)}"
                else:
                    await _settle(page)
        shot = None
        if self.screenshots:
            try:
                png = await page.screenshot(type="png", timeout=self._observe_timeout_s * 1000)
                shot = base64.b64encode(png).decode()
            except PlaywrightError as exc:
                error = error or f"no screenshot: {_first_line(exc)}"
        self.state.url = page.url
        return OpenAppObservation(
            url=page.url,
            goal=self.task.goal(self.params) if self.task else "",
            axtree_txt=tree["axtree"],
            html=tree["html"],
            screenshot=shot,
            last_action=command.describe() if command else "",
            last_action_error=error,
            dialogs=list(self.dialogs),
            open_pages_urls=[p.url for p in pages],
            active_page_index=pages.index(page) if page in pages else 0,
            task_id=self.state.task_id,
        )

    @property
    def _observe_timeout_s(self) -> float:
        return max(OBSERVE_TIMEOUT_S, self.action_timeout_s)

    async def _close_episode(self) -> None:
        if self.context is not None:
            try:
                await self.context.close()
            except PlaywrightError:
                pass
        self.context = self.page = None
        if self.db is not None:
            self.db.close()
            self.db = None


async def _in_chunks(text: str, write: Any, deadline: float) -> None:
    """``write`` ``text`` a chunk at a time; ``TimeoutError`` once ``deadline`` has passed."""
    loop = asyncio.get_running_loop()
    for start in range(0, len(text), TEXT_CHUNK):
        if loop.time() > deadline:
            raise TimeoutError
        await write(text[start : start + TEXT_CHUNK])


def _app_url(url: str) -> str:
    """``url`` resolved against the apps; :class:`InvalidAction` for anything else."""
    url = url.strip()
    if not url:
        raise InvalidAction("goto needs a URL, e.g. goto('/calendar')")
    try:
        resolved = urljoin(APP_ORIGIN + "/", url)
        parts = urlsplit(resolved)
        origin = f"{parts.scheme}://{parts.netloc}"
    except ValueError as exc:
        raise InvalidAction(f"malformed URL {url!r}: {exc}") from None
    if origin != APP_ORIGIN:
        raise InvalidAction(
            f"navigation to {origin or url!r} is blocked: only {APP_ORIGIN} (the apps) is reachable"
        )
    return resolved


def _css_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _short(exc: PlaywrightError, command: Command) -> str:
    text = _first_line(exc)
    if "Timeout" in text or "timeout" in text:
        return f"{command.describe()} timed out: {text}"
    if "ERR_BLOCKED_BY_CLIENT" in text:
        return f"navigation blocked: only {APP_ORIGIN} (the apps) is reachable"
    return f"{command.describe()} failed: {text}"


async def _settle(page: Page) -> None:
    try:
        await page.wait_for_load_state("domcontentloaded", timeout=2000)
    except PlaywrightError:
        pass
