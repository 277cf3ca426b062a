"""OpenEnv 0.10's ``openenv.core.env_server``: what environment authors import.

Each name is ours (see docs/migrating.md for the table): ``Environment`` is the
reference-style base of :mod:`.interfaces`, the types are :mod:`openenv.types`',
``create_app`` is :mod:`.http_server`'s, the exceptions are :mod:`openenv.errors`'.
"""

from ...errors import OpenEnvError
from ...types import Action, EnvironmentMetadata, Observation, State
from .http_server import create_app, create_fastapi_app
from .interfaces import Environment
from .mcp_types import Tool

__all__ = [
    "Action",
    "Environment",
    "EnvironmentMetadata",
    "Observation",
    "OpenEnvError",
    "State",
    "Tool",
    "create_app",
    "create_fastapi_app",
]
