"""OpenEnv 0.10's ``openenv.core.env_server.types``: our types, under their names.

``Action``, ``Observation``, ``State`` and ``EnvironmentMetadata`` are the very classes
of :mod:`openenv.types` (same fields, same validation), so a model written against
the reference is one of ours.
"""

from ...types import Action, EnvironmentMetadata, Observation, State

__all__ = ["Action", "EnvironmentMetadata", "Observation", "State"]
