"""OpenEnv 0.10's ``openenv.core.env_server``: what environment authors import.

Each name is ours (see docs/migrating.md for the table): ``Environment`` is the
reference-style base of :mod:`.interfaces`, ``MCPEnvironment`` (tools from a FastMCP
server; needs ``pip install 'openenv-rl[fastmcp]'`` when made) is :mod:`.mcp_environment`'s,
the types are :mod:`openenv.types`' and :mod:`.mcp_types`', ``create_app`` is
:mod:`.http_server`'s, the exceptions are :mod:`openenv.errors`'.
"""

from ...errors import OpenEnvError
from ...types import Action, EnvironmentMetadata, Observation, State
from .http_server import HTTPEnvServer, create_app, create_fastapi_app
from .interfaces import Environment
from .mcp_environment import MCPEnvironment
from .mcp_types import (
    RESERVED_TOOL_NAMES,
    CallToolAction,
    CallToolObservation,
    ListToolsAction,
    ListToolsObservation,
    Tool,
    ToolError,
    ToolErrorType,
)
from .types import ServerMode

__all__ = [
    "RESERVED_TOOL_NAMES",
    "Action",
    "CallToolAction",
    "CallToolObservation",
    "Environment",
    "EnvironmentMetadata",
    "HTTPEnvServer",
    "ListToolsAction",
    "ListToolsObservation",
    "MCPEnvironment",
    "Observation",
    "OpenEnvError",
    "ServerMode",
    "State",
    "Tool",
    "ToolError",
    "ToolErrorType",
    "create_app",
    "create_fastapi_app",
]
