"""ASGI app of the guess-the-number environment: ``uvicorn guess_number_env.server.app:app``."""

from openenv.server import create_app

from .environment import GuessNumberEnvironment

app = create_app(GuessNumberEnvironment)
