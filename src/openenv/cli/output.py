"""What every command shares: the consoles, the one-line error, number formatting."""

from __future__ import annotations

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class CliError(Exception):
    """A failure the user can fix; shown as one line on stderr, exit code 1."""


def format_duration(seconds: float) -> str:
    """``0.000123`` → ``"123 µs"``, ``0.0123`` → ``"12.3 ms"``, ``2.5`` → ``"2.50 s"``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.2f} s"
