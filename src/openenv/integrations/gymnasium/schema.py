"""Gymnasium spaces from JSON schemas: how a pydantic model's fields become spaces.

For servers without a ``spaces`` tool, the adapter maps the fields of the action's
and the observation's JSON schemas (``model_json_schema()``, or ``GET /schema``)
one by one with :func:`_map_field`:

==========================================  ==================================================
JSON schema of a field                      space (and value)
==========================================  ==================================================
``boolean``                                 ``Discrete(2)`` (0/1)
``enum`` / ``Literal[...]``                 ``Discrete(len)`` (the index of the value)
``integer`` with minimum and maximum        ``Discrete(max - min + 1, start=min)``
other ``integer``                           ``Box((), int64)`` within the bounds given
``number``                                  ``Box((), float64)`` within the bounds given
``string``                                  :class:`AnyText` (any string; samples up to
                                            ``max_text_length`` printable characters)
list of numbers/integers/booleans of fixed  ``Box((n,))`` of ``float64``/``int64``/``int8``
length (``min_length == max_length``)
nested model whose fields all map           ``Dict`` of them
==========================================  ==================================================

Anything else (``Optional[...]`` and other unions, free-form dicts, lists of
variable length) raises :class:`_Unmappable`; :mod:`.codecs` decides what that
means for the field (an observation field goes to ``info``, a required action
field makes the environment :class:`~.codecs.NotGymnasiumCompatible`).

One direction only: schemas in, spaces out. Spaces as JSON and back (the wire
format of a ``spaces`` tool) are :mod:`openenv.integrations.gym_spaces`.

Example::

    text = AnyText(max_length=8)    # what a ``str`` field becomes
    text.contains("a string longer than eight characters")   # True: any str is in it
    text.sample()                   # up to 8 printable ASCII characters
"""

from __future__ import annotations

import math
import string
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

DEFAULT_MAX_TEXT_LENGTH = 1024
"""The longest string :class:`AnyText` samples, unless a field's ``maxLength`` is shorter."""


class AnyText(spaces.Text):
    """A ``Text`` space that contains every string.

    ``sample()`` draws up to ``max_length`` printable ASCII characters; ``contains``
    accepts any ``str``, of any length and characters, since that is what a
    ``str`` field of an OpenEnv model may hold.
    """

    def __init__(self, max_length: int = DEFAULT_MAX_TEXT_LENGTH, **kwargs: Any) -> None:
        kwargs.setdefault("min_length", 0)
        kwargs.setdefault("charset", string.printable)
        super().__init__(max_length, **kwargs)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str)

    def __repr__(self) -> str:
        return f"AnyText(max_length={self.max_length})"


def _get(observation: Any, name: str, default: Any = None) -> Any:
    """Field ``name`` of a pydantic model or a dict (observations arrive as either)."""
    if isinstance(observation, Mapping):
        return observation.get(name, default)
    return getattr(observation, name, default)


_Converter = Callable[[Any], Any]


class _Field:
    """One model field mapped to a space: ``to_gym`` for observations, ``to_wire`` for actions."""

    def __init__(self, space: spaces.Space[Any], to_gym: _Converter, to_wire: _Converter) -> None:
        self.space, self.to_gym, self.to_wire = space, to_gym, to_wire


class _Unmappable(Exception):
    pass


def _deref(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with its ``$ref`` (into ``defs``) and single-item ``allOf`` resolved."""
    for _ in range(32):
        if "$ref" in schema:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            schema = {**defs.get(name, {}), **{k: v for k, v in schema.items() if k != "$ref"}}
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            schema = {**schema["allOf"][0], **rest}
        else:
            return schema
    raise _Unmappable("references nested too deeply")


def _int_bounds(schema: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The inclusive integer bounds of ``schema`` (``None`` where it has none)."""
    low, high = schema.get("minimum"), schema.get("maximum")
    if "exclusiveMinimum" in schema:
        low = math.floor(schema["exclusiveMinimum"]) + 1
    if "exclusiveMaximum" in schema:
        high = math.ceil(schema["exclusiveMaximum"]) - 1
    return (None if low is None else math.ceil(low), None if high is None else math.floor(high))


def _float_bounds(schema: Mapping[str, Any]) -> tuple[float, float]:
    """The bounds of ``schema`` as floats (infinite where it has none)."""
    low = schema.get("minimum", schema.get("exclusiveMinimum", -np.inf))
    high = schema.get("maximum", schema.get("exclusiveMaximum", np.inf))
    return float(low), float(high)


def _map_field(
    schema: Mapping[str, Any], defs: Mapping[str, Any], max_text: int, depth: int = 0
) -> _Field:
    """The space of one field's ``schema`` (see the table above), or :class:`_Unmappable`."""
    if depth > 16:
        raise _Unmappable("nested too deeply")
    schema = _deref(schema, defs)
    if "enum" in schema or "const" in schema:
        choices = list(schema["enum"]) if "enum" in schema else [schema["const"]]
        return _Field(
            spaces.Discrete(len(choices)),
            lambda v: np.int64(choices.index(v)),
            lambda i: choices[int(i)],
        )
    kind = schema.get("type")
    if kind == "boolean":
        return _Field(spaces.Discrete(2), lambda v: np.int64(bool(v)), lambda i: bool(int(i)))
    if kind == "integer":
        low, high = _int_bounds(schema)
        if low is not None and high is not None and 0 < high - low + 1 <= 2**31:
            return _Field(spaces.Discrete(high - low + 1, start=low), np.int64, int)
        info = np.iinfo(np.int64)
        box = spaces.Box(
            low=info.min if low is None else low,
            high=info.max if high is None else high,
            shape=(),
            dtype=np.int64,
        )
        return _Field(box, lambda v: np.asarray(v, dtype=np.int64), lambda a: int(np.asarray(a)))
    if kind == "number":
        low, high = _float_bounds(schema)
        box = spaces.Box(low=low, high=high, shape=(), dtype=np.float64)
        return _Field(
            box, lambda v: np.asarray(v, dtype=np.float64), lambda a: float(np.asarray(a))
        )
    if kind == "string":
        longest = int(schema.get("maxLength", max_text))
        text = AnyText(max_length=max(1, min(longest, max_text)))
        return _Field(text, str, str)
    if kind == "array":
        items = _deref(schema.get("items") or {}, defs)
        n = schema.get("minItems")
        if n is None or n != schema.get("maxItems"):
            raise _Unmappable("a list of variable length")
        item_kind = items.get("type")
        if item_kind == "number":
            low, high = _float_bounds(items)
            box = spaces.Box(low=low, high=high, shape=(n,), dtype=np.float64)
        elif item_kind == "integer":
            ilow, ihigh = _int_bounds(items)
            info = np.iinfo(np.int64)
            box = spaces.Box(
                low=info.min if ilow is None else ilow,
                high=info.max if ihigh is None else ihigh,
                shape=(n,),
                dtype=np.int64,
            )
        elif item_kind == "boolean":
            box = spaces.Box(low=0, high=1, shape=(n,), dtype=np.int8)
        else:
            raise _Unmappable(f"a list of {item_kind or 'mixed'} items")
        dtype = box.dtype
        to_wire: _Converter = (
            (lambda a: [bool(v) for v in np.asarray(a)])
            if item_kind == "boolean"
            else (lambda a: np.asarray(a).tolist())
        )
        return _Field(box, lambda v: np.asarray(v, dtype=dtype), to_wire)
    if kind == "object" and "properties" in schema:
        fields = {
            name: _map_field(sub, defs, max_text, depth + 1)
            for name, sub in schema["properties"].items()
        }
        return _Field(
            spaces.Dict(OrderedDict((k, f.space) for k, f in fields.items())),
            lambda v: {k: f.to_gym(_get(v, k)) for k, f in fields.items()},
            lambda d: {k: f.to_wire(d[k]) for k, f in fields.items()},
        )
    if "anyOf" in schema or "oneOf" in schema:
        raise _Unmappable("a union (Optional[...] or X | Y)")
    raise _Unmappable(f"type {kind or 'any'}")
