"""The OpenApp benchmark in its quickest mode: a real server and Chromium, every figure there.

No timing assertions: only that every row and level is present, nothing failed, and
the figures are sane (positive latencies, screenshots only where asked, memory that
grows with open sessions).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.openapp import LADDER_HEADER, LATENCY_HEADER, markdown

pytest.importorskip("openapp_env")
pytest.importorskip("playwright")


def _chromium_missing() -> str | None:
    from openapp_env.server.browser import BrowserUnavailable, chromium_path

    try:
        chromium_path()
    except BrowserUnavailable as exc:
        return str(exc)
    return None


pytestmark = pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing()))

REPO = Path(__file__).resolve().parents[2]


def test_quick_run(tmp_path: Path) -> None:
    report_path, markdown_path = tmp_path / "openapp.json", tmp_path / "openapp.md"
    command = [sys.executable, "-m", "benchmarks.openapp", "--quick", "--steps", "3"]
    command += ["--json", str(report_path), "--markdown", str(markdown_path)]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = json.loads(report_path.read_text())

    assert report["quick"] is True and report["settings"]["levels"] == [1, 4]
    rows = {(r["action"], r["screenshot"]): r for r in report["latency"]}
    assert set(rows) == {(a, s) for a in ("goto", "fill", "click") for s in (False, True)}
    for key, row in rows.items():
        assert row["n"] == 3 and row["errors"] == 0, (key, row["error_sample"])
        assert 0 < row["p50_ms"] <= row["p99_ms"], key
        assert row["tree_cpu_ms_per_step"] >= 0 and row["axtree_chars"] > 0, key
        assert (row["screenshot_kib"] > 0) == key[1], key
    assert [r["screenshot"] for r in report["reset"]] == [False, True]
    assert all(r["n"] == 1 and r["p50_ms"] > 0 for r in report["reset"])

    memory = report["memory"]
    assert memory["server_only"]["processes"] == 1 and memory["server_only"]["pss_mib"] > 0
    idle = memory["idle"]
    assert idle["processes"] > 2 and idle["pss_mib"] > memory["server_only"]["pss_mib"]
    assert {"server", "driver", "browser"} <= set(idle["by_role"])

    levels = report["ladder"]
    assert [lv["sessions"] for lv in levels] == [1, 4]
    for lv in levels:
        n = lv["sessions"]
        assert lv["ok"] == n and lv["failed"] == 0 and lv["errors"] == [], lv["errors"]
        assert lv["step"]["n"] == n * 4 and lv["reset"]["n"] == n * 2
        assert lv["step"]["p50_ms"] > 0 and lv["steps_per_s"] > 0
        assert lv["held"]["processes"] > lv["before"]["processes"]
        assert lv["held"]["pss_mib"] > lv["before"]["pss_mib"]
        assert lv["pss_per_session_mib"] > 0 and lv["rss_per_session_mib"] > 0
    assert report["sustained_sessions"] == 4 and report["stopped"] == "all levels done"
    assert report["pss_per_session_mib"] > 0 and report["pss_slope_mib"] is not None

    text = markdown_path.read_text()
    assert text == markdown(report)
    assert all(name in text for name in LATENCY_HEADER + LADDER_HEADER)
    assert "chromium" in report["versions"].get("chromium", "chromium").lower()


def test_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.openapp", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0 and "--quick" in out.stdout and "--json" in out.stdout
