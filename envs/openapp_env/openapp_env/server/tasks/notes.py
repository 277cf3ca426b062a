"""The notes' tasks: write, rename, pin, edit and delete notes."""

from __future__ import annotations

import datetime as dt
import random
import re
import sqlite3
from collections.abc import Sequence

from ..apps.database import row, rows
from .base import Params, task
from .helpers import (
    act,
    max_id,
    new_rows,
    norm,
    note_snapshot,
    note_titled,
    score,
    today,
)

NEW_NOTES = (
    ("Garden plan", "Plant tomatoes and basil in May."),
    ("Party checklist", "Balloons, snacks, playlist, extra chairs."),
    ("Questions for the doctor", "Ask about the allergy test results."),
    ("Weekend menu", "Saturday: pancakes. Sunday: roast vegetables."),
    ("Gift ideas", "A good umbrella and a cookbook."),
)


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
        from ..apps.database import GROCERIES

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
        from ..apps.database import PASSWORD_WORDS

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
