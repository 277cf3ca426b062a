"""ASGI app of gym_env: ``uvicorn gym_env.server.app:app``."""

from openenv.server import create_app

from .environment import GymEnvironment

app = create_app(GymEnvironment)
