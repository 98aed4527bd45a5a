"""Benchmark the report build (issues 6 and 13) against the naive way, in the same run.

1. Stages, per job kind (report): the template process's imports and base-map precompute
   (a fresh interpreter, median of --repeat), and from the engine's own timings of every job
   of the full build and of the one-job rebuilds (`analysis build -v`): kernel (start and wait
   for the template process), cells, HTML, PDF and Word (when a report has it), medians; and
   the province map alone in a warm process (first draw, then the median of the next ones).
2. The full build: `analysis build --force` of every job (every notebook, both languages, all
   province profiles) into a temporary reports folder; wall time and peak memory (PSS) of the whole
   process tree (the sum of the proportional set sizes of the command and all its descendants,
   so that pages the forked kernels share with their template process count once; sampled
   every 50 ms with psutil, the RSS sum printed beside it as an upper bound; without psutil,
   the largest single descendant from getrusage).
3. The naive way over at least 16 jobs spread over every report kind (round robin over the
   reports): per job, `papermill`, `jupyter nbconvert --to html --no-input` and, for the PDF,
   the `weasyprint` command on that HTML (nbconvert's PDF exporters need LaTeX or Chromium);
   extrapolated to all the jobs (labelled), or run on all with --naive-jobs 0.
4. A no-op rebuild (everything up to date), the cold rebuild of one province profile (a new
   `analysis build --force` process each time, median of --repeat), and the preview's
   edit-to-page latency (`bench/bench_preview.py`, median of --repeat).

Targets (issue 13): full build at least 12 times faster than the naive loop, one province
profile cold at most 3.0 s, preview edit at most 1.5 s, no-op at most 0.5 s, peak memory of
the full build at most 1.5 GB.

Run: `.venv/bin/python bench/bench_build.py` (everything; the naive loop of 16 jobs takes a few
minutes), `--skip-naive`, `--skip-full`, `--skip-preview` to leave parts out, `--quick` (no full
build, no naive loop), `--repeat N`, `--naive-jobs N`, `--only REPORT` (repeatable), or
`--fixtures` (the small test project; no preview or map stages there).
"""

from __future__ import annotations

import argparse
import os
import re
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

from analysis.paths import FIGURES_ENV, ROOT
from analysis.publish.engine import BuildOptions, Context
from analysis.publish.jobs import make_jobs
from analysis.publish.spec import load_spec, select

BIN = Path(sys.executable).parent
FIXTURES = ROOT / "tests" / "fixtures" / "build"
LAST_PEAK_RSS_MB = 0.0  # the RSS sum of the last `measure` (see there)
LAST_CPU_S = 0.0  # the CPU seconds (user + system) of the last `measure`'s process tree
TARGET_RATIO = 12.0
TARGET_NOOP_S = 0.5
TARGET_ONE_S = 3.0
TARGET_PREVIEW_S = 1.5
TARGET_PEAK_MB = 1536.0
# "ok JOB (kernel_start 0.0 s, libraries 0.2 s, ...)": a job's timings, from `build -v`.
TIMINGS = re.compile(r"^ok (\S+) \((.*)\)$")
STAGES = (
    ("kernel", ("kernel_start", "kernel_wait")),
    ("cells", ("run",)),
    ("html", ("html",)),
    ("pdf", ("pdf",)),
    ("word", ("docx",)),
)


def measure(
    command: list[str], cwd: Path, *, env: dict[str, str] | None = None, memory: bool = False
) -> tuple[float, float, int, str]:
    """Run a command; return (wall seconds, peak MB of its process tree, exit status, output).

    The peak is measured only with `memory` (else 0): the sampler reads every process's memory
    map 20 times a second, which takes CPU from the command it measures (a full build on 2
    cores took 58.2 s sampled and 54.6 s not), so that times are measured in runs of their own.

    The peak is of the tree's proportional set size (PSS, Linux): the kernels are forked from a
    template process and share its pages copy-on-write, and a sum of their RSS counts those
    shared pages once per kernel. The RSS sum, an upper bound, is kept in `LAST_PEAK_RSS_MB`.
    """
    global LAST_PEAK_RSS_MB, LAST_CPU_S
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is in the lock
        psutil = None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    peak = 0.0
    peak_rss = 0.0
    out: list[bytes] = []
    errors: list[bytes] = []
    readers = [
        threading.Thread(target=lambda: out.append(process.stdout.read()), daemon=True),
        threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True),
    ]
    for reader in readers:
        reader.start()
    if memory and psutil is not None:
        root = psutil.Process(process.pid)
        while process.poll() is None:
            total = rss = 0
            try:
                for proc in [root, *root.children(recursive=True)]:
                    try:
                        info = proc.memory_full_info()
                    except psutil.Error:
                        continue
                    rss += info.rss
                    total += getattr(info, "pss", info.rss)
            except psutil.Error:
                pass
            peak = max(peak, total / 2**20)
            peak_rss = max(peak_rss, rss / 2**20)
            time.sleep(0.05)
    status = process.wait()
    wall = time.perf_counter() - started
    for reader in readers:
        reader.join()
    if memory and psutil is None:
        peak = peak_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    LAST_PEAK_RSS_MB = peak_rss
    # Every process of the tree is waited for by its parent (workers by the build, kernels by
    # their template process, which its worker waits for), so their CPU time adds up here.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU_S = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if status not in (0, 1):
        sys.stderr.write(b"".join(errors).decode("utf-8", "replace")[-3000:])
    # What the command printed, both streams (`analysis build -v` reports on stderr).
    text = b"".join(out + errors).decode("utf-8", "replace")
    return wall, peak, status, text


def job_timings(text: str) -> dict[str, dict[str, float]]:
    """job id -> its timings, from the lines `analysis build -v` prints."""
    found = {}
    for line in text.splitlines():
        match = TIMINGS.match(line.strip())
        if match:
            found[match.group(1)] = {
                name: float(seconds.removesuffix(" s"))
                for name, _, seconds in (p.partition(" ") for p in match.group(2).split(", "))
            }
    return found


def stage_table(timings: dict[str, dict[str, float]], kinds: dict[str, str]) -> list[str]:
    """Median seconds of each stage per job kind (report), as printable lines."""
    by_kind: dict[str, list[dict[str, float]]] = {}
    for job_id, values in timings.items():
        by_kind.setdefault(kinds.get(job_id, job_id.split(".")[0]), []).append(values)
    lines = [f"  {'kind':18} {'jobs':>4}" + "".join(f" {name:>7}" for name, _ in STAGES)]
    for kind, runs in sorted(by_kind.items()):
        cells = []
        for _, keys in STAGES:
            values = [sum(run[k] for k in keys if k in run) for run in runs if keys[0] in run]
            cells.append(f" {statistics.median(values):7.2f}" if values else f" {'-':>7}")
        lines.append(f"  {kind:18} {len(runs):4d}" + "".join(cells))
    return lines


def spread(jobs: list, count: int) -> list:
    """`count` jobs taken round robin over the reports, so that every kind is in the sample."""
    by_report: dict[str, list] = {}
    for job in jobs:
        by_report.setdefault(job.report.name, []).append(job)
    chosen: list = []
    while len(chosen) < min(count, len(jobs)):
        for queue in by_report.values():
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return chosen


_IMPORTS = """
import json, sys, time
started = time.perf_counter()
from analysis.publish.zygote import KERNEL_MODULES, as_in_a_kernel, warm_up
warm_up(KERNEL_MODULES)
done = warm_up(json.loads(sys.argv[1]))
imported = time.perf_counter()
warm_up(done, calls=True)
print(json.dumps({"imports": imported - started, "precompute": time.perf_counter() - imported}))
"""

_MAP = """
import json, statistics, sys, time
from analysis.publish.zygote import KERNEL_MODULES, warm_up
warm_up(KERNEL_MODULES)
warm_up(json.loads(sys.argv[1]), calls=sys.argv[2] == "1")
import matplotlib.pyplot as plt
from analysis.report import charts, views
by_province = views.winners_by_province()
times = []
for province in ["江苏", "广东", "西藏", "北京", "海南", "新疆"]:
    started = time.process_time()
    plt.close(charts.province_locator(by_province, province, "en"))
    times.append(time.process_time() - started)
print(json.dumps({"first": times[0], "median": statistics.median(times[1:])}))
"""


def template_stages(spec, cwd: Path, figures: Path, repeat: int) -> None:
    """The template process's imports and precompute, and the province map, timed alone."""
    import json

    modules = sorted({m for r in spec.reports.values() for m in r.notebook_info.imports})
    env = {**os.environ, "MPLBACKEND": "Agg", "ANALYSIS_FIGURES_DIR": str(figures)}
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", _IMPORTS, json.dumps(modules)],
            cwd=cwd,
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    imports = statistics.median(r["imports"] for r in runs)
    precompute = statistics.median(r["precompute"] for r in runs)
    print(
        f"template process: imports {imports:.2f} s, base-map precompute {precompute:.2f} s "
        f"(median of {repeat}; once per build, in the template process its workers share, "
        "before the first kernel is forked)"
    )
    if "province_profile" not in spec.reports:
        return
    for calls, label in (("1", "precomputed in the template"), ("0", "not precomputed")):
        done = subprocess.run(
            [sys.executable, "-c", _MAP, json.dumps(modules), calls],
            cwd=cwd,
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"province map ({label}): first {found['first']:.2f} s, then median "
            f"{found['median']:.2f} s of CPU (PNG and SVG saved, as outside a build)"
        )


def naive_script(jobs, out: Path, pandoc: str | None) -> str:
    """The shell loop a person would write: three commands per job (papermill, nbconvert, the
    weasyprint CLI), and pandoc for the Word file where the report has one (`pandoc` given).

    Each job's two parts are timed into `times.tsv`: job, report, and bash's $EPOCHREALTIME
    before the first command, after the PDF and after the Word file.
    """
    # The charts go into the loop's own folder: run as they are, the notebooks save them into
    # the repository's reports/figures/ (`paths.FIGURES`), where `analysis verify` then found
    # 68 files that no job of the build had made.
    figures = shlex.quote(str(out / "figures"))
    lines = ["set -u", f"cd {shlex.quote(str(out))}", ": > times.tsv"]
    lines.append(f"export {FIGURES_ENV}={figures}")
    for job in jobs:
        notebook = job.report.notebook
        executed = out / f"{job.job_id}.ipynb"
        html = out / f"{job.job_id}.html"
        params = " ".join(
            f"-p {shlex.quote(k)} {shlex.quote(str(v))}" for k, v in job.params.items()
        )
        lines.append("t0=$EPOCHREALTIME")
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
            lines.append(
                f"{BIN}/weasyprint -q {shlex.quote(str(html))} "
                f"{shlex.quote(str(out / (job.job_id + '.pdf')))} || true"
            )
        lines.append("t1=$EPOCHREALTIME")
        if pandoc and "docx" in job.report.formats:
            lines.append(
                f"{shlex.quote(pandoc)} {shlex.quote(str(html))} -o "
                f"{shlex.quote(str(out / (job.job_id + '.docx')))} || true"
            )
        lines.append("t2=$EPOCHREALTIME")
        lines.append(
            f"printf '%s\\t%s\\t%s\\t%s\\t%s\\n' {shlex.quote(job.job_id)} "
            f'{shlex.quote(job.report.name)} "$t0" "$t1" "$t2" >> times.tsv'
        )
    return "\n".join(lines) + "\n"


def naive_totals(times: Path, jobs) -> tuple[float, float, list[str]]:
    """The naive loop's seconds for every job of `jobs` without and with the Word step, from
    the jobs it ran (`times.tsv`): each report's mean per job times its number of jobs (a
    sample of 16 holds 2 of each 2-job report and 10 of the 62 profiles: a plain mean would
    weigh the long reports four times too much). Also printable lines per report."""
    ran: dict[str, list[tuple[float, float]]] = {}
    for line in times.read_text(encoding="utf-8").splitlines():
        _, report, t0, t1, t2 = line.split("\t")
        ran.setdefault(report, []).append((float(t1) - float(t0), float(t2) - float(t1)))
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.report.name] = counts.get(job.report.name, 0) + 1
    without = with_word = 0.0
    lines = [f"  {'report':18} {'jobs':>4} {'ran':>4} {'html+pdf':>9} {'word':>6}  (mean s/job)"]
    for report, count in sorted(counts.items()):
        if report not in ran:
            raise SystemExit(f"bench: the naive sample has no job of {report}")
        main_mean = statistics.mean(m for m, _ in ran[report])
        word_mean = statistics.mean(w for _, w in ran[report])
        without += main_mean * count
        with_word += (main_mean + word_mean) * count
        lines.append(
            f"  {report:18} {count:4d} {len(ran[report]):4d} {main_mean:9.2f} {word_mean:6.2f}"
        )
    return without, with_word, lines


def _pandoc() -> str | None:
    """The pandoc the build's Word step uses (the pypandoc-binary wheel), or None."""
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError):  # pragma: no cover - pypandoc-binary is in the lock
        return None


def _loadavg() -> str:
    """The 1, 5 and 15 minute load averages (others sharing the CPU make timings noisy)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
    except OSError:  # pragma: no cover - not Linux
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def summary_table(rows: list[tuple[str, str, str, bool]], load_start: str, load_end: str) -> str:
    """One table of what was measured against the targets of issue 13."""
    width = max([len(name) for name, *_ in rows] + [len("measure")])
    lines = [
        f"summary ({os.cpu_count()} cores; load average {load_start} at start, {load_end} at end)",
        f"  {'measure':<{width}}  {'measured':>10}  {'target':>10}  verdict",
    ]
    for name, value, target, ok in rows:
        lines.append(f"  {name:<{width}}  {value:>10}  {target:>10}  {'met' if ok else 'MISSED'}")
    met = all(ok for *_, ok in rows)
    lines.append("all measured targets met" if met else "some targets missed")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", action="store_true", help="use the small test project")
    parser.add_argument(
        "--naive-jobs",
        type=int,
        default=16,
        metavar="N",
        help="run the naive loop on N jobs spread over every report (0: all), extrapolated",
    )
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
    parser.add_argument("--skip-full", action="store_true", help="no full build")
    parser.add_argument("--skip-naive", action="store_true", help="no naive loop")
    parser.add_argument("--skip-preview", action="store_true", help="no preview latency")
    parser.add_argument("--quick", action="store_true", help="the same as --skip-full --skip-naive")
    parser.add_argument(
        "--repeat", type=int, default=5, metavar="N", help="runs of each repeated measurement"
    )
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    if args.quick:
        args.skip_full = args.skip_naive = True

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
        kinds = {job.job_id: job.report.name for job in jobs}
        Context(spec, BuildOptions(reports_file=reports_file))  # validates titles and keys
        cwd = reports_file.parent
        build = [str(BIN / "analysis"), "build", "--reports-file", str(reports_file)]
        build += ["--reports-dir", str(reports_dir), "--verbose"]
        if args.jobs:
            build += ["--jobs", str(args.jobs)]
        selection = [arg for name in args.only for arg in ("--only", name)]
        load_start = _loadavg()
        print(f"{len(jobs)} jobs from {reports_file}; {os.cpu_count()} cores; repeat {repeat}")
        print(f"load average at start: {load_start}")
        if not args.fixtures:
            template_stages(spec, ROOT / "notebooks", tmp / "figures", repeat)
        report, _, pairs = one.partition(":")
        one_args = ["--only", report]
        for pair in filter(None, pairs.split(",")):
            one_args += ["--param", pair]
        timings: dict[str, dict[str, float]] = {}
        verdicts: list[tuple[str, str, str, bool]] = []

        full_s = full_mb = None
        if not args.skip_full:
            full_s, _, status, out = measure([*build, *selection, "--force"], cwd)
            timings.update(job_timings(out))
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
            print(
                f"analysis build (full, --force): {full_s:8.1f} s  exit {status}; CPU "
                f"{LAST_CPU_S:.1f} s, {100 * LAST_CPU_S / (full_s * cores):.0f} % of {cores} "
                f"core(s)"
            )
            _, full_mb, status, _ = measure([*build, *selection, "--force"], cwd, memory=True)
            print(
                f"  peak memory, in a run of its own: {full_mb:7.0f} MB (PSS; RSS summed over "
                f"the forked processes {LAST_PEAK_RSS_MB:.0f} MB)  exit {status}"
            )
            verdicts.append(
                (
                    "peak memory (PSS), full build",
                    f"{full_mb:.0f} MB",
                    f"<= {TARGET_PEAK_MB:.0f} MB",
                    full_mb <= TARGET_PEAK_MB,
                )
            )
        else:
            measure([*build, *one_args], cwd)  # something to be up to date

        if not args.skip_naive:
            naive_jobs = spread(list(jobs), args.naive_jobs) if args.naive_jobs else jobs
            naive_dir = tmp / "naive"
            naive_dir.mkdir()
            script = naive_dir / "loop.sh"
            script.write_text(naive_script(naive_jobs, naive_dir, _pandoc()), encoding="utf-8")
            loop_s, _, _, _ = measure(["bash", str(script)], cwd)
            without, with_word, lines = naive_totals(naive_dir / "times.tsv", jobs)
            kinds_in = sorted({job.report.name for job in naive_jobs})
            scaled = len(naive_jobs) < len(jobs)
            how = f"; each report's mean per job times its {len(jobs)} jobs" if scaled else ""
            print(
                f"naive loop: {len(naive_jobs)} jobs of {', '.join(kinds_in)} in {loop_s:.1f} s"
                f"{how}:"
            )
            for line in lines:
                print(line)
            print(f"naive loop, HTML and PDF (the issue's loop):     {without:8.1f} s")
            print(f"naive loop, HTML, PDF and Word (the same files): {with_word:8.1f} s")
            if full_s is not None:
                ratio, ratio_word = without / full_s, with_word / full_s
                print(
                    f"speed-up: {ratio_word:.1f}x against the loop that makes the same files, "
                    f"{ratio:.1f}x against HTML and PDF only (target >= {TARGET_RATIO:.0f}x)"
                )
                verdicts.append(
                    (
                        f"full build {full_s:.1f} s vs naive {with_word:.1f} s (same files)",
                        f"{ratio_word:.1f}x",
                        f">= {TARGET_RATIO:.0f}x",
                        ratio_word >= TARGET_RATIO,
                    )
                )
                verdicts.append(
                    (
                        f"full build {full_s:.1f} s vs naive {without:.1f} s (HTML, PDF)",
                        f"{ratio:.1f}x",
                        f">= {TARGET_RATIO:.0f}x",
                        ratio >= TARGET_RATIO,
                    )
                )

        noop = [
            measure([*build, *selection] if not args.skip_full else [*build, *one_args], cwd)[0]
            for _ in range(repeat)
        ]
        noop_s = statistics.median(noop)
        print(
            f"no-op rebuild, {repeat} runs: {', '.join(f'{r:.2f}' for r in noop)} s; median "
            f"{noop_s:.2f} s (target <= {TARGET_NOOP_S} s)"
        )
        verdicts.append(
            (
                f"no-op build (median of {repeat})",
                f"{noop_s:.2f} s",
                f"<= {TARGET_NOOP_S} s",
                noop_s <= TARGET_NOOP_S,
            )
        )

        runs = []
        for _ in range(repeat):
            seconds, _, _, out = measure([*build, *one_args, "--force"], cwd)
            runs.append(seconds)
            timings.update({f"{k}#{len(runs)}": v for k, v in job_timings(out).items()})
        kinds.update({f"{k}#{i}": v for k, v in list(kinds.items()) for i in range(1, repeat + 1)})
        one_s = statistics.median(runs)
        print(
            f"one job cold ({one}), {repeat} runs: {', '.join(f'{r:.2f}' for r in runs)} s; "
            f"median {one_s:.2f} s (target <= {TARGET_ONE_S} s)"
        )
        verdicts.append(
            (
                f"one job cold, {one} (median of {repeat})",
                f"{one_s:.2f} s",
                f"<= {TARGET_ONE_S} s",
                one_s <= TARGET_ONE_S,
            )
        )

        print("stages, median seconds per job (engine timings; kernel = start + wait):")
        for line in stage_table(timings, kinds):
            print(line)

        if not args.skip_preview and not args.fixtures:
            done = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "bench_preview.py"), "--repeat", str(repeat)],
                capture_output=True,
                text=True,
            )
            last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
            print(last if done.returncode == 0 else f"preview: failed\n{done.stderr[-2000:]}")
            found = re.search(r"median ([\d.]+) s", last)
            if found:
                seconds = float(found.group(1))
                verdicts.append(
                    (
                        f"preview, edit to page (median of {repeat})",
                        f"{seconds:.2f} s",
                        f"<= {TARGET_PREVIEW_S} s",
                        seconds <= TARGET_PREVIEW_S,
                    )
                )

        print(summary_table(verdicts, load_start, _loadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
