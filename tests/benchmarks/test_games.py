"""The games benchmark in its quickest mode: real servers, every row measured.

No timing assertions: only that every figure is there and sane, and that the
reference rows are absent with the reason said.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.games import markdown

pytest.importorskip("gym_env")
pytest.importorskip("atari_env")

REPO = Path(__file__).resolve().parents[2]


def test_quick_run(tmp_path: Path) -> None:
    report_path, markdown_path = tmp_path / "games.json", tmp_path / "games.md"
    command = [sys.executable, "-m", "benchmarks.games", "--quick", "--sessions", "2"]
    command += ["--json", str(report_path), "--markdown", str(markdown_path)]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=110)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "not on PyPI" in out.stdout
    report = json.loads(report_path.read_text())
    assert report["reference"]["available"] is False
    rows = {row["key"]: row for row in report["rows"]}
    assert list(rows) == [
        "cartpole_local",
        "cartpole_ws_1",
        "cartpole_ws_n",
        "cartpole_adapter",
        "cartpole_vector",
        "atari_local",
        "atari_ws_png",
        "atari_ws_array",
        "atari_ws_n",
    ]
    for key, row in rows.items():
        assert row["steps_per_s"] > 0, key
        if key.endswith("_local"):
            assert row["x_in_process"] is None and row["server_cpu_us_per_step"] is None
        else:
            assert row["x_in_process"] > 0 and row["server_cpu_us_per_step"] >= 0, key
    for key in ("cartpole_local", "cartpole_ws_1", "atari_ws_png", "atari_ws_array"):
        assert rows[key]["p50_us"] > 0
    assert markdown_path.read_text() == markdown(report["rows"])


def test_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.games", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0 and "--quick" in out.stdout and "--json" in out.stdout
