"""Benchmark the foundations: `import analysis` and a no-op set-up.

Targets (issue 2): `import analysis` at most 0.3 s; a no-op `make setup` at most 5 s.
Run with `make bench` or `.venv/bin/python bench/bench_setup.py`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7


def _time(cmd: list[str]) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    baseline = _time([sys.executable, "-c", "pass"])
    imported = _time([sys.executable, "-c", "import analysis"])
    noop = _time(["make", "--no-print-directory", "setup"])
    rows = [
        ("python -c pass (interpreter start)", baseline, None),
        ("python -c 'import analysis'", imported, 0.3),
        ("make setup (no-op)", noop, 5.0),
    ]
    print(f"{'what':<40} {'median s':>9} {'min s':>7} {'target s':>9}  ok")
    failed = False
    for label, times, target in rows:
        med = statistics.median(times)
        ok = "" if target is None else ("yes" if med <= target else "NO")
        failed |= ok == "NO"
        tgt = "" if target is None else f"{target:.1f}"
        print(f"{label:<40} {med:9.3f} {min(times):7.3f} {tgt:>9}  {ok}")
    print(f"({RUNS} runs each; import time includes interpreter start)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
