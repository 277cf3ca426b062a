"""OpenEnv 0.10's ``openenv.core.client_types``: :class:`StepResult`, ours."""

from typing import TypeVar

from ..types import StepResult

StateT = TypeVar("StateT")

__all__ = ["StateT", "StepResult"]
