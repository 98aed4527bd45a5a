"""Benchmark the report build (issue 6) against the naive way, in the same run.

1. The full build: `analysis build --force` of every job in reports.toml (every notebook,
   both languages, all province profiles, HTML and PDF) into a temporary reports folder.
2. The naive way over the same jobs: a shell loop that runs, per job, the `papermill` command,
   `jupyter nbconvert --to html --no-input` and, for the PDF, the `weasyprint` command on that
   HTML (nbconvert's own PDF exporters need LaTeX or a Chromium download, which this machine
   does not have).
3. A no-op rebuild (everything up to date) and a rebuild of one job (`--force` on one
   province profile, or on the fixture chart with --fixtures).

For each: wall time and the peak memory of the whole process tree (the sum of the resident
sizes of the command and all its descendants, sampled every 50 ms with psutil; without psutil,
the largest single descendant from getrusage). Targets: full build at least 4 times faster
than the naive way, no-op at most 1 s, one province at most 3 s, peak at most 2 GB.

Run: `.venv/bin/python bench/bench_build.py` (the real reports.toml; the naive loop takes a
while), or `.venv/bin/python bench/bench_build.py --fixtures` (the small test project).
`--naive-limit N` runs the naive loop on the first N jobs only and extrapolates (labelled);
`--only REPORT` (repeatable) benchmarks a subset of the reports. `--quick` skips the full build
and the naive loop: it builds the single job once (untimed, so that there is something to be
up to date), then times the no-op rebuild of that job and its forced rebuild; `--repeat N`
times the forced rebuild N times and reports each run and the median.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from analysis.paths import ROOT
from analysis.publish.engine import BuildOptions, Context
from analysis.publish.jobs import make_jobs
from analysis.publish.spec import load_spec, select

BIN = Path(sys.executable).parent
FIXTURES = ROOT / "tests" / "fixtures" / "build"
TARGET_RATIO = 4.0
TARGET_NOOP_S = 1.0
TARGET_ONE_S = 3.0
TARGET_PEAK_MB = 2048.0


def measure(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """Run a command; return (wall seconds, peak MB of its process tree, exit status)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is in the lock
        psutil = None
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)
    reader.start()
    if psutil is not None:
        root = psutil.Process(process.pid)
        while process.poll() is None:
            total = 0
            try:
                for proc in [root, *root.children(recursive=True)]:
                    try:
                        total += proc.memory_info().rss
                    except psutil.Error:
                        continue
            except psutil.Error:
                pass
            peak = max(peak, total / 2**20)
            time.sleep(0.05)
    status = process.wait()
    wall = time.perf_counter() - started
    reader.join()
    if psutil is None:
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if status not in (0, 1):
        sys.stderr.write(b"".join(errors).decode("utf-8", "replace")[-3000:])
    return wall, peak, status


def naive_script(jobs, out: Path) -> str:
    """The shell loop a person would write: three commands per job."""
    lines = ["set -u", f"cd {shlex.quote(str(out))}"]
    for job in jobs:
        notebook = job.report.notebook
        executed = out / f"{job.job_id}.ipynb"
        params = " ".join(
            f"-p {shlex.quote(k)} {shlex.quote(str(v))}" for k, v in job.params.items()
        )
        lines.append(
            f"{BIN}/papermill --no-progress-bar -k {job.report.kernel} --cwd "
            f"{shlex.quote(str(notebook.parent))} {params} {shlex.quote(str(notebook))} "
            f"{shlex.quote(str(executed))} || true"
        )
        lines.append(
            f"{BIN}/jupyter nbconvert --to html --no-input --log-level=ERROR "
            f"--output-dir {shlex.quote(str(out))} {shlex.quote(str(executed))} || true"
        )
        if "pdf" in job.report.formats:
            html = out / f"{job.job_id}.html"
            lines.append(
                f"{BIN}/weasyprint -q {shlex.quote(str(html))} "
                f"{shlex.quote(str(out / (job.job_id + '.pdf')))} || true"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", action="store_true", help="use the small test project")
    parser.add_argument("--naive-limit", type=int, help="run the naive loop on N jobs only")
    parser.add_argument(
        "--only", action="append", default=[], metavar="REPORT", help="a subset of the reports"
    )
    parser.add_argument("--jobs", type=int, help="workers for analysis build")
    parser.add_argument(
        "--one",
        default=None,
        help="the single-job rebuild as REPORT:k=v,k=v (default: province_profile:"
        "province=江苏,lang=zh, or chart:lang=zh with --fixtures)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the full build and the naive loop; time the no-op and one-job rebuilds only",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="time the one-job rebuild N times"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp_name:
        tmp = Path(tmp_name)
        if args.fixtures:
            project = tmp / "project"
            shutil.copytree(FIXTURES, project)
            reports_file = project / "reports.toml"
            # The fixture's deliberately failing job would be retried by every rebuild.
            text = reports_file.read_text(encoding="utf-8").replace("[1, 0]", "[1, 2]")
            reports_file.write_text(text, encoding="utf-8")
            one = args.one or "chart:lang=zh"
        else:
            reports_file = ROOT / "reports.toml"
            one = args.one or "province_profile:province=江苏,lang=zh"
        reports_dir = tmp / "reports"
        spec = load_spec(reports_file)
        jobs = make_jobs(select(spec, args.only))
        Context(spec, BuildOptions(reports_file=reports_file))  # validates titles and keys
        cwd = reports_file.parent
        build = [str(BIN / "analysis"), "build", "--reports-file", str(reports_file)]
        build += ["--reports-dir", str(reports_dir), "--quiet"]
        if args.jobs:
            build += ["--jobs", str(args.jobs)]
        selection = [arg for name in args.only for arg in ("--only", name)]
        print(f"{len(jobs)} jobs from {reports_file}; {os.cpu_count()} cores")
        report, _, pairs = one.partition(":")
        one_args = ["--only", report]
        for pair in filter(None, pairs.split(",")):
            one_args += ["--param", pair]
        if args.quick:
            return _quick(build, one_args, one, cwd, max(1, args.repeat))

        full_s, full_mb, status = measure([*build, *selection, "--force"], cwd)
        print(
            f"analysis build (full, --force): {full_s:8.1f} s  peak {full_mb:7.0f} MB  "
            f"exit {status}"
        )

        naive_jobs = jobs[: args.naive_limit] if args.naive_limit else jobs
        naive_dir = tmp / "naive"
        naive_dir.mkdir()
        script = naive_dir / "loop.sh"
        script.write_text(naive_script(naive_jobs, naive_dir), encoding="utf-8")
        naive_s, naive_mb, _ = measure(["bash", str(script)], cwd)
        label = "naive loop"
        if len(naive_jobs) < len(jobs):
            label += f" ({len(naive_jobs)} of {len(jobs)} jobs, extrapolated)"
            naive_s = naive_s * len(jobs) / len(naive_jobs)
        print(f"{label}: {naive_s:8.1f} s  peak {naive_mb:7.0f} MB")
        ratio = naive_s / full_s
        print(f"speed-up: {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x)")

        noop_s, noop_mb, _ = measure([*build, *selection], cwd)
        print(
            f"no-op rebuild: {noop_s:8.2f} s  peak {noop_mb:7.0f} MB "
            f"(target <= {TARGET_NOOP_S:.0f} s)"
        )

        one_s, one_mb = _one_job(build, one_args, one, cwd, max(1, args.repeat))

        peak = max(full_mb, one_mb)
        ok = (
            ratio >= TARGET_RATIO
            and noop_s <= TARGET_NOOP_S
            and one_s <= TARGET_ONE_S
            and peak <= TARGET_PEAK_MB
        )
        print(f"peak memory of the build: {peak:.0f} MB (target <= {TARGET_PEAK_MB:.0f} MB)")
        print("all targets met" if ok else "some targets missed")
    return 0


def _one_job(build: list[str], one_args: list[str], one: str, cwd: Path, repeat: int):
    """Time the forced rebuild of one job `repeat` times; print each run and the median."""
    runs = [measure([*build, *one_args, "--force"], cwd)[:2] for _ in range(repeat)]
    if repeat > 1:
        listed = ", ".join(f"{seconds:.2f}" for seconds, _ in runs)
        print(f"one job ({one}), {repeat} runs: {listed} s")
    one_s = statistics.median(seconds for seconds, _ in runs)
    one_mb = max(mb for _, mb in runs)
    label = "median" if repeat > 1 else "one job"
    print(
        f"{label} ({one}): {one_s:8.2f} s  peak {one_mb:7.0f} MB (target <= {TARGET_ONE_S:.0f} s)"
    )
    return one_s, one_mb


def _quick(build: list[str], one_args: list[str], one: str, cwd: Path, repeat: int) -> int:
    """The no-op and one-job rebuilds only, after an untimed first build of that job."""
    _, _, status = measure([*build, *one_args], cwd)
    print(f"first build of {one} (untimed): exit {status}")
    noop_s, noop_mb, _ = measure([*build, *one_args], cwd)
    print(
        f"no-op rebuild ({one}): {noop_s:8.2f} s  peak {noop_mb:7.0f} MB "
        f"(target <= {TARGET_NOOP_S:.0f} s)"
    )
    one_s, one_mb = _one_job(build, one_args, one, cwd, repeat)
    ok = noop_s <= TARGET_NOOP_S and one_s <= TARGET_ONE_S and one_mb <= TARGET_PEAK_MB
    print("no-op and one-job targets met" if ok else "some targets missed")
    print("(--quick: the full build, the naive loop and the speed-up were not measured)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
