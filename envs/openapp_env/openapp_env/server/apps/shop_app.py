"""Shop: a catalogue with search, a cart and checkout (tables ``products``, ``cart_items``,
``orders``, ``order_items``).

Every shop page has the shop bar: ``search`` (Enter searches) and ``search-button``,
``cart`` (link, with the number of items) and ``orders``.

Pages and their bids:

``/shop?category=<slug>&sort=<order>``
    The catalogue: ``category-all`` and ``category-<slug>`` (``mugs``, ``lamps``,
    ``notebooks``, ``headphones``, ``backpacks``, ``plants``, ``tea``,
    ``candles``), ``sort`` (a select: ``featured``, ``price-asc``, ``price-desc``,
    ``rating``, ``name``; changing it reloads the list), and per product
    ``product-<id>`` (link to its page) and ``add-to-cart-<id>`` (adds one).
``/shop/search?q=words&sort=<order>``
    Products whose name, category or description hold every word; the same
    ``sort``, ``product-<id>``, ``add-to-cart-<id>``.
``/shop/product/<id>``
    ``quantity`` (a number, 1 by default), ``add-to-cart`` (adds that many and opens
    the cart), ``back-to-shop``.
``/shop/cart``
    Per line: ``product-<id>``, ``cart-<id>-quantity`` with ``update-<id>`` (0
    removes the line), ``remove-<id>``. Then ``checkout`` and
    ``continue-shopping``.
``/shop/checkout``
    ``name``, ``address``, ``place-order``, ``back-to-cart``. Placing the order
    empties the cart and shows ``/shop/orders/<id>``.
``/shop/orders`` and ``/shop/orders/<id>``
    ``order-<id>`` per order; ``continue-shopping``.

Shipping is free, so an order's total is the sum of its lines.
"""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .database import CATEGORIES, money, row, rows, tick
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
)

SORTS = (
    ("featured", "Featured", "id"),
    ("price-asc", "Price: low to high", "price_cents, id"),
    ("price-desc", "Price: high to low", "price_cents DESC, id"),
    ("rating", "Customer rating", "rating DESC, id"),
    ("name", "Name: A to Z", "name, id"),
)
MAX_QUANTITY = 99


def stars(rating: float) -> str:
    """``★ 4.5`` with an accessible label."""
    return f'<span class="rating" title="Rated {rating:.1f} out of 5">★ {rating:.1f}</span>'


def cart_count(ctx: Ctx) -> int:
    """How many items the cart holds (quantities added up)."""
    found = ctx.db.execute("SELECT COALESCE(SUM(quantity), 0) FROM cart_items").fetchone()
    return int(found[0])


def shop_bar(ctx: Ctx, query: str = "") -> str:
    """The bar over every shop page: search (showing ``query``), orders, the cart."""
    count = cart_count(ctx)
    return f"""
<div class="shop-bar">
  <form method="get" action="/shop/search" class="search">
    <input type="search" name="q" bid="search" value="{esc(query)}"
      placeholder="Search products" aria-label="Search products">
    <button type="submit" class="btn" bid="search-button">Search</button>
  </form>
  <a class="btn" href="/shop/orders" bid="orders">Orders</a>
  <a class="btn primary cart-link" href="/shop/cart" bid="cart">Cart
     <span class="count">{count}</span></a>
</div>"""


def sort_of(request: Request) -> tuple[str, str]:
    """The request's ``?sort=`` and its SQL ``ORDER BY`` (``featured`` by default)."""
    wanted = request.query_params.get("sort", "featured")
    for key, _, order in SORTS:
        if key == wanted:
            return key, order
    return "featured", "id"


def sort_select(current: str) -> str:
    """The ``sort`` select with ``current`` chosen."""
    options = "".join(
        f'<option value="{key}"{" selected" if key == current else ""}>{label}</option>'
        for key, label, _ in SORTS
    )
    return (
        '<label class="sort">Sort by <select name="sort" bid="sort" data-sort>'
        f"{options}</select></label>"
    )


def grid(products: list[sqlite3.Row], here: str) -> str:
    """The product cards; their add-to-cart buttons come back to ``here``."""
    cards = []
    for product in products:
        pid = product["id"]
        initial = esc(product["name"][0])
        cards.append(
            f'<li class="product-card"><div class="thumb cat-{product["category"]}">'
            f"{initial}</div>"
            f'<a href="/shop/product/{pid}" bid="product-{pid}" class="product-name">'
            f"{esc(product['name'])}</a>"
            f'<div class="price-row"><span class="price">{money(product["price_cents"])}'
            f"</span>{stars(product['rating'])}</div>"
            f'<form method="post" action="/shop/cart/add/{pid}?{qnext(here)}">'
            f'<button type="submit" class="btn small" bid="add-to-cart-{pid}">'
            "Add to cart</button></form></li>"
        )
    return (
        f'<ul class="products">{"".join(cards)}</ul>'
        if cards
        else ('<p class="empty">No products match.</p>')
    )


async def catalogue(request: Request) -> Response:
    """``GET /shop?category=&sort=``: the products, of one category or all."""
    ctx = ctx_of(request)
    category = request.query_params.get("category", "")
    if category not in CATEGORIES:
        category = ""
    sort_key, order = sort_of(request)
    if category:
        products = rows(
            ctx.db, f"SELECT * FROM products WHERE category = ? ORDER BY {order}", (category,)
        )
        heading = CATEGORIES[category][0]
    else:
        products = rows(ctx.db, f"SELECT * FROM products ORDER BY {order}")
        heading = "All products"
    chips = [f'<a href="/shop" bid="category-all"{" class=active" if not category else ""}>All</a>']
    for slug, (label, *_rest) in CATEGORIES.items():
        current = " class=active" if slug == category else ""
        chips.append(f'<a href="/shop?category={slug}" bid="category-{slug}"{current}>'
                     f"{label}</a>")  # fmt: skip
    content = f"""
{shop_bar(ctx)}
<div class="shop">
  <nav class="categories card">{"".join(chips)}</nav>
  <section class="catalogue">
    <div class="toolbar"><h1>{esc(heading)} <span class="muted">({len(products)})</span></h1>
    {sort_select(sort_key)}</div>
    {grid(products, request_path(request))}
  </section>
</div>"""
    return page(ctx, f"Shop · {heading}", "shop", content)


async def search(request: Request) -> Response:
    """``GET /shop/search?q=&sort=``: the products holding every word."""
    ctx = ctx_of(request)
    query = " ".join(request.query_params.get("q", "").split())
    sort_key, order = sort_of(request)
    words = query.split()
    if words:
        where = " AND ".join(
            "(name || ' ' || category || ' ' || description) LIKE ?" for _ in words
        )
        products = rows(
            ctx.db,
            f"SELECT * FROM products WHERE {where} ORDER BY {order}",
            [f"%{w}%" for w in words],
        )
    else:
        products = []
    count = len(products)
    content = f"""
{shop_bar(ctx, query)}
<section class="card catalogue">
  <div class="toolbar"><h1>{count} result{"" if count == 1 else "s"} for “{esc(query)}”</h1>
  {sort_select(sort_key)}</div>
  {grid(products, request_path(request))}
</section>"""
    return page(ctx, f"Search: {query}", "shop", content)


def load(ctx: Ctx, request: Request) -> sqlite3.Row | None:
    """The product of the request's ``{id}``, or None."""
    return row(ctx.db, "SELECT * FROM products WHERE id = ?", (path_id(request),))


async def product_page(request: Request) -> Response:
    """``GET /shop/product/{id}``: one product, with a quantity to add."""
    ctx = ctx_of(request)
    product = load(ctx, request)
    if product is None:
        return not_found(ctx, "product")
    pid = product["id"]
    stock = product["stock"]
    stock_text = f"Only {stock} left" if stock < 10 else "In stock"
    category = CATEGORIES[product["category"]][0]
    content = f"""
{shop_bar(ctx)}
<div class="card product-page">
  <div class="thumb big cat-{product["category"]}">{esc(product["name"][0])}</div>
  <div class="details">
    <p class="eyebrow">{esc(category)}</p>
    <h1>{esc(product["name"])}</h1>
    <p class="price big">{money(product["price_cents"])}</p>
    <p>{stars(product["rating"])} · <span class="stock">{stock_text}</span></p>
    <p class="description">{esc(product["description"])}</p>
    <form method="post" action="/shop/product/{pid}" class="buy">
      <label>Quantity <input type="number" name="quantity" bid="quantity" value="1" min="1"
         max="{MAX_QUANTITY}"></label>
      <button type="submit" class="btn primary" bid="add-to-cart">Add to cart</button>
    </form>
    <a class="link" href="/shop?category={product["category"]}" bid="back-to-shop">
      ← More {esc(category.lower())}</a>
  </div>
</div>"""
    return page(ctx, product["name"], "shop", content)


def parse_quantity(text: str | None, default: int) -> int | None:
    """A quantity typed in a form (``default`` when empty), or None when invalid."""
    text = (text or "").strip()
    if not text:
        return default
    try:
        value = int(float(text))
    except ValueError:
        return None
    return value if 0 <= value <= MAX_QUANTITY else None


def add_to_cart(ctx: Ctx, pid: int, quantity: int) -> None:
    """Add ``quantity`` of product ``pid`` to the cart (capped at ``MAX_QUANTITY``)."""
    ctx.db.execute(
        "INSERT INTO cart_items (product_id, quantity) VALUES (?, ?) ON CONFLICT(product_id) "
        f"DO UPDATE SET quantity = MIN(quantity + excluded.quantity, {MAX_QUANTITY})",
        (pid, quantity),
    )
    ctx.db.commit()


async def add_from_page(request: Request) -> Response:
    """``POST /shop/product/{id}``: add the quantity chosen and open the cart."""
    ctx = ctx_of(request)
    product = load(ctx, request)
    if product is None:
        return not_found(ctx, "product")
    quantity = parse_quantity((await read_form(request)).get("quantity"), 1)
    if not quantity:
        ctx.notices.append(f"Choose a quantity from 1 to {MAX_QUANTITY}.")
        return redirect(ctx, f"/shop/product/{product['id']}")
    add_to_cart(ctx, product["id"], quantity)
    return redirect(ctx, "/shop/cart", f"Added {quantity} of {product['name']} to your cart.")


async def quick_add(request: Request) -> Response:
    """``POST /shop/cart/add/{id}``: add one, back to ``?next=``."""
    ctx = ctx_of(request)
    product = load(ctx, request)
    if product is None:
        return not_found(ctx, "product")
    add_to_cart(ctx, product["id"], 1)
    back = safe_next(request.query_params.get("next"), "/shop")
    return redirect(ctx, back, f"Added {product['name']} to your cart.")


def cart_lines(ctx: Ctx) -> list[sqlite3.Row]:
    """The cart's products, each with its ``quantity``, by name."""
    return rows(
        ctx.db,
        "SELECT p.*, c.quantity FROM cart_items c JOIN products p ON p.id = c.product_id "
        "ORDER BY p.name",
    )


async def cart_page(request: Request) -> Response:
    """``GET /shop/cart``: the cart."""
    ctx = ctx_of(request)
    lines = cart_lines(ctx)
    total = sum(line["price_cents"] * line["quantity"] for line in lines)
    body = []
    for line in lines:
        pid = line["id"]
        body.append(
            f'<tr><td><a href="/shop/product/{pid}" bid="product-{pid}">'
            f'{esc(line["name"])}</a></td><td class="num">{money(line["price_cents"])}</td>'
            f'<td><form method="post" action="/shop/cart/{pid}/update" class="qty">'
            f'<input type="number" name="quantity" bid="cart-{pid}-quantity" min="0" '
            f'max="{MAX_QUANTITY}" value="{line["quantity"]}" '
            f'aria-label="Quantity of {esc(line["name"])}">'
            f'<button type="submit" class="btn small" bid="update-{pid}">Update</button>'
            "</form></td>"
            f'<td class="num">{money(line["price_cents"] * line["quantity"])}</td>'
            f'<td><form method="post" action="/shop/cart/{pid}/remove" class="inline">'
            f'<button type="submit" class="icon-btn" bid="remove-{pid}" '
            f'aria-label="Remove {esc(line["name"])}">&times;</button></form></td></tr>'
        )
    if lines:
        table = f"""
<table class="cart">
  <thead><tr><th>Product</th><th class="num">Price</th><th>Quantity</th>
  <th class="num">Subtotal</th><th></th></tr></thead>
  <tbody>{"".join(body)}</tbody>
  <tfoot><tr><td colspan="3">Total (free shipping)</td><td class="num total">{money(total)}</td>
  <td></td></tr></tfoot>
</table>
<div class="form-actions">
  <a class="btn primary" href="/shop/checkout" bid="checkout">Proceed to checkout</a>
  <a class="btn" href="/shop" bid="continue-shopping">Continue shopping</a>
</div>"""
    else:
        table = (
            '<p class="empty">Your cart is empty.</p>'
            '<a class="btn" href="/shop" bid="continue-shopping">Continue shopping</a>'
        )
    content = f"""
{shop_bar(ctx)}
<section class="card">
  <h1>Your cart</h1>
  {table}
</section>"""
    return page(ctx, "Cart", "shop", content)


async def update_line(request: Request) -> Response:
    """``POST /shop/cart/{id}/update``: set the line's quantity (0 removes it)."""
    ctx = ctx_of(request)
    pid = path_id(request)
    quantity = parse_quantity((await read_form(request)).get("quantity"), 1)
    if quantity is None:
        return redirect(ctx, "/shop/cart", f"Choose a quantity from 0 to {MAX_QUANTITY}.")
    if quantity == 0:
        ctx.db.execute("DELETE FROM cart_items WHERE product_id = ?", (pid,))
        notice = "Removed from your cart."
    else:
        ctx.db.execute("UPDATE cart_items SET quantity = ? WHERE product_id = ?", (quantity, pid))
        notice = "Cart updated."
    ctx.db.commit()
    return redirect(ctx, "/shop/cart", notice)


async def remove_line(request: Request) -> Response:
    """``POST /shop/cart/{id}/remove``: remove the line."""
    ctx = ctx_of(request)
    ctx.db.execute("DELETE FROM cart_items WHERE product_id = ?", (path_id(request),))
    ctx.db.commit()
    return redirect(ctx, "/shop/cart", "Removed from your cart.")


def checkout_page(ctx: Ctx, values: dict[str, str], errors: list[str]) -> Response:
    """The checkout form, with ``values`` filled in and ``errors`` shown."""
    lines = cart_lines(ctx)
    if not lines:
        content = f"""
{shop_bar(ctx)}
<section class="card narrow"><h1>Checkout</h1><p class="empty">Your cart is empty.</p>
<a class="btn" href="/shop" bid="continue-shopping">Continue shopping</a></section>"""
        return page(ctx, "Checkout", "shop", content)
    total = sum(line["price_cents"] * line["quantity"] for line in lines)
    summary = "".join(
        f"<li><span>{line['quantity']} &times; {esc(line['name'])}</span>"
        f"<span>{money(line['price_cents'] * line['quantity'])}</span></li>"
        for line in lines
    )
    content = f"""
{shop_bar(ctx)}
<section class="card narrow">
  <h1>Checkout</h1>
  <ul class="summary">{summary}<li class="total"><span>Total</span>
    <span>{money(total)}</span></li></ul>
  {error_box(errors)}
  <form method="post" action="/shop/checkout" class="form">
    <label>Full name <input type="text" name="name" bid="name" autocomplete="off"
       value="{esc(values.get("name", ""))}"></label>
    <label>Shipping address <input type="text" name="address" bid="address"
       autocomplete="off" value="{esc(values.get("address", ""))}"
       placeholder="Street and number, city"></label>
    <div class="form-actions">
      <button type="submit" class="btn primary" bid="place-order">Place order</button>
      <a class="btn" href="/shop/cart" bid="back-to-cart">Back to cart</a>
    </div>
  </form>
</section>"""
    return page(ctx, "Checkout", "shop", content)


async def checkout(request: Request) -> Response:
    """``GET /shop/checkout``: the checkout form."""
    ctx = ctx_of(request)
    return checkout_page(ctx, {}, [])


async def place_order(request: Request) -> Response:
    """``POST /shop/checkout``: place the order, empty the cart and show the order."""
    ctx = ctx_of(request)
    data = await read_form(request)
    values = {k: " ".join(data.get(k, "").split()) for k in ("name", "address")}
    lines = cart_lines(ctx)
    errors = []
    if not lines:
        errors.append("Your cart is empty.")
    if not values["name"]:
        errors.append("Enter the name to ship to.")
    if not values["address"]:
        errors.append("Enter the shipping address.")
    if errors:
        return checkout_page(ctx, values, errors)
    total = sum(line["price_cents"] * line["quantity"] for line in lines)
    cursor = ctx.db.execute(
        "INSERT INTO orders (name, address, total_cents, placed_at) VALUES (?, ?, ?, ?)",
        (values["name"], values["address"], total, tick(ctx.db)),
    )
    order_id = cursor.lastrowid
    ctx.db.executemany(
        "INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES (?, ?, ?, ?)",
        [(order_id, line["id"], line["quantity"], line["price_cents"]) for line in lines],
    )
    ctx.db.execute("DELETE FROM cart_items")
    ctx.db.commit()
    return redirect(ctx, f"/shop/orders/{order_id}", "Thank you! Your order is placed.")


async def orders_page(request: Request) -> Response:
    """``GET /shop/orders``: every order, newest first."""
    ctx = ctx_of(request)
    found = rows(ctx.db, "SELECT * FROM orders ORDER BY id DESC")
    items = "".join(
        f'<li><a href="/shop/orders/{o["id"]}" bid="order-{o["id"]}">Order #{o["id"]}</a>'
        f' <span class="muted">{esc(o["placed_at"])} · {money(o["total_cents"])}</span></li>'
        for o in found
    )
    listing = (
        f'<ul class="orders">{items}</ul>' if items else ('<p class="empty">No orders yet.</p>')
    )
    content = f"""
{shop_bar(ctx)}
<section class="card narrow"><h1>Your orders</h1>{listing}
<a class="btn" href="/shop" bid="continue-shopping">Continue shopping</a></section>"""
    return page(ctx, "Orders", "shop", content)


async def order_page(request: Request) -> Response:
    """``GET /shop/orders/{id}``: one order."""
    ctx = ctx_of(request)
    found = row(ctx.db, "SELECT * FROM orders WHERE id = ?", (path_id(request),))
    if found is None:
        return not_found(ctx, "order")
    lines = rows(
        ctx.db,
        "SELECT i.*, p.name FROM order_items i JOIN products p ON p.id = i.product_id "
        "WHERE i.order_id = ? ORDER BY p.name",
        (found["id"],),
    )
    summary = "".join(
        f"<li><span>{line['quantity']} &times; {esc(line['name'])}</span>"
        f"<span>{money(line['price_cents'] * line['quantity'])}</span></li>"
        for line in lines
    )
    content = f"""
{shop_bar(ctx)}
<section class="card narrow">
  <p class="eyebrow">Order #{found["id"]} · {esc(found["placed_at"])}</p>
  <h1>Order confirmed</h1>
  <p>Shipping to <strong>{esc(found["name"])}</strong>, {esc(found["address"])}.</p>
  <ul class="summary">{summary}<li class="total"><span>Total</span>
    <span>{money(found["total_cents"])}</span></li></ul>
  <a class="btn" href="/shop" bid="continue-shopping">Continue shopping</a>
</section>"""
    return page(ctx, f"Order #{found['id']}", "shop", content)


ROUTES: list[Route] = [
    Route("/shop", catalogue),
    Route("/shop/search", search),
    Route("/shop/product/{id:int}", product_page, methods=["GET"]),
    Route("/shop/product/{id:int}", add_from_page, methods=["POST"]),
    Route("/shop/cart", cart_page),
    Route("/shop/cart/add/{id:int}", quick_add, methods=["POST"]),
    Route("/shop/cart/{id:int}/update", update_line, methods=["POST"]),
    Route("/shop/cart/{id:int}/remove", remove_line, methods=["POST"]),
    Route("/shop/checkout", checkout, methods=["GET"]),
    Route("/shop/checkout", place_order, methods=["POST"]),
    Route("/shop/orders", orders_page),
    Route("/shop/orders/{id:int}", order_page),
]
