"""The shop's tasks: fill and change the cart, and place orders."""

from __future__ import annotations

import random
import sqlite3

from ..apps.database import CATEGORIES, rows
from .base import Params, task
from .helpers import (
    act,
    cart,
    checkout_actions,
    one_order,
    orders,
    products_in,
    score,
    ship_to,
    shop_params,
)


def category_label(slug: str) -> str:
    """``Mugs``."""
    return CATEGORIES[slug][0]


def fill_cart(db: sqlite3.Connection, rng: random.Random, count: int) -> list[sqlite3.Row]:
    """Put ``count`` products (different categories) in the cart, quantity 1 or 2."""
    slugs = rng.sample(sorted(CATEGORIES), count)
    chosen = []
    for slug in slugs:
        product = rng.choice(products_in(db, slug, "id"))
        db.execute(
            "INSERT INTO cart_items (product_id, quantity) VALUES (?, ?)",
            (product["id"], rng.choice((1, 1, 2))),
        )
        chosen.append(product)
    db.commit()
    return chosen


@task("shop_add_to_cart", "shop", "Put a product in the cart", "/shop", "easy")
class ShopAddToCart:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        product = rng.choice(rows(db, "SELECT * FROM products ORDER BY id"))
        return {"id": product["id"], "product": product["name"]}

    @staticmethod
    def goal(p: Params) -> str:
        return f'Add one "{p["product"]}" to your shopping cart (do not check out).'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(cart(db) == {p["id"]: 1} and not orders(db))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("fill", "search", p["product"]),
            act("press", "search", "Enter"),
            act("click", f"add-to-cart-{p['id']}"),
        ]


@task("shop_add_quantity", "shop", "Put several of a product in the cart", "/shop", "easy")
class ShopAddQuantity:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        product = rng.choice(rows(db, "SELECT * FROM products ORDER BY id"))
        return {"id": product["id"], "product": product["name"], "quantity": rng.randint(2, 5)}

    @staticmethod
    def goal(p: Params) -> str:
        return f'Put {p["quantity"]} of "{p["product"]}" in your shopping cart (do not check out).'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(cart(db) == {p["id"]: p["quantity"]} and not orders(db))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("fill", "search", p["product"]),
            act("press", "search", "Enter"),
            act("click", f"product-{p['id']}"),
            act("fill", "quantity", str(p["quantity"])),
            act("click", "add-to-cart"),
        ]


@task("shop_buy_cheapest", "shop", "Buy two of the cheapest item in a category", "/shop",
      "medium")  # fmt: skip
class ShopBuyCheapest:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        slug = rng.choice(sorted(CATEGORIES))
        cheapest = products_in(db, slug, "price_cents")[0]
        return {"category": slug, "id": cheapest["id"], **shop_params(db)}

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f"Buy two units of the cheapest product in the shop's "
            f"{category_label(p['category'])} category, in one order. {ship_to(p)}"
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(one_order(db, [[p["id"], 2]], p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"category-{p['category']}"),
            act("select_option", "sort", "price-asc"),
            act("click", f"product-{p['id']}"),
            act("fill", "quantity", "2"),
            act("click", "add-to-cart"),
            *checkout_actions(p["ship_name"], p["ship_address"]),
        ]


@task("shop_checkout_cart", "shop", "Check out the cart", "/shop", "easy")
class ShopCheckoutCart:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        fill_cart(db, rng, rng.choice((2, 3)))
        return shop_params(db)

    @staticmethod
    def goal(p: Params) -> str:
        return f"Check out the items already in your cart, exactly as they are. {ship_to(p)}"

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(one_order(db, p["cart"], p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return checkout_actions(p["ship_name"], p["ship_address"])


@task("shop_remove_from_cart", "shop", "Remove a product from the cart", "/shop", "easy")
class ShopRemoveFromCart:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        chosen = fill_cart(db, rng, 3)
        target = rng.choice(chosen)
        return {"id": target["id"], "product": target["name"], **shop_params(db)}

    @staticmethod
    def goal(p: Params) -> str:
        return f'Remove "{p["product"]}" from your shopping cart; leave the rest as it is.'

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        wanted = {int(pid): int(q) for pid, q in p["cart"] if int(pid) != p["id"]}
        return score(cart(db) == wanted and not orders(db))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [act("click", "cart"), act("click", f"remove-{p['id']}")]


@task("shop_update_quantity", "shop", "Change a quantity in the cart", "/shop", "easy")
class ShopUpdateQuantity:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        chosen = fill_cart(db, rng, 2)
        target = rng.choice(chosen)
        quantity = rng.randint(3, 6)
        return {"id": target["id"], "product": target["name"], "quantity": quantity,
                **shop_params(db)}  # fmt: skip

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'In your shopping cart, change the quantity of "{p["product"]}" to '
            f"{p['quantity']} (do not check out)."
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        wanted = {int(pid): int(q) for pid, q in p["cart"]}
        wanted[p["id"]] = p["quantity"]
        return score(cart(db) == wanted and not orders(db))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", "cart"),
            act("fill", f"cart-{p['id']}-quantity", str(p["quantity"])),
            act("click", f"update-{p['id']}"),
        ]


@task("shop_buy_top_rated", "shop", "Buy the best-rated product of a category", "/shop",
      "medium")  # fmt: skip
class ShopBuyTopRated:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        slug = rng.choice(sorted(CATEGORIES))
        best = products_in(db, slug, "rating DESC")[0]
        return {"category": slug, "id": best["id"], **shop_params(db)}

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f"Buy one unit of the highest-rated product in the "
            f"{category_label(p['category'])} category. {ship_to(p)}"
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(one_order(db, [[p["id"], 1]], p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"category-{p['category']}"),
            act("select_option", "sort", "rating"),
            act("click", f"add-to-cart-{p['id']}"),
            *checkout_actions(p["ship_name"], p["ship_address"]),
        ]


@task("shop_buy_under_budget", "shop", "Buy everything in a category under a price", "/shop",
      "hard")  # fmt: skip
class ShopBuyUnderBudget:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        slug = rng.choice(sorted(CATEGORIES))
        ranked = products_in(db, slug, "price_cents")
        count = rng.choice((2, 3))
        limit = ranked[count - 1]["price_cents"] // 100 + 1  # whole dollars
        ids = [p["id"] for p in ranked if p["price_cents"] < limit * 100]
        return {"category": slug, "limit": limit, "ids": ids, **shop_params(db)}

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f"Buy one of every product in the {category_label(p['category'])} category that "
            f"costs less than ${p['limit']}, in a single order. {ship_to(p)}"
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        items = [[i, 1] for i in p["ids"]]
        return score(one_order(db, items, p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        return [
            act("click", f"category-{p['category']}"),
            act("select_option", "sort", "price-asc"),
            *[act("click", f"add-to-cart-{i}") for i in p["ids"]],
            *checkout_actions(p["ship_name"], p["ship_address"]),
        ]


@task("shop_two_products", "shop", "Order two different products", "/shop", "medium")
class ShopTwoProducts:
    @staticmethod
    def setup(db: sqlite3.Connection, rng: random.Random) -> Params:
        one, two = (
            rng.choice(products_in(db, slug, "id")) for slug in rng.sample(sorted(CATEGORIES), 2)
        )
        return {
            "items": [[one["id"], 2], [two["id"], 1]],
            "names": [one["name"], two["name"]],
            **shop_params(db),
        }

    @staticmethod
    def goal(p: Params) -> str:
        return (
            f'Place a single order for two "{p["names"][0]}" and one "{p["names"][1]}". '
            f"{ship_to(p)}"
        )

    @staticmethod
    def check(db: sqlite3.Connection, p: Params) -> float:
        return score(one_order(db, p["items"], p["ship_name"], p["ship_address"]))

    @staticmethod
    def solution(p: Params) -> list[str]:
        actions = []
        for (pid, quantity), name in zip(p["items"], p["names"], strict=True):
            actions += [
                act("fill", "search", name),
                act("press", "search", "Enter"),
                act("click", f"product-{pid}"),
                act("fill", "quantity", str(quantity)),
                act("click", "add-to-cart"),
            ]
        return actions + checkout_actions(p["ship_name"], p["ship_address"])
