"""Notes: plain-text notes with search and pinning (table ``notes``).

Pages and their bids (the note list is on the left of every page):

``/notes?q=words``
    ``new-note``, the search box ``search-notes`` (Enter searches titles and text)
    with ``search-notes-button`` and ``clear-search``, and ``note-<id>`` per note
    (pinned notes first, then the most recently changed).
``/notes/<id>``
    The note: ``edit-note``, ``pin-note`` (toggles: "Pin" / "Unpin"),
    ``delete-note`` (after a ``confirm()``).
``/notes/new`` and ``/notes/<id>/edit``
    ``note-title``, ``note-body``, ``save-note``, ``cancel``.
"""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .database import row, rows, tick
from .ui import Ctx, ctx_of, error_box, esc, not_found, page, path_id, read_form, redirect


def sidebar(ctx: Ctx, query: str, selected: int | None) -> str:
    """The note list (matching ``query``; ``selected`` highlighted), new note and search."""
    if query:
        like = f"%{query}%"
        found = rows(
            ctx.db,
            "SELECT * FROM notes WHERE title LIKE ? OR body LIKE ? "
            "ORDER BY pinned DESC, updated_at DESC, id DESC",
            (like, like),
        )
    else:
        found = rows(ctx.db, "SELECT * FROM notes ORDER BY pinned DESC, updated_at DESC, id DESC")
    items = []
    for note in found:
        preview = " ".join(note["body"].split())[:60]
        pin = '<span class="pin">Pinned</span>' if note["pinned"] else ""
        current = " active" if note["id"] == selected else ""
        items.append(
            f'<li><a href="/notes/{note["id"]}" bid="note-{note["id"]}" '
            f'class="note-link{current}">{pin}<span class="note-title">'
            f'{esc(note["title"])}</span><span class="preview">{esc(preview)}</span></a></li>'
        )
    listing = "".join(items) or '<li class="empty">No notes found.</li>'
    clear = (
        f'<a class="link" href="/notes" bid="clear-search">Clear search “{esc(query)}”</a>'
        if query
        else ""
    )
    return f"""
<aside class="card notes-list">
  <a class="btn primary block" href="/notes/new" bid="new-note">+ New note</a>
  <form method="get" action="/notes" class="search">
    <input type="search" name="q" bid="search-notes" value="{esc(query)}"
      placeholder="Search notes" aria-label="Search notes">
    <button type="submit" class="btn" bid="search-notes-button">Search</button>
  </form>
  {clear}
  <ul>{listing}</ul>
</aside>"""


async def index(request: Request) -> Response:
    """``GET /notes?q=``: the note list and a count."""
    ctx = ctx_of(request)
    query = " ".join(request.query_params.get("q", "").split())
    count = ctx.db.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
    content = f"""
<div class="notes">
{sidebar(ctx, query, None)}
<section class="card note-view empty">
  <h1>Notes</h1>
  <p class="muted">{count} note{"" if count == 1 else "s"}. Pick one on the left, or write a
  new one.</p>
</section>
</div>"""
    return page(ctx, "Notes", "notes", content)


def load(ctx: Ctx, request: Request) -> sqlite3.Row | None:
    """The note of the request's ``{id}``, or None."""
    return row(ctx.db, "SELECT * FROM notes WHERE id = ?", (path_id(request),))


async def show(request: Request) -> Response:
    """``GET /notes/{id}``: one note."""
    ctx = ctx_of(request)
    note = load(ctx, request)
    if note is None:
        return not_found(ctx, "note")
    nid = note["id"]
    pin_label = "Unpin" if note["pinned"] else "Pin"
    content = f"""
<div class="notes">
{sidebar(ctx, "", nid)}
<section class="card note-view">
  <div class="toolbar">
    <h1>{esc(note["title"])}</h1>
    <div class="actions">
      <a class="btn primary" href="/notes/{nid}/edit" bid="edit-note">Edit</a>
      <form method="post" action="/notes/{nid}/pin" class="inline">
        <button type="submit" class="btn" bid="pin-note">{pin_label}</button></form>
      <form method="post" action="/notes/{nid}/delete" class="inline"
            data-confirm="Delete this note?">
        <button type="submit" class="btn danger" bid="delete-note">Delete</button></form>
    </div>
  </div>
  <p class="muted small">Last changed {esc(note["updated_at"])}</p>
  <div class="note-body">{esc(note["body"])}</div>
</section>
</div>"""
    return page(ctx, note["title"], "notes", content)


def editor(ctx: Ctx, values: dict[str, str], action: str, heading: str, errors: list[str],
           back: str) -> Response:  # fmt: skip
    """The note form, with ``values`` filled in and ``errors`` shown; Cancel goes to ``back``."""
    content = f"""
<div class="notes">
{sidebar(ctx, "", None)}
<section class="card note-view">
  <h1>{esc(heading)}</h1>
  {error_box(errors)}
  <form method="post" action="{action}" class="form">
    <label>Title <input type="text" name="title" bid="note-title" autocomplete="off"
       value="{esc(values.get("title", ""))}"></label>
    <label>Text <textarea name="body" bid="note-body" rows="12"
       >{esc(values.get("body", ""))}</textarea></label>
    <div class="form-actions">
      <button type="submit" class="btn primary" bid="save-note">Save note</button>
      <a class="btn" href="{back}" bid="cancel">Cancel</a>
    </div>
  </form>
</section>
</div>"""
    return page(ctx, heading, "notes", content)


def validate(data: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The form's title and text, normalised, and what is wrong with them."""
    title = " ".join(data.get("title", "").split())
    body = data.get("body", "").replace("\r\n", "\n").strip()
    errors = [] if title else ["Give the note a title."]
    return {"title": title, "body": body}, errors


async def new_form(request: Request) -> Response:
    """``GET /notes/new``: an empty note form."""
    ctx = ctx_of(request)
    return editor(ctx, {}, "/notes/new", "New note", [], "/notes")


async def create(request: Request) -> Response:
    """``POST /notes/new``: save the note and show it, or the form with errors."""
    ctx = ctx_of(request)
    values, errors = validate(await read_form(request))
    if errors:
        return editor(ctx, values, "/notes/new", "New note", errors, "/notes")
    cursor = ctx.db.execute(
        "INSERT INTO notes (title, body, pinned, updated_at) VALUES (?, ?, 0, ?)",
        (values["title"], values["body"], tick(ctx.db)),
    )
    ctx.db.commit()
    return redirect(ctx, f"/notes/{cursor.lastrowid}", "Note saved.")


async def edit(request: Request) -> Response:
    """``GET /notes/{id}/edit``: the note's form, filled in."""
    ctx = ctx_of(request)
    note = load(ctx, request)
    if note is None:
        return not_found(ctx, "note")
    nid = note["id"]
    return editor(ctx, dict(note), f"/notes/{nid}/edit", "Edit note", [], f"/notes/{nid}")


async def update(request: Request) -> Response:
    """``POST /notes/{id}/edit``: save the note and show it, or the form with errors."""
    ctx = ctx_of(request)
    note = load(ctx, request)
    if note is None:
        return not_found(ctx, "note")
    nid = note["id"]
    values, errors = validate(await read_form(request))
    if errors:
        return editor(ctx, values, f"/notes/{nid}/edit", "Edit note", errors, f"/notes/{nid}")
    ctx.db.execute(
        "UPDATE notes SET title = ?, body = ?, updated_at = ? WHERE id = ?",
        (values["title"], values["body"], tick(ctx.db), nid),
    )
    ctx.db.commit()
    return redirect(ctx, f"/notes/{nid}", "Note saved.")


async def toggle_pin(request: Request) -> Response:
    """``POST /notes/{id}/pin``: pin or unpin the note."""
    ctx = ctx_of(request)
    note = load(ctx, request)
    if note is None:
        return redirect(ctx, "/notes", "That note no longer exists.")
    value = 0 if note["pinned"] else 1
    ctx.db.execute("UPDATE notes SET pinned = ? WHERE id = ?", (value, note["id"]))
    ctx.db.commit()
    return redirect(ctx, f"/notes/{note['id']}", "Note pinned." if value else "Note unpinned.")


async def delete(request: Request) -> Response:
    """``POST /notes/{id}/delete``: delete the note."""
    ctx = ctx_of(request)
    note = load(ctx, request)
    if note is None:
        return redirect(ctx, "/notes", "That note was already deleted.")
    ctx.db.execute("DELETE FROM notes WHERE id = ?", (note["id"],))
    ctx.db.commit()
    return redirect(ctx, "/notes", f"Note “{note['title']}” deleted.")


ROUTES: list[Route] = [
    Route("/notes", index),
    Route("/notes/new", new_form, methods=["GET"]),
    Route("/notes/new", create, methods=["POST"]),
    Route("/notes/{id:int}", show),
    Route("/notes/{id:int}/edit", edit, methods=["GET"]),
    Route("/notes/{id:int}/edit", update, methods=["POST"]),
    Route("/notes/{id:int}/pin", toggle_pin, methods=["POST"]),
    Route("/notes/{id:int}/delete", delete, methods=["POST"]),
]
