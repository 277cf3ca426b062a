"""Turn a Python signature into pydantic fields, so calls from the wire are validated.

Shared by reset options and tool arguments: one way to read a signature.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any


def fields_from_signature(
    fn: Callable[..., Any],
    *,
    skip_first: bool = False,
    overrides: dict[str, Any] | None = None,
) -> tuple[dict[str, tuple[Any, Any]], bool]:
    """Return ``({name: (annotation, default)}, accepts_var_kwargs)`` for ``fn``.

    ``overrides`` replaces the annotation of named parameters (e.g. a stricter seed).
    Parameters without a default are required (``...``).
    """
    try:
        hints = typing.get_type_hints(fn, include_extras=True)  # keeps Annotated constraints
    except Exception:  # unresolvable forward refs: validate those parameters as Any
        hints = {}
    params = list(inspect.signature(fn).parameters.values())
    if skip_first and params:
        params = params[1:]
    fields: dict[str, tuple[Any, Any]] = {}
    var_kwargs = False
    for param in params:
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            var_kwargs = True
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        annotation = (overrides or {}).get(param.name, hints.get(param.name, Any))
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    return fields, var_kwargs
