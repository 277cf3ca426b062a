"""The apps' SQLite database: the schema, a deterministic seeded initial state, helpers.

One in-memory database per episode holds every app's state. :func:`seed_database`
creates the schema and fills it from a seed with ``random.Random(seed)`` and the
word lists below (nothing is downloaded): the user, contacts, calendar events around
"today" (:func:`today_for`), todos, messages, notes and the shop's catalogue. The same
seed always gives the same rows, ids included; another seed changes names, dates,
items and prices.

Tables (every date is ``YYYY-MM-DD``, every time ``HH:MM``, money in cents):

``meta(key, value)``
    ``today``, ``user_name``, ``user_email``, ``user_address``, ``clock`` (minutes
    after 09:00 today of the app's clock: each write advances it by one minute).
``contacts(id, name, email, phone, address)``
    The address book behind the messages app's recipients (first names are unique).
``events(id, title, date, start_time, end_time, location, description)``
``todos(id, title, done, due, priority, created_at)``
    ``done`` is 0/1, ``due`` a date or NULL, ``priority`` ``low``/``normal``/``high``.
``messages(id, folder, sender_name, sender_email, recipients, subject, body, sent_at,
is_read, starred, reply_to, forward_of)``
    ``folder`` is ``inbox``, ``sent`` or ``trash``; ``recipients`` comma-separated
    e-mail addresses; ``reply_to``/``forward_of`` the id of the message answered or
    forwarded (or NULL); ``sent_at`` is ``YYYY-MM-DD HH:MM``.
``notes(id, title, body, pinned, updated_at)``
``products(id, name, category, price_cents, rating, stock, description)``
    ``category`` is a slug (``mugs``, ``lamps``, ...); within a category prices and
    ratings are all different, so "the cheapest mug" is always one product.
``cart_items(product_id, quantity)``
``orders(id, name, address, total_cents, placed_at)`` and
``order_items(order_id, product_id, quantity, price_cents)``
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Sequence
from typing import Any

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
    phone TEXT NOT NULL, address TEXT NOT NULL
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, date TEXT NOT NULL,
    start_time TEXT NOT NULL, end_time TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE todos (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
    due TEXT, priority TEXT NOT NULL DEFAULT 'normal', created_at TEXT NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, folder TEXT NOT NULL, sender_name TEXT NOT NULL,
    sender_email TEXT NOT NULL, recipients TEXT NOT NULL, subject TEXT NOT NULL,
    body TEXT NOT NULL, sent_at TEXT NOT NULL, is_read INTEGER NOT NULL DEFAULT 0,
    starred INTEGER NOT NULL DEFAULT 0, reply_to INTEGER, forward_of INTEGER
);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, category TEXT NOT NULL,
    price_cents INTEGER NOT NULL, rating REAL NOT NULL, stock INTEGER NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE cart_items (
    product_id INTEGER PRIMARY KEY REFERENCES products(id), quantity INTEGER NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, address TEXT NOT NULL,
    total_cents INTEGER NOT NULL, placed_at TEXT NOT NULL
);
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders(id), product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL, price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
"""

TABLES = (
    "meta",
    "contacts",
    "events",
    "todos",
    "messages",
    "notes",
    "products",
    "cart_items",
    "orders",
    "order_items",
)

# ---------------------------------------------------------------------------
# Word lists
# ---------------------------------------------------------------------------

FIRST_NAMES = (
    "Alice", "Bob", "Dennis", "Priya", "Marco", "Yuki", "Fatima", "Liam", "Chloe", "Mateo",
    "Hannah", "Omar", "Ingrid", "Tomas", "Grace", "Ravi", "Elena", "Jonas", "Amara", "Felix",
    "Nadia", "Oscar", "Leila", "Victor", "Sofia", "Kwame", "Mila", "Hugo", "Zara", "Ethan",
    "Lucia", "Arjun", "Freya", "Diego", "Noor", "Samuel", "Ines", "Kenji", "Olivia", "Pablo",
)  # fmt: skip
LAST_NAMES = (
    "Moreau", "Nakamura", "Okafor", "Lindqvist", "Haddad", "Kowalski", "Fernandes", "Brennan",
    "Petrov", "Achebe", "Larsen", "Castillo", "Weber", "Rossi", "Tanaka", "Mensah", "Novak",
    "Duarte", "Fischer", "Quinn", "Sato", "Varga", "Ibrahim", "Keller", "Silva", "Andersen",
    "Popescu", "Reyes", "Hughes", "Dubois",
)  # fmt: skip
STREETS = (
    "Elm Street", "Maple Avenue", "Harbour Road", "Linden Lane", "Orchard Way", "Mill Road",
    "Chestnut Close", "Riverside Drive", "Station Road", "Willow Court", "Beacon Hill",
    "Kingfisher Walk", "Quarry Lane", "Juniper Row", "Foundry Street", "Meadow View",
)  # fmt: skip
CITIES = (
    "Springfield", "Riverton", "Lakewood", "Fairview", "Brookhaven", "Ashford", "Millbrook",
    "Kingsport", "Oakridge", "Westfield", "Clearwater", "Northgate",
)  # fmt: skip
DOMAINS = ("example.com", "example.org", "example.net")
VENUES = (
    "Café Lumen", "The Copper Pot", "Bistro Verde", "Noodle Bar 88", "The Olive Tree",
    "Harbour Grill", "Sakura House", "Blue Door Bakery", "The Reading Room", "Casa Sol",
)  # fmt: skip
ROOMS = ("Room 2A", "Room 3B", "Room 4C", "Room 5D", "Board room", "Studio 1", "Studio 2")
PROJECTS = (
    "Atlas", "Beacon", "Cobalt", "Dune", "Ember", "Falcon", "Granite", "Horizon", "Iris",
    "Juniper", "Kestrel", "Lumen",
)  # fmt: skip
BOOKS = (
    "The Long Way Home", "A Field Guide to Clouds", "Salt and Stone", "The Quiet Orchard",
    "Notes from the Lighthouse", "The Glass Archive", "Winter Tides", "Paper Moons",
)  # fmt: skip
DISHES = (
    "lentil soup", "banana bread", "mushroom risotto", "shakshuka", "lemon drizzle cake",
    "vegetable curry", "pumpkin pie", "miso ramen",
)  # fmt: skip
GROCERIES = (
    "eggs", "oat milk", "spinach", "coffee beans", "rice", "tomatoes", "cheddar", "lemons",
    "yoghurt", "bread", "apples", "olive oil", "pasta", "garlic", "butter", "honey",
)  # fmt: skip
WIFI_NAMES = ("Nebula", "Starlink-Home", "Pumpkin", "Hedgehog", "TheRouter", "Lighthouse")
PASSWORD_WORDS = (
    "maple", "comet", "river", "tiger", "violet", "harbor", "pepper", "quartz", "otter",
    "cedar", "falcon", "lantern",
)  # fmt: skip

# Calendar: (title template, (duration choices in minutes), location kind)
EVENT_TEMPLATES: tuple[tuple[str, tuple[int, ...], str], ...] = (
    ("Lunch with {first}", (60, 90), "venue"),
    ("1:1 with {first}", (30, 60), "room"),
    ("Dentist appointment", (30, 60), "address"),
    ("Project review: {project}", (60, 90), "room"),
    ("Yoga class", (60,), "studio"),
    ("{first}'s birthday dinner", (120,), "venue"),
    ("Call with {first}", (30,), ""),
    ("Haircut", (30, 60), "address"),
    ("Book club", (90,), "venue"),
    ("Quarterly planning", (90, 120), "room"),
    ("Piano lesson", (60,), "address"),
    ("Car service", (60, 120), "address"),
    ("Coffee with {first}", (30, 60), "venue"),
    ("Design workshop", (120,), "room"),
    ("Parent-teacher meeting", (30,), "school"),
    ("Team retro", (60,), "room"),
    ("Tennis with {first}", (60, 90), "club"),
    ("Budget meeting", (60,), "room"),
)  # fmt: skip

TODO_TEMPLATES = (
    "Buy milk", "Call {first}", "Renew passport", "Pay electricity bill",
    "Book dentist appointment", "Water the plants", "Send invoice to {last}",
    "Pick up dry cleaning", "Return library books", "Fix the bike tyre",
    "Schedule car service", "Write thank-you card for {first}", "Replace printer ink",
    "Back up laptop", "Plan weekend trip to {city}", "Clean the fridge",
    "Buy birthday present for {first}", "Update CV", "Cancel gym membership",
    "Read {book}", "Replace smoke alarm battery", "Submit expense report",
    "Defrost the freezer", "Reply to {first} about the {project} launch",
)  # fmt: skip

# Messages: (subject, body); {first} is the sender's first name, {me} the user's.
MESSAGE_TEMPLATES = (
    ("Lunch tomorrow?", "Hi {me},\n\nAre you free for lunch tomorrow? I was thinking of "
     "{venue} around 12:30.\n\nCheers,\n{first}"),
    ("{project} status update", "Hi {me},\n\nQuick update on {project}: the first milestone "
     "is done and the review is scheduled. Let me know if you have questions.\n\n{first}"),
    ("Photos from the weekend", "Hey {me}!\n\nI finally sorted the photos from the weekend "
     "in {city}. I'll send you the album link soon.\n\n{first}"),
    ("Book recommendation", "Hi {me},\n\nYou asked for a book tip: try \"{book}\". I could "
     "not put it down.\n\nBest,\n{first}"),
    ("Invoice #{number}", "Hello {me},\n\nPlease find the details of invoice #{number} "
     "below. Payment is due within 30 days.\n\nKind regards,\n{first}"),
    ("Running late", "Hi {me}, running about ten minutes late, sorry! Start without me.\n"
     "{first}"),
    ("Recipe you asked for", "Hi {me},\n\nHere is my {dish} recipe. The secret is patience "
     "and good olive oil.\n\n{first}"),
    ("Team dinner", "Hi all,\n\nTeam dinner is booked at {venue}. Please tell me about any "
     "dietary requirements.\n\n{first}"),
    ("Question about {project}", "Hi {me},\n\nDo you know who owns the {project} budget "
     "this quarter? I need a sign-off.\n\nThanks,\n{first}"),
    ("Moving house!", "Hi {me},\n\nBig news: we are moving to {city} next month. Party "
     "details to follow.\n\n{first}"),
    ("Borrowed ladder", "Hey {me}, can I keep your ladder until the weekend? The gutters "
     "are taking longer than planned.\n{first}"),
    ("Conference tickets", "Hi {me},\n\nEarly-bird tickets for the conference in {city} "
     "end on Friday. Shall I book two?\n\n{first}"),
)  # fmt: skip

NEWSLETTERS = (
    ("Daily Deals", "deals@shop.example.com", "This week's best deals",
     "Save up to 30% on mugs, lamps and more. Offers end Sunday."),
    ("City Library", "noreply@library.example.org", "Your loans are due soon",
     "Two items on your card are due in three days. Renew them online or at the desk."),
    ("Fit Club", "hello@fitclub.example.net", "New classes this month",
     "We added evening yoga and a Saturday spin class. Book in the app."),
)  # fmt: skip

# Shop: slug -> (display name, singular noun, nouns, adjectives, (min, max) price in cents)
CATEGORIES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[int, int]]] = {
    "mugs": ("Mugs", "mug", ("Mug", "Travel Mug", "Camp Mug", "Espresso Cup"),
             ("Speckled", "Matte", "Glazed", "Classic", "Nordic", "Rustic", "Striped",
              "Enamel", "Stoneware", "Porcelain"), (599, 2899)),
    "lamps": ("Lamps", "lamp", ("Desk Lamp", "Floor Lamp", "Table Lamp", "Reading Light"),
              ("Brass", "Arc", "Minimal", "Industrial", "Paper", "Walnut", "Globe", "Tripod",
               "Mushroom", "Clip-on"), (1999, 14999)),
    "notebooks": ("Notebooks", "notebook", ("Notebook", "Journal", "Sketchbook", "Planner"),
                  ("Dotted", "Lined", "Linen", "Pocket", "A5", "Leather", "Recycled",
                   "Hardcover", "Spiral", "Grid"), (399, 3499)),
    "headphones": ("Headphones", "pair of headphones",
                   ("Headphones", "Earbuds", "Headset"),
                   ("Wireless", "Studio", "Noise-Cancelling", "Sport", "Compact", "Bass",
                    "Open-Back", "Travel", "Kids", "Pro"), (1499, 29999)),
    "backpacks": ("Backpacks", "backpack", ("Backpack", "Daypack", "Rucksack"),
                  ("Canvas", "Rolltop", "Hiking", "Laptop", "Waxed", "Urban", "Foldable",
                   "Trail", "Commuter", "Weekender"), (2499, 18999)),
    "plants": ("Plants", "plant", ("Monstera", "Fern", "Snake Plant", "Pothos", "Cactus"),
               ("Mini", "Hanging", "Variegated", "Giant", "Potted", "Desk", "Trailing",
                "Bushy"), (799, 6499)),
    "tea": ("Tea", "tea", ("Green Tea", "Black Tea", "Herbal Tea", "Oolong", "Chai"),
            ("Jasmine", "Smoky", "Lemon", "Mint", "Ginger", "Earl Grey", "Vanilla",
             "Chamomile", "Honeybush"), (349, 2499)),
    "candles": ("Candles", "candle", ("Candle", "Tealight Set", "Pillar Candle"),
                ("Cedar", "Lavender", "Sea Salt", "Fig", "Amber", "Pine", "Rose", "Tobacco",
                 "Citrus"), (699, 4499)),
}  # fmt: skip
PRODUCT_BLURBS = (
    "A customer favourite, made to last.",
    "Simple, sturdy and easy to love.",
    "Thoughtfully designed for everyday use.",
    "Small-batch quality at a fair price.",
    "Our best seller this season.",
    "Looks good, works better.",
)


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


def today_for(seed: int) -> dt.date:
    """The apps' "today" for ``seed``: a fixed day in 2026 (never the real clock)."""
    return dt.date(2026, 1, 5) + dt.timedelta(days=(seed * 47 + 31) % 330)


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def hhmm(minutes: int) -> str:
    """``HH:MM`` for minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def minutes_of(text: str) -> int:
    """Minutes after midnight of ``HH:MM``."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def money(cents: int) -> str:
    """``$1,234.56``."""
    return f"${cents / 100:,.2f}"


def seed_database(db: sqlite3.Connection, seed: int) -> None:
    """Create every app's tables in ``db`` and fill the initial state of ``seed``."""
    rng = random.Random(seed)
    today = today_for(seed)
    db.executescript(SCHEMA)
    firsts = rng.sample(FIRST_NAMES, 14)
    lasts = rng.sample(LAST_NAMES, 14)
    me_name = f"{firsts[0]} {lasts[0]}"
    me_email = f"{firsts[0].lower()}.{lasts[0].lower()}@{DOMAINS[0]}"
    me_address = _address(rng)
    meta = {
        "today": today.isoformat(),
        "user_name": me_name,
        "user_email": me_email,
        "user_address": me_address,
        "clock": "0",
    }
    db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
    contacts = []
    for first, last in zip(firsts[1:], lasts[1:], strict=True):
        email = f"{first.lower()}.{last.lower()}@{rng.choice(DOMAINS)}"
        phone = f"+1 555-01{rng.randrange(100):02d}"
        contacts.append((f"{first} {last}", email, phone, _address(rng)))
    db.executemany(
        "INSERT INTO contacts (name, email, phone, address) VALUES (?, ?, ?, ?)", contacts
    )
    _seed_events(db, rng, today, [c[0] for c in contacts])
    _seed_todos(db, rng, today, [c[0] for c in contacts])
    _seed_messages(db, rng, today, contacts, me_name, me_email)
    _seed_notes(db, rng, today, contacts)
    _seed_products(db, rng)
    db.commit()


def _address(rng: random.Random) -> str:
    return f"{rng.randint(2, 180)} {rng.choice(STREETS)}, {rng.choice(CITIES)}"


def _location(rng: random.Random, kind: str) -> str:
    if kind == "venue":
        return rng.choice(VENUES)
    if kind == "room":
        return rng.choice(ROOMS)
    if kind == "studio":
        return f"Studio {rng.choice('ABC')}, {rng.randint(2, 90)} {rng.choice(STREETS)}"
    if kind == "club":
        return f"{rng.choice(CITIES)} Tennis Club"
    if kind == "school":
        return f"{rng.choice(CITIES)} Primary School"
    if kind == "address":
        return _address(rng)
    return ""


def _seed_events(
    db: sqlite3.Connection, rng: random.Random, today: dt.date, people: Sequence[str]
) -> None:
    monday = week_start(today)
    # days (offsets from this Monday): 7 events this week, 3 last week, 4 next week
    offsets = (
        rng.sample(range(0, 5), 5)
        + rng.sample(range(5, 7), 2)
        + rng.sample(range(-7, 0), 3)
        + rng.sample(range(7, 14), 4)
    )
    templates = rng.sample(EVENT_TEMPLATES, len(offsets))
    firsts = [p.split()[0] for p in people]
    used_titles: set[str] = set()
    rows = []
    for offset, (template, durations, kind) in zip(offsets, templates, strict=True):
        title = template.format(first=rng.choice(firsts), project=rng.choice(PROJECTS))
        while title in used_titles:
            title = template.format(first=rng.choice(firsts), project=rng.choice(PROJECTS))
        used_titles.add(title)
        start = rng.randrange(8 * 60, 18 * 60, 30)
        end = start + rng.choice(durations)
        day = monday + dt.timedelta(days=offset)
        rows.append((title, day.isoformat(), hhmm(start), hhmm(end), _location(rng, kind), ""))
    # a standup on two weekdays of this week: the one title that repeats
    for offset in sorted(rng.sample(range(0, 5), 2)):
        day = monday + dt.timedelta(days=offset)
        rows.append(("Team standup", day.isoformat(), "09:00", "09:15", "Room 2A", ""))
    rows.sort(key=lambda r: (r[1], r[2], r[0]))
    db.executemany(
        "INSERT INTO events (title, date, start_time, end_time, location, description) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def _seed_todos(
    db: sqlite3.Connection, rng: random.Random, today: dt.date, people: Sequence[str]
) -> None:
    templates = rng.sample(TODO_TEMPLATES, 11)
    rows = []
    for index, template in enumerate(templates):
        person = rng.choice(people)
        title = template.format(
            first=person.split()[0],
            last=person.split()[1],
            city=rng.choice(CITIES),
            book=rng.choice(BOOKS),
            project=rng.choice(PROJECTS),
        )
        done = 1 if index < 3 else 0
        due = None
        if rng.random() < 0.6:
            due = (today + dt.timedelta(days=rng.randint(-3, 12))).isoformat()
        priority = rng.choice(("low", "normal", "normal", "high"))
        created = (today - dt.timedelta(days=rng.randint(1, 20))).isoformat()
        rows.append((title, done, due, priority, created))
    rng.shuffle(rows)
    db.executemany(
        "INSERT INTO todos (title, done, due, priority, created_at) VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def _seed_messages(
    db: sqlite3.Connection,
    rng: random.Random,
    today: dt.date,
    contacts: Sequence[tuple[str, str, str, str]],
    me_name: str,
    me_email: str,
) -> None:
    me_first = me_name.split()[0]
    rows: list[tuple[Any, ...]] = []
    templates = rng.sample(MESSAGE_TEMPLATES, 10)
    for index, (subject, body) in enumerate(templates):
        name, email, _, _ = rng.choice(contacts)
        values = {
            "me": me_first,
            "first": name.split()[0],
            "project": rng.choice(PROJECTS),
            "venue": rng.choice(VENUES),
            "city": rng.choice(CITIES),
            "book": rng.choice(BOOKS),
            "dish": rng.choice(DISHES),
            "number": str(rng.randint(1000, 9999)),
        }
        day = today - dt.timedelta(days=index // 2 + rng.randint(0, 1))
        when = f"{day.isoformat()} {hhmm(rng.randrange(7 * 60, 22 * 60))}"
        read = 1 if index >= 3 else 0
        rows.append(
            ("inbox", name, email, me_email, subject.format(**values), body.format(**values),
             when, read, 1 if rng.random() < 0.15 else 0)
        )  # fmt: skip
    for sender, address, subject, body in rng.sample(NEWSLETTERS, 2):
        day = today - dt.timedelta(days=rng.randint(0, 6))
        when = f"{day.isoformat()} {hhmm(rng.randrange(6 * 60, 9 * 60))}"
        rows.append(("inbox", sender, address, me_email, subject, body, when, 0, 0))
    for name, email, _, _ in rng.sample(list(contacts), 3):
        day = today - dt.timedelta(days=rng.randint(1, 9))
        when = f"{day.isoformat()} {hhmm(rng.randrange(8 * 60, 20 * 60))}"
        subject = rng.choice(("Catching up", "Thanks!", "Saturday plans", "Quick favour"))
        body = f"Hi {name.split()[0]},\n\nThanks again for your help last week.\n\n{me_first}"
        rows.append(("sent", me_name, me_email, email, subject, body, when, 1, 0))
    rows.sort(key=lambda r: r[6])
    db.executemany(
        "INSERT INTO messages (folder, sender_name, sender_email, recipients, subject, body, "
        "sent_at, is_read, starred) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _seed_notes(
    db: sqlite3.Connection,
    rng: random.Random,
    today: dt.date,
    contacts: Sequence[tuple[str, str, str, str]],
) -> None:
    groceries = rng.sample(GROCERIES, 5)
    password = f"{rng.choice(PASSWORD_WORDS)}-{rng.choice(PASSWORD_WORDS)}-{rng.randint(10, 99)}"
    people = rng.sample(list(contacts), 4)
    project = rng.choice(PROJECTS)
    dish = rng.choice(DISHES)
    city = rng.choice(CITIES)
    books = rng.sample(BOOKS, 3)
    notes = [
        ("Shopping list", "\n".join(f"- {item}" for item in groceries)),
        ("Home Wi-Fi", f"Network: {rng.choice(WIFI_NAMES)}\nPassword: {password}\n"
         "Router is behind the bookshelf."),
        ("Addresses", "\n".join(f"{name}: {address}" for name, _, _, address in people)),
        (f"Meeting notes: {project}", f"- kickoff went well\n- {people[0][0].split()[0]} "
         "owns the budget\n- next review in two weeks"),
        (f"Recipe: {dish}", f"Ingredients for {dish}, serves 4.\nCook slowly, season well."),
        (f"Packing list for {city}", "passport\nchargers\nrain jacket\nwalking shoes"),
        ("Books to read", "\n".join(books)),
        ("Ideas", "Start a herb garden on the balcony.\nLearn to make sourdough."),
    ]  # fmt: skip
    rng.shuffle(notes)
    rows = []
    for index, (title, body) in enumerate(notes):
        day = today - dt.timedelta(days=index + 1 + rng.randint(0, 3))
        rows.append((title, body, 1 if index == 0 else 0, f"{day.isoformat()} 18:{index:02d}"))
    db.executemany("INSERT INTO notes (title, body, pinned, updated_at) VALUES (?, ?, ?, ?)", rows)


def _seed_products(db: sqlite3.Connection, rng: random.Random) -> None:
    rows = []
    for slug, (_, _, nouns, adjectives, (low, high)) in CATEGORIES.items():
        names: set[str] = set()
        count = rng.randint(6, 8)
        while len(names) < count:
            names.add(f"{rng.choice(adjectives)} {rng.choice(nouns)}")
        dollars = rng.sample(range(low // 100, high // 100), count)  # distinct prices
        ratings = rng.sample(range(30, 51), count)
        for name, price, rating in zip(sorted(names), dollars, ratings, strict=True):
            cents = price * 100 + rng.choice((49, 95, 99))
            description = f"{name}. {rng.choice(PRODUCT_BLURBS)}"
            rows.append((name, slug, cents, rating / 10, rng.randint(3, 60), description))
    rng.shuffle(rows)
    db.executemany(
        "INSERT INTO products (name, category, price_cents, rating, stock, description) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def dump(db: sqlite3.Connection) -> str:
    """Every row of every table, as text (for comparisons in tests)."""
    lines = []
    for table in TABLES:
        for row in db.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
            lines.append(f"{table}: {tuple(row)!r}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Helpers shared by the apps and the tasks
# ---------------------------------------------------------------------------


def get_meta(db: sqlite3.Connection, key: str) -> str:
    """A ``meta`` value ('' when missing)."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else ""


def tick(db: sqlite3.Connection) -> str:
    """Advance the app clock by a minute; ``YYYY-MM-DD HH:MM`` of the new time."""
    minutes = int(get_meta(db, "clock") or 0) + 1
    db.execute("UPDATE meta SET value = ? WHERE key = 'clock'", (str(minutes),))
    total = min(9 * 60 + minutes, 23 * 60 + 59)
    return f"{get_meta(db, 'today')} {hhmm(total)}"


def rows(db: sqlite3.Connection, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
    """The rows of a query, as :class:`sqlite3.Row` (the connection's factory untouched)."""
    cursor = db.cursor()
    cursor.row_factory = sqlite3.Row
    return list(cursor.execute(sql, args).fetchall())


def row(db: sqlite3.Connection, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
    """The first row of a query, or None."""
    found = rows(db, sql, args)
    return found[0] if found else None
