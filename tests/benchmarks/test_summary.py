"""The summary table (``python -m benchmarks.run --summary``): its pass/fail marking and
table from a figures dict, and the command itself in its smallest mode.

The command runs real servers (sandboxed echo_env and coding_env, ours, the floor, and
the reference when its venv is already installed: installing it needs the network) and
real sessions. No timing assertions: only that every row is there, measured, and marked.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from benchmarks import summary
from benchmarks.reference.venv import DEFAULT_DIR, REFERENCE_VERSION
from openenv.runtime.local import check_sandbox
from openenv.runtime.sandbox import SandboxUnavailable

REPO = Path(__file__).resolve().parents[2]


def _sandbox_missing() -> str | None:
    try:
        check_sandbox()
    except SandboxUnavailable as exc:
        return str(exc)
    return None


def _figures(settings: summary.Settings) -> dict[str, float]:
    """A figures dict meeting every target but the first two."""
    figures: dict[str, float] = {
        "session_starts_per_s": 12.0,  # fails: ≥ 50
        "back_to_back_p50_ms": 31.0,  # fails: ≤ 30
        "coding_at_once_s": 1.5,  # passes: the bound is inclusive
        "idle_worker_pss_mib": 9.0,
        "coding_sessions_kept": float(settings.hold_sessions),
    }
    for loop in settings.loops:
        figures[f"cpu_ratio_reference_{loop}"] = 0.4
        figures[f"tput_ratio_reference_{loop}"] = 2.5
        figures[f"tput_ratio_floor_{loop}"] = 0.9
    return figures


def test_every_row_is_marked_against_its_target() -> None:
    settings = summary.FULL
    rows = summary.evaluate(_figures(settings), settings)
    by_key = {r.key: r for r in rows}

    assert [r.number for r in rows] == ["1", "2", "3", "4", "5", "5", "6", "6", "7", "7", "8"]
    assert by_key["session_starts_per_s"].passed is False
    assert by_key["back_to_back_p50_ms"].passed is False
    assert all(r.passed for r in rows[2:])
    assert by_key["session_starts_per_s"].now == "12.0/s"
    assert by_key["session_starts_per_s"].target == "≥ 50.0/s"
    assert by_key["back_to_back_p50_ms"].target == "≤ 30.0 ms"
    assert by_key["coding_at_once_s"].target == "≤ 1.50 s"
    assert by_key["idle_worker_pss_mib"].target == "≤ 10.0 MiB"
    assert by_key["cpu_ratio_reference_uvloop"].target == "≤ 0.50x"
    assert by_key["tput_ratio_reference_asyncio"].target == "≥ 2.00x"
    assert by_key["tput_ratio_floor_uvloop"].target == "≥ 0.80x"
    assert by_key["coding_sessions_kept"].now == "512/512"
    assert by_key["coding_sessions_kept"].target == "512/512"


def test_errors_fail_a_row_and_missing_figures_are_not_marked() -> None:
    settings = summary.QUICK
    figures = _figures(settings)
    del figures["coding_sessions_kept"]
    del figures["tput_ratio_floor_asyncio"]
    errors = {"idle_worker_pss_mib": ["no idle worker found"], "tput_ratio_floor_asyncio": ["x"]}
    details = {"coding_sessions_kept": "not run (--with-512)"}
    rows = {r.key: r for r in summary.evaluate(figures, settings, errors, details)}

    # a figure that meets its target still fails when its measurement had errors
    assert rows["idle_worker_pss_mib"].passed is False
    assert "error: no idle worker found" in rows["idle_worker_pss_mib"].detail
    # no figure and an error: failed; no figure and no error: not marked
    assert rows["tput_ratio_floor_asyncio"].passed is False
    assert rows["tput_ratio_floor_asyncio"].now == "—"
    assert rows["coding_sessions_kept"].passed is None
    assert rows["coding_sessions_kept"].detail == "not run (--with-512)"
    # NaN is no figure
    nan_rows = summary.evaluate({"session_starts_per_s": math.nan}, settings)
    assert nan_rows[0].passed is None and nan_rows[0].now == "—"


def test_table_and_markdown_show_every_row() -> None:
    settings = summary.QUICK
    rows = summary.evaluate(_figures(settings), settings)
    console = Console(record=True, width=220)
    console.print(summary.render_table(rows))
    text = console.export_text()
    assert "sandboxed session starts/s" in text and "512 sandboxed coding_env" in text
    assert text.count("FAIL") == 2 and text.count("pass") == len(rows) - 2

    markdown = summary.render_markdown(rows)
    lines = markdown.strip().splitlines()
    assert lines[0] == "| # | figure | now | target | result | detail |"
    assert len(lines) == 2 + len(rows)
    assert "| 12.0/s | ≥ 50.0/s | **FAIL** |" in lines[2]


def test_ratios_pair_the_rounds_and_skip_disturbed_ones() -> None:
    ours = [{"steps_per_s": 100.0}, {"steps_per_s": 40.0, "disturbed": True}, {"steps_per_s": 90}]
    other = [{"steps_per_s": 50.0}, {"steps_per_s": 10.0}, {"steps_per_s": 60.0}]
    paired = summary.paired_ratio(ours, other, "steps_per_s")
    # round 2 is left out: ours was disturbed in it
    assert paired == {"ratio": 1.75, "ours": 95.0, "other": 55.0, "rounds": 2, "quiet": 2}

    busy = [dict(r, disturbed=True) for r in ours]
    assert summary.paired_ratio(busy, other, "steps_per_s")["ratio"] == 2.0  # all: 2, 4, 1.5
    missing = [{"steps_per_s": None}, {"steps_per_s": 0.0}]
    assert summary.paired_ratio(ours, missing, "steps_per_s")["ratio"] is None


def test_rounds_alternate_their_order() -> None:
    servers = ["ours", "reference", "floor"]
    orders = [list(summary.round_order(servers, i)) for i in range(4)]
    assert orders == [servers, servers[::-1], servers, servers[::-1]]
    assert summary.FULL.repeats % 2 == 0  # as many rounds in each order


def test_busy_loops_are_stopped_on_the_way_out() -> None:
    with pytest.raises(KeyboardInterrupt), summary.busy_loops(2) as procs:
        assert all(p.poll() is None for p in procs)
        raise KeyboardInterrupt
    assert all(p.poll() is not None for p in procs)


@pytest.mark.timeout(240)
@pytest.mark.skipif(_sandbox_missing() is not None, reason=str(_sandbox_missing()))
def test_the_command_in_its_smallest_mode(tmp_path: Path) -> None:
    reference_ready = (DEFAULT_DIR / f".openenv-{REFERENCE_VERSION}-ready").exists()
    only = "ours,reference,floor" if reference_ready else "ours,floor"
    report_path = tmp_path / "summary.json"
    markdown_path = tmp_path / "summary.md"
    command = [sys.executable, "-m", "benchmarks.run", "--summary", "--tiny", "--with-512"]
    command += ["--only", only, "--json", str(report_path), "--markdown", str(markdown_path)]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=220)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "Sandboxed sessions: summary" in out.stdout

    report = json.loads(report_path.read_text())
    assert report["interrupted"] is False
    assert report["errors"] == {}
    rows = {r["key"]: r for r in report["rows"]}
    expected = {s.key for s in summary.row_specs(summary.TINY)}
    assert set(rows) == expected
    measured = expected - (set() if reference_ready else {k for k in expected if "reference" in k})
    for key in measured:
        value = report["figures"][key]
        assert isinstance(value, int | float) and math.isfinite(value) and value >= 0, key
        assert rows[key]["passed"] in (True, False), key
    assert report["figures"]["coding_sessions_kept"] == summary.TINY.hold_sessions
    assert report["raw"]["session_churn"]["ok"] == summary.TINY.churn_sessions
    assert report["raw"]["back_to_back"]["ok"] == summary.TINY.back_to_back
    assert markdown_path.read_text().count("\n") == 2 + len(rows)
