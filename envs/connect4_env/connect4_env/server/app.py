"""ASGI app of the Connect Four environment: ``uvicorn connect4_env.server.app:app``."""

from openenv.server import create_app

from .environment import Connect4Environment

app = create_app(Connect4Environment)
