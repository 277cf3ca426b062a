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

    def polite(action, obs) -> float:
        return float("please" in action.message)

    length = FunctionRubric(lambda action, obs: min(len(action.message), 10) / 10, name="length")
    reward = WeightedSum([length, FunctionRubric(polite)], weights=[0.8, 0.2])
    reward(EchoAction(message="hi please"), observation)  # -> 0.8 * 0.9 + 0.2 * 1.0 = 0.92
    reward.named_scores()                                 # {'length': 0.9, 'polite': 1.0}

**Names.** Parts are named, so a trainer can log the components of a reward. A
part's name within its parent is the first that applies:

1. its own ``name`` (every rubric takes ``name=``, as ``length`` above);
2. the attribute holding it (``self.format = FunctionRubric(...)`` -> ``"format"``;
   ``Gate``'s child is ``"rubric"``, ``DiscountedReturn``'s ``"step_rubric"``);
3. for a part in a list or tuple (``WeightedSum``, ``Sequential``): its function's
   name (``FunctionRubric(polite)`` -> ``"polite"``), else its position (``"0"``, ``"1"``).

A nested part's name is its path from the rubric called, joined by dots
(``"quality.polite"`` for ``polite`` inside a part named ``quality``); a name may
not contain a dot, so every path is unambiguous. Siblings may not share a name
(``ValueError``, when the composite is built: name one of them).
:meth:`Rubric.named_rubrics` lists every part by path, and :meth:`Rubric.named_scores`
gives their scores in the latest call, the score each part returned before its
parent weighed it. :class:`~openenv.environment.Environment` puts those in each
step's ``observation.metadata["reward_components"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any


class Rubric:
    """Base class: implement :meth:`forward`; call the rubric to score.

    ``name`` (optional) names the rubric where it is a part of another; see the
    module docstring for the names parts get without one. Parts are found in the
    rubric's public attributes (a rubric, or a list or tuple of rubrics), so a
    subclass that keeps its parts there needs nothing more; one that keeps them
    elsewhere overrides :meth:`named_children`.

    ``last_score`` keeps the score of the latest call. A call first clears the
    ``last_score`` of every part, so afterwards a part shows its score in that call,
    or ``None`` when the call did not reach it (a :class:`Sequential` stopped
    before it). :meth:`reset` clears any per-episode memory, parts included.
    """

    def __init__(self, *, name: str | None = None) -> None:
        self.last_score: float | None = None
        self.name = name

    @property
    def name(self) -> str | None:
        """This rubric's name as a part of another (``None``: named by where it is held)."""
        return self._name

    @name.setter
    def name(self, name: str | None) -> None:
        if name is not None and (not isinstance(name, str) or not name or "." in name):
            raise ValueError(f"a rubric's name is a non-empty string without dots, not {name!r}")
        self._name = name

    def __call__(self, action: Any, observation: Any) -> float:
        # A part this call does not reach must not show a score from an earlier step.
        for _, part in self.named_rubrics():
            part.last_score = None
        score = float(self.forward(action, observation))
        self.last_score = score
        return score

    def forward(self, action: Any, observation: Any) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def named_children(self) -> Iterator[tuple[str, Rubric]]:
        """Immediate parts with their names (see the module docstring for the rules).

        Raises ``ValueError`` when two of them would share a name.
        """
        names: set[str] = set()
        for attribute, value in vars(self).items():
            if attribute.startswith("_"):
                continue
            if isinstance(value, Rubric):
                found = [(value.name or attribute, value)]
            elif (
                isinstance(value, list | tuple)
                and value
                and all(isinstance(item, Rubric) for item in value)
            ):
                found = [
                    (item.name or item._implicit_name() or str(position), item)
                    for position, item in enumerate(value)
                ]
            else:
                continue
            for name, child in found:
                if name in names:
                    raise ValueError(
                        f"two parts of {type(self).__name__} are named {name!r}; "
                        f"give one of them another name= so its score can be told apart"
                    )
                names.add(name)
                yield name, child

    def children(self) -> Iterator[Rubric]:
        """Immediate parts."""
        return (child for _, child in self.named_children())

    def named_rubrics(self, prefix: str = "") -> Iterator[tuple[str, Rubric]]:
        """Every part below this rubric, by dotted path, each before its own parts.

        The rubric itself is not listed (its score is the reward); a part held in
        two places is listed once, at the first path found::

            quality = WeightedSum([FunctionRubric(polite)], name="quality")
            bonus = FunctionRubric(lambda action, obs: 1.0)
            [name for name, _ in WeightedSum([quality, bonus]).named_rubrics()]
            # ['quality', 'quality.polite', '1']: a lambda is named by its position
        """
        return _walk(self, prefix, {id(self)})

    def named_scores(self) -> dict[str, float]:
        """Each part's score in the latest call, by path (see :meth:`named_rubrics`).

        Parts the call did not reach are left out; ``{}`` for a rubric without parts.
        """
        return {
            name: part.last_score
            for name, part in self.named_rubrics()
            if part.last_score is not None
        }

    def reset(self) -> None:
        """Forget per-episode memory; called at the start of every episode."""
        self.last_score = None
        for child in self.children():
            child.reset()

    def _implicit_name(self) -> str | None:
        """The name a part in a list gets when it has none (see the module docstring)."""
        return None


def _check_names(rubric: Rubric) -> None:
    """Fail when the rubric is built, not at its first step, if two parts share a name."""
    for _ in rubric.named_children():
        pass


def _walk(rubric: Rubric, prefix: str, seen: set[int]) -> Iterator[tuple[str, Rubric]]:
    # ``seen`` lists each part once and stops at a part that holds an ancestor.
    for name, child in rubric.named_children():
        if id(child) in seen:
            continue
        seen.add(id(child))
        path = f"{prefix}.{name}" if prefix else name
        yield path, child
        yield from _walk(child, path, seen)


class FunctionRubric(Rubric):
    """A rubric from a plain function ``fn(action, observation) -> float``.

    In a list of parts it is named after the function (``"polite"`` for
    ``def polite(...)``); a lambda gets its position unless given ``name=``.
    """

    def __init__(self, fn: Callable[[Any, Any], float], *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.fn = fn

    def forward(self, action: Any, observation: Any) -> float:
        return self.fn(action, observation)

    def _implicit_name(self) -> str | None:
        name = getattr(self.fn, "__name__", None)
        return name if isinstance(name, str) and name.isidentifier() else None


class WeightedSum(Rubric):
    """``sum(w_i * r_i)``; with ``normalize=True``, divided by ``sum(w_i)``."""

    def __init__(
        self,
        rubrics: Sequence[Rubric],
        weights: Sequence[float] | None = None,
        *,
        normalize: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
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
        _check_names(self)

    def forward(self, action: Any, observation: Any) -> float:
        pairs = zip(self.rubrics, self.weights, strict=True)
        total = sum(w * r(action, observation) for r, w in pairs)
        return total / sum(self.weights) if self.normalize else total


class Gate(Rubric):
    """The child's score when it reaches ``threshold``, else ``0.0``."""

    def __init__(self, rubric: Rubric, threshold: float = 1.0, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.rubric = rubric
        self.threshold = threshold

    def forward(self, action: Any, observation: Any) -> float:
        score = self.rubric(action, observation)
        return score if score >= self.threshold else 0.0


class Sequential(Rubric):
    """Children in order; ``0.0`` at the first scoring ``0``, else the last child's score.

    Use it for "must compile, then must pass tests, then score style".
    """

    def __init__(self, *rubrics: Rubric, name: str | None = None) -> None:
        super().__init__(name=name)
        if not rubrics:
            raise ValueError("Sequential needs at least one rubric")
        self.rubrics = list(rubrics)
        _check_names(self)

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

    def __init__(self, intermediate: float = 0.0, *, name: str | None = None) -> None:
        super().__init__(name=name)
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

    def __init__(
        self,
        step_rubric: Rubric,
        gamma: float = 0.99,
        intermediate: float = 0.0,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(intermediate=intermediate, name=name)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {gamma}")
        self.step_rubric = step_rubric
        self.gamma = gamma
        self.step_rewards: list[float] = []

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
