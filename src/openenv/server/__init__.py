"""The server: ``create_app`` turns an Environment into an OpenEnv-compatible ASGI app.

Example::

    from openenv.server import create_app, run
    run(create_app(EchoEnvironment), port=8000)
"""

from .app import create_app
from .config import ServerConfig
from .run import run, uvicorn_config

__all__ = ["ServerConfig", "create_app", "run", "uvicorn_config"]
