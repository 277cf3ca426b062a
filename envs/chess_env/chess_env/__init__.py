"""Chess for OpenEnv, against a small built-in engine.

Example::

    from chess_env import ChessAction, ChessEnv

    with ChessEnv(base_url="http://localhost:8000") as env:
        result = env.reset(level=0, seed=1)
        while not result.done:
            result = env.step(ChessAction(move=result.observation.legal_moves[0]))
        print(result.observation.result, result.reward)   # e.g. "0-1" -1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import ChessAction, ChessObservation, ChessState

if TYPE_CHECKING:
    from .client import AsyncChessEnv, ChessEnv


def __getattr__(name: str) -> Any:
    # The clients (and the WebSocket stack under them) load on first use: the
    # environment's worker processes import this package too.
    if name in ("AsyncChessEnv", "ChessEnv"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'chess_env' has no attribute {name!r}")


__all__ = ["AsyncChessEnv", "ChessAction", "ChessEnv", "ChessObservation", "ChessState"]
