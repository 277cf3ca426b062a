"""OpenEnv 0.10's ``openenv.core.env_server.types``: our types, under their names.

``Action``, ``Observation``, ``State`` and ``EnvironmentMetadata`` are the very classes
of :mod:`openenv.types` (same fields, same validation), so a model written against
the reference is one of ours. ``ServerMode`` names the modes of
:meth:`~openenv.core.env_server.http_server.HTTPEnvServer.register_routes`.
"""

from enum import Enum

from ...types import Action, EnvironmentMetadata, Observation, State


class ServerMode(str, Enum):
    """``production`` serves sessions only (no ``/reset``, ``/step``, ``/state`` over HTTP)."""

    SIMULATION = "simulation"
    PRODUCTION = "production"


__all__ = ["Action", "EnvironmentMetadata", "Observation", "ServerMode", "State"]
