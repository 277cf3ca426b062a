"""OpenEnv: isolated execution environments for agentic RL, behind one typed API.

Server side, subclass :class:`Environment`; client side, use :class:`EnvClient`
(sync), :class:`AsyncEnvClient`, or :class:`GenericEnvClient` for plain dicts.

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
    "EpisodeNotStarted": "environment",
    "EpisodeOver": "environment",
    "derive_seed": "environment",
    "DiscountedReturn": "rubrics",
    "FunctionRubric": "rubrics",
    "Gate": "rubrics",
    "Rubric": "rubrics",
    "Sequential": "rubrics",
    "TrajectoryRubric": "rubrics",
    "WeightedSum": "rubrics",
    "tool": "tools",
    "AsyncEnvClient": "client",
    "AsyncGenericEnvClient": "client",
    "EnvClient": "client",
    "EnvServerError": "client",
    "GenericEnvClient": "client",
    "SessionLostError": "client",
    "ToolError": "client",
    "WrongEnvironmentError": "client",
}

__all__ = [
    "Action",
    "AsyncEnvClient",
    "AsyncGenericEnvClient",
    "DiscountedReturn",
    "EnvClient",
    "EnvServerError",
    "Environment",
    "EnvironmentMetadata",
    "EpisodeNotStarted",
    "EpisodeOver",
    "FunctionRubric",
    "Gate",
    "GenericEnvClient",
    "Observation",
    "Rubric",
    "Sequential",
    "SessionLostError",
    "State",
    "StepResult",
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
    from .client import (
        AsyncEnvClient,
        AsyncGenericEnvClient,
        EnvClient,
        EnvServerError,
        GenericEnvClient,
        SessionLostError,
        ToolError,
        WrongEnvironmentError,
    )
    from .environment import Environment, EpisodeNotStarted, EpisodeOver, derive_seed
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
