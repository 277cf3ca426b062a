"""ASGI app of the OpenSpiel environment: ``uvicorn openspiel_env.server.app:app``."""

from openenv.server import create_app

from .environment import OpenSpielEnvironment

app = create_app(OpenSpielEnvironment)
