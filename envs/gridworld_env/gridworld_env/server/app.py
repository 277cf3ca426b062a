"""ASGI app of the gridworld environment: ``uvicorn gridworld_env.server.app:app``."""

from openenv.server import create_app

from .environment import GridWorldEnvironment

app = create_app(GridWorldEnvironment)
