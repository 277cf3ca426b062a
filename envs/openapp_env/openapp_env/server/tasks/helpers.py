"""What the tasks of several apps share: loose text comparison, dates, fingerprints of
tables (to check that nothing else changed), and reading and writing the apps' rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from ..apps.database import get_meta, hhmm, minutes_of, row, rows, week_start
from .base import Params

EVENT_COLS = ("title", "date", "start_time", "end_time", "location")
TODO_COLS = ("title", "done", "due", "priority")
MESSAGE_COLS = ("folder", "subject", "starred")
NOTE_COLS = ("title", "body", "pinned")


def norm(text: object) -> str:
    """Case- and whitespace-insensitive form of ``text``."""
    return " ".join(str(text or "").split()).casefold()


def loose(text: object) -> str:
    """``norm`` that also ignores punctuation (names, addresses)."""
    return " ".join(re.findall(r"\w+", str(text or "").casefold()))


def act(name: str, *args: object) -> str:
    """A BrowserGym action string: ``act("fill", "title", "Hi")`` -> ``fill('title', 'Hi')``."""
    return f"{name}({', '.join(repr(a) for a in args)})"


def say_date(iso: str) -> str:
    """``Friday, February 6, 2026 (2026-02-06)``."""
    day = dt.date.fromisoformat(iso)
    return f"{day:%A}, {day:%B} {day.day}, {day.year} ({iso})"


def weekday(iso: str) -> str:
    """``Friday``."""
    return f"{dt.date.fromisoformat(iso):%A}"


def today(db: sqlite3.Connection) -> dt.date:
    """The apps' today."""
    return dt.date.fromisoformat(get_meta(db, "today"))


def this_week(db: sqlite3.Connection) -> list[str]:
    """Monday to Sunday of the current week, as dates."""
    monday = week_start(today(db))
    return [(monday + dt.timedelta(days=i)).isoformat() for i in range(7)]


def plus_minutes(hm: str, minutes: int) -> str:
    """``HH:MM`` plus ``minutes`` (capped at 23:59)."""
    return hhmm(min(minutes_of(hm) + minutes, 23 * 60 + 59))


def digest(items: Iterable[Sequence[Any]]) -> str:
    """A short fingerprint of rows."""
    data = json.dumps([list(i) for i in items], default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:20]


def table(
    db: sqlite3.Connection,
    name: str,
    cols: Sequence[str],
    *,
    max_id: int | None = None,
    exclude_ids: Iterable[int] = (),
    exclude_titles: Iterable[str] = (),
) -> list[tuple[Any, ...]]:
    """``(id, *cols)`` of ``name``'s rows, by id, without the excluded ones."""
    skip_ids = set(exclude_ids)
    skip_titles = {norm(t) for t in exclude_titles}
    found = []
    for r in rows(db, f"SELECT id, {', '.join(cols)} FROM {name} ORDER BY id"):
        if max_id is not None and r["id"] > max_id:
            continue
        if r["id"] in skip_ids or ("title" in cols and norm(r["title"]) in skip_titles):
            continue
        found.append(tuple(r))
    return found


def fingerprint(db: sqlite3.Connection, name: str, cols: Sequence[str], **kw: Any) -> str:
    """``digest`` of ``table(...)``."""
    return digest(table(db, name, cols, **kw))


def max_id(db: sqlite3.Connection, name: str) -> int:
    """The largest id in ``name`` (0 when empty)."""
    return int(db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {name}").fetchone()[0])


def new_rows(db: sqlite3.Connection, name: str, after: int) -> list[sqlite3.Row]:
    """Rows of ``name`` added after id ``after``."""
    return rows(db, f"SELECT * FROM {name} WHERE id > ? ORDER BY id", (after,))


def score(ok: bool) -> float:
    """1.0 or 0.0."""
    return 1.0 if ok else 0.0


def user(db: sqlite3.Connection) -> dict[str, str]:
    """The user's name, e-mail and address."""
    return {k: get_meta(db, f"user_{k}") for k in ("name", "email", "address")}


def contacts(db: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every contact, by id."""
    return rows(db, "SELECT * FROM contacts ORDER BY id")


def first(name: str) -> str:
    """First name."""
    return name.split()[0]


def recipients(message: sqlite3.Row) -> set[str]:
    """A message's recipients, lower-cased."""
    return {a.strip().lower() for a in message["recipients"].split(",") if a.strip()}


def sent_after(db: sqlite3.Connection, after: int) -> list[sqlite3.Row] | None:
    """Messages written after id ``after``; None if any is not a sent message."""
    found = new_rows(db, "messages", after)
    return found if all(m["folder"] == "sent" for m in found) else None


def add_minutes(stamp: str, minutes: int) -> str:
    """``YYYY-MM-DD HH:MM`` plus ``minutes``."""
    when = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M") + dt.timedelta(minutes=minutes)
    return when.strftime("%Y-%m-%d %H:%M")


def insert_message(
    db: sqlite3.Connection, sender: str, email: str, subject: str, body: str, sent_at: str,
    read: int = 0,
) -> int:  # fmt: skip
    """Put a message in the inbox; its id."""
    cursor = db.execute(
        "INSERT INTO messages (folder, sender_name, sender_email, recipients, subject, body, "
        "sent_at, is_read, starred) VALUES ('inbox', ?, ?, ?, ?, ?, ?, ?, 0)",
        (sender, email, get_meta(db, "user_email"), subject, body, sent_at, read),
    )
    db.commit()
    return int(cursor.lastrowid or 0)


def latest_stamp(db: sqlite3.Connection, email: str | None = None) -> str:
    """The latest ``sent_at`` in the mailbox (of ``email``'s messages), at least today 07:00."""
    floor = f"{today(db).isoformat()} 07:00"
    if email is None:
        found = db.execute("SELECT MAX(sent_at) FROM messages").fetchone()[0]
    else:
        found = db.execute(
            "SELECT MAX(sent_at) FROM messages WHERE sender_email = ?", (email,)
        ).fetchone()[0]
    return max(found or floor, floor)


def products_in(db: sqlite3.Connection, category: str, order: str) -> list[sqlite3.Row]:
    """The products of ``category`` in ``order``."""
    return rows(db, f"SELECT * FROM products WHERE category = ? ORDER BY {order}", (category,))


def cart(db: sqlite3.Connection) -> dict[int, int]:
    """``{product id: quantity}`` of the cart."""
    return {int(r[0]): int(r[1]) for r in db.execute("SELECT product_id, quantity FROM cart_items")}


def orders(db: sqlite3.Connection) -> list[tuple[sqlite3.Row, dict[int, int]]]:
    """Every order with its ``{product id: quantity}``."""
    found = []
    for order in rows(db, "SELECT * FROM orders ORDER BY id"):
        items = {
            int(r[0]): int(r[1])
            for r in db.execute(
                "SELECT product_id, quantity FROM order_items WHERE order_id = ?", (order["id"],)
            )
        }
        found.append((order, items))
    return found


def one_order(
    db: sqlite3.Connection, items: Iterable[Sequence[int]], name: str, address: str
) -> bool:
    """Exactly one order, with exactly ``items`` ([id, qty] pairs), to ``name`` at ``address``."""
    placed = orders(db)
    if len(placed) != 1:
        return False
    order, got = placed[0]
    wanted = {int(pid): int(qty) for pid, qty in items}
    return (
        got == wanted
        and loose(order["name"]) == loose(name)
        and loose(order["address"]) == loose(address)
    )


def checkout_actions(name: str, address: str) -> list[str]:
    """From any shop page with a non-empty cart: check out to ``name`` at ``address``."""
    return [
        act("click", "cart"),
        act("click", "checkout"),
        act("fill", "name", name),
        act("fill", "address", address),
        act("click", "place-order"),
    ]


def ship_to(params: Params, capital: bool = True) -> str:
    """``Ship to NAME, ADDRESS.`` for a goal (``ship to NAME, ADDRESS`` inside a sentence)."""
    text = f"ship to {params['ship_name']}, {params['ship_address']}"
    return f"S{text[1:]}." if capital else text


def shop_params(db: sqlite3.Connection) -> Params:
    """The user's name and address (where orders go) and the state that must not change."""
    me = user(db)
    return {
        "ship_name": me["name"],
        "ship_address": me["address"],
        "cart": [[pid, qty] for pid, qty in sorted(cart(db).items())],
    }


def unique_week_events(db: sqlite3.Connection, weekdays_only: bool = True) -> list[sqlite3.Row]:
    """This week's events whose title no other event has."""
    days = this_week(db)[:5] if weekdays_only else this_week(db)
    found = []
    for ev in rows(db, "SELECT * FROM events ORDER BY id"):
        if ev["date"] not in days:
            continue
        same = db.execute(
            "SELECT COUNT(*) FROM events WHERE lower(title) = lower(?)", (ev["title"],)
        ).fetchone()[0]
        if same == 1:
            found.append(ev)
    return found


def event_snapshot(db: sqlite3.Connection, **kw: Any) -> str:
    """Fingerprint of the events (``table`` arguments)."""
    return fingerprint(db, "events", EVENT_COLS, **kw)


def todo_snapshot(db: sqlite3.Connection, **kw: Any) -> str:
    """Fingerprint of the todos (``table`` arguments)."""
    return fingerprint(db, "todos", TODO_COLS, **kw)


def message_snapshot(db: sqlite3.Connection, **kw: Any) -> str:
    """Fingerprint of folders, subjects and stars (read flags may change freely)."""
    return fingerprint(db, "messages", MESSAGE_COLS, **kw)


def note_snapshot(db: sqlite3.Connection, **kw: Any) -> str:
    """Fingerprint of the notes (``table`` arguments)."""
    return fingerprint(db, "notes", NOTE_COLS, **kw)


def note_titled(db: sqlite3.Connection, title: str) -> sqlite3.Row:
    """The note with this exact title."""
    found = row(db, "SELECT * FROM notes WHERE title = ?", (title,))
    assert found is not None, title
    return found


def add_event(
    db: sqlite3.Connection, title: str, date: str, start: str, end: str, location: str = ""
) -> int:
    """Insert an event; its id."""
    cursor = db.execute(
        "INSERT INTO events (title, date, start_time, end_time, location, description) "
        "VALUES (?, ?, ?, ?, ?, '')",
        (title, date, start, end, location),
    )
    db.commit()
    return int(cursor.lastrowid or 0)


def matches_event(ev: sqlite3.Row, title: str, date: str, start: str, end: str) -> bool:
    """``ev`` has this title, date and times."""
    return (
        norm(ev["title"]) == norm(title)
        and ev["date"] == date
        and ev["start_time"] == start
        and ev["end_time"] == end
    )


def check_one_new_event(db: sqlite3.Connection, p: Params) -> float:
    """Exactly one event added, as asked (title, date, times); no other event changed."""
    added = new_rows(db, "events", p["max_id"])
    return score(
        event_snapshot(db, max_id=p["max_id"]) == p["old"]
        and len(added) == 1
        and matches_event(added[0], p["title"], p["date"], p["start"], p["end"])
    )
