"""OpenEnv 0.10's import paths, onto our classes: code written for the reference runs here.

``from openenv.core import EnvClient`` gives the reference's async-first client
(``await env.reset()``, or ``env.sync()``) built on :class:`openenv.AsyncEnvClient`;
``openenv.core.env_server`` gives ``Environment``, ``Action``, ``Observation``,
``State`` and ``create_app`` for environment authors. Nothing here is a second
implementation: each name is one of ours, or a thin class that maps the reference's
signature onto ours. The mapping, and what differs, is in docs/migrating.md.

Example::

    from openenv.core import GenericEnvClient

    with GenericEnvClient(base_url="http://localhost:8000").sync() as env:
        print(env.reset().observation)
"""

from ..types import StepResult
from . import env_server
from .client_types import StateT
from .env_client import EnvClient
from .env_server import (
    Action,
    Environment,
    EnvironmentMetadata,
    Observation,
    OpenEnvError,
    State,
    Tool,
    create_app,
    create_fastapi_app,
)
from .generic_client import GenericAction, GenericEnvClient
from .mcp_client import MCPClientBase, MCPToolClient
from .sync_client import SyncEnvClient

__all__ = [
    "Action",
    "EnvClient",
    "Environment",
    "EnvironmentMetadata",
    "GenericAction",
    "GenericEnvClient",
    "MCPClientBase",
    "MCPToolClient",
    "Observation",
    "OpenEnvError",
    "State",
    "StateT",
    "StepResult",
    "SyncEnvClient",
    "Tool",
    "create_app",
    "create_fastapi_app",
    "env_server",
]
