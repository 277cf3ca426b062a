"""Todo: a list with due dates and priorities (table ``todos``).

Pages and their bids:

``/todo?filter=all|active|completed``
    The add form: ``new-todo`` (the text; Enter adds it), ``due`` (optional date),
    ``priority`` (select: ``low``, ``normal``, ``high``), ``add-todo``. The filters
    ``filter-all``, ``filter-active``, ``filter-completed``. Per todo:
    ``todo-<id>-done`` (a checkbox: one click marks it done or not done),
    ``todo-<id>-edit`` (link to its edit page), ``todo-<id>-delete`` (deletes it at
    once). ``clear-completed`` deletes every completed todo after a ``confirm()``.
    Open todos come first (by due date, then priority), completed ones last.
``/todo/<id>/edit``
    ``todo-title``, ``due``, ``priority``, ``save-todo``, ``cancel``.
"""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .database import row, rows, tick
from .ui import (
    Ctx,
    ctx_of,
    error_box,
    esc,
    not_found,
    page,
    parse_date,
    path_id,
    qnext,
    read_form,
    redirect,
    safe_next,
    short_date,
)

PRIORITIES = ("low", "normal", "high")
FILTERS = (("all", "All"), ("active", "Active"), ("completed", "Completed"))


def priority_select(current: str) -> str:
    """The ``priority`` select with ``current`` chosen."""
    options = "".join(
        f'<option value="{p}"{" selected" if p == current else ""}>{p.title()}</option>'
        for p in PRIORITIES
    )
    return f'<select name="priority" bid="priority" aria-label="Priority">{options}</select>'


def current_filter(request: Request) -> str:
    """The list's ``?filter=`` (``all`` when missing or unknown)."""
    value = request.query_params.get("filter", "all")
    return value if value in dict(FILTERS) else "all"


def list_url(name: str) -> str:
    """The list's address under filter ``name``."""
    return "/todo" if name == "all" else f"/todo?filter={name}"


def render(ctx: Ctx, request: Request, errors: list[str], typed: str = "") -> Response:
    """The list under the request's filter, with the add form (``typed`` kept, ``errors`` shown)."""
    chosen = current_filter(request)
    here = list_url(chosen)
    where = {"all": "", "active": "WHERE done = 0", "completed": "WHERE done = 1"}[chosen]
    todos = rows(
        ctx.db,
        f"SELECT * FROM todos {where} ORDER BY done, due IS NULL, due, "
        "CASE priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END, id",
    )
    counts = dict(
        ctx.db.execute(
            "SELECT 'all', COUNT(*) FROM todos UNION ALL "
            "SELECT 'active', COUNT(*) FROM todos WHERE done = 0 UNION ALL "
            "SELECT 'completed', COUNT(*) FROM todos WHERE done = 1"
        ).fetchall()
    )
    today = ctx.today.isoformat()
    items = []
    for todo in todos:
        tid = todo["id"]
        checked = " checked" if todo["done"] else ""
        badges = ""
        if todo["priority"] != "normal":
            badges += f'<span class="badge prio-{todo["priority"]}">{todo["priority"]}</span>'
        if todo["due"]:
            late = not todo["done"] and todo["due"] < today
            badges += (
                f'<span class="due{" late" if late else ""}">'
                f"{'overdue · ' if late else ''}due {esc(short_date(todo['due']))}</span>"
            )
        items.append(
            f'<li class="todo{" done" if todo["done"] else ""}">'
            f'<form method="post" action="/todo/{tid}/done?{qnext(here)}" class="check">'
            f'<input type="checkbox" name="done" value="1" bid="todo-{tid}-done" '
            f'id="todo-{tid}" data-autosubmit{checked}>'
            f'<label for="todo-{tid}" class="todo-title">{esc(todo["title"])}</label></form>'
            f'<span class="meta">{badges}</span>'
            f'<a class="link" href="/todo/{tid}/edit" bid="todo-{tid}-edit">Edit</a>'
            f'<form method="post" action="/todo/{tid}/delete?{qnext(here)}" class="inline">'
            f'<button type="submit" class="icon-btn" bid="todo-{tid}-delete" '
            f'title="Delete" aria-label="Delete {esc(todo["title"])}">&times;</button>'
            "</form></li>"
        )
    listing = "".join(items) or '<li class="empty">Nothing here.</li>'
    filters = "".join(
        f'<a href="{list_url(key)}" bid="filter-{key}"'
        f"{' class=active' if key == chosen else ''}>{label} "
        f'<span class="count">{counts.get(key, 0)}</span></a>'
        for key, label in FILTERS
    )
    left = counts.get("active", 0)
    content = f"""
<div class="card narrow todo-app">
  <h1>Todo</h1>
  {error_box(errors)}
  <form method="post" action="/todo/new?{qnext(here)}" class="todo-new">
    <input type="text" name="title" bid="new-todo" placeholder="What needs to be done?"
      value="{esc(typed)}" autocomplete="off" aria-label="New todo">
    <input type="date" name="due" bid="due" aria-label="Due date" title="Due date (optional)">
    {priority_select("normal")}
    <button type="submit" class="btn primary" bid="add-todo">Add</button>
  </form>
  <nav class="filters">{filters}</nav>
  <ul class="todos">{listing}</ul>
  <footer class="todo-footer">
    <span>{left} item{"" if left == 1 else "s"} left</span>
    <form method="post" action="/todo/clear-completed?{qnext(here)}" class="inline"
          data-confirm="Delete all completed todos?">
      <button type="submit" class="btn subtle" bid="clear-completed">Clear completed</button>
    </form>
  </footer>
</div>
"""
    return page(ctx, "Todo", "todo", content)


async def index(request: Request) -> Response:
    """``GET /todo?filter=``: the list."""
    ctx = ctx_of(request)
    return render(ctx, request, [])


async def create(request: Request) -> Response:
    """``POST /todo/new``: add the todo, or show the list with errors."""
    ctx = ctx_of(request)
    data = await read_form(request)
    title = " ".join(data.get("title", "").split())
    due_text = data.get("due", "").strip()
    due = parse_date(due_text) if due_text else None
    priority = data.get("priority", "normal")
    errors = []
    if not title:
        errors.append("Type what needs to be done first.")
    if due_text and due is None:
        errors.append("The due date must look like 2026-03-13.")
    if priority not in PRIORITIES:
        errors.append("Priority must be low, normal or high.")
    if errors:
        return render(ctx, request, errors, title)
    created = tick(ctx.db)[:10]
    ctx.db.execute(
        "INSERT INTO todos (title, done, due, priority, created_at) VALUES (?, 0, ?, ?, ?)",
        (title, due, priority, created),
    )
    ctx.db.commit()
    back = safe_next(request.query_params.get("next"), "/todo")
    if back.endswith("filter=completed"):
        back = "/todo"
    return redirect(ctx, back, f"Added “{title}”.")


def load(ctx: Ctx, request: Request) -> sqlite3.Row | None:
    """The todo of the request's ``{id}``, or None."""
    return row(ctx.db, "SELECT * FROM todos WHERE id = ?", (path_id(request),))


async def set_done(request: Request) -> Response:
    """``POST /todo/{id}/done``: done when the form has ``done``, else not done."""
    ctx = ctx_of(request)
    todo = load(ctx, request)
    if todo is None:
        return redirect(ctx, "/todo", "That todo no longer exists.")
    done = 1 if (await read_form(request)).get("done") else 0
    ctx.db.execute("UPDATE todos SET done = ? WHERE id = ?", (done, todo["id"]))
    ctx.db.commit()
    state = "done" if done else "not done"
    back = safe_next(request.query_params.get("next"), "/todo")
    return redirect(ctx, back, f"Marked “{todo['title']}” as {state}.")


async def delete(request: Request) -> Response:
    """``POST /todo/{id}/delete``: delete the todo at once."""
    ctx = ctx_of(request)
    todo = load(ctx, request)
    back = safe_next(request.query_params.get("next"), "/todo")
    if todo is None:
        return redirect(ctx, back, "That todo was already deleted.")
    ctx.db.execute("DELETE FROM todos WHERE id = ?", (todo["id"],))
    ctx.db.commit()
    return redirect(ctx, back, f"Deleted “{todo['title']}”.")


async def clear_completed(request: Request) -> Response:
    """``POST /todo/clear-completed``: delete every completed todo."""
    ctx = ctx_of(request)
    count = ctx.db.execute("DELETE FROM todos WHERE done = 1").rowcount
    ctx.db.commit()
    back = safe_next(request.query_params.get("next"), "/todo")
    return redirect(ctx, back, f"Deleted {count} completed todo{'' if count == 1 else 's'}.")


def edit_page(ctx: Ctx, values: dict[str, str], tid: int, errors: list[str]) -> Response:
    """The edit form of todo ``tid``, with ``values`` filled in and ``errors`` shown."""
    content = f"""
<div class="card narrow">
  <h1>Edit todo</h1>
  {error_box(errors)}
  <form method="post" action="/todo/{tid}/edit" class="form">
    <label>Todo <input type="text" name="title" bid="todo-title"
       value="{esc(values.get("title", ""))}" autocomplete="off"></label>
    <div class="row">
      <label>Due date <input type="date" name="due" bid="due"
         value="{esc(values.get("due") or "")}"></label>
      <label>Priority {priority_select(values.get("priority") or "normal")}</label>
    </div>
    <div class="form-actions">
      <button type="submit" class="btn primary" bid="save-todo">Save</button>
      <a class="btn" href="/todo" bid="cancel">Cancel</a>
    </div>
  </form>
</div>
"""
    return page(ctx, "Edit todo", "todo", content)


async def edit(request: Request) -> Response:
    """``GET /todo/{id}/edit``: the todo's edit form."""
    ctx = ctx_of(request)
    todo = load(ctx, request)
    if todo is None:
        return not_found(ctx, "todo")
    return edit_page(ctx, dict(todo), todo["id"], [])


async def update(request: Request) -> Response:
    """``POST /todo/{id}/edit``: save the todo, or show the form with errors."""
    ctx = ctx_of(request)
    todo = load(ctx, request)
    if todo is None:
        return not_found(ctx, "todo")
    data = await read_form(request)
    title = " ".join(data.get("title", "").split())
    due_text = data.get("due", "").strip()
    due = parse_date(due_text) if due_text else None
    priority = data.get("priority", "normal")
    errors = []
    if not title:
        errors.append("The todo cannot be empty.")
    if due_text and due is None:
        errors.append("The due date must look like 2026-03-13.")
    if priority not in PRIORITIES:
        errors.append("Priority must be low, normal or high.")
    if errors:
        values = {"title": title, "due": due_text, "priority": priority}
        return edit_page(ctx, values, todo["id"], errors)
    ctx.db.execute(
        "UPDATE todos SET title = ?, due = ?, priority = ? WHERE id = ?",
        (title, due, priority, todo["id"]),
    )
    ctx.db.commit()
    return redirect(ctx, "/todo", f"Saved “{title}”.")


ROUTES: list[Route] = [
    Route("/todo", index),
    Route("/todo/new", create, methods=["POST"]),
    Route("/todo/clear-completed", clear_completed, methods=["POST"]),
    Route("/todo/{id:int}/done", set_done, methods=["POST"]),
    Route("/todo/{id:int}/delete", delete, methods=["POST"]),
    Route("/todo/{id:int}/edit", edit, methods=["GET"]),
    Route("/todo/{id:int}/edit", update, methods=["POST"]),
]
