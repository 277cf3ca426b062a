"""TaskSet: loading, lookup, and the reset rule for choosing a task."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from openenv.tasks import TaskSet


class Puzzle(BaseModel):
    id: str
    prompt: str


@pytest.fixture
def puzzles(tmp_path):
    path = tmp_path / "puzzles.yaml"
    path.write_text("".join(f"- id: p{i}\n  prompt: puzzle {i}\n" for i in range(20)))
    return TaskSet(Puzzle, path)


def test_loads_in_file_order(puzzles):
    assert len(puzzles) == 20
    assert puzzles.ids()[:3] == ["p0", "p1", "p2"]
    assert puzzles["p3"].prompt == "puzzle 3"


def test_unknown_ids_name_some_known_ones(puzzles):
    with pytest.raises(ValueError, match=r"unknown task_id 'zz'; known: p0, p1, .* and 10 more"):
        puzzles["zz"]


def test_a_seed_always_picks_the_same_task_and_seeds_spread(puzzles):
    picks = [puzzles.pick(seed).id for seed in range(200)]
    assert picks == [puzzles.pick(seed).id for seed in range(200)]
    assert len(set(picks)) == 20


def test_choose_follows_the_reset_rule(puzzles):
    assert puzzles.choose("p4", seed=None).id == "p4"
    assert puzzles.choose("p4", seed=9).id == "p4"
    assert puzzles.choose(None, seed=9) == puzzles.pick(9)
    assert puzzles.choose(None, seed=None) is None
    assert puzzles.choose(None, seed=9, free=True) is None
    with pytest.raises(ValueError, match="cannot be used together"):
        puzzles.choose("p4", seed=None, free=True)


def test_duplicate_ids_and_invalid_tasks_are_refused(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("- {id: a, prompt: x}\n- {id: a, prompt: y}\n")
    with pytest.raises(ValueError, match="'a' appears twice"):
        TaskSet(Puzzle, path).ids()
    path.write_text("- {id: a}\n")
    with pytest.raises(ValidationError):
        TaskSet(Puzzle, path).ids()


def test_a_task_set_of_objects_made_in_code():
    made = TaskSet.of([Puzzle(id="x", prompt="1"), Puzzle(id="y", prompt="2")])
    assert made.ids() == ["x", "y"] and made["y"].prompt == "2"
    assert made.choose(None, seed=3) in (made["x"], made["y"])
    with pytest.raises(ValueError, match="appears twice"):
        TaskSet.of([Puzzle(id="x", prompt="1"), Puzzle(id="x", prompt="2")])


def test_listing_gives_ids_and_the_fields_asked_for(puzzles):
    listed = puzzles.listing("prompt")
    assert listed[0] == {"id": "p0", "prompt": "puzzle 0"} and len(listed) == 20
