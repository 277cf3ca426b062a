"""OpenEnv: isolated execution environments for agentic RL, behind one typed API.

Server side, subclass :class:`Environment`; client side, use :class:`EnvClient`
(sync), :class:`AsyncEnvClient`, or :class:`GenericEnvClient` for plain dicts.
"""

from .client import (
    AsyncEnvClient,
    AsyncGenericEnvClient,
    EnvClient,
    EnvServerError,
    GenericEnvClient,
    SessionLostError,
    ToolError,
)
from .environment import Environment, derive_seed
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

__version__ = "0.1.0"

__all__ = [
    "Action",
    "AsyncEnvClient",
    "AsyncGenericEnvClient",
    "DiscountedReturn",
    "EnvClient",
    "EnvServerError",
    "Environment",
    "EnvironmentMetadata",
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
    "derive_seed",
    "tool",
]
