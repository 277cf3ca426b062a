"""The OpenApp apps and tasks at the HTTP and database level (no browser).

The apps are called in-process through ``httpx.ASGITransport``; the browser runs of
every task's solution are in ``check_tasks.py`` (a script: it needs Chromium).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import random
import re
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pytest
from openapp_env.server.apps import TODAY_FOR, create_web_app, seed_database, todo_app
from openapp_env.server.apps.database import dump
from openapp_env.server.apps.ui import Ctx
from openapp_env.server.tasks import TASKS
from starlette.applications import Starlette

from openenv import derive_seed

ORIGIN = "http://openapp.local"
FORM = {"content-type": "application/x-www-form-urlencoded"}
INTERACTIVE = {"a", "button", "input", "select", "textarea"}
APPS = ("calendar", "todo", "messages", "notes", "shop", "multi")


def fresh_db(seed: int = 0) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    seed_database(db, seed)
    return db


def scalar(db: sqlite3.Connection, sql: str, *args: object) -> object:
    return db.execute(sql, args).fetchone()[0]


class Page(HTMLParser):
    """The interactive elements of a page and every URL it refers to."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.urls: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in INTERACTIVE:
            self.elements.append((tag, values))
        for name in ("href", "src", "action"):
            if name in values:
                self.urls.append(values[name])

    def bids(self) -> list[str]:
        return [attrs.get("bid", "") for _, attrs in self.elements]


@pytest.fixture
def db() -> sqlite3.Connection:
    return fresh_db(0)


@pytest.fixture
async def client(db: sqlite3.Connection) -> AsyncIterator[httpx.AsyncClient]:
    app = create_web_app(db, TODAY_FOR(0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        yield c


async def post(client: httpx.AsyncClient, url: str, **fields: str) -> httpx.Response:
    """POST a form; the 303's target page (as the browser would show it)."""
    response = await client.post(url, content=urlencode(fields), headers=FORM)
    assert response.status_code in (200, 303), (url, response.status_code, response.text[:300])
    if response.status_code == 303:
        response = await client.get(response.headers["location"])
    assert response.status_code == 200, (url, response.status_code)
    return response


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


def test_seed_is_deterministic() -> None:
    assert dump(fresh_db(3)) == dump(fresh_db(3))
    assert dump(fresh_db(3)) != dump(fresh_db(4))


def test_seeds_change_names_items_and_dates() -> None:
    def names(seed: int, sql: str) -> set[str]:
        return {r[0] for r in fresh_db(seed).execute(sql)}

    for sql in (
        "SELECT name FROM contacts",
        "SELECT name || price_cents FROM products",
        "SELECT title || date FROM events",
        "SELECT title FROM todos",
        "SELECT subject FROM messages",
        "SELECT body FROM notes",
    ):
        assert names(0, sql) != names(1, sql), sql
        assert names(1, sql) != names(2, sql), sql
    assert len({TODAY_FOR(s) for s in range(10)}) == 10
    assert TODAY_FOR(5) == TODAY_FOR(5)
    assert all(TODAY_FOR(s).year == 2026 for s in range(400))


def test_seeded_state_has_what_the_apps_need() -> None:
    for seed in range(10):
        db = fresh_db(seed)
        today = TODAY_FOR(seed)
        monday = today - dt.timedelta(days=today.weekday())
        week = [(monday + dt.timedelta(days=i)).isoformat() for i in range(7)]
        this_week = scalar(
            db, "SELECT COUNT(*) FROM events WHERE date BETWEEN ? AND ?", week[0], week[6]
        )
        assert this_week >= 7
        first_names = [r[0].split()[0] for r in db.execute("SELECT name FROM contacts")]
        assert len(first_names) == len(set(first_names)), "first names identify contacts"
        assert scalar(db, "SELECT COUNT(*) FROM todos WHERE done = 1") >= 2
        assert scalar(db, "SELECT COUNT(*) FROM messages WHERE folder = 'inbox'") >= 10
        assert scalar(db, "SELECT COUNT(*) FROM notes") >= 8
        for category in [r[0] for r in db.execute("SELECT DISTINCT category FROM products")]:
            for column in ("price_cents", "rating"):
                values = [
                    r[0]
                    for r in db.execute(
                        f"SELECT {column} FROM products WHERE category = ?", (category,)
                    )
                ]
                assert len(values) == len(set(values)), (category, column)
        assert scalar(db, "SELECT COUNT(*) FROM cart_items") == 0
        assert scalar(db, "SELECT COUNT(*) FROM orders") == 0


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


async def every_page(client: httpx.AsyncClient, db: sqlite3.Connection) -> list[str]:
    """Every page of the apps, ids taken from ``db`` (after a few writes: cart, order)."""
    event = scalar(db, "SELECT MIN(id) FROM events")
    todo = scalar(db, "SELECT MIN(id) FROM todos")
    message = scalar(db, "SELECT MIN(id) FROM messages WHERE folder = 'inbox'")
    sent = scalar(db, "SELECT MIN(id) FROM messages WHERE folder = 'sent'")
    note = scalar(db, "SELECT MIN(id) FROM notes")
    product = scalar(db, "SELECT MIN(id) FROM products")
    return [
        "/",
        "/calendar",
        f"/calendar?week={TODAY_FOR(0) + dt.timedelta(days=7)}",
        "/calendar/new",
        "/calendar/new?date=2026-03-13",
        f"/calendar/event/{event}",
        f"/calendar/event/{event}/edit",
        "/todo",
        "/todo?filter=active",
        "/todo?filter=completed",
        f"/todo/{todo}/edit",
        "/messages",
        "/messages?folder=sent",
        "/messages?folder=starred",
        "/messages?folder=trash",
        "/messages?q=the",
        f"/messages/{message}",
        f"/messages/{message}?reply=1",
        f"/messages/{sent}",
        "/messages/compose",
        f"/messages/compose?forward={message}",
        "/notes",
        "/notes?q=list",
        "/notes/new",
        f"/notes/{note}",
        f"/notes/{note}/edit",
        "/shop",
        "/shop?category=mugs",
        "/shop?category=lamps&sort=price-desc",
        "/shop/search?q=mug",
        "/shop/search?q=mug&sort=rating",
        "/shop/search?q=nothing+matches+this",
        f"/shop/product/{product}",
        "/shop/cart",
        "/shop/checkout",
        "/shop/orders",
    ]


async def test_every_page_renders(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    for url in await every_page(client, db):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/html"), url
        assert "<head>" in response.text, url  # the environment injects scripts after it
    for url in ("/static/style.css", "/static/app.js"):
        assert (await client.get(url)).status_code == 200
    assert (await client.get("/calendar/event/99999")).status_code == 404
    assert (await client.get("/no/such/page")).status_code == 404
    wrong = await client.get("/todo/new")  # a form's target, typed into the address bar
    assert wrong.status_code == 405 and "go-home" in Page(wrong.text).bids()


async def test_every_interactive_element_has_a_unique_semantic_bid(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    product = scalar(db, "SELECT MIN(id) FROM products")
    await post(client, f"/shop/product/{product}", quantity="2")
    pages = [*await every_page(client, db), "/shop/cart", "/shop/checkout"]
    await post(client, "/shop/checkout", name="A B", address="1 Road")
    pages += ["/shop/orders", f"/shop/orders/{scalar(db, 'SELECT MAX(id) FROM orders')}"]
    for url in pages:
        page = Page((await client.get(url)).text)
        assert page.elements, url
        for tag, attrs in page.elements:
            bid = attrs.get("bid", "")
            assert bid, f"{url}: <{tag} {attrs}> has no bid"
            assert re.fullmatch(r"[a-z][a-z0-9-]*", bid), f"{url}: bid {bid!r}"
            assert attrs.get("type") != "hidden", f"{url}: hidden input {bid}"
        duplicates = [b for b, n in Counter(page.bids()).items() if n > 1]
        assert not duplicates, f"{url}: duplicate bids {duplicates}"


async def test_pages_use_no_external_resources(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    for url in await every_page(client, db):
        text = (await client.get(url)).text
        assert "http://" not in text and "https://" not in text, url
        for ref in Page(text).urls:
            assert ref.startswith(("/", "#", "?")) and not ref.startswith("//"), (url, ref)
    css = (await client.get("/static/style.css")).text
    assert "url(" not in css and "@import" not in css


async def test_navigation_bar_and_home(client: httpx.AsyncClient) -> None:
    page = Page((await client.get("/")).text)
    for app in ("calendar", "todo", "messages", "notes", "shop"):
        assert f"nav-{app}" in page.bids()
        assert f"app-{app}" in page.bids()
    assert "nav-home" in page.bids()


async def test_the_slides_example_bids(client: httpx.AsyncClient) -> None:
    """goto('/calendar'), click('add-event'), fill('title', 'Meeting')."""
    calendar = Page((await client.get("/calendar")).text)
    (link,) = [attrs for _, attrs in calendar.elements if attrs.get("bid") == "add-event"]
    form = Page((await client.get(link["href"])).text)
    for bid in ("title", "date", "start-time", "end-time", "location", "save-event"):
        assert bid in form.bids()


async def test_deletions_ask_for_confirmation(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    note = scalar(db, "SELECT MIN(id) FROM notes")
    event = scalar(db, "SELECT MIN(id) FROM events")
    message = scalar(db, "SELECT MIN(id) FROM messages")
    for url in (f"/notes/{note}", f"/calendar/event/{event}", f"/messages/{message}", "/todo"):
        assert "data-confirm=" in (await client.get(url)).text, url
    script = (await client.get("/static/app.js")).text
    assert "window.confirm(" in script


# ---------------------------------------------------------------------------
# Forms
# ---------------------------------------------------------------------------


async def test_calendar_forms(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    count = scalar(db, "SELECT COUNT(*) FROM events")
    page = await post(
        client, "/calendar/new", title=" Sync  with Dennis ", date="2026-02-20",
        start_time="15:00", end_time="16:00", location="Room 1",
    )  # fmt: skip
    assert "Sync with Dennis" in page.text
    row = db.execute("SELECT * FROM events WHERE title = 'Sync with Dennis'").fetchone()
    assert row[2:6] == ("2026-02-20", "15:00", "16:00", "Room 1")
    eid = row[0]
    page = await post(
        client, f"/calendar/event/{eid}/edit", title="Sync with Dennis", date="2026-02-21",
        start_time="3:30 PM", end_time="17:00", location="",
    )  # fmt: skip
    assert db.execute("SELECT date, start_time FROM events WHERE id = ?", (eid,)).fetchone() == (
        "2026-02-21",
        "15:30",
    )
    # refused: no title, a bad date, the end before the start
    for fields in (
        {"title": "", "date": "2026-02-20", "start_time": "10:00", "end_time": "11:00"},
        {"title": "X", "date": "someday", "start_time": "10:00", "end_time": "11:00"},
        {"title": "X", "date": "2026-02-20", "start_time": "10:00", "end_time": "09:00"},
    ):
        page = await post(client, "/calendar/new", **fields)
        assert 'class="errors"' in page.text
    assert scalar(db, "SELECT COUNT(*) FROM events") == count + 1
    await post(client, f"/calendar/event/{eid}/delete")
    assert scalar(db, "SELECT COUNT(*) FROM events") == count


async def test_todo_forms(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    await post(client, "/todo/new", title="Buy stamps", due="2026-03-01", priority="high")
    tid, done, due, priority = db.execute(
        "SELECT id, done, due, priority FROM todos WHERE title = 'Buy stamps'"
    ).fetchone()
    assert (done, due, priority) == (0, "2026-03-01", "high")
    await post(client, f"/todo/{tid}/done", done="1")
    assert scalar(db, "SELECT done FROM todos WHERE id = ?", tid) == 1
    await post(client, f"/todo/{tid}/done")  # an unticked checkbox sends nothing
    assert scalar(db, "SELECT done FROM todos WHERE id = ?", tid) == 0
    await post(client, f"/todo/{tid}/edit", title="Buy 10 stamps", due="", priority="low")
    assert db.execute("SELECT title, due, priority FROM todos WHERE id = ?", (tid,)).fetchone() == (
        "Buy 10 stamps",
        None,
        "low",
    )
    page = await post(client, "/todo/new", title="  ")
    assert 'class="errors"' in page.text
    await post(client, "/todo/clear-completed")
    assert scalar(db, "SELECT COUNT(*) FROM todos WHERE done = 1") == 0
    await post(client, f"/todo/{tid}/delete")
    assert scalar(db, "SELECT COUNT(*) FROM todos WHERE id = ?", tid) == 0


async def test_messages_forms(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    name, email = db.execute("SELECT name, email FROM contacts ORDER BY id").fetchone()
    other = db.execute("SELECT email FROM contacts ORDER BY id DESC").fetchone()[0]
    await post(client, "/messages/compose", to=f"{name}, {other}", subject="Hi", body="Hello")
    sent = db.execute("SELECT * FROM messages ORDER BY id DESC").fetchone()
    assert sent[1] == "sent" and sent[4] == f"{email},{other}" and sent[5:7] == ("Hi", "Hello")
    page = await post(client, "/messages/compose", to="Nobody Atall", subject="x", body="y")
    assert "Unknown recipient" in page.text
    mid, sender = db.execute(
        "SELECT id, sender_email FROM messages WHERE folder = 'inbox' ORDER BY id"
    ).fetchone()
    await client.get(f"/messages/{mid}")
    assert scalar(db, "SELECT is_read FROM messages WHERE id = ?", mid) == 1
    await post(client, f"/messages/{mid}/reply", body="on my way")
    reply = db.execute("SELECT recipients, subject, body, reply_to FROM messages ORDER BY id DESC")
    recipients, subject, body, reply_to = reply.fetchone()
    assert (recipients, body, reply_to) == (sender, "on my way", mid)
    assert subject.startswith("Re: ")
    await post(client, f"/messages/compose?forward={mid}", to=name, subject="Fwd: x", body="b")
    assert scalar(db, "SELECT MAX(forward_of) FROM messages") == mid
    await post(client, f"/messages/{mid}/star")
    assert scalar(db, "SELECT starred FROM messages WHERE id = ?", mid) == 1
    await post(client, f"/messages/{mid}/unread")
    assert scalar(db, "SELECT is_read FROM messages WHERE id = ?", mid) == 0
    await post(client, f"/messages/{mid}/delete")
    assert scalar(db, "SELECT folder FROM messages WHERE id = ?", mid) == "trash"
    await post(client, f"/messages/{mid}/delete")
    assert scalar(db, "SELECT COUNT(*) FROM messages WHERE id = ?", mid) == 0


async def test_notes_forms(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    page = await post(client, "/notes/new", title="Garden", body="Tomatoes\r\nBasil")
    nid = scalar(db, "SELECT id FROM notes WHERE title = 'Garden'")
    assert scalar(db, "SELECT body FROM notes WHERE id = ?", nid) == "Tomatoes\nBasil"
    assert "Tomatoes" in page.text
    await post(client, f"/notes/{nid}/edit", title="Garden plan", body="Tomatoes")
    assert db.execute("SELECT title, body FROM notes WHERE id = ?", (nid,)).fetchone() == (
        "Garden plan",
        "Tomatoes",
    )
    await post(client, f"/notes/{nid}/pin")
    assert scalar(db, "SELECT pinned FROM notes WHERE id = ?", nid) == 1
    search = Page((await client.get("/notes?q=tomatoes")).text)
    assert f"note-{nid}" in search.bids()
    assert len([b for b in search.bids() if re.fullmatch(r"note-\d+", b)]) == 1
    await post(client, f"/notes/{nid}/delete")
    assert scalar(db, "SELECT COUNT(*) FROM notes WHERE id = ?", nid) == 0


async def test_shop_forms(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    mugs = db.execute(
        "SELECT id, price_cents FROM products WHERE category = 'mugs' ORDER BY price_cents"
    ).fetchall()
    page = Page((await client.get("/shop?category=mugs&sort=price-asc")).text)
    listed = [int(b.split("-")[1]) for b in page.bids() if re.fullmatch(r"product-\d+", b)]
    assert listed == [m[0] for m in mugs]
    search = Page((await client.get("/shop/search?q=MUG")).text)
    assert {int(b.split("-")[1]) for b in search.bids() if re.fullmatch(r"product-\d+", b)} >= {
        m[0] for m in mugs if "Mug" in scalar(db, "SELECT name FROM products WHERE id = ?", m[0])
    }
    cheap, dear = mugs[0][0], mugs[-1][0]
    await post(client, f"/shop/product/{cheap}", quantity="2")
    await post(client, f"/shop/cart/add/{dear}?next=/shop")
    await post(client, f"/shop/cart/add/{dear}?next=/shop")
    assert dict(db.execute("SELECT product_id, quantity FROM cart_items")) == {cheap: 2, dear: 2}
    await post(client, f"/shop/cart/{dear}/update", quantity="5")
    await post(client, f"/shop/cart/{cheap}/update", quantity="0")
    assert dict(db.execute("SELECT product_id, quantity FROM cart_items")) == {dear: 5}
    await post(client, f"/shop/product/{cheap}", quantity="1")
    await post(client, f"/shop/cart/{cheap}/remove")
    page = await post(client, "/shop/checkout", name="", address="")
    assert 'class="errors"' in page.text
    page = await post(client, "/shop/checkout", name="Ada Lovelace", address="12 Elm Street")
    assert "Order confirmed" in page.text
    order = db.execute("SELECT id, name, address, total_cents FROM orders").fetchall()
    assert len(order) == 1 and order[0][1:] == ("Ada Lovelace", "12 Elm Street", mugs[-1][1] * 5)
    assert scalar(db, "SELECT COUNT(*) FROM cart_items") == 0
    items = db.execute("SELECT product_id, quantity FROM order_items").fetchall()
    assert items == [(dear, 5)]


async def test_redirects_stay_on_the_apps(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    product = scalar(db, "SELECT MIN(id) FROM products")
    response = await client.post(
        f"/shop/cart/add/{product}?next=//evil.example.com/x", content="", headers=FORM
    )
    assert response.headers["location"] == "/shop"


async def test_an_app_runs_on_its_own_routes_and_state(db: sqlite3.Connection) -> None:
    """An app's handlers need only its ``ROUTES`` and a ``Ctx`` in the app's state."""
    app = Starlette(routes=todo_app.ROUTES)
    app.state.ctx = Ctx(db=db, today=TODAY_FOR(0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        response = await c.post(
            "/todo/new", content=urlencode({"title": "Buy stamps"}), headers=FORM
        )
        assert response.status_code == 303 and response.headers["location"] == "/todo"
        listing = await c.get("/todo")
    assert "Added “Buy stamps”." in listing.text  # the notice, kept in the Ctx
    assert scalar(db, "SELECT COUNT(*) FROM todos WHERE title = 'Buy stamps'") == 1


# ---------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------


def test_there_are_enough_tasks() -> None:
    assert len(TASKS) >= 42
    per_app = Counter(t.app for t in TASKS.values())
    assert set(per_app) == set(APPS)
    assert all(n >= 7 for n in per_app.values()), per_app
    assert {t.difficulty for t in TASKS.values()} == {"easy", "medium", "hard"}
    for task_id, task in TASKS.items():
        assert task_id == task.id and re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", task_id)
        assert task.start_url.startswith("/")
        assert task.id.startswith(task.app + "_")


def setup_task(task_id: str, seed: int) -> tuple[sqlite3.Connection, dict[str, object]]:
    db = fresh_db(seed)
    params = TASKS[task_id].setup(db, random.Random(derive_seed(seed, "task")))
    return db, json.loads(json.dumps(params))


@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_task_is_unsolved_at_start_and_deterministic(task_id: str) -> None:
    task = TASKS[task_id]
    for seed in range(5):
        db, params = setup_task(task_id, seed)
        assert task.check(db, params) == 0.0, seed
        again_db, again = setup_task(task_id, seed)
        assert again == params and dump(again_db) == dump(db)
        goal = task.goal(params)
        assert goal and "{" not in goal and "None" not in goal
        for action in task.solution(params):
            call = ast.parse(action, mode="eval").body
            assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name), action
            args = [ast.literal_eval(a) for a in call.args]
            assert call.func.id in {
                "click", "fill", "select_option", "press", "hover", "goto", "go_back", "scroll",
                "noop",
            }, action  # fmt: skip
            if call.func.id in {"click", "fill", "select_option", "press", "hover"}:
                assert not str(args[0]).isdigit(), action


def test_goals_vary_with_the_seed() -> None:
    varying = sum(
        len({TASKS[t].goal(setup_task(t, seed)[1]) for seed in range(4)}) > 1 for t in TASKS
    )
    # a few goals are fixed sentences ("Remove all completed todos"); the data behind them varies
    assert varying >= len(TASKS) - 6


async def test_checks_reward_the_http_solution_of_some_tasks() -> None:
    """The same result as the browser's, reached with plain requests."""
    db, params = setup_task("calendar_add_meeting", 1)
    app = create_web_app(db, TODAY_FOR(1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        fields = {"title": params["title"], "date": params["date"]}
        fields |= {"start_time": params["start"], "end_time": params["end"]}
        await post(c, "/calendar/new", **{k: str(v) for k, v in fields.items()})
        assert TASKS["calendar_add_meeting"].check(db, params) == 1.0
        await post(c, "/calendar/new", **{k: str(v) for k, v in fields.items()})
        assert TASKS["calendar_add_meeting"].check(db, params) == 0.0, "two events: over-doing"

    db, params = setup_task("shop_buy_cheapest", 2)
    app = create_web_app(db, TODAY_FOR(2))
    check = TASKS["shop_buy_cheapest"].check
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        await post(c, f"/shop/product/{params['id']}", quantity="3")
        await post(c, "/shop/checkout", name=params["ship_name"], address=params["ship_address"])
        assert check(db, params) == 0.0, "three, not two"
    db, params = setup_task("shop_buy_cheapest", 2)
    app = create_web_app(db, TODAY_FOR(2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        await post(c, f"/shop/product/{params['id']}", quantity="2")
        address = str(params["ship_address"]).upper() + "  "
        await post(c, "/shop/checkout", name=params["ship_name"], address=address)
        assert check(db, params) == 1.0

    db, params = setup_task("messages_reply_latest", 0)
    app = create_web_app(db, TODAY_FOR(0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        older = params["id"] - 1
        await post(c, f"/messages/{older}/reply", body=str(params["text"]))
        assert TASKS["messages_reply_latest"].check(db, params) == 0.0, "not the latest message"
    db, params = setup_task("messages_reply_latest", 0)
    app = create_web_app(db, TODAY_FOR(0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        await post(c, f"/messages/{params['id']}/reply", body=f"{str(params['text']).upper()}!")
        assert TASKS["messages_reply_latest"].check(db, params) == 1.0


def test_time_mentions() -> None:
    from openapp_env.server.tasks import mentions_time

    assert mentions_time("It starts at 15:00.", "15:00")
    assert mentions_time("3pm sharp", "15:00")
    assert mentions_time("at 9:30 am", "09:30")
    assert not mentions_time("at 115:00", "15:00")
    assert not mentions_time("at 16:00", "15:00")
