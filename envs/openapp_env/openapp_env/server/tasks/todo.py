"""The todo list's tasks: add, tick off, reopen, rename, reschedule and delete todos."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

from ..apps.database import row, rows
from .base import Params, task
from .helpers import (
    act,
    max_id,
    new_rows,
    norm,
    say_date,
    score,
    today,
    todo_snapshot,
)

NEW_TODOS = (
    "Book a table for Saturday", "Call the plumber", "Buy stamps", "Renew car insurance",
    "Email the landlord", "Pick up the parcel", "Get new glasses", "Descale the kettle",
    "Buy a birthday card", "Sort the recycling",
)  # fmt: skip


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
