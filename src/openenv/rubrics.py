"""Rubrics: rewards computed inside the environment, from small composable parts.

A :class:`Rubric` maps ``(action, observation)`` to a float. Compose them:

* :class:`WeightedSum` — ``sum(w_i * r_i)`` (optionally divided by ``sum(w_i)``);
* :class:`Gate` — the child's score if it reaches a threshold, else ``0.0``;
* :class:`Sequential` — children in order, ``0.0`` at the first that scores ``0``
  (later ones are not evaluated), otherwise the last child's score;
* :class:`TrajectoryRubric` — scores a whole episode once it is done;
* :class:`DiscountedReturn` — ``G = sum_t gamma**t * r_t`` of a per-step rubric,
  paid at the end of the episode, with per-step returns-to-go for credit assignment.

Example::

    length = FunctionRubric(lambda action, obs: min(len(action.message), 10) / 10)
    polite = FunctionRubric(lambda action, obs: float("please" in action.message))
    reward = WeightedSum([length, polite], weights=[0.8, 0.2])
    reward(EchoAction(message="hi please"), observation)  # -> 0.8 * 0.9 + 0.2 * 1.0 = 0.92
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any


class Rubric:
    """Base class: implement :meth:`forward`; call the rubric to score.

    ``last_score`` keeps the most recent score (handy for logging parts of a
    composite reward); :meth:`reset` clears any per-episode memory, children included.
    """

    def __init__(self) -> None:
        self.last_score: float | None = None

    def __call__(self, action: Any, observation: Any) -> float:
        score = float(self.forward(action, observation))
        self.last_score = score
        return score

    def forward(self, action: Any, observation: Any) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def children(self) -> Iterator[Rubric]:
        """Immediate child rubrics."""
        return iter(())

    def reset(self) -> None:
        """Forget per-episode memory; called at the start of every episode."""
        self.last_score = None
        for child in self.children():
            child.reset()


class FunctionRubric(Rubric):
    """A rubric from a plain function ``fn(action, observation) -> float``."""

    def __init__(self, fn: Callable[[Any, Any], float]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, action: Any, observation: Any) -> float:
        return self.fn(action, observation)


class WeightedSum(Rubric):
    """``sum(w_i * r_i)``; with ``normalize=True``, divided by ``sum(w_i)``."""

    def __init__(
        self,
        rubrics: Sequence[Rubric],
        weights: Sequence[float] | None = None,
        *,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        if not rubrics:
            raise ValueError("WeightedSum needs at least one rubric")
        weights = list(weights) if weights is not None else [1.0] * len(rubrics)
        if len(weights) != len(rubrics):
            raise ValueError(f"{len(rubrics)} rubrics but {len(weights)} weights")
        if normalize and sum(weights) == 0:
            raise ValueError("weights sum to zero; cannot normalize")
        self.rubrics = list(rubrics)
        self.weights = weights
        self.normalize = normalize

    def children(self) -> Iterator[Rubric]:
        return iter(self.rubrics)

    def forward(self, action: Any, observation: Any) -> float:
        pairs = zip(self.rubrics, self.weights, strict=True)
        total = sum(w * r(action, observation) for r, w in pairs)
        return total / sum(self.weights) if self.normalize else total


class Gate(Rubric):
    """The child's score when it reaches ``threshold``, else ``0.0``."""

    def __init__(self, rubric: Rubric, threshold: float = 1.0) -> None:
        super().__init__()
        self.rubric = rubric
        self.threshold = threshold

    def children(self) -> Iterator[Rubric]:
        return iter((self.rubric,))

    def forward(self, action: Any, observation: Any) -> float:
        score = self.rubric(action, observation)
        return score if score >= self.threshold else 0.0


class Sequential(Rubric):
    """Children in order; ``0.0`` at the first scoring ``0``, else the last child's score.

    Use it for "must compile, then must pass tests, then score style".
    """

    def __init__(self, *rubrics: Rubric) -> None:
        super().__init__()
        if not rubrics:
            raise ValueError("Sequential needs at least one rubric")
        self.rubrics = list(rubrics)

    def children(self) -> Iterator[Rubric]:
        return iter(self.rubrics)

    def forward(self, action: Any, observation: Any) -> float:
        score = 0.0
        for rubric in self.rubrics:
            score = rubric(action, observation)
            if score == 0:
                return 0.0
        return score


class TrajectoryRubric(Rubric):
    """Scores a whole episode: ``intermediate`` on every step, the episode's score at the end.

    Subclasses implement :meth:`score_trajectory`. The episode ends when the
    observation says ``done``; the trajectory is cleared by :meth:`reset`.
    """

    def __init__(self, intermediate: float = 0.0) -> None:
        super().__init__()
        self.intermediate = intermediate
        self.trajectory: list[tuple[Any, Any]] = []

    def forward(self, action: Any, observation: Any) -> float:
        self.trajectory.append((action, observation))
        if not getattr(observation, "done", False):
            return self.intermediate
        return self.score_trajectory(self.trajectory)

    def score_trajectory(self, trajectory: list[tuple[Any, Any]]) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement score_trajectory()")

    def reset(self) -> None:
        super().reset()
        self.trajectory = []


class DiscountedReturn(TrajectoryRubric):
    """Discounted return of a per-step rubric, paid when the episode ends.

    With per-step rewards ``r_0..r_{T-1}`` from ``step_rubric``, the final step
    scores ``G_0 = sum_t gamma**t * r_t``; :meth:`returns_to_go` gives every
    ``G_t = sum_{k>=t} gamma**(k-t) * r_k`` for credit assignment.
    """

    def __init__(self, step_rubric: Rubric, gamma: float = 0.99, intermediate: float = 0.0):
        super().__init__(intermediate=intermediate)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {gamma}")
        self.step_rubric = step_rubric
        self.gamma = gamma
        self.step_rewards: list[float] = []

    def children(self) -> Iterator[Rubric]:
        return iter((self.step_rubric,))

    def forward(self, action: Any, observation: Any) -> float:
        self.step_rewards.append(self.step_rubric(action, observation))
        return super().forward(action, observation)

    def score_trajectory(self, trajectory: list[tuple[Any, Any]]) -> float:
        return self.returns_to_go()[0] if self.step_rewards else 0.0

    def returns_to_go(self) -> list[float]:
        returns: list[float] = []
        running = 0.0
        for reward in reversed(self.step_rewards):
            running = reward + self.gamma * running
            returns.append(running)
        return returns[::-1]

    def reset(self) -> None:
        super().reset()
        self.step_rewards = []
