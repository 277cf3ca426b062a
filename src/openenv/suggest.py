"""Configuration that says no: unknown keys are errors that name the key and a likely fix.

One place for the "did you mean" every strict reader uses — :class:`StrictModel`
(``ServerConfig``, ``SandboxPolicy``, ``SandboxLimits``, ...), ``openenv.yaml``
(:func:`openenv.discovery.read_settings`), reset options
(:meth:`openenv.Environment.validate_reset_options`) — and the one-line description
of a pydantic error that the server puts in an error frame's ``message``.

Example::

    did_you_mean("memroy_mb", ["memory_mb", "cpu_seconds"])   # "memory_mb"
    unknown_keys_message(["memroy_mb"], ["memory_mb"])
    # "unknown key 'memroy_mb'; did you mean 'memory_mb'?"
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``word`` (``difflib``, cutoff 0.6), or None."""
    found = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_keys_message(
    keys: Iterable[Any], known: Iterable[str], *, what: str = "key", where: str = ""
) -> str:
    """``unknown key 'x' in <where>; did you mean 'y'?`` for each of ``keys``.

    Without a close match, the known keys are listed instead.
    """
    known = sorted(set(known))
    parts = []
    for key in keys:
        part = f"unknown {what} {key!r}"
        suggestion = did_you_mean(str(key), known)
        if suggestion is not None:
            part += f"{' in ' + where if where else ''}; did you mean {suggestion!r}?"
        else:
            listed = ", ".join(known) or "none"
            part += f"{' in ' + where if where else ''} (known: {listed})"
        parts.append(part)
    return "; ".join(parts)


def model_keys(model: type[BaseModel]) -> set[str]:
    """The keys ``model`` accepts: its field names and their aliases."""
    keys = set(model.model_fields)
    for field in model.model_fields.values():
        for alias in (field.alias, field.validation_alias):
            if isinstance(alias, str):
                keys.add(alias)
    return keys


class StrictModel(BaseModel):
    """A settings model whose unknown keys fail, naming the key and the nearest field.

    ``SandboxLimits(memroy_mb=512)`` raises a ``ValidationError`` whose message says
    ``unknown key 'memroy_mb'; did you mean 'memory_mb'?``.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = model_keys(cls)
            unknown = [key for key in data if key not in known]
            hints = [hint for hint in map(cls._unknown_key_hint, unknown) if hint]
            if hints:
                raise ValueError("; ".join(hints))
            if unknown:
                raise ValueError(unknown_keys_message(unknown, known))
        return data

    @classmethod
    def _unknown_key_hint(cls, key: Any) -> str | None:
        """A better message than "did you mean" for an unknown ``key`` (a subclass's)."""
        return None


def describe_validation_error(
    exc: ValidationError, prefix: str = "", model: type[BaseModel] | None = None, limit: int = 3
) -> str:
    """``prefix.field: problem`` for the first ``limit`` errors of ``exc``, in one line.

    ``model`` (the model that was validated) lets an unknown field name its nearest
    known one: ``action.mesage: unknown field; did you mean 'message'?``.
    """
    parts = []
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    for error in errors[:limit]:
        loc: Sequence[Any] = error.get("loc", ())
        message = str(error.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        named = bool(loc) and isinstance(loc[-1], str) and repr(loc[-1]) in message
        if named:  # the message names the key itself
            loc = loc[:-1]
        path = ".".join(str(part) for part in (prefix, *loc) if part != "")
        if message == "Extra inputs are not permitted" and loc:
            known = _keys_at(model, loc[:-1]) if model is not None else None
            message = "unknown field"
            suggestion = did_you_mean(str(loc[-1]), known) if known else None
            if suggestion is not None:
                message += f"; did you mean {suggestion!r}?"
        parts.append(f"{path}: {message}" if path else message)
    more = len(errors) - limit
    if more > 0:
        parts.append(f"and {more} more error(s)")
    return "; ".join(parts)


def _keys_at(model: type[BaseModel], loc: Sequence[Any]) -> set[str] | None:
    """The keys of the (nested) model found at ``loc`` in ``model``, if it is one."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = field.annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return model_keys(current)
    return None
