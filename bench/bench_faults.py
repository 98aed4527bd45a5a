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
first job's record), late (during the second job's PDF export, seen by WeasyPrint's temporary
folder in the build's own $TMPDIR) and mid-write (the main process's renames slowed with
strace, signalled while one of its temporary files exists); SIGKILL of a worker; two
concurrent builds into one folder; a full disk (a 3 MB tmpfs, needs root and `mount`; skipped
with the reason otherwise); SIGTERM and SIGKILL of `analysis data --out DIR` while its files
are staged (renames slowed with strace), followed by a second run.

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
# strace's fault injection: every rename waits 0.3 s first (a write caught between two files).
_SLOW_RENAME = "inject=rename,renameat,renameat2:delay_enter=300000"
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
    scratch = work / f"{case}.tmpdir"  # the build's $TMPDIR: WeasyPrint's folders show the PDF step
    scratch.mkdir()
    command = build_command(reports, "--force")
    env = {**os.environ, "TMPDIR": str(scratch)}
    if moment == "write":  # the main process's renames slowed down: the signal lands mid-write
        command = [shutil.which("strace") or "strace", "-qq", "-o", "/dev/null", "-e", _SLOW_RENAME]
        command += build_command(reports, "--force")
    run = Tracked(command, env=env)
    hit = True
    if moment == "early":
        hit = run.wait_for(lambda: time.monotonic() - run.started > 1.0)
    elif moment == "mid":
        hit = run.wait_for(first_record(reports, since))
    elif moment == "late":  # during the second job's PDF export, seen by WeasyPrint's folder
        run.wait_for(first_record(reports, since))
        hit = run.wait_for(lambda: any(scratch.glob("weasyprint-*")))
    else:
        hit = run.wait_for(lambda: any(reports.rglob(".analysis-tmp-*")))
    if not hit:
        print(f"{case:<28} (the moment was not seen before the build ended)")
    run.poll_tree()
    victim = run.proc.pid
    if moment == "write":  # signal the traced build, not strace
        children = psutil.Process(run.proc.pid).children()
        victim = children[0].pid if children else victim
    if target == "worker":
        workers = [p for p in psutil.Process(victim).children() if p.children()]
        victim = workers[0].pid if workers else run.proc.pid
    try:
        os.kill(victim, signum)
    except ProcessLookupError:
        print(f"{case:<28} (the build finished before the signal; this machine is fast)")
    code, err = run.finish()
    orphans = run.orphans() if signum == signal.SIGKILL and target == "main" else []
    bad = problems(reports)
    notes = []
    if signum == signal.SIGKILL and target == "main":
        # A killed process cleans nothing up: its temporary files stay until the next build
        # sweeps them (its own names only), and a job caught between its renames has files
        # without a record, which the next build redoes. Judged after that next build.
        tmp = [b for b in bad if b.startswith("tmp left")]
        if bad:
            notes.append(f"left by the kill: {len(tmp)} temp file(s), {len(bad) - len(tmp)} other")
        bad = []
    resumed = subprocess.run(build_command(reports), capture_output=True, text=True)
    bad += [f"after resume: {b}" for b in problems(reports)]
    after = snapshot(reports)
    lost = [f"lost {rel}" for rel in baseline if after.get(rel) != baseline[rel]]
    bad += [] if resumed.returncode == 0 else [f"resume exit {resumed.returncode}"]
    notes.append(f"orphans: {len(orphans)} {orphans[:2]}" if orphans else "")
    if signum == signal.SIGKILL and target == "main" and not orphans:
        notes.append("no process of the build left")
    report(case, code, err, lost, bad, "; ".join(n for n in notes if n))


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


def data_case(work: Path, signum: int) -> None:
    """`analysis data --out DIR` signalled while its files are staged (renames slowed by strace),
    then run again: the folder must be all old or all new, with nothing of the run left over."""
    name = f"data --out: {signal.Signals(signum).name} mid-write"
    out = work / f"data-out-{signum}"
    command = [str(ANALYSIS), "data", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    baseline = snapshot(out)
    strace = shutil.which("strace")
    if not strace:
        print(f"{name:<28} SKIPPED: needs strace to land the signal between two writes")
        return
    traced = [strace, "-f", "-qq", "-o", "/dev/null", "-e", _SLOW_RENAME, *command]
    run = Tracked(traced)
    staging = out.parent
    pattern = f".{out.name}.analysis-staging-*"
    hit = run.wait_for(lambda: any(p.is_file() for p in staging.glob(f"{pattern}/new/*")), 60)
    time.sleep(0.5)  # a few files staged, the rest still to come
    children = psutil.Process(run.proc.pid).children()
    if not hit or not children:
        print(f"{name:<28} (the run ended before its files were staged)")
    elif children:
        os.kill(children[0].pid, signum)  # the traced `analysis data`, not strace
    code, err = run.finish()
    after = snapshot(out)
    left = sorted(p.name for p in staging.glob(pattern))
    bad = [f"tmp left: {rel}" for rel in after if rel.endswith(".tmp")]
    lost = [f"changed {rel}" for rel in baseline if after.get(rel) != baseline[rel]]
    lost += [f"new file {rel}" for rel in after if rel not in baseline]
    again = subprocess.run(command, capture_output=True, text=True)
    if again.returncode != 0:
        bad.append(f"the next run exits {again.returncode}: {again.stderr.strip()[-80:]}")
    if any(staging.glob(pattern)):
        bad.append("a staging folder survives the next run")
    if snapshot(out) != baseline:
        bad.append("the next run does not restore the folder")
    extra = f"staging left by the killed run: {len(left)} (removed by the next run)" if left else ""
    report(name, code, err, lost, bad, extra)


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
    "sigterm-write": lambda w: build_case("sigterm-write", w, signal.SIGTERM, "write"),
    "sigkill-write": lambda w: build_case("sigkill-write", w, signal.SIGKILL, "write"),
    "data-sigterm": lambda w: data_case(w, signal.SIGTERM),
    "data-sigkill": lambda w: data_case(w, signal.SIGKILL),
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
