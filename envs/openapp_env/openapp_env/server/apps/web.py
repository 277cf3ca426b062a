"""The ASGI app of one session: the home page, the five apps, the static files.

``/`` links the apps (bids ``app-calendar``, ``app-todo``, ``app-messages``,
``app-notes``, ``app-shop``) with a line of news from each; every page also has
the top navigation bar (``nav-home``, ``nav-calendar``, ... — see :mod:`.ui`).
``/static/style.css`` and ``/static/app.js`` are served from this package.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import calendar_app, messages_app, notes_app, shop_app, todo_app
from .database import money, rows
from .ui import Ctx, ctx_of, esc, not_found, page

STATIC = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {"style.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}


def create_web_app(db: sqlite3.Connection, today: dt.date) -> Starlette:
    """The apps of one session, on ``db`` (seeded by ``seed_database``), on day ``today``."""
    app = Starlette(routes=ROUTES, exception_handlers={404: missing, 405: wrong_method})
    app.state.ctx = Ctx(db=db, today=today)  # what the handlers read: ui.ctx_of(request)
    return app


async def home(request: Request) -> Response:
    """``GET /``: a tile per app, each with a line of news."""
    ctx = ctx_of(request)
    db, today = ctx.db, ctx.today
    iso = today.isoformat()
    events = rows(db, "SELECT title, start_time FROM events WHERE date = ? ORDER BY 2", (iso,))
    open_todos = db.execute("SELECT COUNT(*) FROM todos WHERE done = 0").fetchone()[0]
    unread = db.execute(
        "SELECT COUNT(*) FROM messages WHERE folder = 'inbox' AND is_read = 0"
    ).fetchone()[0]
    notes = db.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
    cart = db.execute(
        "SELECT COALESCE(SUM(c.quantity), 0), COALESCE(SUM(c.quantity * p.price_cents), 0) "
        "FROM cart_items c JOIN products p ON p.id = c.product_id"
    ).fetchone()
    if events:
        first = events[0]
        event_line = (
            f"{len(events)} event{'' if len(events) == 1 else 's'} today; first: "
            f"{esc(first['title'])} at {first['start_time']}"
        )
    else:
        event_line = "Nothing scheduled today"
    cards = (
        ("calendar", "Calendar", "Your week at a glance", event_line),
        ("todo", "Todo", "Things to get done", f"{open_todos} open"),
        ("messages", "Messages", "Inbox, compose and reply", f"{unread} unread"),
        ("notes", "Notes", "Lists, ideas and details", f"{notes} notes"),
        ("shop", "Shop", "Mugs, lamps, tea and more",
         f"{cart[0]} in the cart ({money(cart[1])})" if cart[0] else "Cart is empty"),
    )  # fmt: skip
    tiles = "".join(
        f'<a class="card app-tile tile-{key}" href="/{key}" bid="app-{key}">'
        f'<span class="tile-icon"></span><h2>{label}</h2><p class="muted">{blurb}</p>'
        f'<p class="tile-news">{news}</p></a>'
        for key, label, blurb, news in cards
    )
    name = esc(rows(db, "SELECT value FROM meta WHERE key = 'user_name'")[0][0].split()[0])
    content = f"""
<section class="hero">
  <h1>Good day, {name}</h1>
  <p class="muted">Today is {today:%A}, {today:%B} {today.day}, {today.year}.</p>
</section>
<div class="tiles">{tiles}</div>"""
    return page(ctx, "Home", "", content)


async def static(request: Request) -> Response:
    """``GET /static/{name}``: the stylesheet and the script, from this package."""
    name = request.path_params["name"]
    if name not in STATIC_TYPES:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(
        (STATIC / name).read_bytes(),
        media_type=STATIC_TYPES[name],
        headers={"cache-control": "max-age=3600"},
    )


async def missing(request: Request, exc: Exception) -> Response:
    """Any 404: the friendly not-found page."""
    return not_found(ctx_of(request))


async def wrong_method(request: Request, exc: Exception) -> Response:
    """Any 405 (a GET on a form's address): a page that leads back home."""
    content = (
        '<div class="card empty"><h1>Nothing to see here</h1><p>This address takes '
        'form submissions only. <a href="/" bid="go-home">Back to the start page</a>.</p>'
        "</div>"
    )
    return page(ctx_of(request), "Not a page", "", content, status=405)


ROUTES: list[BaseRoute] = [
    Route("/", home),
    Route("/static/{name}", static),
    *calendar_app.ROUTES,
    *todo_app.ROUTES,
    *messages_app.ROUTES,
    *notes_app.ROUTES,
    *shop_app.ROUTES,
]
