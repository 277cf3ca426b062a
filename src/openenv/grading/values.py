"""Plain data across the wall between agent code and a grader, and strict comparison.

What an agent's code returns reaches a grader only as *data*: ``None``, ``bool``,
``int``, ``float``, ``str``, ``bytes``, and lists, tuples, dicts, sets and
frozensets of them, encoded as JSON with a tag for each type JSON lacks::

    [1, 2.0, "x"]                 -> [1, 2.0, "x"]
    (1, 2)                        -> {"tuple": [1, 2]}
    {"a": 1}                      -> {"dict": [["a", 1]]}
    {3} / frozenset({3})          -> {"set": [3]} / {"frozenset": [3]}
    b"hi"                         -> {"bytes": "aGk="}
    float("nan")                  -> NaN  (JSON extension, as Python's json writes it)

:func:`decode` turns such a message back into values of exactly these built-in
types — never an object the agent made, so no ``__eq__`` of the agent's runs on
the grader's side — and refuses anything else (:class:`NotPlainData`).
:func:`same` then compares type-strictly: ``True`` is not ``1``, ``1`` is not
``1.0``, a tuple is not a list. :func:`approx` marks an expected float that may
differ by rounding.

The runner inside the agent's process encodes with its own copy of this format
(``runner.py`` imports nothing of ours); :func:`encode` is the grader's side,
for inputs sent the other way.

Example::

    actual = decode(b'{"tuple": [0, 1]}')
    same((0, 1), actual)       # True
    same([0, 1], actual)       # False: a list was expected
    same(approx(0.3), 0.1 + 0.2)  # True
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from ..errors import NotPlainData

__all__ = ["Approx", "NotPlainData", "approx", "decode", "encode", "same"]

MAX_DEPTH = 200
"""Deepest nesting accepted (a deeper value is refused, never a crash of the grader)."""

_TAGS = ("tuple", "dict", "set", "frozenset", "bytes")
_SCALARS = (type(None), bool, int, float, str)


class Approx:
    """An expected float equal up to rounding (``math.isclose``); see :func:`approx`."""

    def __init__(self, value: float, rel: float = 1e-9, abs: float = 1e-12) -> None:
        self.value, self.rel, self.abs = float(value), rel, abs

    def matches(self, actual: Any) -> bool:
        if type(actual) is not float:
            return False
        if math.isnan(self.value):
            return math.isnan(actual)
        return math.isclose(self.value, actual, rel_tol=self.rel, abs_tol=self.abs)

    def __repr__(self) -> str:
        return f"approx({self.value!r})"


def approx(value: float, rel: float = 1e-9, abs: float = 1e-12) -> Approx:
    """Expect a float close to ``value`` (relative ``rel``, absolute ``abs`` tolerance)."""
    return Approx(value, rel, abs)


# -- encoding (the grader's inputs to the agent's process) ---------------------------------


def encode(value: Any) -> bytes:
    """``value`` (plain data only) as one line of JSON; :class:`NotPlainData` otherwise."""
    return json.dumps(_tagged(value, 0), separators=(",", ":")).encode()


def _tagged(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise NotPlainData(f"nested deeper than {MAX_DEPTH}")
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list:
        return [_tagged(item, depth + 1) for item in value]
    if kind is tuple:
        return {"tuple": [_tagged(item, depth + 1) for item in value]}
    if kind is dict:
        return {"dict": [[_tagged(k, depth + 1), _tagged(v, depth + 1)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        return {kind.__name__: [_tagged(item, depth + 1) for item in value]}
    if kind is bytes:
        return {"bytes": base64.b64encode(value).decode()}
    raise NotPlainData(f"{kind.__name__} is not plain data")


# -- decoding (what came back from the agent's process) ------------------------------------


def decode(message: bytes | str) -> Any:
    """The plain value in ``message``; :class:`NotPlainData` if it is anything else."""
    try:
        raw = json.loads(message)
    except (ValueError, RecursionError) as exc:
        raise NotPlainData(f"not JSON: {type(exc).__name__}") from None
    return from_json(raw)


def from_json(raw: Any, depth: int = 0) -> Any:
    """A parsed JSON value in the tagged format, as plain Python data."""
    if depth > MAX_DEPTH:
        raise NotPlainData(f"nested deeper than {MAX_DEPTH}")
    kind = type(raw)
    if kind in _SCALARS:
        return raw
    if kind is list:
        return [from_json(item, depth + 1) for item in raw]
    if kind is not dict or len(raw) != 1:
        raise NotPlainData("an object must be one of the tags " + ", ".join(_TAGS))
    ((tag, body),) = raw.items()
    if tag == "bytes":
        if type(body) is not str:
            raise NotPlainData("bytes must be base64 text")
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            raise NotPlainData("bytes must be base64 text") from None
    if tag not in _TAGS or type(body) is not list:
        raise NotPlainData(f"unknown tag {str(tag)[:40]!r} or a body that is not a list")
    items = [from_json(item, depth + 1) for item in body]
    try:
        if tag == "tuple":
            return tuple(items)
        if tag == "set" or tag == "frozenset":
            result: Any = set(items) if tag == "set" else frozenset(items)
            if len(result) != len(items):
                raise NotPlainData(f"a {tag} with repeated elements")
            return result
        if not all(type(pair) is list and len(pair) == 2 for pair in items):
            raise NotPlainData("dict entries must be [key, value] pairs")
        mapping = {key: value for key, value in items}
        if len(mapping) != len(items):
            raise NotPlainData("a dict with repeated keys")
        return mapping
    except TypeError:  # an unhashable element or key
        raise NotPlainData(f"a {tag} with an unhashable element") from None


# -- comparison --------------------------------------------------------------------------


def same(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` is ``expected``, type for type (:class:`Approx` where expected).

    Containers compare element by element with the same rule; sets and dict keys
    compare by value *and* type (``{1}`` is not ``{True}``).
    """
    try:
        return _same(expected, actual, 0)
    except RecursionError:
        return False


def _same(expected: Any, actual: Any, depth: int) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(expected, Approx):
        return expected.matches(actual)
    kind = type(expected)
    if type(actual) is not kind:
        return False
    if kind is float:
        return expected == actual or (math.isnan(expected) and math.isnan(actual))
    if kind is list or kind is tuple:
        return len(expected) == len(actual) and all(
            _same(e, a, depth + 1) for e, a in zip(expected, actual, strict=True)
        )
    if kind is dict:
        keyed = {_key(k): v for k, v in actual.items()}
        if len(keyed) != len(expected):
            return False
        for key, value in expected.items():
            typed = _key(key)
            if typed not in keyed or not _same(value, keyed[typed], depth + 1):
                return False
        return True
    if kind is set or kind is frozenset:
        return {_key(e) for e in expected} == {_key(a) for a in actual}
    return bool(expected == actual)


def _key(value: Any) -> Any:
    """A hashable form of a plain value that keeps its type (``1`` and ``True`` differ)."""
    kind = type(value)
    if kind is tuple:
        return ("tuple", tuple(_key(v) for v in value))
    if kind is frozenset:
        return ("frozenset", frozenset(_key(v) for v in value))
    if kind is float and math.isnan(value):
        return ("float", "nan")
    return (kind.__name__, value)
