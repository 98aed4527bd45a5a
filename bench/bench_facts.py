"""Benchmark the fact base (issue 4): `analysis data` end to end in at most 2 s of wall time.

1. End to end: the real command, `analysis data --strict --out TMP` (corpus step, then facts:
   extraction, cross-checks, pandera validation of every table, CSV, datapackage.json and the
   Excel workbook), RUNS times in fresh processes; min and median wall time and CPU time.
   With `--in-place` it runs `analysis data --strict`, which rewrites data/processed/ (with
   the same bytes). On a machine with more than one core the command validates the schemas in
   a helper process (src/analysis/facts/validation.py); the same command with the helper
   switched off (ANALYSIS_VALIDATION_HELPER=0) is timed too, for comparison.
   Python's bytecode cache is kept in a temporary folder (PYTHONPYCACHEPREFIX) and warmed by one
   untimed run first, as on an installed machine; if the environment disables bytecode writing
   (PYTHONDONTWRITEBYTECODE) every process recompiles pandas and friends, which is reported too.
2. Breakdown (CPU time, in fresh processes): the two paths that run side by side. This process:
   start-up, corpus, extraction (of which importing cn2an), rendering the exports (of which
   importing openpyxl) and writing them. The helper: importing pandas and pandera, building
   the schemas and validating the tables.

Run: `.venv/bin/python bench/bench_facts.py [--in-place]`.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 2.0
RUNS = 5


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    cpu_start, start = _cpu(), time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    if cpu is not None:
        cpu.append(_cpu() - cpu_start)
    return wall


def end_to_end(in_place: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "pycache"
        out = Path(tmp) / "processed"
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(cache)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cmd = [str(Path(sys.executable).with_name("analysis")), "data", "--strict"]
        label = "analysis data --strict"
        if in_place:
            label += " (in place)"
        else:
            cmd += ["--out", str(out)]
            label += " --out TMP"
        cold = _run(cmd, env)  # compiles the bytecode cache
        load = os.getloadavg()[0]
        print(f"end to end ({label}), {RUNS} runs; load average {load:.1f}, {os.cpu_count()} CPUs:")
        print(f"  first run (bytecode cache empty)  {cold:6.2f} s")
        inline = {**env, "ANALYSIS_VALIDATION_HELPER": "0"}
        for name, variant in (("as shipped", env), ("helper off (inline validation)", inline)):
            cpu: list[float] = []
            times = [_run(cmd, variant, cpu) for _ in range(RUNS)]
            best, median = min(times), statistics.median(times)
            verdict = "ok" if median <= TARGET_S else "OVER TARGET"
            print(f"  {name}:")
            print(f"    warm wall: min {best:.2f} s, median {median:.2f} s", end="")
            print(f"  (target {TARGET_S:.1f} s: {verdict})")
            cpu_median = statistics.median(cpu)
            print(f"    CPU time (user+sys): min {min(cpu):.2f} s, median {cpu_median:.2f} s")
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            no_cache = {**os.environ}
            t = _run(cmd, no_cache)
            print(f"  with this environment's PYTHONDONTWRITEBYTECODE=1: {t:.2f} s")


PARENT = """
import sys, tempfile, time
from pathlib import Path
clock = time.process_time
t0 = clock()
from analysis.corpus.pipeline import run as corpus
from analysis.facts import pipeline
t1 = clock()
out = Path(tempfile.mkdtemp())
corpus(strict=True, out_dir=out)
t2 = clock()
import cn2an
t3 = clock()
base = pipeline.build(out, validate=False)
t4 = clock()
import openpyxl
t5 = clock()
files = pipeline.render(base, out)
t6 = clock()
pipeline.write(files, out)
t7 = clock()
rows = sum(len(r) for r in base.tables.values())
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6, rows)
"""

HELPER = """
import sys, time
clock = time.process_time
t0 = clock()
from analysis.facts import validation
from analysis.facts.pipeline import build
base = build(validate=False)
for name in validation._UNUSED_BY_SCHEMAS:
    sys.modules.setdefault(name, None)
t1 = clock()
from analysis.facts import schemas
t2 = clock()
for table in validation.ALL_TABLES:
    schemas.schema(table.name)
t3 = clock()
validation.validate_tables(base.tables)
t4 = clock()
print(t2 - t1, t3 - t2, t4 - t3)
"""


def _median_of(code: str, env: dict[str, str]) -> list[float]:
    runs = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True
        )
        runs.append([float(x) for x in done.stdout.split()])
    return [statistics.median(column) for column in zip(*runs, strict=True)]


def breakdown() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        _median_of(PARENT, env)  # warms the bytecode cache
        start, corpus, cn2an, build, openpyxl, render, write, rows = _median_of(PARENT, env)
        imports, schemas, validate = _median_of(HELPER, env)
    parent = start + corpus + cn2an + build + openpyxl + render + write
    print(f"breakdown (median CPU time of {RUNS} fresh processes each):")
    print(f"  this process                                        {parent:6.3f} s")
    print(f"    start-up (analysis.corpus, analysis.facts)        {start:6.3f} s")
    print(f"    corpus step                                       {corpus:6.3f} s")
    print(f"    import cn2an                                      {cn2an:6.3f} s")
    print(f"    mentions, tables, cross-checks ({rows:.0f} rows)          {build:6.3f} s")
    print(f"    import openpyxl                                   {openpyxl:6.3f} s")
    print(f"    render CSV, datapackage.json, xlsx                {render:6.3f} s")
    print(f"    write 20 files                                    {write:6.3f} s")
    helper = imports + schemas + validate
    print(f"  the helper, alongside                               {helper:6.3f} s")
    print(f"    import pandas and pandera                         {imports:6.3f} s")
    print(f"    build 18 schemas                                  {schemas:6.3f} s")
    print(f"    validate 18 tables (first call)                   {validate:6.3f} s")


def main() -> None:
    """Print the end-to-end timing and the breakdown."""
    end_to_end("--in-place" in sys.argv[1:])
    breakdown()


if __name__ == "__main__":
    main()
