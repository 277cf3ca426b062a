"""The games benchmark, in its quickest mode: real servers, every mode, sane figures.

No timing assertions: only that every figure is there and positive, and that the
reference row is absent with its reason rather than faked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.boardgames import GAMES, REFERENCE_UNAVAILABLE, main, render_markdown

REPO = Path(__file__).resolve().parents[2]


def test_quick_run_of_two_games(tmp_path: Path) -> None:
    report_path, markdown_path = tmp_path / "games.json", tmp_path / "games.md"
    command = [sys.executable, "-m", "benchmarks.boardgames", "--quick"]
    command += ["--games", "tic_tac_toe,chess", "--duration", "0.2", "--sessions", "2"]
    command += ["--json", str(report_path), "--markdown", str(markdown_path)]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=110)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "reference" in out.stdout and "not published on" in out.stdout
    report = json.loads(report_path.read_text())

    assert report["reference"] == {"measured": False, "reason": REFERENCE_UNAVAILABLE}
    rows = {row["game"]: row for row in report["games"]}
    assert set(rows) == {"tic_tac_toe", "chess"}
    assert set(rows["tic_tac_toe"]["modes"]) == {"pyspiel", "env", "ws", "ws_typed", "ws_n"}
    assert set(rows["chess"]["modes"]) == {"env", "ws", "ws_typed", "ws_n"}  # no pyspiel row
    for row in rows.values():
        for name, mode in row["modes"].items():
            assert mode["steps"] > 0 and mode["steps_per_s"] > 0, (row["game"], name)
        ws = row["modes"]["ws"]
        assert ws["server_cpu_us_per_step"] is not None and ws["server_cpu_us_per_step"] >= 0
        assert ws["latency_us_p50"] > 0
    markdown = markdown_path.read_text()
    assert markdown.startswith("| game | env | pyspiel steps/s |")
    assert render_markdown(report) == markdown
    assert "| chess | chess_env | — |" in markdown


def test_help_and_unknown_games(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0 and "tic_tac_toe" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["--games", "go_fish"])
    assert exited.value.code == 2
    assert "unknown games" in capsys.readouterr().err
    assert {"tic_tac_toe", "connect_four", "kuhn_poker", "blackjack", "catch", "2048"} <= set(GAMES)
