"""The tiny GRPO run: a short version that checks its mechanics, through the example
script and through ``openenv demo train``.

The full run's result is in docs/training.md, with the command that reproduces it.
"""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import pytest

from tests.cli.helpers import assert_one_line_error, invoke

REPO = Path(__file__).resolve().parents[1]


def load_example() -> object:
    spec = importlib.util.spec_from_file_location(
        "tiny_grpo_train", REPO / "examples/tiny_grpo/train.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tiny_grpo_run_trains_against_the_served_env(tmp_path: Path) -> None:
    pytest.importorskip("trl")
    from openenv.integrations.tiny_grpo import train

    seen: list[tuple[int, int, float]] = []
    result = train(
        3,
        generations=4,
        target="hi",
        out=tmp_path,
        on_step=lambda s, n, r, _: seen.append((s, n, r)),
    )
    # Rewards reached the trainer, one mean per step, from the environment's episodes.
    assert len(result.rewards) == 3 and all(math.isfinite(r) for r in result.rewards)
    assert [(s, n) for s, n, _ in seen] == [(1, 3), (2, 3), (3, 3)]
    assert [r for *_, r in seen] == result.rewards
    assert result.episodes == 3 * 4
    assert result.server_stopped  # the pool ended its sessions and stopped the server
    assert not result.learned and "too short to judge" in result.summary()
    rows = list(csv.reader((tmp_path / "rewards.csv").open()))
    assert rows[0] == ["step", "reward"] and len(rows) == 4
    assert [float(row[1]) for row in rows[1:]] == pytest.approx(result.rewards, abs=1e-6)
    assert (tmp_path / "rewards.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_example_script_and_the_command_run_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("trl")
    example = load_example()
    assert example.main(["--steps", "2", "--generations", "2", "--out", str(tmp_path / "a")]) == 0
    printed = capsys.readouterr().out
    assert "step    2/2" in printed and "too short to judge" in printed
    result = invoke(
        "demo", "train", "--steps", "2", "--generations", "2", "--out", str(tmp_path / "b")
    )
    assert result.exit_code == 0, result.output
    assert "step    2/2" in result.stdout and "too short to judge" in result.stdout
    assert len(list(csv.reader((tmp_path / "b" / "rewards.csv").open()))) == 3


def test_demo_train_without_the_training_extra_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "trl" else real_find_spec(name, *a),
    )
    result = invoke("demo", "train", "--steps", "1")
    assert result.exit_code == 1
    assert_one_line_error(result.stderr, "needs the training extra (trl missing)", "[training]")
