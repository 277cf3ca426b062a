"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.runtime.helpers import descendants, zombies


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fail if the test leaves a process (or a zombie) below this one."""
    before = set(descendants())
    yield
    deadline = time.monotonic() + 5
    while True:
        left = {pid: p for pid, p in descendants().items() if pid not in before}
        if not left and not zombies():
            return
        assert time.monotonic() < deadline, f"left behind: {left}, zombies: {zombies()}"
        time.sleep(0.02)
