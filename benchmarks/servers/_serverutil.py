"""Stdlib-only helpers shared by the benchmark server scripts.

The scripts in this folder run as plain files (``python path/to/script.py``) in
*different* virtual environments — ours, and the reference OpenEnv's — so this
module imports nothing outside the standard library.
"""

from __future__ import annotations

import argparse
import resource
from types import ModuleType


def raise_nofile_limit() -> int:
    """Raise this process's open-file soft limit to its hard limit; return the new limit.

    Ten thousand sessions need ten thousand sockets, well above the usual soft
    limit of 1024.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def server_parser(description: str) -> argparse.ArgumentParser:
    """The command line every benchmark server takes (scripts may add to it)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="asyncio",
        help="event loop: asyncio or uvloop (the same for every server of a run), or "
        "auto (uvloop when this Python has it: each server as it would run when installed)",
    )
    parser.add_argument("--backlog", type=int, default=4096, help="listen() backlog")
    parser.add_argument("--max-sessions", type=int, default=20_000)
    return parser


def pick_uvloop(choice: str) -> ModuleType | None:
    """The ``uvloop`` module when ``--loop`` asks for it (``auto``: when installed)."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise
        return None
    return uvloop
