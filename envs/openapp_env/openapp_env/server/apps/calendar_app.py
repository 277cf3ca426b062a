"""Calendar: a week view, event pages, a form to add or edit events (table ``events``).

Pages and their bids:

``/calendar?week=YYYY-MM-DD``
    The week (Monday to Sunday) holding that day; without ``week``, the week of
    today. ``add-event`` (link to the new-event form, dated today or the week's
    Monday), ``add-event-YYYY-MM-DD`` (the "+" of each day: the form for that day),
    ``prev-week``, ``this-week``, ``next-week``, and per event ``event-<id>`` (link
    to its page) and ``delete-event-<id>`` (deletes it after a ``confirm()``).
``/calendar/new?date=YYYY-MM-DD``
    The new-event form: ``title``, ``date`` (``<input type=date>``), ``start-time``
    and ``end-time`` (``<input type=time>``, ``HH:MM``; prefilled 09:00 and 10:00),
    ``location``, ``description``, ``save-event``, ``cancel``. Saving returns to
    the event's week.
``/calendar/event/<id>``
    One event: ``edit-event``, ``delete-event`` (with ``confirm()``),
    ``back-to-calendar``.
``/calendar/event/<id>/edit``
    The same form as ``/calendar/new``, filled in; ``save-event`` updates the event.

The form refuses (and shows why) an empty title, a malformed date or time, and an
end before the start.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .database import row, rows, week_start
from .ui import (
    Ctx,
    ctx_of,
    error_box,
    esc,
    long_date,
    not_found,
    page,
    parse_date,
    parse_time,
    path_id,
    qnext,
    read_form,
    redirect,
    safe_next,
)


def week_url(day: dt.date | str) -> str:
    """The week view holding ``day``."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return f"/calendar?week={week_start(day).isoformat()}"


async def week(request: Request) -> Response:
    """``GET /calendar?week=``: the week holding that day (today's without it)."""
    ctx = ctx_of(request)
    chosen = parse_date(request.query_params.get("week", "")) or ctx.today.isoformat()
    monday = week_start(dt.date.fromisoformat(chosen))
    sunday = monday + dt.timedelta(days=6)
    events = rows(
        ctx.db,
        "SELECT * FROM events WHERE date BETWEEN ? AND ? ORDER BY date, start_time, id",
        (monday.isoformat(), sunday.isoformat()),
    )
    here = f"/calendar?week={monday.isoformat()}"
    days = []
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        iso = day.isoformat()
        items = []
        for ev in (r for r in events if r["date"] == iso):
            location = (
                f'<span class="ev-loc">{esc(ev["location"])}</span>' if ev["location"] else ""
            )
            items.append(
                f'<li class="event"><a href="/calendar/event/{ev["id"]}" '
                f'bid="event-{ev["id"]}"><span class="ev-time">{ev["start_time"]}&ndash;'
                f'{ev["end_time"]}</span><span class="ev-title">{esc(ev["title"])}</span>'
                f"{location}</a>"
                f'<form method="post" action="/calendar/event/{ev["id"]}/delete?{qnext(here)}"'
                ' data-confirm="Delete this event?">'
                f'<button type="submit" class="icon-btn" bid="delete-event-{ev["id"]}" '
                f'title="Delete {esc(ev["title"])}" aria-label="Delete {esc(ev["title"])}">'
                "&times;</button></form></li>"
            )
        classes = "day" + (" today" if day == ctx.today else "")
        classes += " weekend" if offset >= 5 else ""
        listing = "".join(items) or '<li class="free">No events</li>'
        days.append(
            f'<section class="{classes}"><header><span class="dow">{day:%a}</span>'
            f'<span class="dnum">{day.day}</span>'
            f'<a class="day-add" href="/calendar/new?date={iso}" bid="add-event-{iso}" '
            f'title="Add an event on {esc(long_date(iso))}">+</a></header>'
            f'<ul class="events">{listing}</ul></section>'
        )
    default_day = ctx.today if monday <= ctx.today <= sunday else monday
    if monday.month == sunday.month:
        span = f"{monday:%B} {monday.day} &ndash; {sunday.day}, {sunday.year}"
    else:
        span = f"{monday:%b} {monday.day} &ndash; {sunday:%b} {sunday.day}, {sunday.year}"
    prev_week = (monday - dt.timedelta(days=7)).isoformat()
    next_week = (monday + dt.timedelta(days=7)).isoformat()
    content = f"""
<div class="toolbar">
  <h1>{span}</h1>
  <div class="actions">
    <a class="btn" href="/calendar?week={prev_week}" bid="prev-week">&lsaquo; Previous week</a>
    <a class="btn" href="/calendar" bid="this-week">Today</a>
    <a class="btn" href="/calendar?week={next_week}" bid="next-week">Next week &rsaquo;</a>
    <a class="btn primary" href="/calendar/new?date={default_day.isoformat()}"
       bid="add-event">+ Add event</a>
  </div>
</div>
<div class="week">{"".join(days)}</div>
"""
    return page(ctx, "Calendar", "calendar", content)


def form(
    ctx: Ctx, values: dict[str, str], action: str, heading: str, errors: list[str]
) -> Response:
    """The new-event or edit-event form, with ``values`` filled in and ``errors`` shown."""
    back = week_url(parse_date(values.get("date", "")) or ctx.today.isoformat())
    content = f"""
<div class="card narrow">
<h1>{esc(heading)}</h1>
{error_box(errors)}
<form method="post" action="{action}" class="form">
  <label>Title <input type="text" name="title" bid="title" value="{esc(values.get("title", ""))}"
     placeholder="e.g. Meeting" autocomplete="off"></label>
  <div class="row">
    <label>Date <input type="date" name="date" bid="date"
       value="{esc(values.get("date", ""))}"></label>
    <label>Start <input type="time" name="start_time" bid="start-time"
       value="{esc(values.get("start_time", ""))}"></label>
    <label>End <input type="time" name="end_time" bid="end-time"
       value="{esc(values.get("end_time", ""))}"></label>
  </div>
  <label>Location <input type="text" name="location" bid="location"
     value="{esc(values.get("location", ""))}" placeholder="Optional"></label>
  <label>Description <textarea name="description" bid="description" rows="3"
     placeholder="Optional">{esc(values.get("description", ""))}</textarea></label>
  <div class="form-actions">
    <button type="submit" class="btn primary" bid="save-event">Save event</button>
    <a class="btn" href="{back}" bid="cancel">Cancel</a>
  </div>
</form>
</div>
"""
    return page(ctx, heading, "calendar", content)


def validate(data: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The form's values, normalised, and what is wrong with them.

    An empty end time becomes an hour after the start.
    """
    values = {k: data.get(k, "") for k in ("title", "date", "start_time", "end_time")}
    values["location"] = data.get("location", "").strip()
    values["description"] = data.get("description", "").strip()
    values["title"] = " ".join(values["title"].split())
    errors = []
    if not values["title"]:
        errors.append("Give the event a title.")
    date = parse_date(values["date"])
    if date is None:
        errors.append("The date must look like 2026-03-13.")
    else:
        values["date"] = date
    start = parse_time(values["start_time"])
    end = parse_time(values["end_time"]) if values["end_time"].strip() else None
    if start is None:
        errors.append("The start time must look like 15:00.")
    else:
        values["start_time"] = start
        if end is None and not values["end_time"].strip():
            hours, minutes = divmod(min(int(start[:2]) * 60 + int(start[3:]) + 60, 1439), 60)
            end = f"{hours:02d}:{minutes:02d}"
    if end is None:
        errors.append("The end time must look like 16:00.")
    else:
        values["end_time"] = end
        if start is not None and end <= start:
            errors.append("The event must end after it starts.")
    return values, errors


async def new_form(request: Request) -> Response:
    """``GET /calendar/new?date=``: the new-event form, on that day (today without it)."""
    ctx = ctx_of(request)
    day = parse_date(request.query_params.get("date", "")) or ctx.today.isoformat()
    values = {"date": day, "start_time": "09:00", "end_time": "10:00"}
    return form(ctx, values, "/calendar/new", "New event", [])


async def create(request: Request) -> Response:
    """``POST /calendar/new``: add the event and show its week, or the form with errors."""
    ctx = ctx_of(request)
    values, errors = validate(await read_form(request))
    if errors:
        return form(ctx, values, "/calendar/new", "New event", errors)
    ctx.db.execute(
        "INSERT INTO events (title, date, start_time, end_time, location, description) "
        "VALUES (:title, :date, :start_time, :end_time, :location, :description)",
        values,
    )
    ctx.db.commit()
    return redirect(ctx, week_url(values["date"]), f"Event “{values['title']}” saved.")


def load(ctx: Ctx, request: Request) -> sqlite3.Row | None:
    """The event of the request's ``{id}``, or None."""
    return row(ctx.db, "SELECT * FROM events WHERE id = ?", (path_id(request),))


async def show(request: Request) -> Response:
    """``GET /calendar/event/{id}``: one event."""
    ctx = ctx_of(request)
    ev = load(ctx, request)
    if ev is None:
        return not_found(ctx, "event")
    location = esc(ev["location"]) or '<span class="muted">No location</span>'
    description = (
        f'<p class="description">{esc(ev["description"])}</p>' if ev["description"] else ""
    )
    content = f"""
<div class="card narrow event-page">
  <p class="eyebrow">Event</p>
  <h1>{esc(ev["title"])}</h1>
  <dl class="facts">
    <dt>Date</dt><dd>{esc(long_date(ev["date"]))}</dd>
    <dt>Time</dt><dd>{ev["start_time"]} &ndash; {ev["end_time"]}</dd>
    <dt>Location</dt><dd>{location}</dd>
  </dl>
  {description}
  <div class="form-actions">
    <a class="btn primary" href="/calendar/event/{ev["id"]}/edit" bid="edit-event">Edit</a>
    <form method="post" action="/calendar/event/{ev["id"]}/delete" class="inline"
          data-confirm="Delete this event?">
      <button type="submit" class="btn danger" bid="delete-event">Delete</button>
    </form>
    <a class="btn" href="{week_url(ev["date"])}" bid="back-to-calendar">Back to calendar</a>
  </div>
</div>
"""
    return page(ctx, ev["title"], "calendar", content)


async def edit_form(request: Request) -> Response:
    """``GET /calendar/event/{id}/edit``: the event's form, filled in."""
    ctx = ctx_of(request)
    ev = load(ctx, request)
    if ev is None:
        return not_found(ctx, "event")
    return form(ctx, dict(ev), f"/calendar/event/{ev['id']}/edit", "Edit event", [])


async def update(request: Request) -> Response:
    """``POST /calendar/event/{id}/edit``: save the event and show its week (or the errors)."""
    ctx = ctx_of(request)
    ev = load(ctx, request)
    if ev is None:
        return not_found(ctx, "event")
    values, errors = validate(await read_form(request))
    action = f"/calendar/event/{ev['id']}/edit"
    if errors:
        return form(ctx, values, action, "Edit event", errors)
    ctx.db.execute(
        "UPDATE events SET title = :title, date = :date, start_time = :start_time, "
        "end_time = :end_time, location = :location, description = :description "
        "WHERE id = :id",
        {**values, "id": ev["id"]},
    )
    ctx.db.commit()
    return redirect(ctx, week_url(values["date"]), f"Event “{values['title']}” updated.")


async def delete(request: Request) -> Response:
    """``POST /calendar/event/{id}/delete``: delete the event, back to ``?next=`` or its week."""
    ctx = ctx_of(request)
    ev = load(ctx, request)
    if ev is None:
        return redirect(ctx, "/calendar", "That event was already deleted.")
    ctx.db.execute("DELETE FROM events WHERE id = ?", (ev["id"],))
    ctx.db.commit()
    back = safe_next(request.query_params.get("next"), week_url(ev["date"]))
    return redirect(ctx, back, f"Event “{ev['title']}” deleted.")


ROUTES: list[Route] = [
    Route("/calendar", week),
    Route("/calendar/new", new_form, methods=["GET"]),
    Route("/calendar/new", create, methods=["POST"]),
    Route("/calendar/event/{id:int}", show),
    Route("/calendar/event/{id:int}/edit", edit_form, methods=["GET"]),
    Route("/calendar/event/{id:int}/edit", update, methods=["POST"]),
    Route("/calendar/event/{id:int}/delete", delete, methods=["POST"]),
]
