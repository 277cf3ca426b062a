"""Clients of the chess environment."""

from __future__ import annotations

from openenv import AsyncEnvClient, EnvClient

from .models import ChessAction, ChessObservation, ChessState


class ChessEnv(EnvClient[ChessAction, ChessObservation, ChessState]):
    """Sync client.

    Example::

        with ChessEnv(base_url="http://localhost:8000") as env:
            result = env.reset(level=1, color="white", seed=7)
            result = env.step(ChessAction(move="e4"))        # SAN or UCI ("e2e4")
            print(result.observation.board, result.observation.last_move_san)
    """


class AsyncChessEnv(AsyncEnvClient[ChessAction, ChessObservation, ChessState]):
    """Async client: ``await AsyncChessEnv(base_url=...).reset(level=2)``."""
