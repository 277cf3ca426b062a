"""ASGI app of the chess environment: ``uvicorn chess_env.server.app:app``."""

from openenv.server import create_app

from .environment import ChessEnvironment

app = create_app(ChessEnvironment)
