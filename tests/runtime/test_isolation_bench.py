"""The isolation benchmark runs, in a tiny mode, and produces every figure.

No timing is asserted here (that is the benchmark's job, on a quiet machine):
only that each measurement yields sane numbers and the report renders.
"""

from __future__ import annotations

import json
import math

import pytest
from rich.console import Console

from benchmarks import isolation

pytestmark = pytest.mark.timeout(120)


def test_the_benchmark_produces_every_figure(tmp_path) -> None:
    results = isolation.measure(isolation.TINY, log=lambda _: None)
    figures = results.figures

    for name in ("warm_connect_p50_ms", "cold_connect_p50_ms", "step_overhead_p50_us"):
        assert math.isfinite(figures[name]), name
    connect = figures["connect_ms"]
    assert set(connect) == {"in-process", "sandbox-warm", "sandbox-cold"}
    assert all(c["p50"] > 0 and c["n"] >= 1 for c in connect.values())
    assert figures["warm_pool"]["taken_warm"] >= isolation.TINY.connect_samples
    steps = figures["step_us"]
    assert steps["in-process_p50"] > 0 and steps["sandbox_p50"] > 0
    memory = figures["idle_worker_memory"]
    assert len(memory["workers"]) == isolation.TINY.pool
    assert all(w["processes"] >= 1 for w in memory["workers"])
    assert len(memory["templates"]) == 1  # forked by default: the template counted apart
    assert memory["templates"][0]["pss_mib"] > 1
    assert 1 < memory["pss_mib"] <= memory["rss_mib"]

    assert [t["name"] for t in results.targets] == list(isolation.TARGETS)
    console = Console(record=True, width=140)
    console.print(isolation.table(results))
    text = console.export_text()
    assert "connect → first reset, warm pool" in text
    assert "pass" in text or "FAIL" in text

    path = tmp_path / "isolation.json"
    path.write_text(json.dumps(results.as_json()))
    assert json.loads(path.read_text())["figures"]["warm_connect_p50_ms"] > 0
