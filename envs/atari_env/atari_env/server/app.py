"""ASGI app of atari_env: ``uvicorn atari_env.server.app:app``."""

from openenv.server import create_app

from .environment import AtariEnvironment

app = create_app(AtariEnvironment)
