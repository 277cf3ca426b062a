"""Messages: an e-mail inbox with folders, compose, reply and forward (table ``messages``).

Pages and their bids:

``/messages?folder=inbox|sent|starred|trash`` and ``/messages?q=words``
    ``compose``; the folders ``folder-inbox``, ``folder-sent``, ``folder-starred``,
    ``folder-trash``; the search box ``search-messages`` (Enter searches every
    folder but the trash) and ``search-messages-button``. Per message:
    ``message-<id>`` (link to it; newest first, unread in bold) and ``star-<id>``
    (toggles the star).
``/messages/<id>``
    The message (opening it marks it read): ``reply`` (reveals the reply form:
    ``reply-body``, ``send-reply``), ``forward`` (compose, prefilled), ``star``
    (toggle), ``mark-unread``, ``delete-message`` (after a ``confirm()``: moves it
    to the trash, or deletes it for good when it is already there),
    ``back-to-messages``.
``/messages/compose?to=...&forward=<id>``
    ``to`` (e-mail addresses or contact names, comma-separated; a contact list
    suggests them), ``subject``, ``body``, ``send``, ``discard``. Sending files
    the message in ``sent`` and shows it.

Recipients are stored as e-mail addresses: a contact's name (full, or a unique
first name) becomes their address; anything else must be an e-mail address.
"""

from __future__ import annotations

import re
import sqlite3

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .database import get_meta, row, rows, tick
from .ui import (
    Ctx,
    ctx_of,
    error_box,
    esc,
    not_found,
    page,
    path_id,
    qnext,
    read_form,
    redirect,
    request_path,
    safe_next,
    short_date,
)

FOLDERS = (
    ("inbox", "Inbox"),
    ("starred", "Starred"),
    ("sent", "Sent"),
    ("trash", "Trash"),
)
EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def resolve_recipients(db: sqlite3.Connection, text: str) -> tuple[list[str], list[str]]:
    """(addresses, errors) for a ``to`` field: addresses, names, ``Name <address>``."""
    contacts = rows(db, "SELECT name, email FROM contacts ORDER BY id")
    addresses: list[str] = []
    errors: list[str] = []
    for part in re.split(r"[,;]", text):
        token = part.strip()
        if not token:
            continue
        inside = re.search(r"<([^<>]+)>", token)
        if inside:
            token = inside.group(1).strip()
        if EMAIL_RE.match(token):
            address = token.lower()
        else:
            wanted = " ".join(token.split()).casefold()
            full = [c["email"] for c in contacts if c["name"].casefold() == wanted]
            first = [c["email"] for c in contacts if c["name"].split()[0].casefold() == wanted]
            matches = full or first
            if len(matches) != 1:
                errors.append(f"Unknown recipient “{token}”: use an e-mail address or a contact.")
                continue
            address = matches[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses and not errors:
        errors.append("Add at least one recipient.")
    return addresses, errors


def display_when(sent_at: str, today: str) -> str:
    """``14:05`` for today, ``Feb 9`` otherwise."""
    day, _, time = sent_at.partition(" ")
    return time if day == today else short_date(day).split(", ")[1]


def names_by_email(ctx: Ctx) -> dict[str, str]:
    """``{address: name}`` of the contacts."""
    return {c["email"]: c["name"] for c in rows(ctx.db, "SELECT name, email FROM contacts")}


def recipients_label(ctx: Ctx, recipients: str) -> str:
    """Stored recipients (addresses) as shown: contacts by name."""
    names = names_by_email(ctx)
    return ", ".join(names.get(a, a) for a in recipients.split(",") if a)


def sidebar(ctx: Ctx, active: str) -> str:
    """Compose and the folders (the inbox with its unread count); ``active`` highlighted."""
    unread = ctx.db.execute(
        "SELECT COUNT(*) FROM messages WHERE folder = 'inbox' AND is_read = 0"
    ).fetchone()[0]
    links = []
    for key, label in FOLDERS:
        count = f' <span class="count">{unread}</span>' if key == "inbox" and unread else ""
        current = ' class="active"' if key == active else ""
        href = "/messages" if key == "inbox" else f"/messages?folder={key}"
        links.append(f'<a href="{href}" bid="folder-{key}"{current}>{label}{count}</a>')
    return (
        '<aside class="sidebar"><a class="btn primary block" href="/messages/compose" '
        f'bid="compose">✎ Compose</a><nav class="folders">{"".join(links)}</nav></aside>'
    )


async def index(request: Request) -> Response:
    """``GET /messages?folder=`` or ``?q=``: a folder, or the search results."""
    ctx = ctx_of(request)
    query = " ".join(request.query_params.get("q", "").split())
    folder = request.query_params.get("folder", "inbox")
    if folder not in dict(FOLDERS):
        folder = "inbox"
    if query:
        like = f"%{query}%"
        found = rows(
            ctx.db,
            "SELECT * FROM messages WHERE folder != 'trash' AND (subject LIKE ? OR body "
            "LIKE ? OR sender_name LIKE ? OR sender_email LIKE ? OR recipients LIKE ?) "
            "ORDER BY sent_at DESC, id DESC",
            (like, like, like, like, like),
        )
        heading = f"Search: {query}"
        active = ""
    else:
        where = "starred = 1 AND folder != 'trash'" if folder == "starred" else "folder = ?"
        args = () if folder == "starred" else (folder,)
        found = rows(
            ctx.db, f"SELECT * FROM messages WHERE {where} ORDER BY sent_at DESC, id DESC", args
        )
        heading = dict(FOLDERS)[folder]
        active = folder
    here = request_path(request)
    today = ctx.today.isoformat()
    items = []
    for msg in found:
        mid = msg["id"]
        who = (
            "To: " + recipients_label(ctx, msg["recipients"])
            if msg["folder"] == "sent"
            else msg["sender_name"]
        )
        snippet = " ".join(msg["body"].split())[:90]
        star_label = "Unstar" if msg["starred"] else "Star"
        items.append(
            f'<li class="mail-row{" unread" if not msg["is_read"] else ""}">'
            f'<form method="post" action="/messages/{mid}/star?{qnext(here)}" class="inline">'
            f'<button type="submit" class="star{" on" if msg["starred"] else ""}" '
            f'bid="star-{mid}" title="{star_label}" aria-label="{star_label} '
            f'{esc(msg["subject"])}">{"★" if msg["starred"] else "☆"}</button></form>'
            f'<a href="/messages/{mid}" bid="message-{mid}" class="mail-link">'
            f'<span class="from">{esc(who)}</span>'
            f'<span class="subject">{esc(msg["subject"])}</span>'
            f'<span class="snippet">{esc(snippet)}</span>'
            f'<span class="when">{esc(display_when(msg["sent_at"], today))}</span></a></li>'
        )
    listing = "".join(items) or '<li class="empty">No messages.</li>'
    content = f"""
<div class="mail">
{sidebar(ctx, active)}
<section class="card mail-main">
  <div class="toolbar">
    <h1>{esc(heading)}</h1>
    <form method="get" action="/messages" class="search">
      <input type="search" name="q" bid="search-messages" value="{esc(query)}"
        placeholder="Search mail" aria-label="Search mail">
      <button type="submit" class="btn" bid="search-messages-button">Search</button>
    </form>
  </div>
  <ul class="mail-list">{listing}</ul>
</section>
</div>
"""
    return page(ctx, heading, "messages", content)


def load(ctx: Ctx, request: Request) -> sqlite3.Row | None:
    """The message of the request's ``{id}``, or None."""
    return row(ctx.db, "SELECT * FROM messages WHERE id = ?", (path_id(request),))


async def show(request: Request) -> Response:
    """``GET /messages/{id}``: the message, marked read (``?reply=1`` opens the reply form)."""
    ctx = ctx_of(request)
    msg = load(ctx, request)
    if msg is None:
        return not_found(ctx, "message")
    if not msg["is_read"]:
        ctx.db.execute("UPDATE messages SET is_read = 1 WHERE id = ?", (msg["id"],))
        ctx.db.commit()
    mid = msg["id"]
    open_reply = request.query_params.get("reply") == "1"
    folder = msg["folder"]
    back = "/messages" if folder == "inbox" else f"/messages?folder={folder}"
    star_label = "★ Unstar" if msg["starred"] else "☆ Star"
    trash_note = '<p class="muted">This message is in the trash.</p>' if folder == "trash" else ""
    content = f"""
<div class="mail">
{sidebar(ctx, folder)}
<section class="card mail-main message-page">
  <div class="message-actions">
    <a class="btn" href="{back}" bid="back-to-messages">← Back</a>
    <a class="btn primary" href="/messages/{mid}?reply=1#reply-form" bid="reply"
       data-reveal="reply-form">↩ Reply</a>
    <a class="btn" href="/messages/compose?forward={mid}" bid="forward">↪ Forward</a>
    <form method="post" action="/messages/{mid}/star?{qnext(f"/messages/{mid}")}"
          class="inline">
      <button type="submit" class="btn" bid="star">{star_label}</button></form>
    <form method="post" action="/messages/{mid}/unread" class="inline">
      <button type="submit" class="btn" bid="mark-unread">Mark as unread</button></form>
    <form method="post" action="/messages/{mid}/delete" class="inline"
          data-confirm="Delete this message?">
      <button type="submit" class="btn danger" bid="delete-message">Delete</button></form>
  </div>
  {trash_note}
  <h1 class="message-subject">{esc(msg["subject"])}</h1>
  <dl class="headers">
    <dt>From</dt><dd>{esc(msg["sender_name"])} &lt;{esc(msg["sender_email"])}&gt;</dd>
    <dt>To</dt><dd>{esc(recipients_label(ctx, msg["recipients"]))}</dd>
    <dt>Date</dt><dd>{esc(short_date(msg["sent_at"][:10]))}, {esc(msg["sent_at"][11:])}</dd>
  </dl>
  <div class="message-body">{esc(msg["body"])}</div>
  <form method="post" action="/messages/{mid}/reply" id="reply-form" class="reply-form"
        {"" if open_reply else "hidden"}>
    <label>Reply to {esc(msg["sender_name"])}
      <textarea name="body" bid="reply-body" rows="5" placeholder="Write your reply"></textarea>
    </label>
    <div class="form-actions">
      <button type="submit" class="btn primary" bid="send-reply">Send reply</button>
    </div>
  </form>
</section>
</div>
"""
    return page(ctx, msg["subject"], "messages", content)


def compose_page(ctx: Ctx, values: dict[str, str], errors: list[str]) -> Response:
    """The compose form, with ``values`` filled in and ``errors`` shown."""
    action = "/messages/compose"
    if values.get("forward_of"):
        action += f"?forward={values['forward_of']}"
    options = "".join(
        f'<option value="{esc(c["email"])}">{esc(c["name"])}</option>'
        for c in rows(ctx.db, "SELECT name, email FROM contacts ORDER BY name")
    )
    content = f"""
<div class="mail">
{sidebar(ctx, "")}
<section class="card mail-main">
  <h1>New message</h1>
  {error_box(errors)}
  <form method="post" action="{action}" class="form">
    <label>To <input type="text" name="to" bid="to" list="contacts" autocomplete="off"
       value="{esc(values.get("to", ""))}" placeholder="Name or e-mail address"></label>
    <datalist id="contacts">{options}</datalist>
    <label>Subject <input type="text" name="subject" bid="subject" autocomplete="off"
       value="{esc(values.get("subject", ""))}"></label>
    <label>Message <textarea name="body" bid="body" rows="10"
      >{esc(values.get("body", ""))}</textarea></label>
    <div class="form-actions">
      <button type="submit" class="btn primary" bid="send">Send</button>
      <a class="btn" href="/messages" bid="discard">Discard</a>
    </div>
  </form>
</section>
</div>
"""
    return page(ctx, "New message", "messages", content)


async def compose(request: Request) -> Response:
    """``GET /messages/compose?to=&forward=``: the compose form, prefilled."""
    ctx = ctx_of(request)
    values = {"to": request.query_params.get("to", "")}
    forward = request.query_params.get("forward", "")
    if forward.isdigit():
        original = row(ctx.db, "SELECT * FROM messages WHERE id = ?", (int(forward),))
        if original is not None:
            subject = original["subject"]
            if not subject.lower().startswith("fwd:"):
                subject = f"Fwd: {subject}"
            values["subject"] = subject
            values["body"] = (
                f"\n\n---------- Forwarded message ----------\nFrom: "
                f"{original['sender_name']} <{original['sender_email']}>\n"
                f"Date: {original['sent_at']}\nSubject: {original['subject']}\n\n"
                f"{original['body']}"
            )
            values["forward_of"] = str(original["id"])
    return compose_page(ctx, values, [])


def send_message(
    ctx: Ctx, recipients: list[str], subject: str, body: str, reply_to: int | None, fwd: int | None
) -> int:
    """File a message from the user in ``sent``; its id."""
    cursor = ctx.db.execute(
        "INSERT INTO messages (folder, sender_name, sender_email, recipients, subject, body, "
        "sent_at, is_read, starred, reply_to, forward_of) "
        "VALUES ('sent', ?, ?, ?, ?, ?, ?, 1, 0, ?, ?)",
        (
            get_meta(ctx.db, "user_name"),
            get_meta(ctx.db, "user_email"),
            ",".join(recipients),
            subject,
            body,
            tick(ctx.db),
            reply_to,
            fwd,
        ),
    )
    ctx.db.commit()
    return int(cursor.lastrowid or 0)


async def send(request: Request) -> Response:
    """``POST /messages/compose``: send the message and show it, or the form with errors."""
    ctx = ctx_of(request)
    data = await read_form(request)
    values = {k: data.get(k, "") for k in ("to", "subject", "body")}
    recipients, errors = resolve_recipients(ctx.db, values["to"])
    subject = " ".join(values["subject"].split())
    body = values["body"].replace("\r\n", "\n").strip()
    if not subject and not body:
        errors.append("Write a subject or a message.")
    if errors:
        values["forward_of"] = request.query_params.get("forward", "")
        return compose_page(ctx, values, errors)
    forward = request.query_params.get("forward", "")
    forward_of = int(forward) if forward.isdigit() else None
    mid = send_message(ctx, recipients, subject or "(no subject)", body, None, forward_of)
    return redirect(ctx, f"/messages/{mid}", "Message sent.")


async def reply(request: Request) -> Response:
    """``POST /messages/{id}/reply``: reply to the sender (to the first recipient of a sent one)."""
    ctx = ctx_of(request)
    msg = load(ctx, request)
    if msg is None:
        return not_found(ctx, "message")
    body = (await read_form(request)).get("body", "").replace("\r\n", "\n").strip()
    if not body:
        ctx.notices.append("The reply was empty, so nothing was sent.")
        return redirect(ctx, f"/messages/{msg['id']}?reply=1")
    subject = msg["subject"]
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    to = msg["sender_email"]
    if msg["folder"] == "sent":
        to = msg["recipients"].split(",")[0]
    send_message(ctx, [to], subject, body, msg["id"], None)
    return redirect(ctx, f"/messages/{msg['id']}", "Reply sent.")


async def toggle_star(request: Request) -> Response:
    """``POST /messages/{id}/star``: star or unstar the message."""
    ctx = ctx_of(request)
    msg = load(ctx, request)
    if msg is None:
        return redirect(ctx, "/messages", "That message no longer exists.")
    value = 0 if msg["starred"] else 1
    ctx.db.execute("UPDATE messages SET starred = ? WHERE id = ?", (value, msg["id"]))
    ctx.db.commit()
    back = safe_next(request.query_params.get("next"), "/messages")
    return redirect(ctx, back, "Starred." if value else "Star removed.")


async def mark_unread(request: Request) -> Response:
    """``POST /messages/{id}/unread``: mark the message unread."""
    ctx = ctx_of(request)
    msg = load(ctx, request)
    if msg is None:
        return redirect(ctx, "/messages", "That message no longer exists.")
    ctx.db.execute("UPDATE messages SET is_read = 0 WHERE id = ?", (msg["id"],))
    ctx.db.commit()
    folder = msg["folder"]
    back = "/messages" if folder == "inbox" else f"/messages?folder={folder}"
    return redirect(ctx, back, f"“{msg['subject']}” marked as unread.")


async def delete(request: Request) -> Response:
    """``POST /messages/{id}/delete``: move the message to the trash, or delete it from there."""
    ctx = ctx_of(request)
    msg = load(ctx, request)
    if msg is None:
        return redirect(ctx, "/messages", "That message was already deleted.")
    if msg["folder"] == "trash":
        ctx.db.execute("DELETE FROM messages WHERE id = ?", (msg["id"],))
        notice = "Message deleted for good."
        back = "/messages?folder=trash"
    else:
        ctx.db.execute("UPDATE messages SET folder = 'trash' WHERE id = ?", (msg["id"],))
        notice = "Message moved to the trash."
        back = "/messages" if msg["folder"] == "inbox" else f"/messages?folder={msg['folder']}"
    ctx.db.commit()
    return redirect(ctx, back, notice)


ROUTES: list[Route] = [
    Route("/messages", index),
    Route("/messages/compose", compose, methods=["GET"]),
    Route("/messages/compose", send, methods=["POST"]),
    Route("/messages/{id:int}", show),
    Route("/messages/{id:int}/reply", reply, methods=["POST"]),
    Route("/messages/{id:int}/star", toggle_star, methods=["POST"]),
    Route("/messages/{id:int}/unread", mark_unread, methods=["POST"]),
    Route("/messages/{id:int}/delete", delete, methods=["POST"]),
]
