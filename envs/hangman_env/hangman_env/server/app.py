"""ASGI app of the Hangman environment: ``uvicorn hangman_env.server.app:app``."""

from openenv.server import create_app

from .environment import HangmanEnvironment

app = create_app(HangmanEnvironment)
