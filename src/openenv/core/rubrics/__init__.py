"""OpenEnv 0.10's ``openenv.core.rubrics``: our rubrics (:mod:`openenv.rubrics`).

``Rubric``, ``Sequential``, ``Gate`` and ``WeightedSum`` are ours, with the
reference's calls (``forward``, ``__call__``, ``reset``, ``children``,
``named_children``, ``named_rubrics``). Not here: ``TrajectoryRubric`` and
``ExponentialDiscountingTrajectoryRubric`` (ours are :class:`openenv.TrajectoryRubric`
and :class:`openenv.DiscountedReturn`, whose arguments and discounting differ),
``RubricList``, ``RubricDict`` and ``LLMJudge``; docs/migrating.md says what to use.
"""

from typing import Any

from ...rubrics import Gate, Rubric, Sequential, WeightedSum

_ELSEWHERE = {
    "TrajectoryRubric": "openenv.TrajectoryRubric (score_trajectory; intermediate=)",
    "ExponentialDiscountingTrajectoryRubric": "openenv.DiscountedReturn(step_rubric, gamma)",
    "RubricList": "a list attribute of Rubric children (named_children finds them)",
    "RubricDict": "a dict attribute of Rubric children (named_children finds them)",
    "LLMJudge": "a Rubric subclass calling your model in forward()",
}


def __getattr__(name: str) -> Any:
    if name in _ELSEWHERE:
        raise ImportError(
            f"openenv.core.rubrics.{name} (OpenEnv 0.10) has no equivalent of the same "
            f"shape here; use {_ELSEWHERE[name]} (docs/migrating.md)"
        )
    raise AttributeError(f"module 'openenv.core.rubrics' has no attribute {name!r}")


__all__ = ["Gate", "Rubric", "Sequential", "WeightedSum"]
