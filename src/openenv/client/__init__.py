"""Clients: sync :class:`EnvClient`, async :class:`AsyncEnvClient`, and dict-based generics."""

from .aio import AsyncEnvClient
from .core import EnvServerError, SessionLostError, ToolError, WrongEnvironmentError
from .generic import AsyncGenericEnvClient, GenericEnvClient
from .sync import EnvClient

__all__ = [
    "AsyncEnvClient",
    "AsyncGenericEnvClient",
    "EnvClient",
    "EnvServerError",
    "GenericEnvClient",
    "SessionLostError",
    "ToolError",
    "WrongEnvironmentError",
]
