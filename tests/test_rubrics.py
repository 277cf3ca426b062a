"""Rubrics: rewards from small composable parts, with exact numbers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from openenv import (
    DiscountedReturn,
    FunctionRubric,
    Gate,
    Rubric,
    Sequential,
    TrajectoryRubric,
    WeightedSum,
)

A = SimpleNamespace(message="hello")


def obs(done: bool = False, value: float = 0.0) -> SimpleNamespace:
    return SimpleNamespace(done=done, value=value)


def const(value: float, name: str | None = None) -> FunctionRubric:
    return FunctionRubric(lambda action, observation: value, name=name)


class Counting(Rubric):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value
        self.calls = 0

    def forward(self, action, observation) -> float:
        self.calls += 1
        return self.value


def test_function_rubric_and_last_score():
    rubric = FunctionRubric(lambda action, observation: len(action.message) / 10)
    assert rubric.last_score is None
    assert rubric(A, obs()) == 0.5
    assert rubric.last_score == 0.5
    rubric.reset()
    assert rubric.last_score is None


def test_scores_are_floats():
    score = FunctionRubric(lambda a, o: True)(A, obs())
    assert score == 1.0 and type(score) is float
    assert type(const(3)(A, obs())) is float


def test_base_rubric_needs_forward():
    with pytest.raises(NotImplementedError):
        Rubric()(A, obs())
    assert list(Rubric().children()) == []


def test_weighted_sum():
    assert WeightedSum([const(1.0), const(0.5)], weights=[0.8, 0.2])(A, obs()) == pytest.approx(0.9)
    assert WeightedSum([const(1.0), const(2.0)])(A, obs()) == 3.0
    assert WeightedSum([const(1.0), const(0.0)], weights=[3, 1], normalize=True)(
        A, obs()
    ) == pytest.approx(0.75)
    assert WeightedSum([const(2.0)], weights=[-1.0])(A, obs()) == -2.0


def test_weighted_sum_docstring_example():
    length = FunctionRubric(lambda action, o: min(len(action.message), 10) / 10)
    polite = FunctionRubric(lambda action, o: float("please" in action.message))
    reward = WeightedSum([length, polite], weights=[0.8, 0.2])
    assert reward(SimpleNamespace(message="hi please"), obs()) == pytest.approx(0.92)
    assert (length.last_score, polite.last_score) == (pytest.approx(0.9), 1.0)


def test_weighted_sum_errors():
    with pytest.raises(ValueError, match="at least one"):
        WeightedSum([])
    with pytest.raises(ValueError, match="2 rubrics but 1 weights"):
        WeightedSum([const(1), const(1)], weights=[1.0])
    with pytest.raises(ValueError, match="sum to zero"):
        WeightedSum([const(1), const(1)], weights=[1.0, -1.0], normalize=True)


def test_gate():
    assert Gate(const(0.9), threshold=0.8)(A, obs()) == 0.9
    assert Gate(const(0.8), threshold=0.8)(A, obs()) == 0.8  # reaching it is enough
    assert Gate(const(0.7), threshold=0.8)(A, obs()) == 0.0
    assert Gate(const(1.0))(A, obs()) == 1.0
    assert Gate(const(0.99))(A, obs()) == 0.0  # default threshold 1.0


def test_sequential_short_circuits():
    first, second, third = Counting(1.0), Counting(0.0), Counting(5.0)
    rubric = Sequential(first, second, third)
    assert rubric(A, obs()) == 0.0
    assert (first.calls, second.calls, third.calls) == (1, 1, 0)  # third never called


def test_sequential_returns_the_last_score():
    first, last = Counting(0.5), Counting(0.25)
    assert Sequential(first, last)(A, obs()) == 0.25
    assert Sequential(Counting(0.0))(A, obs()) == 0.0
    with pytest.raises(ValueError):
        Sequential()


def test_sequential_with_gates():
    compiles = Gate(const(1.0))
    tests_pass = Gate(const(0.5), threshold=1.0)
    style = Counting(0.7)
    assert Sequential(compiles, tests_pass, style)(A, obs()) == 0.0
    assert style.calls == 0


class EpisodeLength(TrajectoryRubric):
    def score_trajectory(self, trajectory):
        return float(len(trajectory))


def test_trajectory_rubric():
    rubric = EpisodeLength(intermediate=-0.01)
    assert rubric(A, obs()) == -0.01
    assert rubric(A, obs()) == -0.01
    assert rubric(A, obs(done=True)) == 3.0
    assert len(rubric.trajectory) == 3
    rubric.reset()
    assert rubric.trajectory == [] and rubric.last_score is None
    assert rubric(A, obs(done=True)) == 1.0


def test_trajectory_rubric_needs_score_trajectory():
    with pytest.raises(NotImplementedError):
        TrajectoryRubric()(A, obs(done=True))


def test_discounted_return_exact_numbers():
    step = FunctionRubric(lambda action, observation: observation.value)
    rubric = DiscountedReturn(step, gamma=0.5)
    assert rubric(A, obs(value=1.0)) == 0.0
    assert rubric(A, obs(value=2.0)) == 0.0
    final = rubric(A, obs(value=3.0, done=True))
    # G_0 = 1 + 0.5 * 2 + 0.25 * 3
    assert final == 2.75
    assert rubric.returns_to_go() == [2.75, 3.5, 3.0]
    assert rubric.step_rewards == [1.0, 2.0, 3.0]


def test_discounted_return_gamma_one_and_zero():
    values = [1.0, -2.0, 4.0]

    def run(gamma: float) -> tuple[float, list[float]]:
        rubric = DiscountedReturn(FunctionRubric(lambda a, o: o.value), gamma=gamma)
        for i, value in enumerate(values):
            score = rubric(A, obs(value=value, done=i == len(values) - 1))
        return score, rubric.returns_to_go()

    assert run(1.0) == (3.0, [3.0, 2.0, 4.0])
    assert run(0.0) == (1.0, [1.0, -2.0, 4.0])


def test_discounted_return_intermediate_and_errors():
    rubric = DiscountedReturn(const(1.0), gamma=0.9, intermediate=0.1)
    assert rubric(A, obs()) == 0.1
    assert rubric(A, obs(done=True)) == pytest.approx(1.9)
    with pytest.raises(ValueError, match="gamma"):
        DiscountedReturn(const(1.0), gamma=1.5)
    with pytest.raises(ValueError, match="gamma"):
        DiscountedReturn(const(1.0), gamma=-0.1)
    assert DiscountedReturn(const(1.0)).returns_to_go() == []


def test_reset_clears_memory_through_composition():
    step = Counting(1.0)
    discounted = DiscountedReturn(step, gamma=0.5)
    composite = WeightedSum([discounted, Gate(const(1.0))], weights=[1.0, 0.0])
    composite(A, obs())
    composite(A, obs())
    assert discounted.step_rewards == [1.0, 1.0] and len(discounted.trajectory) == 2
    assert step.last_score == 1.0
    composite.reset()
    assert discounted.step_rewards == [] and discounted.trajectory == []
    assert step.last_score is None and composite.last_score is None
    # A new episode starts from scratch.
    assert composite(A, obs(done=True)) == 1.0
    assert discounted.returns_to_go() == [1.0]


def test_children():
    a, b = const(1), const(2)
    assert list(WeightedSum([a, b]).children()) == [a, b]
    assert list(Gate(a).children()) == [a]
    assert list(Sequential(a, b).children()) == [a, b]
    assert list(DiscountedReturn(a).children()) == [a]


# -- names -------------------------------------------------------------------------------


def polite(action, observation) -> float:
    return float("please" in action.message)


def short(action, observation) -> float:
    return float(len(action.message) < 10)


def names(rubric: Rubric) -> list[str]:
    return [name for name, _ in rubric.named_rubrics()]


def test_module_docstring_example():
    length = FunctionRubric(lambda action, o: min(len(action.message), 10) / 10, name="length")
    reward = WeightedSum([length, FunctionRubric(polite)], weights=[0.8, 0.2])
    assert reward(SimpleNamespace(message="hi please"), obs()) == pytest.approx(0.92)
    assert reward.named_scores() == {"length": pytest.approx(0.9), "polite": 1.0}


def test_a_part_in_a_list_is_named_by_its_name_its_function_or_its_position():
    reward = WeightedSum([FunctionRubric(polite), const(1.0), const(2.0, name="bonus")])
    assert names(reward) == ["polite", "1", "bonus"]
    assert names(Sequential(const(1.0), FunctionRubric(short))) == ["0", "short"]


def test_a_part_in_an_attribute_is_named_by_the_attribute():
    assert names(Gate(FunctionRubric(polite))) == ["rubric"]
    assert names(DiscountedReturn(const(1.0))) == ["step_rubric"]
    assert names(Gate(FunctionRubric(polite), name="outer")) == ["rubric"]  # the root is unnamed
    assert names(Gate(FunctionRubric(polite, name="kind"))) == ["kind"]  # its own name wins


class Essay(Rubric):
    """A custom rubric: its parts are found in its attributes, named after them."""

    def __init__(self) -> None:
        super().__init__()
        self.format = FunctionRubric(short)
        self.tone = WeightedSum([FunctionRubric(polite), const(0.5)])
        self.threshold = 0.5  # not a rubric: ignored
        self._cache = const(9.0)  # private: not a part

    def forward(self, action, observation) -> float:
        return self.format(action, observation) * self.tone(action, observation)


def test_a_custom_rubric_names_its_attributes_and_resets_them():
    essay = Essay()
    assert names(essay) == ["format", "tone", "tone.polite", "tone.1"]
    assert essay(SimpleNamespace(message="please"), obs()) == 1.5
    assert essay.named_scores() == {"format": 1.0, "tone": 1.5, "tone.polite": 1.0, "tone.1": 0.5}
    essay.reset()
    assert all(part.last_score is None for _, part in essay.named_rubrics())


def test_nested_composites_give_dotted_paths_parents_first():
    quality = WeightedSum([FunctionRubric(polite), FunctionRubric(short)], name="quality")
    gated = Gate(Sequential(const(1.0), const(0.5)), threshold=0.0, name="gated")
    reward = WeightedSum([quality, gated, const(1.0)])
    assert names(reward) == [
        "quality",
        "quality.polite",
        "quality.short",
        "gated",
        "gated.rubric",
        "gated.rubric.0",
        "gated.rubric.1",
        "2",
    ]
    assert dict(reward.named_rubrics())["quality.short"] is quality.rubrics[1]
    assert names(reward.rubrics[0]) == ["polite", "short"]  # paths start at the rubric asked
    assert [n for n, _ in quality.named_rubrics(prefix="reward")] == [
        "reward.polite",
        "reward.short",
    ]


def test_a_part_held_twice_is_listed_once():
    shared = FunctionRubric(polite)
    reward = WeightedSum([Gate(shared, name="strict"), Gate(shared, threshold=0.0, name="lax")])
    assert names(reward) == ["strict", "strict.rubric", "lax"]


def test_names_are_checked():
    for bad in ("", "a.b", 3):
        with pytest.raises(ValueError, match="without dots"):
            FunctionRubric(polite, name=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="two parts of WeightedSum are named 'polite'"):
        WeightedSum([FunctionRubric(polite), FunctionRubric(polite)])
    with pytest.raises(ValueError, match="named 'x'"):
        Sequential(const(1.0, name="x"), const(2.0, name="x"))
    # the fix the message suggests
    assert names(WeightedSum([FunctionRubric(polite), FunctionRubric(polite, name="again")])) == [
        "polite",
        "again",
    ]


def test_named_scores_are_the_parts_own_scores_before_weighting():
    reward = WeightedSum([const(1.0, name="win"), const(1.0, name="waste")], weights=[1.0, -0.1])
    assert reward(A, obs()) == pytest.approx(0.9)
    assert reward.named_scores() == {"win": 1.0, "waste": 1.0}
    assert FunctionRubric(polite).named_scores() == {}  # no parts: the score is the reward


def test_a_part_the_call_did_not_reach_has_no_score():
    gate = Counting(1.0)
    later = Counting(5.0)
    reward = Sequential(gate, later)
    assert reward(A, obs()) == 5.0
    assert reward.named_scores() == {"0": 1.0, "1": 5.0}
    gate.value = 0.0
    assert reward(A, obs()) == 0.0
    # `later` was not evaluated this time: its score from the last step is gone.
    assert later.last_score is None
    assert reward.named_scores() == {"0": 0.0}


def test_scores_of_a_discounted_return_and_its_step_rubric():
    step = FunctionRubric(lambda action, observation: observation.value, name="gain")
    rubric = DiscountedReturn(step, gamma=0.5)
    rubric(A, obs(value=1.0))
    assert rubric.named_scores() == {"gain": 1.0}
    rubric(A, obs(value=2.0, done=True))
    assert (rubric.last_score, rubric.named_scores()) == (2.0, {"gain": 2.0})
