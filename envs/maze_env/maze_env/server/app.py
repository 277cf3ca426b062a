"""ASGI app of the maze environment: ``uvicorn maze_env.server.app:app``."""

from openenv.server import create_app

from .environment import MazeEnvironment

app = create_app(MazeEnvironment)
