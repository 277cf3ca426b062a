"""Chess for OpenEnv, against a small built-in engine.

Example::

    from chess_env import ChessAction, ChessEnv

    with ChessEnv(base_url="http://localhost:8000") as env:
        result = env.reset(level=0, seed=1)
        while not result.done:
            result = env.step(ChessAction(move=result.observation.legal_moves[0]))
        print(result.observation.result, result.reward)   # e.g. "0-1" -1.0
"""

from .client import AsyncChessEnv, ChessEnv
from .models import ChessAction, ChessObservation, ChessState

__all__ = ["AsyncChessEnv", "ChessAction", "ChessEnv", "ChessObservation", "ChessState"]
