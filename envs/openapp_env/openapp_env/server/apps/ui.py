"""What every app page shares: the layout, the top navigation bar, HTML and form helpers.

Every page has the same top bar: ``nav-home`` (the OpenApp logo, the home page) and
``nav-calendar``, ``nav-todo``, ``nav-messages``, ``nav-notes``, ``nav-shop``. Pages
load ``/static/style.css`` and ``/static/app.js`` from the app itself (nothing from
outside). ``app.js`` adds three behaviours, driven by attributes:

* ``data-confirm="Delete this note?"`` on a form: a ``confirm()`` dialog before it
  is submitted (cancelled when the dialog is dismissed);
* ``data-autosubmit`` on a checkbox or select: a change submits its form (a todo's
  checkbox is done with one click);
* ``data-sort`` on a select: a change reloads the page with ``?sort=<value>``;
* ``data-reveal="ID"`` on a link: shows the hidden element ``ID`` (the reply form)
  and focuses its first field.

After a successful POST the apps answer ``303 See Other`` to a page that shows
the result (POST-redirect-GET) and a one-time notice ("Event saved").
"""

from __future__ import annotations

import datetime as dt
import html
import sqlite3
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from .database import get_meta

NAV = (
    ("calendar", "Calendar"),
    ("todo", "Todo"),
    ("messages", "Messages"),
    ("notes", "Notes"),
    ("shop", "Shop"),
)


@dataclass
class Ctx:
    """One session's app state: its database, its "today", pending notices."""

    db: sqlite3.Connection
    today: dt.date
    notices: list[str] = field(default_factory=list)


def ctx_of(request: Request) -> Ctx:
    """The :class:`Ctx` of the session ``request`` belongs to.

    :func:`~.web.create_web_app` keeps it in the app's state: the route handlers are
    plain module functions, shared by every session's app, and find their state here.
    """
    ctx: Ctx = request.app.state.ctx
    return ctx


def esc(value: object) -> str:
    """HTML-escaped text (quotes included, safe in attributes)."""
    return html.escape(str(value), quote=True)


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded request body as ``{name: first value}`` (no python-multipart)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}


def safe_next(value: str | None, default: str) -> str:
    """A local path to return to (``?next=``), never another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def qnext(path: str) -> str:
    """``next=<path>`` for a form's action URL."""
    return "next=" + quote(path, safe="/")


def redirect(ctx: Ctx, url: str, notice: str | None = None) -> RedirectResponse:
    """303 to ``url``; ``notice`` is shown once on the next page."""
    if notice:
        ctx.notices.append(notice)
    return RedirectResponse(url, status_code=303)


def request_path(request: Request) -> str:
    """The path and query of ``request`` (for ``next=`` links)."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def long_date(iso: str) -> str:
    """``Friday, March 13, 2026``."""
    day = dt.date.fromisoformat(iso)
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def short_date(iso: str) -> str:
    """``Fri, Mar 13``."""
    day = dt.date.fromisoformat(iso)
    return f"{day:%a}, {day:%b} {day.day}"


def parse_date(text: str) -> str | None:
    """``YYYY-MM-DD`` (as typed in a date field) normalised, or None."""
    text = text.strip()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    for fmt in ("%m/%d/%Y", "%d.%m.%Y", "%B %d, %Y", "%b %d, %Y", "%A, %B %d, %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def parse_time(text: str) -> str | None:
    """``HH:MM`` (24 hours; ``3:00 PM`` and ``15.00`` are understood too), or None."""
    text = text.strip().upper().replace(".", ":")
    for fmt in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p", "%I %p", "%I%p"):
        try:
            return dt.datetime.strptime(text, fmt).strftime("%H:%M")
        except ValueError:
            continue
    return None


def page(ctx: Ctx, title: str, active: str, content: str, status: int = 200) -> HTMLResponse:
    """A full page: head, top navigation (``active`` highlighted), notices, ``content``."""
    current = ' class="active" aria-current="page"'
    links = "".join(
        f'<a href="/{key}" bid="nav-{key}"{current if key == active else ""}>{label}</a>'
        for key, label in NAV
    )
    notices = "".join(
        f'<div class="notice" role="status">{esc(text)}</div>' for text in ctx.notices
    )
    ctx.notices.clear()
    user = esc(get_meta(ctx.db, "user_name"))
    today = f"{ctx.today:%a}, {ctx.today:%b} {ctx.today.day}, {ctx.today.year}"
    body = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · OpenApp</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body class="app-{esc(active or "home")}">
<header class="topbar">
<a class="brand" href="/" bid="nav-home"><span class="logo">◆</span> OpenApp</a>
<nav class="nav">{links}</nav>
<div class="whoami"><span class="today">{today}</span><span class="user">{user}</span></div>
</header>
<main class="container">
{notices}
{content}
</main>
</body>
</html>
"""
    return HTMLResponse(body, status_code=status)


def not_found(ctx: Ctx, what: str = "page") -> HTMLResponse:
    """A friendly 404 page."""
    content = (
        f'<div class="card empty"><h1>Not found</h1><p>This {esc(what)} does not exist '
        "(any more).</p></div>"
    )
    return page(ctx, "Not found", "", content, status=404)


def error_box(errors: list[str]) -> str:
    """A list of form errors, or ''."""
    if not errors:
        return ""
    items = "".join(f"<li>{esc(e)}</li>" for e in errors)
    return f'<div class="errors" role="alert"><ul>{items}</ul></div>'


def path_id(request: Request, name: str = "id") -> int:
    """An integer path parameter."""
    return int(request.path_params[name])
