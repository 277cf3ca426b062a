"""One error tree: every public exception is defined in openenv.errors, hangs from
OpenEnvError, and is drawn in the module's docstring; the two clients raise the same."""

from __future__ import annotations

import ast
import builtins
import inspect
import re
from pathlib import Path

import pytest

import openenv
from openenv import errors

SRC = Path(openenv.__file__).parent

STANDALONE = {"grading/runner.py"}
"""Modules that run alone in a sandbox (they import nothing of openenv, by design)."""


def tree_classes() -> list[type[BaseException]]:
    return [
        value
        for value in vars(errors).values()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
    ]


def test_every_error_hangs_from_the_root():
    classes = tree_classes()
    assert len(classes) > 30
    for cls in classes:
        assert issubclass(cls, errors.OpenEnvError), cls


def test_the_docstring_draws_the_whole_tree():
    drawn = {
        match.group(1): match.group(2)
        for match in re.finditer(r"── (\w+)(?: \[(\w+)\])?", errors.__doc__)
    }
    names = {cls.__name__ for cls in tree_classes()} - {"OpenEnvError"}
    assert set(drawn) == names
    for name, builtin in drawn.items():
        cls = getattr(errors, name)
        if builtin:  # the bracketed built-in is really a base
            assert issubclass(cls, getattr(builtins, builtin)), name


def test_the_drawn_nesting_is_the_real_one():
    # Each drawn class's parent is the nearest less-indented class above it.
    stack: list[tuple[int, str]] = [(-1, "OpenEnvError")]
    for line in errors.__doc__.splitlines():
        match = re.search(r"── (\w+)", line)
        if not match:
            continue
        depth = match.start()
        while stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1]
        assert getattr(errors, parent) in getattr(errors, match.group(1)).__mro__[1:], line
        stack.append((depth, match.group(1)))


def public_exception_classes_outside_errors() -> list[str]:
    """``path:Class`` for each public exception class defined outside errors.py."""
    found = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC).as_posix()
        if relative in ("errors.py", *STANDALONE):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
                continue
            bases = {ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases}
            if any(b.endswith(("Error", "Exception")) or b in ERROR_BASES for b in bases):
                found.append(f"{relative}:{node.name}")
    return found


ERROR_BASES = {name for name in vars(errors) if not name.startswith("_")} | {
    "Exception",
    "ValueError",
    "LookupError",
    "TypeError",
    "OSError",
    "ConnectionError",
    "AssertionError",
    "TimeoutError",
}


def test_public_exceptions_are_defined_in_one_place():
    assert public_exception_classes_outside_errors() == []


def test_old_import_paths_are_the_same_classes():
    from openenv.client import EnvServerError, SessionLostError
    from openenv.discovery import EnvironmentNotFound
    from openenv.environment import EpisodeOver
    from openenv.protocol import ProtocolError
    from openenv.runtime.base import RuntimeStartError

    assert EnvServerError is errors.EnvServerError
    assert SessionLostError is errors.SessionLostError
    assert EnvironmentNotFound is errors.EnvironmentNotFound
    assert EpisodeOver is errors.EpisodeOver is openenv.EpisodeOver
    assert ProtocolError is errors.ProtocolError
    assert RuntimeStartError is errors.RuntimeStartError


# -- the sync and async clients raise the same errors, with the same messages -----------


def test_connect_errors_match(unused_port):
    from openenv import AsyncGenericEnvClient, GenericEnvClient

    url = f"http://127.0.0.1:{unused_port}"
    with pytest.raises(errors.ConnectError) as sync_error:
        GenericEnvClient(base_url=url, connect_timeout_s=2).reset()

    import asyncio

    async def async_reset() -> None:
        await AsyncGenericEnvClient(base_url=url, connect_timeout_s=2).reset()

    with pytest.raises(errors.ConnectError) as async_error:
        asyncio.run(async_reset())  # a fresh loop: this test is sync
    assert str(sync_error.value) == str(async_error.value)
    assert isinstance(sync_error.value, ConnectionError)


@pytest.fixture
def unused_port() -> int:
    from tests.conftest import free_socket

    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    return port
