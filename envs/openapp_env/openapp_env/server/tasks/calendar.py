"""The calendar's tasks: add, move, retime, rename and delete events."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

from ..apps.database import hhmm, minutes_of, row, rows, week_start
from .base import Params, task
from .helpers import (
    act,
    add_event,
    check_one_new_event,
    contacts,
    event_snapshot,
    first,
    matches_event,
    max_id,
    new_rows,
    norm,
    plus_minutes,
    say_date,
    score,
    this_week,
    today,
    unique_week_events,
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
        from ..apps.database import VENUES

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
