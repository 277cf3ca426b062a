"""The OpenApp web apps: calendar, todo, messages, notes and a shop, on one SQLite database.

The environment uses three names::

    from openapp_env.server.apps import TODAY_FOR, create_web_app, seed_database

    db = sqlite3.connect(":memory:", check_same_thread=False)
    seed_database(db, seed)                      # schema + the seed's initial state
    app = create_web_app(db, TODAY_FOR(seed))    # Starlette ASGI app of this session

Everything is served by the app itself (plain HTML forms, one stylesheet, a little
JavaScript; nothing from outside), at ``http://openapp.local``. Every interactive
element carries a stable semantic ``bid`` attribute; the pages and their bids are
listed in the docstring of each app's module:

* :mod:`.ui` — the layout and the top navigation bar (``nav-*``), ``confirm()`` dialogs;
* :mod:`.web` — the home page ``/`` (``app-*``) and static files;
* :mod:`.calendar_app` — ``/calendar``: week view, event form (``add-event``, ``title``, ...);
* :mod:`.todo_app` — ``/todo`` (``new-todo``, ``todo-<id>-done``, ...);
* :mod:`.messages_app` — ``/messages`` (``compose``, ``to``, ``reply``, ...);
* :mod:`.notes_app` — ``/notes`` (``new-note``, ``note-title``, ...);
* :mod:`.shop_app` — ``/shop`` (``search``, ``add-to-cart``, ``checkout``, ...);
* :mod:`.database` — the schema (tables and columns) and the seeded initial state.

Each app module lists its routes in ``ROUTES``; the handlers are plain module
functions, shared by every session's app, and find their session's database and
"today" (a :class:`~.ui.Ctx`) with :func:`~.ui.ctx_of`.
"""

from __future__ import annotations

from .database import seed_database
from .database import today_for as TODAY_FOR  # the name the environment uses
from .web import create_web_app

__all__ = ["TODAY_FOR", "create_web_app", "seed_database"]
