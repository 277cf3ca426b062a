"""Values drawn from a JSON schema: the actions :func:`~openenv.testing.check_env` sends.

The checker knows an environment only by its schema (``GET /schema`` or the
action model's), so it draws actions from it, as Gymnasium's checker samples an
action space. A drawn action is *well-formed*, not necessarily *legal*: an
environment may refuse it (an illegal move), which the checker accepts as long
as the refusal is a typed error frame.

Example::

    rng = random.Random(0)
    action = sample(EchoAction.model_json_schema(), rng)   # {"message": "qzk"}
"""

from __future__ import annotations

import math
import random
import string
from typing import Any

MAX_ITEMS = 3
"""Longest array drawn (beyond what ``minItems`` demands)."""
MAX_DEPTH = 6
"""Nested objects deeper than this are left at their defaults (recursive schemas)."""
SKIPPED_FIELDS = frozenset({"metadata"})
"""Free-form extras every action carries; never drawn."""


def sample(schema: dict[str, Any], rng: random.Random) -> Any:
    """A value of ``schema`` (a JSON schema with its ``$defs``), drawn with ``rng``."""
    return _draw(schema, rng, schema.get("$defs", {}), 0)


def _draw(schema: dict[str, Any], rng: random.Random, defs: dict[str, Any], depth: int) -> Any:
    if "$ref" in schema:
        return _draw(defs[schema["$ref"].rsplit("/", 1)[-1]], rng, defs, depth)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _draw(rng.choice(options), rng, defs, depth)
    if "allOf" in schema:
        return _draw(schema["allOf"][0], rng, defs, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = rng.choice([k for k in kind if k != "null"] or kind)
    if kind is None and "properties" in schema:
        kind = "object"
    if kind is None or ("pattern" in schema and "default" in schema):
        # Anything goes, or a pattern we would only guess at: the default is valid.
        return schema.get("default")
    return _BY_TYPE[kind](schema, rng, defs, depth)


def _string(schema: dict[str, Any], rng: random.Random, defs: Any, depth: int) -> str:
    low = int(schema.get("minLength", 1))
    high = int(schema.get("maxLength", low + 8))
    length = rng.randint(low, max(low, min(high, low + 8)))
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(length))


def _bounds(schema: dict[str, Any], integer: bool) -> tuple[float, float]:
    step = 1 if integer else 1e-6
    low = schema.get("minimum")
    if low is None and "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + step
    high = schema.get("maximum")
    if high is None and "exclusiveMaximum" in schema:
        high = schema["exclusiveMaximum"] - step
    if low is None and high is None:
        return 0, 10
    if low is None:
        return high - 10, high
    if high is None:
        return low, low + 10
    return low, max(low, high)


def _integer(schema: dict[str, Any], rng: random.Random, defs: Any, depth: int) -> int:
    low, high = _bounds(schema, integer=True)
    return rng.randint(math.ceil(low), max(math.ceil(low), math.floor(high)))


def _number(schema: dict[str, Any], rng: random.Random, defs: Any, depth: int) -> float:
    low, high = _bounds(schema, integer=False)
    return rng.uniform(low, high)


def _boolean(schema: dict[str, Any], rng: random.Random, defs: Any, depth: int) -> bool:
    return rng.random() < 0.5


def _null(schema: dict[str, Any], rng: random.Random, defs: Any, depth: int) -> None:
    return None


def _array(schema: dict[str, Any], rng: random.Random, defs: Any, depth: int) -> list[Any]:
    if "prefixItems" in schema:
        return [_draw(item, rng, defs, depth + 1) for item in schema["prefixItems"]]
    low = int(schema.get("minItems", 0))
    high = int(schema.get("maxItems", low + MAX_ITEMS))
    count = rng.randint(low, max(low, min(high, low + MAX_ITEMS)))
    items = schema.get("items", {})
    return [_draw(items, rng, defs, depth + 1) for _ in range(count)]


def _object(schema: dict[str, Any], rng: random.Random, defs: Any, depth: int) -> dict[str, Any]:
    required = set(schema.get("required", ()))
    drawn: dict[str, Any] = {}
    for name, field in schema.get("properties", {}).items():
        if name in SKIPPED_FIELDS or (depth >= MAX_DEPTH and name not in required):
            continue
        # Optional fields are drawn half the time, so their defaults get exercised too.
        if name in required or rng.random() < 0.5:
            drawn[name] = _draw(field, rng, defs, depth + 1)
    return drawn


_BY_TYPE = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "null": _null,
    "array": _array,
    "object": _object,
}
