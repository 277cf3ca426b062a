"""The examples run: a short version of the tiny GRPO training run (its mechanics).

The full run's result is in docs/training.md, with the command that reproduces it.
"""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import pytest

pytest.importorskip("trl")

REPO = Path(__file__).resolve().parents[1]


def test_the_tiny_grpo_run_trains_against_the_served_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location(
        "tiny_grpo_train", REPO / "examples/tiny_grpo/train.py"
    )
    assert spec is not None and spec.loader is not None
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    result = train.train(steps=3, generations=4, lr=3e-2, target="hi", seed=0, out=tmp_path)
    # Rewards reached the trainer, one mean per step, from the environment's episodes.
    assert len(result["rewards"]) == 3 and all(math.isfinite(r) for r in result["rewards"])
    assert result["episodes"] == 3 * 4
    assert result["server_stopped"]  # the pool ended its sessions and stopped the server
    rows = list(csv.reader((tmp_path / "rewards.csv").open()))
    assert rows[0] == ["step", "reward"] and len(rows) == 4
    assert (tmp_path / "rewards.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
