"""bench/bench_build.py ends with one table of the measurements against issue 13's targets."""

from __future__ import annotations

import importlib.util

from analysis.paths import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "bench" / "bench_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_summary_table_gives_each_measure_its_target_verdict_and_the_load() -> None:
    bench = _bench()
    rows = [
        ("full build 60.0 s vs naive 800.0 s", "13.3x", ">= 12x", True),
        ("no-op build (median of 5)", "0.61 s", "<= 0.5 s", False),
    ]
    table = bench.summary_table(rows, "1.00 0.50 0.25", "2.00 1.00 0.50").splitlines()
    assert "load average 1.00 0.50 0.25 at start, 2.00 1.00 0.50 at end" in table[0]
    assert "13.3x" in table[2] and ">= 12x" in table[2]
    assert table[2].endswith("met") and table[3].endswith("MISSED")
    assert "0.61 s" in table[3] and "<= 0.5 s" in table[3]
    assert table[-1] == "some targets missed"
    assert len(bench._loadavg().split()) == 3
