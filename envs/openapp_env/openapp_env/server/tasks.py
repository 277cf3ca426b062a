"""The OpenApp tasks: goals in the five apps, each checked on the apps' database.

A task is code, not YAML: ``setup(db, rng)`` runs after
:func:`~openapp_env.server.apps.seed_database` and may add the rows the task needs
(a message to answer, a note to read); it returns the task's ``params`` (JSON-able,
deterministic for a given database and ``rng``). ``goal(params)`` is the instruction
the agent sees, with every value the check needs spelled out. ``check(db, params)``
reads the database after the episode: ``1.0`` when the task is solved, ``0.0``
otherwise — there is no partial credit in this task set. Checks compare text
loosely (case and runs of whitespace do not matter; for names and addresses
punctuation does not either) and are strict about what matters: the right row,
date, time, quantity, recipient, and nothing else changed (an extra event, a
deleted todo, a second order all give ``0.0``). ``solution(params)`` is a list of
BrowserGym action strings that solves the task from ``start_url`` with the apps'
semantic bids (the scripted agent of the tests).

Every check returns ``0.0`` on the state right after ``setup``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .apps.database import CATEGORIES, get_meta, hhmm, minutes_of, money, row, rows, week_start

Params = dict[str, Any]


@dataclass(frozen=True)
class Task:
    """One task; ``setup``, ``check`` and ``solution`` are never shown to the agent."""

    id: str  # snake_case, unique
    app: str  # calendar | todo | messages | notes | shop | multi
    title: str
    start_url: str  # where the browser starts
    setup: Callable[[sqlite3.Connection, random.Random], Params]
    goal: Callable[[Params], str]
    check: Callable[[sqlite3.Connection, Params], float]
    solution: Callable[[Params], list[str]]
    difficulty: str = "easy"  # easy | medium | hard


TASKS: dict[str, Task] = {}


def task(id: str, app: str, title: str, start_url: str, difficulty: str) -> Callable[[type], type]:
    """Register the task defined by a class holding ``setup``, ``goal``, ``check``,
    ``solution`` as static methods (a namespace, never instantiated)."""

    def register(spec: type) -> type:
        if id in TASKS:
            raise ValueError(f"duplicate task id {id}")
        TASKS[id] = Task(
            id=id,
            app=app,
            title=title,
            start_url=start_url,
            setup=spec.setup,  # type: ignore[attr-defined]
            goal=spec.goal,  # type: ignore[attr-defined]
            check=spec.check,  # type: ignore[attr-defined]
            solution=spec.solution,  # type: ignore[attr-defined]
            difficulty=difficulty,
        )
        return spec

    return register


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------


def check_one_new_event(db: sqlite3.Connection, p: Params) -> float:
    """Exactly one event added, as asked (title, date, times); no other event changed."""
    added = new_rows(db, "events", p["max_id"])
    return score(
        event_snapshot(db, max_id=p["max_id"]) == p["old"]
        and len(added) == 1
        and matches_event(added[0], p["title"], p["date"], p["start"], p["end"])
    )


def check_edited_event(db: sqlite3.Connection, p: Params) -> float:
    """The one event with that title now has the asked date and times, its location kept;
    no other event changed."""
    same = [e for e in rows(db, "SELECT * FROM events") if norm(e["title"]) == norm(p["title"])]
    return score(
        len(same) == 1
        and matches_event(same[0], p["title"], p["date"], p["start"], p["end"])
        and norm(same[0]["location"]) == norm(p["location"])
        and event_snapshot(db, exclude_titles=[p["title"]]) == p["others"]
    )


@task("calendar_add_meeting", "calendar", "Add a meeting", "/calendar", "easy")
class CalendarAddMeeting:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        person = first(rng.choice(contacts(db))["name"])
        date = this_week(db)[rng.randrange(5)]
        start = f"{rng.choice((10, 11, 14, 15, 16)):02d}:00"
        return {
            "title": f"Sync with {person}",
            "date": date,
            "start": start,
            "end": plus_minutes(start, 60),
            "max_id": max_id(db, "events"),
            "old": event_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Add a calendar event titled "{p["title"]}" on {say_date(p["date"])} '
            f"from {p['start']} to {p['end']}."
        )

    check = staticmethod(check_one_new_event)

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "add-event"),
            act("fill", "title", p["title"]),
            act("fill", "date", p["date"]),
            act("fill", "start-time", p["start"]),
            act("fill", "end-time", p["end"]),
            act("click", "save-event"),
        ]


@task("calendar_add_with_location", "calendar", "Add a dinner with a location", "/calendar",
      "easy")  # fmt: skip
class CalendarAddWithLocation:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        from .apps.database import VENUES

        person = first(rng.choice(contacts(db))["name"])
        date = this_week(db)[rng.randrange(7)]
        start = rng.choice(("18:30", "19:00", "19:30", "20:00"))
        return {
            "title": f"Dinner with {person}",
            "date": date,
            "start": start,
            "end": plus_minutes(start, 90),
            "location": rng.choice(VENUES),
            "max_id": max_id(db, "events"),
            "old": event_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Add an event "{p["title"]}" on {say_date(p["date"])} from {p["start"]} to '
            f'{p["end"]}, with the location "{p["location"]}".'
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        added = new_rows(db, "events", p["max_id"])
        return score(
            event_snapshot(db, max_id=p["max_id"]) == p["old"]
            and len(added) == 1
            and matches_event(added[0], p["title"], p["date"], p["start"], p["end"])
            and norm(added[0]["location"]) == norm(p["location"])
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "add-event"),
            act("fill", "title", p["title"]),
            act("fill", "date", p["date"]),
            act("fill", "start-time", p["start"]),
            act("fill", "end-time", p["end"]),
            act("fill", "location", p["location"]),
            act("click", "save-event"),
        ]


@task("calendar_delete_event", "calendar", "Delete an event", "/calendar", "easy")
class CalendarDeleteEvent:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        ev = rng.choice(unique_week_events(db))
        return {
            "id": ev["id"],
            "title": ev["title"],
            "date": ev["date"],
            "others": event_snapshot(db, exclude_ids=[ev["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Delete the event "{p["title"]}" on {say_date(p["date"])} from the calendar.'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        gone = row(db, "SELECT id FROM events WHERE id = ?", (p["id"],)) is None
        return score(gone and event_snapshot(db) == p["others"])

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"delete-event-{p['id']}")]


@task("calendar_reschedule", "calendar", "Move an event to another day", "/calendar", "medium")
class CalendarReschedule:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        ev = rng.choice(unique_week_events(db))
        monday = week_start(today(db))
        new = (monday + dt.timedelta(days=7 + rng.randrange(5))).isoformat()
        return {
            "id": ev["id"],
            "title": ev["title"],
            "old_date": ev["date"],
            "date": new,
            "start": ev["start_time"],
            "end": ev["end_time"],
            "location": ev["location"],
            "others": event_snapshot(db, exclude_titles=[ev["title"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Move the event "{p["title"]}" from {say_date(p["old_date"])} to '
            f"{say_date(p['date'])}, keeping its time ({p['start']} to {p['end']})."
        )

    check = staticmethod(check_edited_event)

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"event-{p['id']}"),
            act("click", "edit-event"),
            act("fill", "date", p["date"]),
            act("click", "save-event"),
        ]


@task("calendar_change_time", "calendar", "Change an event's time", "/calendar", "medium")
class CalendarChangeTime:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        ev = rng.choice(unique_week_events(db))
        length = minutes_of(ev["end_time"]) - minutes_of(ev["start_time"])
        choices = [
            hhmm(m)
            for m in range(8 * 60, 19 * 60, 30)
            if hhmm(m) != ev["start_time"] and m + length <= 21 * 60
        ]
        start = rng.choice(choices)
        return {
            "id": ev["id"],
            "title": ev["title"],
            "date": ev["date"],
            "old_start": ev["start_time"],
            "start": start,
            "end": plus_minutes(start, length),
            "location": ev["location"],
            "others": event_snapshot(db, exclude_titles=[ev["title"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'The event "{p["title"]}" on {say_date(p["date"])} now runs from {p["start"]} '
            f"to {p['end']}. Update it in the calendar (same day)."
        )

    check = staticmethod(check_edited_event)

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"event-{p['id']}"),
            act("click", "edit-event"),
            act("fill", "start-time", p["start"]),
            act("fill", "end-time", p["end"]),
            act("click", "save-event"),
        ]


@task("calendar_rename_event", "calendar", "Rename an event", "/calendar", "medium")
class CalendarRenameEvent:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        ev = rng.choice(unique_week_events(db))
        new = rng.choice(
            ("Strategy session", "Focus time", "Offsite prep", "Roadmap review", "Catch-up")
        )
        return {
            "id": ev["id"],
            "title": ev["title"],
            "new_title": new,
            "date": ev["date"],
            "start": ev["start_time"],
            "end": ev["end_time"],
            "others": event_snapshot(db, exclude_titles=[ev["title"], new]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Rename the event "{p["title"]}" on {say_date(p["date"])} to "{p["new_title"]}" '
            "(same day and time)."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        events = rows(db, "SELECT * FROM events")
        renamed = [e for e in events if norm(e["title"]) == norm(p["new_title"])]
        old = [e for e in events if norm(e["title"]) == norm(p["title"])]
        return score(
            not old
            and len(renamed) == 1
            and matches_event(renamed[0], p["new_title"], p["date"], p["start"], p["end"])
            and event_snapshot(db, exclude_titles=[p["title"], p["new_title"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"event-{p['id']}"),
            act("click", "edit-event"),
            act("fill", "title", p["new_title"]),
            act("click", "save-event"),
        ]


@task("calendar_add_recurring", "calendar", "Add three workouts next week", "/calendar", "hard")
class CalendarAddRecurring:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        title = rng.choice(("Morning run", "Swim training", "Spanish class", "Gym session"))
        hour = rng.choice((7, 8, 18))
        monday = week_start(today(db)) + dt.timedelta(days=7)
        dates = [(monday + dt.timedelta(days=d)).isoformat() for d in (0, 2, 4)]
        start = f"{hour:02d}:00"
        return {
            "title": title,
            "dates": dates,
            "start": start,
            "end": plus_minutes(start, 60),
            "max_id": max_id(db, "events"),
            "old": event_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        days = ", ".join(say_date(d) for d in p["dates"][:2]) + f" and {say_date(p['dates'][2])}"
        return (
            f'Next week, add an event "{p["title"]}" from {p["start"]} to {p["end"]} on Monday, '
            f"Wednesday and Friday: {days} — three events in all."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        added = new_rows(db, "events", p["max_id"])
        dates = sorted(e["date"] for e in added)
        return score(
            event_snapshot(db, max_id=p["max_id"]) == p["old"]
            and len(added) == 3
            and dates == sorted(p["dates"])
            and all(matches_event(e, p["title"], e["date"], p["start"], p["end"]) for e in added)
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        actions = []
        for date in p["dates"]:
            actions += [
                act("click", "add-event"),
                act("fill", "title", p["title"]),
                act("fill", "date", date),
                act("fill", "start-time", p["start"]),
                act("fill", "end-time", p["end"]),
                act("click", "save-event"),
            ]
        return actions


@task("calendar_clear_day", "calendar", "Cancel everything on one day", "/calendar", "medium")
class CalendarClearDay:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        date = this_week(db)[rng.randrange(5)]
        extras = rng.sample(
            (("Pick up parcel", "12:00", "12:30"), ("Call the bank", "16:00", "16:30"),
             ("Dentist follow-up", "17:00", "17:30"), ("Coffee break", "15:00", "15:30")), 2
        )  # fmt: skip
        for title, start, end in extras:
            add_event(db, title, date, start, end)
        found = rows(db, "SELECT id FROM events WHERE date = ? ORDER BY id", (date,))
        ids = [r["id"] for r in found]
        return {
            "date": date,
            "ids": ids,
            "others": event_snapshot(db, exclude_ids=ids),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f"Clear {say_date(p['date'])}: delete every event on that day, and nothing else."

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        left = db.execute("SELECT COUNT(*) FROM events WHERE date = ?", (p["date"],)).fetchone()[0]
        return score(left == 0 and event_snapshot(db) == p["others"])

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"delete-event-{i}") for i in p["ids"]]


@task("calendar_follow_up", "calendar", "Add a follow-up after a day's last event", "/calendar",
      "medium")  # fmt: skip
class CalendarFollowUp:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        clear = []  # days whose last event to start is also the last to end
        for day in this_week(db)[:5]:
            found = rows(db, "SELECT * FROM events WHERE date = ? ORDER BY start_time", (day,))
            if found and found[-1]["end_time"] == max(e["end_time"] for e in found):
                clear.append(day)
        if not clear:
            clear = [this_week(db)[rng.randrange(5)]]
            add_event(db, "Evening call", clear[0], "20:00", "20:30")
        date = rng.choice(clear)
        last = db.execute("SELECT MAX(end_time) FROM events WHERE date = ?", (date,)).fetchone()[0]
        return {
            "title": rng.choice(("Wrap-up notes", "Follow-up email", "Debrief")),
            "date": date,
            "start": last,
            "end": plus_minutes(last, 30),
            "max_id": max_id(db, "events"),
            "old": event_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'On {say_date(p["date"])}, add a 30-minute event "{p["title"]}" that starts exactly '
            "when the last event already on that day ends."
        )

    check = staticmethod(check_one_new_event)

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"add-event-{p['date']}"),
            act("fill", "title", p["title"]),
            act("fill", "start-time", p["start"]),
            act("fill", "end-time", p["end"]),
            act("click", "save-event"),
        ]


# ---------------------------------------------------------------------------
# Todo
# ---------------------------------------------------------------------------

NEW_TODOS = (
    "Book a table for Saturday", "Call the plumber", "Buy stamps", "Renew car insurance",
    "Email the landlord", "Pick up the parcel", "Get new glasses", "Descale the kettle",
    "Buy a birthday card", "Sort the recycling",
)  # fmt: skip


def todo_snapshot(db: sqlite3.Connection, **kw: Any) -> str:
    """Fingerprint of the todos (``table`` arguments)."""
    return fingerprint(db, "todos", TODO_COLS, **kw)


def fresh_todo(db: sqlite3.Connection, rng: random.Random) -> str:
    """A todo text the list does not have."""
    have = {norm(r[0]) for r in db.execute("SELECT title FROM todos")}
    return rng.choice([t for t in NEW_TODOS if norm(t) not in have])


def open_todos(db: sqlite3.Connection) -> list[sqlite3.Row]:
    """Open todos, by id."""
    return rows(db, "SELECT * FROM todos WHERE done = 0 ORDER BY id")


@task("todo_add", "todo", "Add a todo", "/todo", "easy")
class TodoAdd:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        return {
            "title": fresh_todo(db, rng),
            "max_id": max_id(db, "todos"),
            "old": todo_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Add a todo "{p["title"]}".'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        added = new_rows(db, "todos", p["max_id"])
        return score(
            todo_snapshot(db, max_id=p["max_id"]) == p["old"]
            and len(added) == 1
            and norm(added[0]["title"]) == norm(p["title"])
            and not added[0]["done"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("fill", "new-todo", p["title"]), act("click", "add-todo")]


@task("todo_mark_done", "todo", "Mark a todo done", "/todo", "easy")
class TodoMarkDone:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        todo = rng.choice(open_todos(db))
        return {
            "id": todo["id"],
            "title": todo["title"],
            "others": todo_snapshot(db, exclude_ids=[todo["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Mark the todo "{p["title"]}" as done.'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        todo = row(db, "SELECT * FROM todos WHERE id = ?", (p["id"],))
        return score(
            todo is not None
            and todo["done"] == 1
            and norm(todo["title"]) == norm(p["title"])
            and todo_snapshot(db, exclude_ids=[p["id"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"todo-{p['id']}-done")]


@task("todo_delete", "todo", "Delete a todo", "/todo", "easy")
class TodoDelete:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        todo = rng.choice(open_todos(db))
        return {
            "id": todo["id"],
            "title": todo["title"],
            "others": todo_snapshot(db, exclude_ids=[todo["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Delete the todo "{p["title"]}" from the list (do not just mark it done).'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        gone = row(db, "SELECT id FROM todos WHERE id = ?", (p["id"],)) is None
        return score(gone and todo_snapshot(db) == p["others"])

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"todo-{p['id']}-delete")]


@task("todo_reopen", "todo", "Reopen a completed todo", "/todo", "easy")
class TodoReopen:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        todo = rng.choice(rows(db, "SELECT * FROM todos WHERE done = 1 ORDER BY id"))
        return {
            "id": todo["id"],
            "title": todo["title"],
            "others": todo_snapshot(db, exclude_ids=[todo["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'The todo "{p["title"]}" is not finished after all: mark it as not done '
            "(keep it in the list)."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        todo = row(db, "SELECT * FROM todos WHERE id = ?", (p["id"],))
        return score(
            todo is not None
            and todo["done"] == 0
            and todo_snapshot(db, exclude_ids=[p["id"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"todo-{p['id']}-done")]


@task("todo_add_detailed", "todo", "Add a todo with a due date and priority", "/todo", "medium")
class TodoAddDetailed:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        due = (today(db) + dt.timedelta(days=rng.randint(2, 12))).isoformat()
        return {
            "title": fresh_todo(db, rng),
            "due": due,
            "priority": rng.choice(("high", "low")),
            "max_id": max_id(db, "todos"),
            "old": todo_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Add a todo "{p["title"]}" due {say_date(p["due"])} with {p["priority"]} priority.'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        added = new_rows(db, "todos", p["max_id"])
        return score(
            todo_snapshot(db, max_id=p["max_id"]) == p["old"]
            and len(added) == 1
            and norm(added[0]["title"]) == norm(p["title"])
            and added[0]["due"] == p["due"]
            and added[0]["priority"] == p["priority"]
            and not added[0]["done"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("fill", "new-todo", p["title"]),
            act("fill", "due", p["due"]),
            act("select_option", "priority", p["priority"]),
            act("click", "add-todo"),
        ]


@task("todo_complete_high", "todo", "Finish every high-priority todo", "/todo", "medium")
class TodoCompleteHigh:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        candidates = [t for t in open_todos(db) if t["priority"] != "high"]
        for todo in rng.sample(candidates, 2):
            db.execute("UPDATE todos SET priority = 'high' WHERE id = ?", (todo["id"],))
        db.commit()
        ids = [t["id"] for t in open_todos(db) if t["priority"] == "high"]
        return {
            "ids": ids,
            "titles": [t["title"] for t in open_todos(db) if t["id"] in ids],
            "others": todo_snapshot(db, exclude_ids=ids),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return "Mark every open todo with high priority as done (and only those)."

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        targets = rows(db, f"SELECT * FROM todos WHERE id IN ({','.join('?' * len(p['ids']))})",
                       p["ids"])  # fmt: skip
        return score(
            len(targets) == len(p["ids"])
            and all(t["done"] == 1 and t["priority"] == "high" for t in targets)
            and todo_snapshot(db, exclude_ids=p["ids"]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"todo-{i}-done") for i in p["ids"]]


@task("todo_clear_completed", "todo", "Remove completed todos", "/todo", "easy")
class TodoClearCompleted:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        done = [r["id"] for r in rows(db, "SELECT id FROM todos WHERE done = 1 ORDER BY id")]
        return {"done_ids": done, "open": todo_snapshot(db, exclude_ids=done)}

    @staticmethod
    def goal(p: Params) -> str:
        return "Remove all completed todos from the list; keep the open ones as they are."

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        left = db.execute("SELECT COUNT(*) FROM todos WHERE done = 1").fetchone()[0]
        return score(left == 0 and todo_snapshot(db) == p["open"])

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", "clear-completed")]


@task("todo_rename", "todo", "Rename a todo", "/todo", "medium")
class TodoRename:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        todo = rng.choice(open_todos(db))
        new = fresh_todo(db, rng)
        return {
            "id": todo["id"],
            "title": todo["title"],
            "new_title": new,
            "due": todo["due"],
            "priority": todo["priority"],
            "others": todo_snapshot(db, exclude_titles=[todo["title"], new]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Rename the todo "{p["title"]}" to "{p["new_title"]}" (change nothing else).'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        todos = rows(db, "SELECT * FROM todos")
        renamed = [t for t in todos if norm(t["title"]) == norm(p["new_title"])]
        old = [t for t in todos if norm(t["title"]) == norm(p["title"])]
        return score(
            not old
            and len(renamed) == 1
            and renamed[0]["due"] == p["due"]
            and renamed[0]["priority"] == p["priority"]
            and renamed[0]["done"] == 0
            and todo_snapshot(db, exclude_titles=[p["title"], p["new_title"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"todo-{p['id']}-edit"),
            act("fill", "todo-title", p["new_title"]),
            act("click", "save-todo"),
        ]


@task("todo_reschedule", "todo", "Change a todo's due date and priority", "/todo", "medium")
class TodoReschedule:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        todo = rng.choice(open_todos(db))
        due = (today(db) + dt.timedelta(days=rng.randint(3, 20))).isoformat()
        while due == todo["due"]:
            due = (today(db) + dt.timedelta(days=rng.randint(3, 20))).isoformat()
        priority = rng.choice([p for p in ("low", "normal", "high") if p != todo["priority"]])
        return {
            "id": todo["id"],
            "title": todo["title"],
            "due": due,
            "priority": priority,
            "others": todo_snapshot(db, exclude_ids=[todo["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Change the todo "{p["title"]}": it is now due {say_date(p["due"])} and its '
            f"priority is {p['priority']}."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        todo = row(db, "SELECT * FROM todos WHERE id = ?", (p["id"],))
        return score(
            todo is not None
            and norm(todo["title"]) == norm(p["title"])
            and todo["due"] == p["due"]
            and todo["priority"] == p["priority"]
            and todo["done"] == 0
            and todo_snapshot(db, exclude_ids=[p["id"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"todo-{p['id']}-edit"),
            act("fill", "due", p["due"]),
            act("select_option", "priority", p["priority"]),
            act("click", "save-todo"),
        ]


# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------

SUBJECTS = (
    "Friday plans", "Quarterly report", "Weekend hike", "Thanks for yesterday", "Parking spot",
    "Book club pick", "Spare keys", "Holiday dates",
)  # fmt: skip
TEXTS = (
    "See you at ten tomorrow.", "The report is on the shared drive.",
    "Can you bring the projector?", "Let's meet at the station at 9.",
    "I left the keys with the neighbour.", "Dinner is on me this time.",
)  # fmt: skip


def message_snapshot(db: sqlite3.Connection, **kw: Any) -> str:
    """Fingerprint of folders, subjects and stars (read flags may change freely)."""
    return fingerprint(db, "messages", MESSAGE_COLS, **kw)


def inbox_from_contacts(db: sqlite3.Connection) -> list[sqlite3.Row]:
    """Inbox messages sent by contacts (not newsletters), by id."""
    return rows(
        db,
        "SELECT m.* FROM messages m JOIN contacts c ON c.email = m.sender_email "
        "WHERE m.folder = 'inbox' ORDER BY m.id",
    )


def contact_of(db: sqlite3.Connection, email: str) -> sqlite3.Row:
    """The contact with this address."""
    found = row(db, "SELECT * FROM contacts WHERE email = ?", (email,))
    assert found is not None
    return found


@task("messages_send", "messages", "Send a message", "/messages", "easy")
class MessagesSend:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        who = rng.choice(contacts(db))
        return {
            "name": who["name"],
            "email": who["email"],
            "subject": rng.choice(SUBJECTS),
            "text": rng.choice(TEXTS),
            "max_id": max_id(db, "messages"),
            "old": message_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Send a message to {p["name"]} ({p["email"]}) with the subject "{p["subject"]}" '
            f'and the text "{p["text"]}".'
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        sent = sent_after(db, p["max_id"])
        return score(
            sent is not None
            and len(sent) == 1
            and recipients(sent[0]) == {p["email"].lower()}
            and norm(sent[0]["subject"]) == norm(p["subject"])
            and norm(p["text"]) in norm(sent[0]["body"])
            and message_snapshot(db, max_id=p["max_id"]) == p["old"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "compose"),
            act("fill", "to", p["email"]),
            act("fill", "subject", p["subject"]),
            act("fill", "body", p["text"]),
            act("click", "send"),
        ]


@task("messages_reply_latest", "messages", "Reply to someone's latest message", "/messages",
      "medium")  # fmt: skip
class MessagesReplyLatest:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        from .apps.database import VENUES

        who = rng.choice(contacts(db))
        me = first(user(db)["name"])
        stamp = latest_stamp(db, who["email"])
        older = add_minutes(stamp, rng.randint(5, 30))
        newer = add_minutes(older, rng.randint(20, 90))
        insert_message(
            db, who["name"], who["email"], "Tonight?",
            f"Hi {me},\n\nAre we still on for tonight?\n\n{first(who['name'])}", older, read=1,
        )  # fmt: skip
        venue = rng.choice(VENUES)
        latest = insert_message(
            db, who["name"], who["email"], f"We're at {venue}",
            f"Hi {me}, we just got a table at {venue}. Are you coming?\n{first(who['name'])}",
            newer,
        )  # fmt: skip
        return {
            "name": who["name"],
            "email": who["email"],
            "id": latest,
            "subject": f"We're at {venue}",
            "text": rng.choice(("on my way", "be there in ten minutes", "just leaving now")),
            "max_id": max_id(db, "messages"),
            "old": message_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Reply to {first(p["name"])}\'s most recent message with "{p["text"]}".'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        sent = sent_after(db, p["max_id"])
        if sent is None or len(sent) != 1:
            return 0.0
        msg = sent[0]
        answers = msg["reply_to"] == p["id"] or (
            msg["reply_to"] is None and norm(p["subject"]) in norm(msg["subject"])
        )
        return score(
            answers
            and recipients(msg) == {p["email"].lower()}
            and norm(p["text"]) in norm(msg["body"])
            and message_snapshot(db, max_id=p["max_id"]) == p["old"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"message-{p['id']}"),
            act("click", "reply"),
            act("fill", "reply-body", p["text"]),
            act("click", "send-reply"),
        ]


@task("messages_star", "messages", "Star a message", "/messages", "easy")
class MessagesStar:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        msg = rng.choice([m for m in inbox_from_contacts(db) if not m["starred"]])
        return {
            "id": msg["id"],
            "subject": msg["subject"],
            "name": msg["sender_name"],
            "others": message_snapshot(db, exclude_ids=[msg["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Star the message "{p["subject"]}" from {p["name"]}.'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        msg = row(db, "SELECT * FROM messages WHERE id = ?", (p["id"],))
        return score(
            msg is not None
            and msg["starred"] == 1
            and msg["folder"] == "inbox"
            and message_snapshot(db, exclude_ids=[p["id"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"star-{p['id']}")]


@task("messages_delete", "messages", "Delete a message", "/messages", "easy")
class MessagesDelete:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        msg = rng.choice(inbox_from_contacts(db))
        return {
            "id": msg["id"],
            "subject": msg["subject"],
            "name": msg["sender_name"],
            "others": message_snapshot(db, exclude_ids=[msg["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Delete the message "{p["subject"]}" from {p["name"]}.'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        msg = row(db, "SELECT * FROM messages WHERE id = ?", (p["id"],))
        deleted = msg is None or msg["folder"] == "trash"
        return score(deleted and message_snapshot(db, exclude_ids=[p["id"]]) == p["others"])

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"message-{p['id']}"), act("click", "delete-message")]


@task("messages_mark_unread", "messages", "Mark a message unread", "/messages", "easy")
class MessagesMarkUnread:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        msg = rng.choice([m for m in inbox_from_contacts(db) if m["is_read"]])
        return {
            "id": msg["id"],
            "subject": msg["subject"],
            "name": msg["sender_name"],
            "others": message_snapshot(db, exclude_ids=[msg["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Mark the message "{p["subject"]}" from {p["name"]} as unread.'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        msg = row(db, "SELECT * FROM messages WHERE id = ?", (p["id"],))
        return score(
            msg is not None
            and msg["is_read"] == 0
            and msg["folder"] == "inbox"
            and message_snapshot(db, exclude_ids=[p["id"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"message-{p['id']}"), act("click", "mark-unread")]


@task("messages_forward", "messages", "Forward a message", "/messages", "medium")
class MessagesForward:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        msg = rng.choice(inbox_from_contacts(db))
        to = rng.choice([c for c in contacts(db) if c["email"] != msg["sender_email"]])
        marker = max(msg["body"].splitlines(), key=len)
        return {
            "id": msg["id"],
            "subject": msg["subject"],
            "from": msg["sender_name"],
            "to_name": to["name"],
            "to_email": to["email"],
            "marker": marker,
            "max_id": max_id(db, "messages"),
            "old": message_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Forward the message "{p["subject"]}" from {p["from"]} to {p["to_name"]}, '
            "with the original text included."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        sent = sent_after(db, p["max_id"])
        return score(
            sent is not None
            and len(sent) == 1
            and recipients(sent[0]) == {p["to_email"].lower()}
            and norm(p["subject"]) in norm(sent[0]["subject"])
            and norm(p["marker"]) in norm(sent[0]["body"])
            and message_snapshot(db, max_id=p["max_id"]) == p["old"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"message-{p['id']}"),
            act("click", "forward"),
            act("fill", "to", p["to_name"]),
            act("click", "send"),
        ]


PROMO_SENDERS = (
    ("Gadget Galaxy", "news@gadgets.example.com"),
    ("Travel Deals Weekly", "offers@travel.example.net"),
    ("Pizza Planet", "promo@pizza.example.org"),
)
PROMO_SUBJECTS = (
    "Flash sale: 24 hours only", "Your weekly picks", "Last chance!", "A gift for you",
    "New arrivals are here",
)  # fmt: skip


@task("messages_delete_sender", "messages", "Delete all mail from a sender", "/messages",
      "medium")  # fmt: skip
class MessagesDeleteSender:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        sender, email = rng.choice(PROMO_SENDERS)
        ids = []
        for days_ago, subject in zip((5, 3, 1), rng.sample(PROMO_SUBJECTS, 3), strict=True):
            day = (today(db) - dt.timedelta(days=days_ago)).isoformat()
            when = f"{day} {hhmm(rng.randrange(6 * 60, 8 * 60))}"
            ids.append(insert_message(db, sender, email, subject, f"{subject}. Shop now.", when))
        return {
            "sender": sender,
            "email": email,
            "ids": ids,
            "others": message_snapshot(db, exclude_ids=ids),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f"Delete every message from {p['sender']} ({p['email']}); keep all other mail."

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        left = [
            m
            for m in rows(db, "SELECT * FROM messages WHERE sender_email = ?", (p["email"],))
            if m["folder"] != "trash"
        ]
        return score(not left and message_snapshot(db, exclude_ids=p["ids"]) == p["others"])

    @staticmethod
    def solution(p: Params) -> list[str]:
        actions = []
        for mid in p["ids"]:
            actions += [act("click", f"message-{mid}"), act("click", "delete-message")]
        return actions


@task("messages_star_sender", "messages", "Star every message from someone", "/messages",
      "medium")  # fmt: skip
class MessagesStarSender:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        who = rng.choice(contacts(db))
        stamp = latest_stamp(db, who["email"])
        me = first(user(db)["name"])
        for index, subject in enumerate(rng.sample(("Slides", "Receipt", "Schedule"), 2)):
            insert_message(
                db, who["name"], who["email"], subject,
                f"Hi {me}, here is the {subject.lower()} we talked about.\n{first(who['name'])}",
                add_minutes(stamp, 10 + index * 30), read=1,
            )  # fmt: skip
        db.execute("UPDATE messages SET starred = 0 WHERE sender_email = ?", (who["email"],))
        db.commit()
        ids = [
            m["id"]
            for m in rows(
                db,
                "SELECT id FROM messages WHERE sender_email = ? AND folder = 'inbox' ORDER BY id",
                (who["email"],),
            )
        ]
        return {
            "name": who["name"],
            "email": who["email"],
            "ids": ids,
            "others": message_snapshot(db, exclude_ids=ids),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f"Star every message in your inbox from {p['name']} (and no others)."

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        marks = rows(
            db,
            f"SELECT starred, folder FROM messages WHERE id IN ({','.join('?' * len(p['ids']))})",
            p["ids"],
        )
        return score(
            len(marks) == len(p["ids"])
            and all(m["starred"] == 1 and m["folder"] == "inbox" for m in marks)
            and message_snapshot(db, exclude_ids=p["ids"]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"star-{i}") for i in p["ids"]]


@task("messages_send_two", "messages", "One message to two people", "/messages", "medium")
class MessagesSendTwo:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        one, two = rng.sample(contacts(db), 2)
        return {
            "names": [one["name"], two["name"]],
            "emails": [one["email"], two["email"]],
            "subject": rng.choice(SUBJECTS),
            "text": rng.choice(TEXTS),
            "max_id": max_id(db, "messages"),
            "old": message_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f"Send one message addressed to both {p['names'][0]} and {p['names'][1]}, with the "
            f'subject "{p["subject"]}" and the text "{p["text"]}".'
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        sent = sent_after(db, p["max_id"])
        return score(
            sent is not None
            and len(sent) == 1
            and recipients(sent[0]) == {e.lower() for e in p["emails"]}
            and norm(sent[0]["subject"]) == norm(p["subject"])
            and norm(p["text"]) in norm(sent[0]["body"])
            and message_snapshot(db, max_id=p["max_id"]) == p["old"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "compose"),
            act("fill", "to", ", ".join(p["names"])),
            act("fill", "subject", p["subject"]),
            act("fill", "body", p["text"]),
            act("click", "send"),
        ]


# ---------------------------------------------------------------------------
# Notes
# ---------------------------------------------------------------------------

NEW_NOTES = (
    ("Garden plan", "Plant tomatoes and basil in May."),
    ("Party checklist", "Balloons, snacks, playlist, extra chairs."),
    ("Questions for the doctor", "Ask about the allergy test results."),
    ("Weekend menu", "Saturday: pancakes. Sunday: roast vegetables."),
    ("Gift ideas", "A good umbrella and a cookbook."),
)


def note_snapshot(db: sqlite3.Connection, **kw: Any) -> str:
    """Fingerprint of the notes (``table`` arguments)."""
    return fingerprint(db, "notes", NOTE_COLS, **kw)


def note_titled(db: sqlite3.Connection, title: str) -> sqlite3.Row:
    """The note with this exact title."""
    found = row(db, "SELECT * FROM notes WHERE title = ?", (title,))
    assert found is not None, title
    return found


def fresh_note_title(db: sqlite3.Connection, choices: Sequence[str], rng: random.Random) -> str:
    """A title from ``choices`` that no note has."""
    have = {norm(r[0]) for r in db.execute("SELECT title FROM notes")}
    return rng.choice([c for c in choices if norm(c) not in have])


@task("notes_create", "notes", "Write a note", "/notes", "easy")
class NotesCreate:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        title, text = rng.choice(NEW_NOTES)
        return {
            "title": title,
            "text": text,
            "max_id": max_id(db, "notes"),
            "old": note_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Create a note titled "{p["title"]}" with the text "{p["text"]}".'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        added = new_rows(db, "notes", p["max_id"])
        return score(
            note_snapshot(db, max_id=p["max_id"]) == p["old"]
            and len(added) == 1
            and norm(added[0]["title"]) == norm(p["title"])
            and norm(p["text"]) in norm(added[0]["body"])
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "new-note"),
            act("fill", "note-title", p["title"]),
            act("fill", "note-body", p["text"]),
            act("click", "save-note"),
        ]


@task("notes_delete", "notes", "Delete a note", "/notes", "easy")
class NotesDelete:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        note = rng.choice(rows(db, "SELECT * FROM notes ORDER BY id"))
        return {
            "id": note["id"],
            "title": note["title"],
            "others": note_snapshot(db, exclude_ids=[note["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Delete the note "{p["title"]}".'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        gone = row(db, "SELECT id FROM notes WHERE id = ?", (p["id"],)) is None
        return score(gone and note_snapshot(db) == p["others"])

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"note-{p['id']}"), act("click", "delete-note")]


@task("notes_rename", "notes", "Rename a note", "/notes", "easy")
class NotesRename:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        note = rng.choice(rows(db, "SELECT * FROM notes ORDER BY id"))
        new = fresh_note_title(
            db, ("Keep", "Important", "Reference", "Misc", "Archive", "To sort"), rng
        )
        return {
            "id": note["id"],
            "title": note["title"],
            "new_title": new,
            "body": note["body"],
            "others": note_snapshot(db, exclude_titles=[note["title"], new]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Rename the note "{p["title"]}" to "{p["new_title"]}" without changing its text.'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        notes = rows(db, "SELECT * FROM notes")
        renamed = [n for n in notes if norm(n["title"]) == norm(p["new_title"])]
        old = [n for n in notes if norm(n["title"]) == norm(p["title"])]
        return score(
            not old
            and len(renamed) == 1
            and norm(renamed[0]["body"]) == norm(p["body"])
            and note_snapshot(db, exclude_titles=[p["title"], p["new_title"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"note-{p['id']}"),
            act("click", "edit-note"),
            act("fill", "note-title", p["new_title"]),
            act("click", "save-note"),
        ]


@task("notes_append_item", "notes", "Add an item to a list note", "/notes", "medium")
class NotesAppendItem:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        from .apps.database import GROCERIES

        note = note_titled(db, "Shopping list")
        item = rng.choice([g for g in GROCERIES if g not in note["body"]])
        return {
            "id": note["id"],
            "title": note["title"],
            "body": note["body"],
            "line": f"- {item}",
            "others": note_snapshot(db, exclude_ids=[note["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Add the line "{p["line"]}" at the end of the note "{p["title"]}", keeping the '
            "lines already there."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        note = row(db, "SELECT * FROM notes WHERE id = ?", (p["id"],))
        if note is None:
            return 0.0
        body, old, line = norm(note["body"]), norm(p["body"]), norm(p["line"])
        return score(
            norm(note["title"]) == norm(p["title"])
            and body.startswith(old)
            and body.endswith(line)
            and len(body) <= len(old) + len(line) + 2
            and note_snapshot(db, exclude_ids=[p["id"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"note-{p['id']}"),
            act("click", "edit-note"),
            act("fill", "note-body", f"{p['body']}\n{p['line']}"),
            act("click", "save-note"),
        ]


@task("notes_pin", "notes", "Pin a note", "/notes", "easy")
class NotesPin:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        note = rng.choice(rows(db, "SELECT * FROM notes WHERE pinned = 0 ORDER BY id"))
        return {
            "id": note["id"],
            "title": note["title"],
            "others": note_snapshot(db, exclude_ids=[note["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return f'Pin the note "{p["title"]}".'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        note = row(db, "SELECT * FROM notes WHERE id = ?", (p["id"],))
        return score(
            note is not None
            and note["pinned"] == 1
            and note_snapshot(db, exclude_ids=[p["id"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", f"note-{p['id']}"), act("click", "pin-note")]


@task("notes_update_password", "notes", "Update the Wi-Fi password", "/notes", "medium")
class NotesUpdatePassword:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        from .apps.database import PASSWORD_WORDS

        note = note_titled(db, "Home Wi-Fi")
        old = re.search(r"Password: (\S+)", note["body"])
        assert old is not None
        new = f"{rng.choice(PASSWORD_WORDS)}-{rng.choice(PASSWORD_WORDS)}-{rng.randint(100, 999)}"
        return {
            "id": note["id"],
            "title": note["title"],
            "body": note["body"],
            "old_password": old.group(1),
            "password": new,
            "others": note_snapshot(db, exclude_ids=[note["id"]]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'The Wi-Fi password has changed to "{p["password"]}". Update the note that holds '
            "the Wi-Fi password (keep the rest of the note as it is)."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        note = row(db, "SELECT * FROM notes WHERE id = ?", (p["id"],))
        if note is None:
            return 0.0
        kept = [norm(line) for line in p["body"].splitlines() if p["old_password"] not in line]
        body = norm(note["body"])
        return score(
            norm(note["title"]) == norm(p["title"])
            and p["password"] in note["body"]
            and p["old_password"] not in note["body"]
            and all(line in body for line in kept)
            and note_snapshot(db, exclude_ids=[p["id"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"note-{p['id']}"),
            act("click", "edit-note"),
            act("fill", "note-body", p["body"].replace(p["old_password"], p["password"])),
            act("click", "save-note"),
        ]


DRAFTS = (
    "toast for the wedding", "letter to the council", "blog post about hiking",
    "complaint about the heating", "speech for the team party", "newsletter intro",
)  # fmt: skip


@task("notes_delete_drafts", "notes", "Delete all drafts", "/notes", "medium")
class NotesDeleteDrafts:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        ids = []
        for index, topic in enumerate(rng.sample(DRAFTS, 3)):
            day = (today(db) - dt.timedelta(days=rng.randint(1, 9))).isoformat()
            cursor = db.execute(
                "INSERT INTO notes (title, body, pinned, updated_at) VALUES (?, ?, 0, ?)",
                (f"Draft: {topic}", f"First attempt at the {topic}. Needs work.",
                 f"{day} 19:1{index}"),
            )  # fmt: skip
            ids.append(int(cursor.lastrowid or 0))
        db.commit()
        return {"ids": ids, "others": note_snapshot(db, exclude_ids=ids)}

    @staticmethod
    def goal(p: Params) -> str:
        return 'Delete every note whose title starts with "Draft"; keep all the other notes.'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        drafts = [
            n for n in rows(db, "SELECT title FROM notes") if norm(n["title"]).startswith("draft")
        ]
        return score(not drafts and note_snapshot(db) == p["others"])

    @staticmethod
    def solution(p: Params) -> list[str]:
        actions = []
        for nid in p["ids"]:
            actions += [act("click", f"note-{nid}"), act("click", "delete-note")]
        return actions


HIDDEN_NOTES = (
    ("Untitled", "The spare key is under the blue flowerpot by the back door.", "flowerpot",
     "Spare key"),
    ("Misc", "Gym locker code 4471, the one next to the sauna.", "sauna", "Gym locker"),
    ("Scratch", "The plumber recommended a new thermostat valve, about $40.", "thermostat",
     "Heating repair"),
    ("Jotted down", "Bike lock combination: 3-9-1-7 (red lock).", "combination", "Bike lock"),
)  # fmt: skip


@task("notes_find_and_rename", "notes", "Find a note by its contents", "/notes", "medium")
class NotesFindAndRename:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        title, body, keyword, new = rng.choice(HIDDEN_NOTES)
        day = (today(db) - dt.timedelta(days=rng.randint(12, 30))).isoformat()
        cursor = db.execute(
            "INSERT INTO notes (title, body, pinned, updated_at) VALUES (?, ?, 0, ?)",
            (title, body, f"{day} 20:00"),
        )
        db.commit()
        nid = int(cursor.lastrowid or 0)
        return {
            "id": nid,
            "keyword": keyword,
            "body": body,
            "new_title": new,
            "others": note_snapshot(db, exclude_ids=[nid]),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'One of your notes mentions "{p["keyword"]}". Rename that note to '
            f'"{p["new_title"]}" without changing its text.'
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        note = row(db, "SELECT * FROM notes WHERE id = ?", (p["id"],))
        return score(
            note is not None
            and norm(note["title"]) == norm(p["new_title"])
            and norm(note["body"]) == norm(p["body"])
            and note_snapshot(db, exclude_ids=[p["id"]]) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("fill", "search-notes", p["keyword"]),
            act("press", "search-notes", "Enter"),
            act("click", f"note-{p['id']}"),
            act("click", "edit-note"),
            act("fill", "note-title", p["new_title"]),
            act("click", "save-note"),
        ]


# ---------------------------------------------------------------------------
# Shop
# ---------------------------------------------------------------------------


def shop_params(db: sqlite3.Connection) -> Params:
    """The user's name and address (where orders go) and the state that must not change."""
    me = user(db)
    return {
        "ship_name": me["name"],
        "ship_address": me["address"],
        "cart": [[pid, qty] for pid, qty in sorted(cart(db).items())],
    }


def category_label(slug: str) -> str:
    """``Mugs``."""
    return CATEGORIES[slug][0]


def fill_cart(db: sqlite3.Connection, rng: random.Random, count: int) -> list[sqlite3.Row]:
    """Put ``count`` products (different categories) in the cart, quantity 1 or 2."""
    slugs = rng.sample(sorted(CATEGORIES), count)
    chosen = []
    for slug in slugs:
        product = rng.choice(products_in(db, slug, "id"))
        db.execute(
            "INSERT INTO cart_items (product_id, quantity) VALUES (?, ?)",
            (product["id"], rng.choice((1, 1, 2))),
        )
        chosen.append(product)
    db.commit()
    return chosen


@task("shop_add_to_cart", "shop", "Put a product in the cart", "/shop", "easy")
class ShopAddToCart:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        product = rng.choice(rows(db, "SELECT * FROM products ORDER BY id"))
        return {"id": product["id"], "product": product["name"]}

    @staticmethod
    def goal(p: Params) -> str:
        return f'Add one "{p["product"]}" to your shopping cart (do not check out).'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(cart(db) == {p["id"]: 1} and not orders(db))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("fill", "search", p["product"]),
            act("press", "search", "Enter"),
            act("click", f"add-to-cart-{p['id']}"),
        ]


@task("shop_add_quantity", "shop", "Put several of a product in the cart", "/shop", "easy")
class ShopAddQuantity:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        product = rng.choice(rows(db, "SELECT * FROM products ORDER BY id"))
        return {"id": product["id"], "product": product["name"], "quantity": rng.randint(2, 5)}

    @staticmethod
    def goal(p: Params) -> str:
        return f'Put {p["quantity"]} of "{p["product"]}" in your shopping cart (do not check out).'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(cart(db) == {p["id"]: p["quantity"]} and not orders(db))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("fill", "search", p["product"]),
            act("press", "search", "Enter"),
            act("click", f"product-{p['id']}"),
            act("fill", "quantity", str(p["quantity"])),
            act("click", "add-to-cart"),
        ]


@task("shop_buy_cheapest", "shop", "Buy two of the cheapest item in a category", "/shop",
      "medium")  # fmt: skip
class ShopBuyCheapest:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        slug = rng.choice(sorted(CATEGORIES))
        cheapest = products_in(db, slug, "price_cents")[0]
        return {"category": slug, "id": cheapest["id"], **shop_params(db)}

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f"Buy two units of the cheapest product in the shop's "
            f"{category_label(p['category'])} category, in one order. {ship_to(p)}"
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(one_order(db, [[p["id"], 2]], p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"category-{p['category']}"),
            act("select_option", "sort", "price-asc"),
            act("click", f"product-{p['id']}"),
            act("fill", "quantity", "2"),
            act("click", "add-to-cart"),
            *checkout_actions(p["ship_name"], p["ship_address"]),
        ]


@task("shop_checkout_cart", "shop", "Check out the cart", "/shop", "easy")
class ShopCheckoutCart:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        fill_cart(db, rng, rng.choice((2, 3)))
        return shop_params(db)

    @staticmethod
    def goal(p: Params) -> str:
        return f"Check out the items already in your cart, exactly as they are. {ship_to(p)}"

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(one_order(db, p["cart"], p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return checkout_actions(p["ship_name"], p["ship_address"])


@task("shop_remove_from_cart", "shop", "Remove a product from the cart", "/shop", "easy")
class ShopRemoveFromCart:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        chosen = fill_cart(db, rng, 3)
        target = rng.choice(chosen)
        return {"id": target["id"], "product": target["name"], **shop_params(db)}

    @staticmethod
    def goal(p: Params) -> str:
        return f'Remove "{p["product"]}" from your shopping cart; leave the rest as it is.'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        wanted = {int(pid): int(q) for pid, q in p["cart"] if int(pid) != p["id"]}
        return score(cart(db) == wanted and not orders(db))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", "cart"), act("click", f"remove-{p['id']}")]


@task("shop_update_quantity", "shop", "Change a quantity in the cart", "/shop", "easy")
class ShopUpdateQuantity:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        chosen = fill_cart(db, rng, 2)
        target = rng.choice(chosen)
        quantity = rng.randint(3, 6)
        return {"id": target["id"], "product": target["name"], "quantity": quantity,
                **shop_params(db)}  # fmt: skip

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'In your shopping cart, change the quantity of "{p["product"]}" to '
            f"{p['quantity']} (do not check out)."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        wanted = {int(pid): int(q) for pid, q in p["cart"]}
        wanted[p["id"]] = p["quantity"]
        return score(cart(db) == wanted and not orders(db))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "cart"),
            act("fill", f"cart-{p['id']}-quantity", str(p["quantity"])),
            act("click", f"update-{p['id']}"),
        ]


@task("shop_buy_top_rated", "shop", "Buy the best-rated product of a category", "/shop",
      "medium")  # fmt: skip
class ShopBuyTopRated:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        slug = rng.choice(sorted(CATEGORIES))
        best = products_in(db, slug, "rating DESC")[0]
        return {"category": slug, "id": best["id"], **shop_params(db)}

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f"Buy one unit of the highest-rated product in the "
            f"{category_label(p['category'])} category. {ship_to(p)}"
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(one_order(db, [[p["id"], 1]], p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"category-{p['category']}"),
            act("select_option", "sort", "rating"),
            act("click", f"add-to-cart-{p['id']}"),
            *checkout_actions(p["ship_name"], p["ship_address"]),
        ]


@task("shop_buy_under_budget", "shop", "Buy everything in a category under a price", "/shop",
      "hard")  # fmt: skip
class ShopBuyUnderBudget:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        slug = rng.choice(sorted(CATEGORIES))
        ranked = products_in(db, slug, "price_cents")
        count = rng.choice((2, 3))
        limit = ranked[count - 1]["price_cents"] // 100 + 1  # whole dollars
        ids = [p["id"] for p in ranked if p["price_cents"] < limit * 100]
        return {"category": slug, "limit": limit, "ids": ids, **shop_params(db)}

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f"Buy one of every product in the {category_label(p['category'])} category that "
            f"costs less than ${p['limit']}, in a single order. {ship_to(p)}"
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        items = [[i, 1] for i in p["ids"]]
        return score(one_order(db, items, p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"category-{p['category']}"),
            act("select_option", "sort", "price-asc"),
            *[act("click", f"add-to-cart-{i}") for i in p["ids"]],
            *checkout_actions(p["ship_name"], p["ship_address"]),
        ]


@task("shop_two_products", "shop", "Order two different products", "/shop", "medium")
class ShopTwoProducts:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        one, two = (
            rng.choice(products_in(db, slug, "id")) for slug in rng.sample(sorted(CATEGORIES), 2)
        )
        return {
            "items": [[one["id"], 2], [two["id"], 1]],
            "names": [one["name"], two["name"]],
            **shop_params(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Place a single order for two "{p["names"][0]}" and one "{p["names"][1]}". '
            f"{ship_to(p)}"
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(one_order(db, p["items"], p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        actions = []
        for (pid, quantity), name in zip(p["items"], p["names"], strict=True):
            actions += [
                act("fill", "search", name),
                act("press", "search", "Enter"),
                act("click", f"product-{pid}"),
                act("fill", "quantity", str(quantity)),
                act("click", "add-to-cart"),
            ]
        return actions + checkout_actions(p["ship_name"], p["ship_address"])


# ---------------------------------------------------------------------------
# Across apps
# ---------------------------------------------------------------------------


def mentions_time(text: str, hm: str) -> bool:
    """``text`` gives the time ``hm`` (``15:00``, ``3:00 pm``, ``3pm``, ...)."""
    hours, minutes = (int(x) for x in hm.split(":"))
    low = text.casefold()
    forms = {f"{hours:02d}:{minutes:02d}", f"{hours}:{minutes:02d}", f"{hours}.{minutes:02d}"}
    twelve = hours % 12 or 12
    suffix = "am" if hours < 12 else "pm"
    forms |= {f"{twelve}:{minutes:02d} {suffix}", f"{twelve}:{minutes:02d}{suffix}"}
    if minutes == 0:
        forms |= {f"{twelve} {suffix}", f"{twelve}{suffix}"}
    return any(re.search(rf"(?<![\d:.]){re.escape(f)}(?![\d])", low) for f in forms)


@task("multi_email_event_location", "multi", "E-mail someone where an event is", "/",
      "medium")  # fmt: skip
class MultiEmailEventLocation:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        ev = rng.choice([e for e in unique_week_events(db, False) if e["location"]])
        who = rng.choice(contacts(db))
        return {
            "title": ev["title"],
            "date": ev["date"],
            "location": ev["location"],
            "name": who["name"],
            "email": who["email"],
            "max_id": max_id(db, "messages"),
            "old": message_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Send {p["name"]} a message telling them the location of the event "{p["title"]}" '
            f"on {say_date(p['date'])} (any subject; the message must contain the location as "
            "the calendar gives it)."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        sent = sent_after(db, p["max_id"])
        return score(
            sent is not None
            and len(sent) == 1
            and recipients(sent[0]) == {p["email"].lower()}
            and loose(p["location"]) in loose(f"{sent[0]['subject']} {sent[0]['body']}")
            and message_snapshot(db, max_id=p["max_id"]) == p["old"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "nav-messages"),
            act("click", "compose"),
            act("fill", "to", p["email"]),
            act("fill", "subject", f"Location of {p['title']}"),
            act("fill", "body", f"It is at {p['location']}."),
            act("click", "send"),
        ]


@task("multi_note_to_todos", "multi", "Turn a shopping list into todos", "/", "medium")
class MultiNoteToTodos:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        note = note_titled(db, "Shopping list")
        items = [line.lstrip("- ").strip() for line in note["body"].splitlines() if line.strip()]
        return {
            "title": note["title"],
            "items": items,
            "max_id": max_id(db, "todos"),
            "old": todo_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Add every item of your note "{p["title"]}" to your todo list, one todo per item; '
            f'the todo text is the item itself (e.g. "{p["items"][0]}").'
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        """A todo "buy <item>" also counts for <item>."""
        added = new_rows(db, "todos", p["max_id"])
        texts = sorted(re.sub(r"^buy ", "", norm(t["title"])) for t in added)
        return score(
            todo_snapshot(db, max_id=p["max_id"]) == p["old"]
            and texts == sorted(norm(i) for i in p["items"])
            and all(t["done"] == 0 for t in added)
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        actions = [act("click", "nav-todo")]
        for item in p["items"]:
            actions += [act("fill", "new-todo", item), act("click", "add-todo")]
        return actions


@task("multi_event_from_message", "multi", "Put a proposed meeting in the calendar", "/",
      "medium")  # fmt: skip
class MultiEventFromMessage:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        from .apps.database import VENUES

        who = rng.choice(contacts(db))
        monday = week_start(today(db)) + dt.timedelta(days=7)
        date = (monday + dt.timedelta(days=rng.randrange(5))).isoformat()
        start = hhmm(rng.randrange(10 * 60, 17 * 60, 30))
        day = dt.date.fromisoformat(date)
        body = (
            f"Hi {first(user(db)['name'])},\n\nShall we meet for coffee next week? How about "
            f"{day:%A}, {day:%B} {day.day} at {start}, at {rng.choice(VENUES)}?\n\n"
            f"{first(who['name'])}"
        )
        subject = "Coffee next week?"
        mid = insert_message(db, who["name"], who["email"], subject, body,
                             add_minutes(latest_stamp(db), 5))  # fmt: skip
        return {
            "first": first(who["name"]),
            "message_id": mid,
            "subject": subject,
            "title": f"Coffee with {first(who['name'])}",
            "date": date,
            "start": start,
            "end": plus_minutes(start, 60),
            "max_id": max_id(db, "events"),
            "old": event_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'{p["first"]} proposed a day and time to meet in the message "{p["subject"]}". '
            f'Add it to your calendar as "{p["title"]}", lasting one hour.'
        )

    check = staticmethod(check_one_new_event)

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "nav-messages"),
            act("click", f"message-{p['message_id']}"),
            act("click", "nav-calendar"),
            act("click", "add-event"),
            act("fill", "title", p["title"]),
            act("fill", "date", p["date"]),
            act("fill", "start-time", p["start"]),
            act("fill", "end-time", p["end"]),
            act("click", "save-event"),
        ]


@task("multi_gift_order", "multi", "Order gifts listed in a note for a friend", "/", "hard")
class MultiGiftOrder:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        book = note_titled(db, "Addresses")
        lines = [line.split(": ", 1) for line in book["body"].splitlines() if ": " in line]
        name, address = rng.choice(lines)
        gifts = [
            rng.choice(products_in(db, slug, "id")) for slug in rng.sample(sorted(CATEGORIES), 2)
        ]
        title = f"Gift ideas for {first(name)}"
        db.execute(
            "INSERT INTO notes (title, body, pinned, updated_at) VALUES (?, ?, 0, ?)",
            (title, "\n".join(f"- {g['name']}" for g in gifts),
             f"{(today(db) - dt.timedelta(days=2)).isoformat()} 21:00"),
        )  # fmt: skip
        db.commit()
        return {
            "note": title,
            "ids": [g["id"] for g in gifts],
            "products": [g["name"] for g in gifts],
            "ship_name": name,
            "ship_address": address,
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Buy one of each product listed in your note "{p["note"]}", in a single order '
            f'shipped to {p["ship_name"]} at the address given in your note "Addresses".'
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        items = [[i, 1] for i in p["ids"]]
        return score(one_order(db, items, p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        actions = [act("click", "nav-shop")]
        for pid, name in zip(p["ids"], p["products"], strict=True):
            actions += [
                act("fill", "search", name),
                act("press", "search", "Enter"),
                act("click", f"add-to-cart-{pid}"),
            ]
        return actions + checkout_actions(p["ship_name"], p["ship_address"])


@task("multi_agenda_note", "multi", "Write a day's agenda into a note", "/", "medium")
class MultiAgendaNote:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        date = this_week(db)[rng.randrange(5)]
        have = rows(db, "SELECT * FROM events WHERE date = ? ORDER BY start_time", (date,))
        if len(have) < 2:
            add_event(db, "Budget check-in", date, "16:30", "17:00", "Room 3B")
            have = rows(db, "SELECT * FROM events WHERE date = ? ORDER BY start_time", (date,))
        return {
            "date": date,
            "note": f"Agenda for {weekday(date)}",
            "titles": [e["title"] for e in have],
            "max_id": max_id(db, "notes"),
            "old": note_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Create a note titled "{p["note"]}" that lists the titles of all the events on '
            f"{say_date(p['date'])}, one per line."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        added = new_rows(db, "notes", p["max_id"])
        return score(
            note_snapshot(db, max_id=p["max_id"]) == p["old"]
            and len(added) == 1
            and norm(added[0]["title"]) == norm(p["note"])
            and all(norm(t) in norm(added[0]["body"]) for t in p["titles"])
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "nav-notes"),
            act("click", "new-note"),
            act("fill", "note-title", p["note"]),
            act("fill", "note-body", "\n".join(p["titles"])),
            act("click", "save-note"),
        ]


@task("multi_order_total_email", "multi", "Buy something and e-mail the total", "/", "hard")
class MultiOrderTotalEmail:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        product = rng.choice(rows(db, "SELECT * FROM products ORDER BY id"))
        quantity = rng.randint(2, 3)
        who = rng.choice(contacts(db))
        return {
            "id": product["id"],
            "product": product["name"],
            "quantity": quantity,
            "total": money(product["price_cents"] * quantity),
            "name": who["name"],
            "email": who["email"],
            "max_id": max_id(db, "messages"),
            "old": message_snapshot(db),
            **shop_params(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Buy {p["quantity"]} of "{p["product"]}" in one order '
            f"({ship_to(p, capital=False)}), then send {p['name']} a message with the order's "
            "total (like $12.34)."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        """The total may be written with or without "$" and thousands separators."""
        sent = sent_after(db, p["max_id"])
        if sent is None or len(sent) != 1:
            return 0.0
        amount = p["total"].lstrip("$").replace(",", "")
        text = f"{sent[0]['subject']} {sent[0]['body']}".replace(",", "")
        return score(
            one_order(db, [[p["id"], p["quantity"]]], p["ship_name"], p["ship_address"])
            and recipients(sent[0]) == {p["email"].lower()}
            and re.search(rf"(?<![\d.]){re.escape(amount)}(?!\d)", text) is not None
            and message_snapshot(db, max_id=p["max_id"]) == p["old"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "nav-shop"),
            act("fill", "search", p["product"]),
            act("press", "search", "Enter"),
            act("click", f"product-{p['id']}"),
            act("fill", "quantity", str(p["quantity"])),
            act("click", "add-to-cart"),
            *checkout_actions(p["ship_name"], p["ship_address"]),
            act("click", "nav-messages"),
            act("click", "compose"),
            act("fill", "to", p["email"]),
            act("fill", "subject", "Order total"),
            act("fill", "body", f"The order came to {p['total']}."),
            act("click", "send"),
        ]


@task("multi_todos_to_order", "multi", "Order what the todos ask for, then tick them off", "/",
      "hard")  # fmt: skip
class MultiTodosToOrder:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        picks = [
            rng.choice(products_in(db, slug, "id")) for slug in rng.sample(sorted(CATEGORIES), 2)
        ]
        ids = []
        for product in picks:
            cursor = db.execute(
                "INSERT INTO todos (title, done, due, priority, created_at) "
                "VALUES (?, 0, NULL, 'normal', ?)",
                (f"Order {product['name']}", today(db).isoformat()),
            )
            ids.append(int(cursor.lastrowid or 0))
        db.commit()
        return {
            "todo_ids": ids,
            "ids": [p["id"] for p in picks],
            "products": [p["name"] for p in picks],
            "others": todo_snapshot(db, exclude_ids=ids),
            **shop_params(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            'Two of your todos start with "Order". Buy one of each product they name, in a '
            f"single order ({ship_to(p, capital=False)}), then mark those two todos as done."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        ids = p["todo_ids"]
        marks = rows(db, f"SELECT done FROM todos WHERE id IN ({','.join('?' * len(ids))})", ids)
        return score(
            one_order(db, [[i, 1] for i in p["ids"]], p["ship_name"], p["ship_address"])
            and len(marks) == len(ids)
            and all(m["done"] == 1 for m in marks)
            and todo_snapshot(db, exclude_ids=ids) == p["others"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        actions = [act("click", "nav-shop")]
        for pid, name in zip(p["ids"], p["products"], strict=True):
            actions += [
                act("fill", "search", name),
                act("press", "search", "Enter"),
                act("click", f"add-to-cart-{pid}"),
            ]
        actions += checkout_actions(p["ship_name"], p["ship_address"])
        actions.append(act("click", "nav-todo"))
        actions += [act("click", f"todo-{t}-done") for t in p["todo_ids"]]
        return actions


@task("multi_reply_event_time", "multi", "Answer a question from the calendar", "/", "medium")
class MultiReplyEventTime:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        ev = rng.choice(unique_week_events(db, False))
        who = rng.choice(contacts(db))
        subject = f"When is {ev['title']}?"
        body = (
            f'Hi {first(user(db)["name"])},\n\nWhat time does "{ev["title"]}" start on '
            f"{weekday(ev['date'])}? I want to plan around it.\n\n{first(who['name'])}"
        )
        mid = insert_message(db, who["name"], who["email"], subject, body,
                             add_minutes(latest_stamp(db), 3))  # fmt: skip
        return {
            "message_id": mid,
            "first": first(who["name"]),
            "email": who["email"],
            "subject": subject,
            "start": ev["start_time"],
            "max_id": max_id(db, "messages"),
            "old": message_snapshot(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'{p["first"]} asks a question in the message "{p["subject"]}". Reply to that '
            "message with the event's start time (as HH:MM), which your calendar knows."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        """The time may be written as 15:00, 3:00 pm, 3pm, ..."""
        sent = sent_after(db, p["max_id"])
        if sent is None or len(sent) != 1:
            return 0.0
        msg = sent[0]
        return score(
            (msg["reply_to"] == p["message_id"] or msg["reply_to"] is None)
            and recipients(msg) == {p["email"].lower()}
            and mentions_time(msg["body"], p["start"])
            and message_snapshot(db, max_id=p["max_id"]) == p["old"]
        )

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "nav-messages"),
            act("click", f"message-{p['message_id']}"),
            act("click", "reply"),
            act("fill", "reply-body", f"It starts at {p['start']}."),
            act("click", "send-reply"),
        ]
