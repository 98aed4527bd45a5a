"""Fault script (issue 14): kill, interrupt and starve `analysis build` and `analysis data`, and
say per case whether anything was lost or left half-written.

Every build case writes into a reports folder in /tmp, never into reports/: a clean build of a
small selection first (the baseline), then the faulty run with --force, then a plain run to
resume. Outputs are byte-deterministic, so a forced rebuild rewrites the same bytes, and after
any fault every file of the baseline must still be there with the same sha256 ("lost" lists
those that are not), no `*.tmp` may be left, every job record and the manifest must describe
the files on disk, and no html/pdf/figure may exist without a record listing it. After a
SIGKILL of the main process, the script waits a few seconds and lists the build's processes
(workers, template processes, kernels: every descendant seen during the run) that are still
alive ("orphans"); it then kills them, by pid, since it started them.

Cases: SIGTERM and SIGKILL of the main process early (kernel start), mid-run (just after the
first job's record) and late (during the second job's export, estimated from the first job's
timing); SIGKILL of a worker; two concurrent builds into one folder; a full disk (a 3 MB tmpfs,
needs root and `mount`; skipped with the reason otherwise); SIGTERM of `analysis data --out DIR`
mid-write (its renames slowed with strace when available).

Run: `.venv/bin/python bench/bench_faults.py` (a few minutes). `--only CASE` (repeatable) runs
some cases. Not part of the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
ANALYSIS = Path(sys.executable).parent / "analysis"
SELECTION = ["--only", "source_audit", "--jobs", "1"]  # two jobs (zh, en), one after the other


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): sha(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.name != "lock"
    }


def problems(reports: Path) -> list[str]:
    """What is half-written or inconsistent in a reports folder."""
    found = [f"tmp left: {p.relative_to(reports)}" for p in reports.rglob("*.tmp")]
    listed: set[str] = set()
    for path in sorted((reports / ".build").glob("*.*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            found.append(f"unreadable record {path.name}")
            continue
        for rel, info in {**record.get("outputs", {}), **record.get("figures", {})}.items():
            listed.add(rel)
            target = reports / rel
            if not target.is_file() or sha(target) != info.get("sha256"):
                found.append(f"record {path.stem} lists {rel}, not on disk as listed")
    manifest = reports / "manifest.json"
    if manifest.exists():
        try:
            jobs = json.loads(manifest.read_text(encoding="utf-8"))["jobs"]
        except (ValueError, KeyError):
            jobs = {}
            found.append("manifest.json unreadable")
        for job_id, job in jobs.items():
            for rel, info in {**job.get("outputs", {}), **job.get("figures", {})}.items():
                target = reports / rel
                if not target.is_file() or sha(target) != info.get("sha256"):
                    found.append(f"manifest lists {rel} ({job_id}), not on disk as listed")
    for folder in ("html", "pdf", "figures"):
        for path in sorted((reports / folder).rglob("*")) if (reports / folder).is_dir() else ():
            if path.is_file() and path.relative_to(reports).as_posix() not in listed:
                found.append(f"no record lists {path.relative_to(reports)}")
    return found


def build_command(reports: Path, *extra: str) -> list[str]:
    return [str(ANALYSIS), "build", *SELECTION, "--reports-dir", str(reports), "-q", *extra]


class Tracked:
    """A process and every descendant seen while it ran."""

    def __init__(self, command: list[str], **kwargs) -> None:
        self.started = time.monotonic()
        # stderr goes to a file, not a pipe: orphans of a killed build would hold a pipe open.
        self.err = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=self.err, text=True, **kwargs
        )
        self.seen: dict[int, str] = {}

    def poll_tree(self) -> None:
        try:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                try:
                    self.seen.setdefault(child.pid, " ".join(child.cmdline())[:60])
                except psutil.Error:
                    continue
        except psutil.Error:
            pass

    def wait_for(self, condition, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll_tree()
            if condition():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.seek(0)
        return self.proc.returncode, self.err.read()

    def orphans(self, grace: float = 4.0) -> list[str]:
        """Descendants still alive `grace` seconds after the main process ended (then killed)."""
        time.sleep(grace)
        alive = []
        for pid, cmd in self.seen.items():
            try:
                process = psutil.Process(pid)
                if process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid} {cmd}")
                    process.kill()
            except psutil.Error:
                continue
        return alive


def first_record(reports: Path, since: float):
    def check() -> bool:
        return any(
            p.stat().st_mtime > since for p in (reports / ".build").glob("source_audit.*.json")
        )

    return check


def report(case: str, code: int, err: str, lost: list[str], bad: list[str], extra: str = ""):
    message = err.strip().splitlines()[-1] if err.strip() else ""
    traceback = " TRACEBACK" if "Traceback" in err else ""
    verdict = "nothing lost" if not lost and not bad else "LOST/HALF-WRITTEN"
    detail = "; ".join((lost + bad)[:4])
    print(
        f"{case:<28} exit {code:>4}  {verdict}{traceback}"
        + (f"  [{detail}]" if detail else "")
        + (f"  {extra}" if extra else "")
        + (f"  msg: {message[:110]}" if message else ""),
        flush=True,
    )


def build_case(case: str, work: Path, signum: int, moment: str, target: str = "main") -> None:
    reports = work / case
    subprocess.run(build_command(reports), check=True, capture_output=True)
    baseline = snapshot(reports)
    since = time.time()
    run = Tracked(build_command(reports, "--force"))
    if moment == "early":
        run.wait_for(lambda: time.monotonic() - run.started > 1.0)
    elif moment == "mid":
        run.wait_for(first_record(reports, since))
    else:
        run.wait_for(first_record(reports, since))
        first = time.monotonic() - run.started
        run.wait_for(lambda: time.monotonic() - run.started > first * 1.75)
    run.poll_tree()
    victim = run.proc.pid
    if target == "worker":
        workers = [p for p in psutil.Process(run.proc.pid).children() if p.children()]
        victim = workers[0].pid if workers else run.proc.pid
    try:
        os.kill(victim, signum)
    except ProcessLookupError:
        print(f"{case:<28} (the build finished before the signal; this machine is fast)")
    code, err = run.finish()
    orphans = run.orphans() if signum == signal.SIGKILL and target == "main" else []
    bad = problems(reports)
    resumed = subprocess.run(build_command(reports), capture_output=True, text=True)
    after = snapshot(reports)
    lost = [f"lost {rel}" for rel in baseline if after.get(rel) != baseline[rel]]
    bad += [] if resumed.returncode == 0 else [f"resume exit {resumed.returncode}"]
    extra = f"orphans: {len(orphans)} {orphans[:2]}" if orphans else ""
    report(case, code, err, lost, bad, extra)


def concurrent_case(work: Path) -> None:
    reports = work / "concurrent"
    subprocess.run(build_command(reports), check=True, capture_output=True)
    baseline = snapshot(reports)
    first = Tracked(build_command(reports, "--force"))
    first.wait_for(lambda: time.monotonic() - first.started > 0.8)
    second = subprocess.run(build_command(reports, "--force"), capture_output=True, text=True)
    code, err = first.finish()
    bad = problems(reports)
    after = snapshot(reports)
    lost = [f"lost {rel}" for rel in baseline if after.get(rel) != baseline[rel]]
    report("concurrent: first build", code, err, lost, bad)
    report("concurrent: second build", second.returncode, second.stderr, [], [])


def full_disk_case(work: Path) -> None:
    mount = work / "tmpfs"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        print(f"{'full disk (3 MB tmpfs)':<28} SKIPPED: mount failed: {made.stderr.strip()}")
        return
    try:
        reports = mount / "reports"
        command = [str(ANALYSIS), "build", "--only", "source_audit", "--only", "cluster_policy"]
        command += ["--jobs", "1", "--reports-dir", str(reports), "-q"]
        result = subprocess.run(command, capture_output=True, text=True)
        used = shutil.disk_usage(mount)
        report(
            "full disk (3 MB tmpfs)",
            result.returncode,
            result.stderr,
            [],
            problems(reports),
            f"free {used.free // 1024} KiB",
        )
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def data_case(work: Path) -> None:
    out = work / "data-out"
    command = [str(ANALYSIS), "data", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    baseline = snapshot(out)
    strace = shutil.which("strace")
    if strace:  # slow each rename down so that the signal lands between two of them
        inject = "inject=rename,renameat,renameat2:delay_enter=300000"
        command = [strace, "-f", "-qq", "-o", "/dev/null", "-e", inject, *command]
    since = time.time()
    run = Tracked(command)
    run.wait_for(lambda: any(p.stat().st_mtime > since for p in out.iterdir() if p.is_file()), 60)
    time.sleep(0.4)
    target = run.proc.pid
    if strace:  # signal the traced `analysis data`, not strace
        children = psutil.Process(run.proc.pid).children()
        target = children[0].pid if children else target
    os.kill(target, signal.SIGTERM)
    code, err = run.finish()
    after = snapshot(out)
    tmp = [f"tmp left: {name}" for name in after if name.endswith(".tmp")]
    lost = [f"changed {rel}" for rel in baseline if after.get(rel) != baseline[rel]]
    report("data --out: SIGTERM mid-write", code, err, lost, tmp, "(strace)" if strace else "")


CASES = {
    "sigterm-early": lambda w: build_case("sigterm-early", w, signal.SIGTERM, "early"),
    "sigterm-mid": lambda w: build_case("sigterm-mid", w, signal.SIGTERM, "mid"),
    "sigterm-late": lambda w: build_case("sigterm-late", w, signal.SIGTERM, "late"),
    "sigkill-early": lambda w: build_case("sigkill-early", w, signal.SIGKILL, "early"),
    "sigkill-mid": lambda w: build_case("sigkill-mid", w, signal.SIGKILL, "mid"),
    "sigkill-late": lambda w: build_case("sigkill-late", w, signal.SIGKILL, "late"),
    "sigkill-worker": lambda w: build_case("sigkill-worker", w, signal.SIGKILL, "mid", "worker"),
    "concurrent": concurrent_case,
    "full-disk": full_disk_case,
    "data-sigterm": data_case,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(CASES), default=[])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    print(f"work folder {work}; selection: {' '.join(SELECTION)}", flush=True)
    try:
        for name in args.only or list(CASES):
            try:
                CASES[name](work)
            except Exception as exc:  # one broken case must not hide the others
                print(f"{name:<28} ERROR in the script: {type(exc).__name__}: {exc}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
