"""OpenEnv: isolated execution environments for agentic RL, behind one typed API.

Server side, subclass :class:`Environment`; client side, use :class:`EnvClient`
(sync), :class:`AsyncEnvClient`, or :class:`GenericEnvClient` for plain dicts;
:class:`EnvPool` / :class:`AsyncEnvPool` hold many sessions as one batch.
Every error OpenEnv raises on purpose is an :class:`OpenEnvError` (the tree is in
:mod:`openenv.errors`).

Names are imported on first use, so that ``import openenv.environment`` (what a
sandboxed worker needs) does not pay for the client or the server.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Action": "types",
    "EnvironmentMetadata": "types",
    "Observation": "types",
    "State": "types",
    "StepResult": "types",
    "Environment": "environment",
    "derive_seed": "environment",
    "DiscountedReturn": "rubrics",
    "FunctionRubric": "rubrics",
    "Gate": "rubrics",
    "Rubric": "rubrics",
    "Sequential": "rubrics",
    "TrajectoryRubric": "rubrics",
    "WeightedSum": "rubrics",
    "tool": "tools",
    "ConnectError": "errors",
    "EnvServerError": "errors",
    "EpisodeNotStarted": "errors",
    "EpisodeOver": "errors",
    "OpenEnvError": "errors",
    "RequestTimeout": "errors",
    "SessionLostError": "errors",
    "ToolError": "errors",
    "WrongEnvironmentError": "errors",
    "AsyncEnvClient": "client",
    "AsyncGenericEnvClient": "client",
    "EnvClient": "client",
    "GenericEnvClient": "client",
    "AsyncEnvPool": "client.envpool",
    "Batch": "client.envpool",
    "EnvPool": "client.envpool",
    "SessionFailure": "client.envpool",
    "AutoAction": "auto",
    "AutoEnv": "auto",
    "GenericAction": "core",
    "SyncEnvClient": "core",
}

__all__ = [
    "Action",
    "AsyncEnvClient",
    "AsyncEnvPool",
    "AsyncGenericEnvClient",
    "AutoAction",
    "AutoEnv",
    "Batch",
    "ConnectError",
    "DiscountedReturn",
    "EnvClient",
    "EnvPool",
    "EnvServerError",
    "Environment",
    "EnvironmentMetadata",
    "EpisodeNotStarted",
    "EpisodeOver",
    "FunctionRubric",
    "Gate",
    "GenericAction",
    "GenericEnvClient",
    "Observation",
    "OpenEnvError",
    "RequestTimeout",
    "Rubric",
    "Sequential",
    "SessionFailure",
    "SessionLostError",
    "State",
    "StepResult",
    "SyncEnvClient",
    "ToolError",
    "TrajectoryRubric",
    "WeightedSum",
    "WrongEnvironmentError",
    "derive_seed",
    "tool",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'openenv' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from .auto import AutoAction, AutoEnv
    from .client import AsyncEnvClient, AsyncGenericEnvClient, EnvClient, GenericEnvClient
    from .client.envpool import AsyncEnvPool, Batch, EnvPool, SessionFailure
    from .core import GenericAction, SyncEnvClient
    from .environment import Environment, derive_seed
    from .errors import (
        ConnectError,
        EnvServerError,
        EpisodeNotStarted,
        EpisodeOver,
        OpenEnvError,
        RequestTimeout,
        SessionLostError,
        ToolError,
        WrongEnvironmentError,
    )
    from .rubrics import (
        DiscountedReturn,
        FunctionRubric,
        Gate,
        Rubric,
        Sequential,
        TrajectoryRubric,
        WeightedSum,
    )
    from .tools import tool
    from .types import Action, EnvironmentMetadata, Observation, State, StepResult
