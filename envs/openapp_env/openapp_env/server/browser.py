"""The browser: one Chromium per server, a context per session, the apps behind a route.

Chromium is Debian's (``/usr/bin/chromium``, or ``$OPENENV_CHROMIUM``) driven by
Playwright; nothing is downloaded (``playwright install`` is never needed). One
browser process is started per event loop — in a server, one for all its sessions
— and each episode gets a fresh :class:`~playwright.async_api.BrowserContext`
(cookies, storage, history of its own).

The apps are not served over the network: every request the context makes to
``http://openapp.local`` is answered in-process by the session's own ASGI app
(:func:`serve_apps`), and every other request is refused — the browser cannot
reach any other host, or another session's data.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    async_playwright,
)

APP_ORIGIN = "http://openapp.local"
CHROMIUM_ARGS = (
    "--no-sandbox",  # the server's own isolation is the boundary; Chromium's needs setuid
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-first-run",
)
MAX_REDIRECTS = 5


class BrowserUnavailable(RuntimeError):
    """Chromium is not installed (or does not start)."""


def chromium_path() -> str:
    """Where Chromium is: ``$OPENENV_CHROMIUM``, else ``chromium`` on the PATH or Debian's."""
    debian = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    path = os.environ.get("OPENENV_CHROMIUM") or shutil.which("chromium") or debian
    if not path:
        raise BrowserUnavailable(
            "openapp_env needs Chromium: apt-get install chromium (Debian), or set "
            "OPENENV_CHROMIUM to a Chromium executable; `playwright install` is not used"
        )
    return path


class BrowserHost:
    """One Chromium for the event loop it was started on, shared by every session."""

    _hosts: dict[asyncio.AbstractEventLoop, BrowserHost] = {}

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def current(cls) -> BrowserHost:
        """The host of the running event loop (made on first use)."""
        loop = asyncio.get_running_loop()
        for old in [l for l in cls._hosts if l.is_closed()]:  # noqa: E741 - loops
            del cls._hosts[old]
        if loop not in cls._hosts:
            cls._hosts[loop] = BrowserHost()
        return cls._hosts[loop]

    async def browser(self) -> Browser:
        """The running browser; (re)started when missing or crashed."""
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                path = chromium_path()
                if self._playwright is None:
                    driver = async_playwright()
                    self._playwright = await driver.start()
                    _read_driver_exit(driver)
                try:
                    self._browser = await self._playwright.chromium.launch(
                        executable_path=path, args=list(CHROMIUM_ARGS)
                    )
                except Exception as exc:
                    raise BrowserUnavailable(f"Chromium at {path} did not start: {exc}") from exc
            return self._browser

    async def new_context(self, width: int, height: int) -> BrowserContext:
        browser = await self.browser()
        return await browser.new_context(
            viewport={"width": width, "height": height},
            base_url=APP_ORIGIN,
            java_script_enabled=True,
            service_workers="block",
        )

    @classmethod
    async def close_current(cls) -> None:
        """Close the running loop's browser and Playwright driver, if it has them."""
        host = cls._hosts.pop(asyncio.get_running_loop(), None)
        if host is not None:
            await host.close()

    async def close(self) -> None:
        """Close the browser and Playwright (servers do it at shutdown)."""
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None


def _read_driver_exit(driver: Any) -> None:
    """Read the error Playwright records when its driver exits unasked, as nothing else does.

    Ctrl-C in a terminal interrupts the whole foreground process group, so Playwright's
    Node.js driver exits at once, before this process gets to close it. Playwright then
    sets ``Connection closed while reading from the driver`` on its transport's
    ``on_error_future``, which it awaits only while starting; left unread, asyncio
    prints "Future exception was never retrieved" when the future is collected. Calls in
    flight still fail on their own (``playwright.async_api.Error``), so nothing is lost.

    ``driver`` is the ``async_playwright()`` context manager; the future is internal,
    found under ``_client`` (this Playwright) or ``_connection`` (upstream's layout), and
    a Playwright with neither is left as it is.
    """
    owner = getattr(driver, "_client", None) or getattr(driver, "_connection", None)
    future = getattr(getattr(owner, "_transport", None), "on_error_future", None)
    if isinstance(future, asyncio.Future):
        future.add_done_callback(_retrieve)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class Activity:
    """What a context is still doing: app requests in flight, page loads under way.

    An action can start a page load a moment after it returns (a ``change`` handler
    that submits a form); :meth:`settle` waits for such work before observing.
    """

    QUIET_S = 0.015

    def __init__(self) -> None:
        self.in_flight = 0
        self.navigating = 0
        self.last_done = 0.0

    def watch(self, page: Page) -> None:
        """Count ``page``'s main-frame loads from their request to their ``load``."""

        def started(request: Request) -> None:
            if request.is_navigation_request() and request.frame == page.main_frame:
                self.navigating += 1

        def ended(*_: object) -> None:
            self.navigating = 0

        page.on("request", started)
        page.on("load", ended)
        page.on("requestfailed", ended)

    async def settle(self, page: Page, timeout_s: float) -> None:
        """Wait until nothing has happened for a moment, then for the page's load."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.QUIET_S)  # let the action's own event handlers start
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            quiet = loop.time() - self.last_done > self.QUIET_S
            if self.in_flight == 0 and self.navigating == 0 and quiet:
                break
            await asyncio.sleep(0.01)
        remaining = max(deadline - loop.time(), 0.1)
        await page.wait_for_load_state("load", timeout=remaining * 1000)


async def serve_apps(context: BrowserContext, app: Any) -> Activity:
    """Answer ``context``'s requests to the apps with ``app``; refuse every other URL.

    Returns the context's :class:`Activity` (pages still need :meth:`Activity.watch`).
    """
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=APP_ORIGIN)
    activity = Activity()

    async def handle(route: Route) -> None:
        activity.in_flight += 1
        try:
            await answer(route)
        finally:
            activity.in_flight -= 1
            activity.last_done = asyncio.get_running_loop().time()

    async def answer(route: Route) -> None:
        request = route.request
        parts = urlsplit(request.url)
        if f"{parts.scheme}://{parts.netloc}" != APP_ORIGIN:
            await route.abort("blockedbyclient")
            return
        try:
            response = await client.request(
                request.method,
                request.url,
                content=request.post_data_buffer,
                headers={"content-type": request.headers.get("content-type", "text/plain")},
            )
            followed = False
            for _ in range(MAX_REDIRECTS):  # Chromium does not follow a fulfilled redirect
                if response.status_code not in (301, 302, 303, 307, 308):
                    break
                response = await client.get(response.headers["location"])
                followed = True
        except Exception as exc:  # the app failed: a 500 page, as a server would send
            await route.fulfill(status=500, content_type="text/plain", body=f"app error: {exc}")
            return
        body = response.content
        content_type = response.headers.get("content-type", "text/html")
        if followed and content_type.startswith("text/html"):
            body = _with_url(body, response.url.raw_path.decode())
        await route.fulfill(status=response.status_code, content_type=content_type, body=body)

    await context.route("**/*", handle)
    return activity


def _with_url(html: bytes, path: str) -> bytes:
    """``html`` that first sets the page's URL to ``path`` (where a redirect led)."""
    script = f"<script>history.replaceState(null, '', {json.dumps(path)});</script>".encode()
    at = html.lower().find(b"<head>")
    if at < 0:
        return script + html
    at += len(b"<head>")
    return html[:at] + script + html[at:]
