"""What every command shares: the consoles, the one-line error, number formatting.

:class:`CliError` (a failure the user can fix: one line on stderr, exit code 1) is
:class:`openenv.errors.CliError`, re-exported here where every command imports it.
"""

from __future__ import annotations

from rich.console import Console

from ..errors import CliError

__all__ = ["CliError", "console", "err_console", "format_duration"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def format_duration(seconds: float) -> str:
    """``0.000123`` → ``"123 µs"``, ``0.0123`` → ``"12.3 ms"``, ``2.5`` → ``"2.50 s"``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.2f} s"
