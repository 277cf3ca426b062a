"""Tasks across apps: read in one app, act in another (``app="multi"``)."""

from __future__ import annotations

import datetime as dt
import random
import re
import sqlite3

from ..apps.database import CATEGORIES, hhmm, money, rows, week_start
from .base import Params, task
from .helpers import (
    act,
    add_event,
    add_minutes,
    check_one_new_event,
    checkout_actions,
    contacts,
    event_snapshot,
    first,
    insert_message,
    latest_stamp,
    loose,
    max_id,
    message_snapshot,
    new_rows,
    norm,
    note_snapshot,
    note_titled,
    one_order,
    plus_minutes,
    products_in,
    recipients,
    say_date,
    score,
    sent_after,
    ship_to,
    shop_params,
    this_week,
    today,
    todo_snapshot,
    unique_week_events,
    user,
    weekday,
)


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
        from ..apps.database import VENUES

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
