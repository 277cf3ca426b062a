#!/usr/bin/env python3
"""Run every OpenApp task's scripted solution in a real Chromium and check the rewards.

Plain script, not a pytest module:

    python envs/openapp_env/tests/check_tasks.py [--only ID ...] [--seeds 0 1 2] [-v]

For every task and seed it seeds a fresh in-memory database, runs the task's
``setup`` (with the environment's rng, ``random.Random(derive_seed(seed, "task"))``),
and checks that ``check`` gives 0.0 before anything is done. Then it opens the
apps in Chromium (Debian's, ``/usr/bin/chromium``, through Playwright; a new
browser context per task) with every request to ``http://openapp.local`` answered
in-process by the session's ASGI app (redirects followed here, the final URL put
back with ``history.replaceState``) and every other request aborted, goes to the
task's ``start_url``, runs the solution's action strings on ``[bid="..."]``
elements (dialogs accepted) and checks that ``check`` gives 1.0. JavaScript
errors, app errors (5xx) and requests to other hosts fail the run too.

Exit status 0 when every task passes for every seed.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import random
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, Request, Route, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openapp_env.server.apps import TODAY_FOR, create_web_app, seed_database
from openapp_env.server.tasks import TASKS, Task

try:
    from openenv import derive_seed
except ImportError:  # pragma: no cover - the project's package is normally installed

    def derive_seed(seed: int, name: str) -> int:
        return seed


ORIGIN = "http://openapp.local"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACTION_TIMEOUT_MS = 5000
DEFAULT_SEEDS = (0, 1, 2)
PARALLEL = 6


@dataclass
class Outcome:
    task_id: str
    seed: int
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def parse_action(text: str) -> tuple[str, list[Any]]:
    """``click('add-event')`` -> ``("click", ["add-event"])`` (literal arguments only)."""
    node = ast.parse(text.strip(), mode="eval").body
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.keywords:
        raise ValueError(f"not an action: {text!r}")
    return node.func.id, [ast.literal_eval(arg) for arg in node.args]


class Session:
    """One task episode: a database, its app, a browser context serving it."""

    def __init__(self, db: sqlite3.Connection, seed: int) -> None:
        self.db = db
        self.app = create_web_app(db, TODAY_FOR(seed))
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=ORIGIN
        )
        self.inflight = 0
        self.navigating = 0
        self.last_done = time.monotonic()
        self.errors: list[str] = []

    async def handle(self, route: Route) -> None:
        request = route.request
        if not request.url.startswith(ORIGIN + "/"):
            self.errors.append(f"request outside the apps: {request.url}")
            await route.abort("blockedbyclient")
            return
        self.inflight += 1
        try:
            response = await self.client.request(
                request.method,
                request.url,
                content=request.post_data_buffer,
                headers={"content-type": request.headers.get("content-type", "text/plain")},
            )
            followed = False
            for _ in range(5):
                if response.status_code not in (301, 302, 303, 307, 308):
                    break
                response = await self.client.get(response.headers["location"])
                followed = True
            if response.status_code >= 500:
                self.errors.append(f"{request.method} {request.url}: {response.status_code}")
            body = response.content
            content_type = response.headers.get("content-type", "text/html")
            if followed and content_type.startswith("text/html"):
                path = json.dumps(response.url.raw_path.decode())
                script = f"<script>history.replaceState(null, '', {path});</script>".encode()
                at = body.find(b"<head>")
                body = body[: at + 6] + script + body[at + 6 :] if at >= 0 else script + body
            await route.fulfill(status=response.status_code, content_type=content_type, body=body)
        except Exception as exc:
            self.errors.append(f"{request.method} {request.url}: {exc!r}")
            await route.fulfill(status=500, content_type="text/plain", body=f"error: {exc}")
        finally:
            self.inflight -= 1
            self.last_done = time.monotonic()

    def watch(self, page: Page) -> None:
        """Count the page's navigations in progress (a form sent, a link followed)."""

        def started(request: Request) -> None:
            if request.is_navigation_request() and request.frame == page.main_frame:
                self.navigating += 1

        def ended(*_: object) -> None:
            self.navigating = 0

        page.on("request", started)
        page.on("load", ended)
        page.on("requestfailed", ended)

    async def settle(self, page: Page) -> None:
        """Wait until the page has stopped loading after an action."""
        await asyncio.sleep(0.08)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            quiet = time.monotonic() - self.last_done > 0.05
            if self.inflight == 0 and self.navigating == 0 and quiet:
                break
            await asyncio.sleep(0.02)
        await page.wait_for_load_state("load")

    async def run(self, page: Page, action: str) -> None:
        name, args = parse_action(action)
        selector = ""
        if name in {"click", "fill", "select_option", "press", "hover"}:
            bid = str(args[0])
            if bid.isdigit():
                raise ValueError(f"solutions use semantic bids only, not {bid!r}")
            selector = f'[bid="{bid}"]'
            await page.locator(selector).first.wait_for(state="attached", timeout=ACTION_TIMEOUT_MS)
            count = await page.locator(selector).count()
            if count != 1:
                raise ValueError(f"{count} elements with bid {bid!r} on {page.url}")
        t = ACTION_TIMEOUT_MS
        if name == "click":
            await page.click(selector, timeout=t)
        elif name == "fill":
            await page.fill(selector, str(args[1]), timeout=t)
        elif name == "select_option":
            await page.select_option(selector, str(args[1]), timeout=t)
        elif name == "press":
            await page.press(selector, str(args[1]), timeout=t)
        elif name == "hover":
            await page.hover(selector, timeout=t)
        elif name == "goto":
            await page.goto(ORIGIN + args[0] if str(args[0]).startswith("/") else args[0])
        elif name == "go_back":
            await page.go_back()
        elif name == "scroll":
            await page.mouse.wheel(float(args[0]), float(args[1]))
        elif name == "noop":
            await asyncio.sleep((args[0] if args else 0) / 1000)
        else:
            raise ValueError(f"unknown action {name!r}")
        await self.settle(page)


async def check_one(browser: Browser, task: Task, seed: int, verbose: bool) -> Outcome:
    outcome = Outcome(task.id, seed)
    started = time.monotonic()
    db = sqlite3.connect(":memory:", check_same_thread=False)
    seed_database(db, seed)
    params = json.loads(json.dumps(task.setup(db, random.Random(derive_seed(seed, "task")))))
    before = task.check(db, params)
    if before != 0.0:
        outcome.errors.append(f"check gives {before} before any action")
    session = Session(db, seed)
    context = await browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = await context.new_page()
        session.watch(page)
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        page.on("pageerror", lambda exc: session.errors.append(f"JavaScript error: {exc}"))
        await context.route("**/*", session.handle)
        await page.goto(ORIGIN + task.start_url)
        await session.settle(page)
        for action in task.solution(params):
            if verbose:
                print(f"    {task.id}[{seed}] {action}", flush=True)
            try:
                await session.run(page, action)
            except Exception as exc:
                outcome.errors.append(f"{action} failed: {str(exc).splitlines()[0]}")
                break
        after = task.check(db, params)
        if after != 1.0 and not outcome.errors:
            outcome.errors.append(f"check gives {after} after the solution (page {page.url})")
    finally:
        await context.close()
        await session.client.aclose()
    outcome.errors += session.errors
    outcome.seconds = time.monotonic() - started
    return outcome


async def main_async(task_ids: list[str], seeds: list[int], verbose: bool) -> int:
    tasks = [TASKS[t] for t in task_ids]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        limit = asyncio.Semaphore(PARALLEL)

        async def guarded(task: Task, seed: int) -> Outcome:
            async with limit:
                try:
                    return await check_one(browser, task, seed, verbose)
                except Exception as exc:
                    return Outcome(task.id, seed, [f"crashed: {exc!r}"])

        jobs = [guarded(task, seed) for task in tasks for seed in seeds]
        outcomes = await asyncio.gather(*jobs)
        await browser.close()
    by_task: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_task.setdefault(outcome.task_id, []).append(outcome)
    failed = 0
    for task in tasks:
        results = by_task[task.id]
        bad = [o for o in results if o.errors]
        failed += len(bad)
        seconds = sum(o.seconds for o in results)
        status = "FAIL" if bad else "ok  "
        print(f"{status} {task.id:<32} {task.app:<9} seeds {len(results)}  {seconds:5.1f}s")
        for o in bad:
            for error in o.errors:
                print(f"       seed {o.seed}: {error}")
    total = len(outcomes)
    print(f"\n{len(tasks)} tasks x {len(seeds)} seeds: {total - failed} passed, {failed} failed")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="check only these tasks")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS))
    parser.add_argument("-v", "--verbose", action="store_true", help="print every action")
    args = parser.parse_args()
    unknown = [t for t in args.only or [] if t not in TASKS]
    if unknown:
        parser.error(f"unknown task(s): {', '.join(unknown)}")
    started = time.monotonic()
    status = asyncio.run(main_async(args.only or list(TASKS), args.seeds, args.verbose))
    print(f"({time.monotonic() - started:.0f}s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
