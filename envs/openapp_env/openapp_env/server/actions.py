"""Actions: structured ``OpenAppAction``s and BrowserGym strings, as one ``Command``.

BrowserGym strings are parsed with :mod:`ast` (literal arguments only, nothing is
evaluated): ``click('12')``, ``fill('title', 'Meeting')``, ``press('q', 'Enter')``.

Example::

    parse("fill('title', 'Sync with Dennis')")
    # Command(name='fill', bid='title', text='Sync with Dennis')
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..models import OpenAppAction

# BrowserGym name -> (our name, its positional parameters)
SIGNATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "goto": ("goto", ("url",)),
    "click": ("click", ("bid",)),
    "dblclick": ("dblclick", ("bid",)),
    "hover": ("hover", ("bid",)),
    "focus": ("focus", ("bid",)),
    "clear": ("clear", ("bid",)),
    "fill": ("fill", ("bid", "text")),
    "select_option": ("select_option", ("bid", "text")),
    "press": ("send_keys", ("bid", "key")),
    "keyboard_press": ("send_keys", ("key",)),
    "keyboard_type": ("send_keys", ("text",)),
    "send_keys": ("send_keys", ("text",)),
    "scroll": ("scroll", ("delta_x", "delta_y")),
    "go_back": ("go_back", ()),
    "go_forward": ("go_forward", ()),
    "noop": ("noop", ("wait_ms",)),
}


class InvalidAction(ValueError):
    """The action cannot be understood (reported as ``last_action_error``)."""


@dataclass
class Command:
    """One browser action, whichever way it was given."""

    name: str
    bid: str | None = None
    text: str | None = None
    url: str | None = None
    key: str | None = None
    delta_x: int = 0
    delta_y: int = 300
    wait_ms: int = 0

    def describe(self) -> str:
        """The command as a BrowserGym-style string (``last_action`` in observations)."""
        args = {
            "goto": [self.url],
            "scroll": [self.delta_x, self.delta_y],
            "send_keys": [a for a in (self.bid, self.key or self.text) if a is not None],
            "fill": [self.bid, self.text],
            "select_option": [self.bid, self.text],
        }.get(self.name, [self.bid] if self.bid is not None else [])
        return f"{self.name}({', '.join(_shown(a) for a in args)})"


SHOWN_CHARS = 200
"""How much of a long argument ``describe`` shows (observations stay small)."""


def _shown(value: object) -> str:
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return f"{value[:SHOWN_CHARS]!r}... ({len(value)} characters)"
    return repr(value)


def from_action(action: OpenAppAction) -> Command:
    """The command an action stands for (structured fields, or its ``action`` string)."""
    if action.action is not None:
        return parse(action.action)
    name = action.action_type or "noop"
    command = Command(name, action.bid, action.text, action.url, action.key,
                      action.delta_x, action.delta_y)  # fmt: skip
    needs = {"goto": ("url",), "click": ("bid",), "hover": ("bid",), "fill": ("bid", "text"),
             "select_option": ("bid", "text")}.get(name, ())  # fmt: skip
    missing = [field for field in needs if getattr(command, field) is None]
    if missing:
        raise InvalidAction(f"{name} needs {' and '.join(missing)}")
    if name == "send_keys" and action.text is None and action.key is None:
        raise InvalidAction("send_keys needs text or key")
    return command


def parse(text: str) -> Command:
    """A BrowserGym action string as a :class:`Command`; :class:`InvalidAction` if not one."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise InvalidAction(f"not an action: {text[:100]!r} ({exc.msg})") from None
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise InvalidAction(f"not an action call: {text[:100]!r}; e.g. click('12')")
    if call.func.id not in SIGNATURES:
        known = ", ".join(sorted(SIGNATURES))
        raise InvalidAction(f"unknown action {call.func.id!r}; actions: {known}")
    name, params = SIGNATURES[call.func.id]
    try:
        args = [ast.literal_eval(arg) for arg in call.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    except ValueError:
        raise InvalidAction(f"arguments must be literals: {text[:100]!r}") from None
    if len(args) > len(params):
        raise InvalidAction(f"{call.func.id} takes {len(params)} argument(s), got {len(args)}")
    values = dict(zip(params, args, strict=False)) | kwargs
    unknown = set(values) - set(params)
    if unknown:
        raise InvalidAction(f"{call.func.id} has no argument {sorted(unknown)[0]!r}")
    missing = [p for p in params if p not in values and p not in ("wait_ms", "delta_x")]
    if missing and call.func.id not in ("scroll", "noop"):
        raise InvalidAction(f"{call.func.id} needs {', '.join(missing)}")
    command = Command(name)
    for field, value in values.items():
        expected = int if field in ("delta_x", "delta_y", "wait_ms") else str
        if expected is int and isinstance(value, float):
            value = int(value)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise InvalidAction(f"{call.func.id}: {field} must be {expected.__name__}")
        setattr(command, field, value)
    return command
