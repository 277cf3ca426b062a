"""ASGI app of the echo environment: ``uvicorn echo_env.server.app:app``."""

from openenv.server import create_app

from .environment import EchoEnvironment

app = create_app(EchoEnvironment)
