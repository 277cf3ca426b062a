"""Clients: sync :class:`EnvClient`, async :class:`AsyncEnvClient`, and dict-based generics."""

from ..errors import (
    ConnectError,
    EnvServerError,
    RequestTimeout,
    SessionLostError,
    ToolError,
    WrongEnvironmentError,
)
from .aio import AsyncEnvClient
from .generic import AsyncGenericEnvClient, GenericEnvClient
from .sync import EnvClient

__all__ = [
    "AsyncEnvClient",
    "AsyncGenericEnvClient",
    "ConnectError",
    "EnvClient",
    "EnvServerError",
    "GenericEnvClient",
    "RequestTimeout",
    "SessionLostError",
    "ToolError",
    "WrongEnvironmentError",
]
