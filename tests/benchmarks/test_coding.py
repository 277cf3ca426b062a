"""The coding-environment benchmark, in its quickest mode, against our servers only.

Real servers (``openenv serve coding_env``, sandboxed and not), real sessions. The
reference (which may need pip and the network to install) is left out. No timing
assertions: only that every figure is there and sane.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.coding import render_markdown
from openenv.runtime import landlock
from openenv.runtime.local import check_sandbox
from openenv.runtime.sandbox import SandboxUnavailable

REPO = Path(__file__).resolve().parents[2]


def _sandbox_missing() -> str | None:
    try:
        check_sandbox()
    except SandboxUnavailable as exc:
        return str(exc)
    return None if landlock.abi_version() else "no Landlock on this kernel"


@pytest.mark.skipif(_sandbox_missing() is not None, reason=str(_sandbox_missing()))
def test_quick_run_against_our_servers(tmp_path: Path) -> None:
    report_path = tmp_path / "coding.json"
    markdown_path = tmp_path / "coding.md"
    command = [sys.executable, "-m", "benchmarks.coding", "--quick", "--only", "ours,ours-none"]
    command += ["--levels", "3", "--print-steps", "20", "--compute-ms", "20"]
    command += ["--json", str(report_path), "--markdown", str(markdown_path)]
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=110)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = json.loads(report_path.read_text())

    assert report["names"] == ["ours", "ours-none"]
    assert report["reference_unavailable"] is None and "reference" not in report["servers"]
    calibration = report["calibration"]
    assert calibration["n"] >= 1000 and calibration["plain_cpython_ms"] > 0
    assert calibration["code"] == f"print(sum(i * i for i in range({calibration['n']})))"

    for name in ("ours", "ours-none"):
        server = report["servers"][name]
        assert server["failed"] is None, server["failed"]
        printed = server["print_1"]
        assert printed["errors"] == [] and printed["completed"] == printed["steps"] == 20
        latency = printed["latency_ms"]
        assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
        cpu = printed["server_cpu_ms_per_step"]
        assert cpu is not None and cpu >= 0
        compute = server["compute"]
        assert compute["errors"] == [] and compute["completed"] == compute["steps"] >= 1
        assert compute["latency_ms"]["p50"] > 0 and compute["plain_cpython_ms"] > 0
        (level,) = server["ladder"]
        assert level["sessions"] == level["connected"] == 3 and level["held"]
        assert level["completed_steps"] == 3 * level["steps_per_session"]
        assert level["failed_sessions"] == level["wrong_steps"] == 0 and level["errors"] == []
        assert level["success_rate"] == 1.0
        assert level["pss_mib"] > 0 and level["processes"] >= 1
        assert server["held"] == 3
        assert server["idle_memory"]["pss_mib"] > 0

        figures = report["figures"][name]
        for key in ("print_p50", "print_p99", "print_cpu", "compute_p50", "compute_x_plain"):
            assert figures[key] is not None and figures[key] >= 0, key
        assert figures["held"] == 3 and figures["at_pss"] > 0 and figures["per_session_pss"] > 0

    # A sandboxed session is more processes (bwrap, the worker, its kernel) than one in-process.
    sandboxed = report["servers"]["ours"]["ladder"][0]["processes"]
    assert sandboxed > report["servers"]["ours-none"]["ladder"][0]["processes"]

    assert report["common_level"] == 3
    target = report["target"]
    assert target["value"] == report["figures"]["ours"]["print_p50"]
    assert target["passed"] in (True, False)
    markdown = markdown_path.read_text()
    assert markdown.startswith("| measure | ours | ours-none |\n")
    assert "| with 3 sessions: print(1) step p50 (ms) |" in markdown
    assert "| server | 3 sessions |" in markdown
    assert render_markdown(report) == markdown
