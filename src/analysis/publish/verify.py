"""`analysis verify`: the reviewer's one command. Rebuild the reports, compare the bytes.

A published `reports/` is only worth citing if the same code and data give the same bytes
again. Verify rebuilds every declared job (or a reproducible sample of them) into a fresh
temporary folder outside the repository, with the build engine itself (forced, so no cached
output is reused), and compares the sha256 of every output and chart of each rebuilt job with
what `reports/manifest.json` lists. It also checks what a rebuild cannot see:

- the published files themselves: each file the manifest lists must be in `reports/` with that
  sha256, and no file in `notebooks/`, `html/`, `pdf/` or `figures/` may be listed by no job
  (a stale report left behind);
- that every declared job is in the manifest, built without error from the current inputs
  (a record whose key differs from the key the current inputs give is stale: `reports/` was
  built from other code or data);
- `data/processed/` against the sha256 recorded in its `datapackage.json`.

Each file that differs, is missing or is extra is printed, then one summary line
(`N files checked, M differ`). Exit status: 0 when everything matches, 1 on any difference,
2 when there is no manifest to compare with (or on bad usage), 130 when interrupted. The
temporary folder is removed afterwards (it is the only thing verify deletes), unless `keep`.

The sample: the job ids are ranked by the sha256 of `SAMPLE_SEED + id`, and the first N are
rebuilt. That depends on nothing but the ids, so every machine and every run picks the same
jobs, and adding a job moves at most one other out of the sample.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

from ..errors import AnalysisError, InputError
from ..paths import ROOT
from . import cache
from .jobs import DATA_DIR, DOCX_DIR, FIGURES_DIR, HTML_DIR, NOTEBOOKS_DIR, PDF_DIR
from .progress import NORMAL

SAMPLE_SEED = "analysis-verify:"
# The folders of reports/ whose every file a job record must list.
PUBLISHED_DIRS = (NOTEBOOKS_DIR, HTML_DIR, PDF_DIR, DOCX_DIR, FIGURES_DIR)
# Job problems with the same detail (a reports/ built for a few jobs only) are listed up to
# this many, then counted; every file that differs is always listed.
JOBS_SHOWN = 10


class NoManifestError(AnalysisError):
    """There is no published manifest to verify against (exit status 2)."""


@dataclass
class VerifyOptions:
    """Everything `analysis verify` can be told."""

    reports_file: Path = ROOT / "reports.toml"
    reports_dir: Path | None = None  # the published folder; default: reports/ by reports.toml
    sample: int | None = None  # rebuild only this many jobs (None: all)
    jobs: int | None = None  # parallel workers of the rebuild
    keep: bool = False  # keep the rebuild folder (to diff a file that differs)
    processed_dir: Path | None = None  # default: data/processed/ by reports.toml
    lock: Path | None = None
    package_dir: Path | None = None
    verbosity: int = NORMAL
    stream: TextIO | None = None  # progress and the plan (default: stderr)


@dataclass(frozen=True)
class Finding:
    """One difference: what kind, which file (or job), and why."""

    kind: str  # files: differs, missing, extra; jobs: missing, failed, stale, rebuild; data
    what: str  # a path relative to the reports folder, a job id, or data/processed
    detail: str
    is_file: bool = True


@dataclass
class VerifyReport:
    """The outcome of one verification."""

    checked: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    not_rebuilt: list[str] = field(default_factory=list)  # manifest variants not declared
    kept: Path | None = None
    interrupted: bool = False

    @property
    def differing(self) -> set[str]:
        """The files with at least one finding."""
        return {f.what for f in self.findings if f.is_file}

    @property
    def exit_code(self) -> int:
        """0 when everything matched, 1 on any difference, 130 when interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.findings else 0

    def render(self) -> str:
        """Each finding on a line, then the summary line(s)."""
        lines: list[str] = []
        same: dict[tuple[str, str], int] = {}  # job problems with one detail: the first few
        findings = _sorted(self.findings)
        for f in (f for f in findings if not f.is_file):
            same[f.kind, f.detail] = same.get((f.kind, f.detail), 0) + 1
            if same[f.kind, f.detail] <= JOBS_SHOWN:
                lines.append(f"{f.kind:<8} {f.what}: {f.detail}")
        for (kind, detail), count in sorted(same.items()):
            if count > JOBS_SHOWN:
                lines.append(f"{kind:<8} ... and {count - JOBS_SHOWN} more job(s): {detail}")
        lines += [f"{f.kind:<8} {f.what}: {f.detail}" for f in findings if f.is_file]
        if self.not_rebuilt:
            lines.append(
                f"note: {len(self.not_rebuilt)} job(s) of the manifest are not declared in "
                f"reports.toml (command-line variants); their files were checked, not rebuilt: "
                + ", ".join(self.not_rebuilt[:10])
                + (", ..." if len(self.not_rebuilt) > 10 else "")
            )
        if self.kept is not None:
            lines.append(f"the rebuild is kept in {self.kept}")
        if self.interrupted:
            lines.append("interrupted: the verification is incomplete")
        lines.append(f"{len(self.checked)} files checked, {len(self.differing)} differ")
        jobs = [
            f for f in self.findings if not f.is_file and f.kind in ("missing", "failed", "stale")
        ]
        rebuild = [f for f in self.findings if f.kind == "rebuild"]
        data = [f for f in self.findings if f.kind == "data"]
        if jobs:
            lines.append(f"{len(jobs)} job problem(s): reports/ is not current; run `make reports`")
        if rebuild:
            lines.append(f"{len(rebuild)} job(s) did not rebuild: see the build's messages above")
        if data:
            lines.append(
                f"{len(data)} problem(s) in data/processed/; run `make data` (or restore it "
                "from git)"
            )
        if not self.findings and not self.interrupted:
            lines.append(f"all {len(self.rebuilt)} rebuilt job(s) match the published manifest")
        return "\n".join(lines) + "\n"


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    """Data first, then jobs, then files, each by name."""
    return sorted(findings, key=lambda f: (f.kind != "data", f.is_file, f.what, f.kind, f.detail))


def sample_jobs(job_ids: Iterable[str], n: int | None) -> list[str]:
    """The job ids to rebuild: all of them (n None), or the n ranked first by
    sha256(SAMPLE_SEED + id); returned sorted."""
    ids = sorted(set(job_ids))
    if n is not None and n < 1:
        raise AnalysisError(f"--sample {n}: give at least 1.")
    if n is None or n >= len(ids):
        return ids
    ranked = sorted(ids, key=lambda i: hashlib.sha256((SAMPLE_SEED + i).encode()).hexdigest())
    return sorted(ranked[:n])


def _short(digest: Any) -> str:
    return str(digest)[:12] if digest else "none"


def _safe(rel: str) -> bool:
    path = PurePosixPath(rel)
    return bool(rel) and not path.is_absolute() and ".." not in path.parts and "\\" not in rel


def _listed(record: Mapping[str, Any]) -> dict[str, Any]:
    """Path -> {sha256, size} of every output and chart a job record lists."""
    files: dict[str, Any] = {}
    for part in ("outputs", "figures"):
        value = record.get(part) or {}
        if isinstance(value, dict):
            files.update(value)
    return files


def read_manifest(reports_dir: Path) -> dict[str, dict[str, Any]]:
    """The jobs of `<reports_dir>/manifest.json` (job id -> record)."""
    path = reports_dir / "manifest.json"
    if not path.is_file():
        raise NoManifestError(
            f"{path}: no manifest to verify against; run `make reports` first "
            "(or give --reports-dir the folder a build wrote)."
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable manifest ({exc}); run `make reports`.") from None
    jobs = document.get("jobs") if isinstance(document, dict) else None
    if not isinstance(jobs, dict) or not all(isinstance(r, dict) for r in jobs.values()):
        raise InputError(f'{path}: has no "jobs" table; run `make reports`.')
    return jobs


def check_published_files(
    reports_dir: Path, published: Mapping[str, Mapping[str, Any]], report: VerifyReport
) -> None:
    """Each listed file is in reports/ with its sha256; each published file is listed."""
    listed: set[str] = set()
    for job_id in sorted(published):
        for rel, info in sorted(_listed(published[job_id]).items()):
            listed.add(rel)
            report.checked.add(rel)
            if not _safe(rel):
                report.findings.append(
                    Finding("differs", rel, f"job {job_id}: not a path inside the reports folder")
                )
                continue
            path = reports_dir / rel
            want = info.get("sha256") if isinstance(info, dict) else None
            if not path.is_file():
                report.findings.append(
                    Finding("missing", rel, f"listed in the manifest (job {job_id}), not on disk")
                )
                continue
            have = cache.file_sha256(path)
            if have != want:
                report.findings.append(
                    Finding(
                        "differs",
                        rel,
                        f"the published file is not the one the manifest lists "
                        f"(sha256 {_short(have)}, manifest {_short(want)})",
                    )
                )
    for folder in PUBLISHED_DIRS:
        base = reports_dir / folder
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(reports_dir).as_posix()
            if rel not in listed:
                report.checked.add(rel)
                report.findings.append(
                    Finding("extra", rel, "in the reports folder, listed by no job of the manifest")
                )


def check_site_files(reports_dir: Path, report: VerifyReport) -> None:
    """The methodology notes and data copies the manifest's `site` lists are on disk with their
    sha256, and `data/` holds no file it does not list."""
    try:
        document = json.loads((reports_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    files = document.get("site") if isinstance(document, dict) else None
    files = files if isinstance(files, dict) else {}
    for rel, info in sorted(files.items()):
        report.checked.add(rel)
        path = reports_dir / rel
        want = info.get("sha256") if isinstance(info, dict) else None
        if not _safe(rel) or not path.is_file():
            report.findings.append(Finding("missing", rel, "listed in the manifest, not on disk"))
        elif cache.file_sha256(path) != want:
            report.findings.append(
                Finding("differs", rel, "the published file is not the one the manifest lists")
            )
    base = reports_dir / DATA_DIR
    if base.is_dir():
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(reports_dir).as_posix()
            if rel not in files:
                report.checked.add(rel)
                report.findings.append(
                    Finding("extra", rel, "in data/, listed by the manifest of no report")
                )


def check_current(
    declared: Sequence[Any],
    keys: Mapping[str, str],
    inputs: Mapping[str, Mapping[str, str]],
    published: Mapping[str, Mapping[str, Any]],
    report: VerifyReport,
) -> None:
    """Every declared job is in the manifest, succeeded, and was built from the current inputs."""
    for job in declared:
        record = published.get(job.job_id)
        if record is None:
            report.findings.append(
                Finding(
                    "missing",
                    job.job_id,
                    "declared in reports.toml, not in the manifest",
                    is_file=False,
                )
            )
            continue
        if record.get("status") != "ok":
            error = record.get("error") or "no error recorded"
            report.findings.append(
                Finding("failed", job.job_id, f"the published build failed: {error}", False)
            )
            continue
        if record.get("key") != keys[job.job_id]:
            before = record.get("inputs") or {}
            now = inputs[job.job_id]
            changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
            why = (
                "inputs changed since: " + ", ".join(changed[:5]) + (", ..." if changed[5:] else "")
                if changed
                else "built by another engine version, Python, or report settings"
            )
            report.findings.append(Finding("stale", job.job_id, why, is_file=False))
        elif record.get("up_to_date") is not True:
            report.findings.append(
                Finding("stale", job.job_id, "the manifest marks it not up to date", False)
            )


def check_processed_data(folder: Path, report: VerifyReport) -> None:
    """data/processed/ against the sha256 its datapackage.json records."""
    try:
        from ..facts.integrity import check_processed
    except ImportError as exc:  # a broken install; never a silent pass
        report.findings.append(
            Finding("data", "data/processed", f"cannot be checked: {exc}", is_file=False)
        )
        return
    for problem in check_processed(folder):
        report.findings.append(Finding("data", "data/processed", str(problem), is_file=False))


def compare_rebuild(
    published: Mapping[str, Mapping[str, Any]],
    rebuilt: Mapping[str, Mapping[str, Any]],
    job_ids: Sequence[str],
    report: VerifyReport,
) -> None:
    """The rebuilt outputs and charts of each job against those the manifest lists."""
    for job_id in job_ids:
        before = published.get(job_id)
        if before is None:
            continue  # reported by check_current
        after = rebuilt.get(job_id)
        if after is None:
            report.findings.append(
                Finding("rebuild", job_id, "the rebuild wrote no record for it", is_file=False)
            )
            continue
        if after.get("status") != "ok":
            error = after.get("error") or "no error recorded"
            report.findings.append(
                Finding("rebuild", job_id, f"the rebuild failed: {error}", is_file=False)
            )
        old, new = _listed(before), _listed(after)
        for rel in sorted(old.keys() | new.keys()):
            report.checked.add(rel)
            want = (old.get(rel) or {}).get("sha256") if rel in old else None
            have = (new.get(rel) or {}).get("sha256") if rel in new else None
            if rel not in new:
                detail = f"listed in the manifest (job {job_id}), the rebuild did not produce it"
                report.findings.append(Finding("missing", rel, detail))
            elif rel not in old:
                detail = f"the rebuild of {job_id} produced it, the manifest does not list it"
                report.findings.append(Finding("extra", rel, detail))
            elif have != want:
                detail = (
                    f"the rebuild gives other bytes (sha256 {_short(have)}, "
                    f"manifest {_short(want)})"
                )
                report.findings.append(Finding("differs", rel, detail))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt()


def verify(options: VerifyOptions) -> VerifyReport:
    """Check the published reports folder and rebuild its jobs; return what differs.

    Raises NoManifestError when the folder has no manifest, and the build's own errors for a
    bad reports.toml, before anything is built.
    """
    from .engine import BuildOptions, Context, build
    from .spec import load_spec

    stream = options.stream or sys.stderr
    spec = load_spec(options.reports_file)
    reports_dir = Path(options.reports_dir or spec.root / "reports")
    published = read_manifest(reports_dir)
    base = BuildOptions(
        reports_file=options.reports_file,
        reports_dir=reports_dir,
        lock=options.lock,
        package_dir=options.package_dir,
    )
    ctx = Context(spec, base)
    declared = list(ctx.all_jobs)
    keys = {job.job_id: ctx.key(job) for job in declared}
    selected = sample_jobs(keys, options.sample)

    report = VerifyReport()
    report.not_rebuilt = sorted(set(published) - set(keys))
    check_current(declared, keys, ctx.inputs, published, report)
    check_published_files(reports_dir, published, report)
    check_site_files(reports_dir, report)
    check_processed_data(Path(options.processed_dir or spec.root / "data" / "processed"), report)

    tmp = Path(tempfile.mkdtemp(prefix="analysis-verify-"))
    if len(selected) < len(keys):
        shown = ", ".join(selected[:10]) + (", ..." if selected[10:] else "")
        how = (
            f"a sample of {len(selected)} of {len(keys)} job(s) into {tmp} (the ids with the "
            f"smallest sha256 of '{SAMPLE_SEED}<job id>'): {shown}"
        )
    else:
        how = f"all {len(selected)} job(s) into {tmp}"
    print(f"verify: rebuilding {how}", file=stream, flush=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        summary = build(
            BuildOptions(
                reports_file=options.reports_file,
                reports_dir=tmp,
                force=True,
                job_ids=selected,
                jobs=options.jobs,
                lock=options.lock,
                package_dir=options.package_dir,
                verbosity=options.verbosity,
                stream=stream,
            )
        )
        report.rebuilt = list(selected)
        if summary.interrupted:
            report.interrupted = True
        else:
            rebuilt = read_manifest(tmp) if (tmp / "manifest.json").is_file() else {}
            compare_rebuild(published, rebuilt, selected, report)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        signal.signal(signal.SIGTERM, previous)
        if options.keep:
            report.kept = tmp
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return report
