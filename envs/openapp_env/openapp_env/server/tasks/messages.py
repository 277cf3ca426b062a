"""The mailbox's tasks: send, reply, forward, star, mark unread and delete messages."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

from ..apps.database import hhmm, row, rows
from .base import Params, task
from .helpers import (
    act,
    add_minutes,
    contacts,
    first,
    insert_message,
    latest_stamp,
    max_id,
    message_snapshot,
    norm,
    recipients,
    score,
    sent_after,
    today,
    user,
)

SUBJECTS = (
    "Friday plans", "Quarterly report", "Weekend hike", "Thanks for yesterday", "Parking spot",
    "Book club pick", "Spare keys", "Holiday dates",
)  # fmt: skip
TEXTS = (
    "See you at ten tomorrow.", "The report is on the shared drive.",
    "Can you bring the projector?", "Let's meet at the station at 9.",
    "I left the keys with the neighbour.", "Dinner is on me this time.",
)  # fmt: skip


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
        from ..apps.database import VENUES

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
