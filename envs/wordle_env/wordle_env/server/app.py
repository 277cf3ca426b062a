"""ASGI app of the Wordle environment: ``uvicorn wordle_env.server.app:app``."""

from openenv.server import create_app

from .environment import WordleEnvironment

app = create_app(WordleEnvironment)
