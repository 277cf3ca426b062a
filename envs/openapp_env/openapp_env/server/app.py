"""ASGI app of the OpenApp environment: ``uvicorn openapp_env.server.app:app``."""

from openenv.server import create_app

from .environment import OpenAppEnvironment

app = create_app(OpenAppEnvironment)
