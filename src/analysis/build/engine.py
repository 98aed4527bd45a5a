"""The build: load the spec, decide what is stale, run it, write outputs, manifest and index.

Only this module writes into reports/, and every write is atomic (temporary name, then
rename), each job's record last: an interrupted build leaves whole files and no record for the
job it was writing, so the next run redoes exactly the unfinished jobs.

The charts a job saved arrive with its result (`Result.figures`, see `execute.Kernel`) and are
written into `<reports-dir>/figures/` only when the job succeeded; its record lists them with
their sha256. A chart that the job's previous record listed and this build did not produce is
removed when the file still holds the bytes that record lists, so that a chart renamed in the
code leaves no stale copy behind (job ids, and so chart names, are distinct per job; a file
overwritten since with other content is left alone).
"""

from __future__ import annotations

import json
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..io import write_bytes, write_text
from ..paths import ROOT
from . import cache, manifest
from .execute import CELL_TIMEOUT, Result, Task
from .jobs import FIGURES_DIR, LOGS_DIR, STATE_DIR, Job, make_jobs
from .progress import NORMAL, Progress, Summary
from .spec import Spec, load_spec, select


@dataclass
class BuildOptions:
    """Everything `analysis build` can be told."""

    reports_file: Path = ROOT / "reports.toml"
    reports_dir: Path | None = None  # default: reports/ next to reports.toml
    only: Sequence[str] = ()
    params: dict[str, str] = field(default_factory=dict)
    jobs: int | None = None
    force: bool = False
    executor: str = "local"
    scheduler: str | None = None
    verbosity: int = NORMAL
    cell_timeout: int = CELL_TIMEOUT  # seconds a cell may run before its job fails
    lock: Path | None = None  # default: requirements/lock.txt next to reports.toml
    package_dir: Path | None = None  # the code whose change rebuilds everything: src/analysis
    stream: Any = None
    # Exact job ids to build, out of those `only`/`params` select (empty: all of them); how
    # `analysis verify` rebuilds a sample. An id that is not selected is an error.
    job_ids: Sequence[str] = ()


class Interrupted(Exception):
    """SIGTERM arrived: unwind like Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Interrupted()


def _package_dir() -> Path:
    import analysis

    return Path(analysis.__file__).resolve().parent


def _make_executor(options: BuildOptions, warm: Sequence[str]):
    from . import executors

    if options.executor == "local":
        return executors.LocalExecutor(options.jobs, warm)
    if options.executor == "dask":
        return executors.DaskExecutor(options.scheduler or "", warm)
    raise ValueError(f"unknown executor {options.executor!r}")


def _sweep_partial_files(reports_dir: Path) -> None:
    """Remove temporary files left by a process killed in the middle of a write."""
    if reports_dir.is_dir():
        for path in reports_dir.rglob(".*.tmp"):
            path.unlink(missing_ok=True)


class Context:
    """One build's shared state."""

    def __init__(self, spec: Spec, options: BuildOptions) -> None:
        self.spec = spec
        self.options = options
        self.root = spec.root
        self.reports_dir = Path(options.reports_dir or self.root / "reports")
        lock = options.lock or self.root / "requirements" / "lock.txt"
        self.hasher = cache.InputHasher(self.root, options.package_dir or _package_dir(), lock)
        self.all_jobs = make_jobs(select(spec))
        self.declared = {job.job_id for job in self.all_jobs}
        self.inputs: dict[str, dict[str, str]] = {}
        self.keys: dict[str, str] = {}
        self._git: dict[str, Any] | None = None
        self._env: tuple[str, dict[str, Any]] | None = None

    def key(self, job: Job) -> str:
        """The job's cache key (computed once)."""
        if job.job_id not in self.keys:
            self.inputs[job.job_id] = self.hasher.job_inputs(job)
            self.keys[job.job_id] = self.hasher.job_key(job, self.inputs[job.job_id])
        return self.keys[job.job_id]

    def git(self) -> dict[str, Any]:
        """The git state, read once."""
        if self._git is None:
            self._git = cache.git_state(self.root)
        return self._git

    def env(self) -> tuple[str, dict[str, Any]]:
        """The environment id and description, read once."""
        if self._env is None:
            self._env = manifest.environment()
        return self._env

    def task(self, job: Job, warm: Sequence[str]) -> Task:
        """The worker's view of a job."""
        report = job.report
        lang = job.lang
        citation = report.source.get(lang) or report.source.get("")
        series = self.spec.site_title.get(lang) or self.spec.site_title.get("")
        return Task(
            job_id=job.job_id,
            notebook=str(report.notebook.resolve()),
            params=dict(job.params),
            kernel=report.kernel,
            cwd=str(report.notebook.resolve().parent),
            root=str(self.root.resolve()),
            mode="report",
            formats=report.formats,
            export={
                "job_id": job.job_id,
                "title": job.title(),
                "citation": citation,
                "series": series,
                "lang": lang,
                "notebook": self.hasher.rel(report.notebook),
                "params": dict(job.params),
                "key": self.key(job),
            },
            warm_imports=tuple(warm),
            cell_timeout=self.options.cell_timeout,
        )

    def write_result(self, job: Job, result: Result) -> None:
        """Write a job's figures, outputs, log and record (the record last)."""
        reports_dir = self.reports_dir
        previous = cache.read_record(reports_dir, job)
        figures = self._write_figures(job, result)
        if result.ok and previous is not None:
            _remove_vanished_figures(reports_dir, previous.data.get("figures", {}), figures)
        outputs: dict[str, dict[str, Any]] = {}
        paths = job.outputs()
        for kind, data in (("ipynb", result.notebook), ("html", result.html), ("pdf", result.pdf)):
            if data is None or kind not in paths:
                continue
            write_bytes(reports_dir / paths[kind], data)
            outputs[paths[kind]] = {"sha256": cache.bytes_sha256(data), "size": len(data)}
        write_text(reports_dir / job.log, result.log or f"job {job.job_id}\n{result.error}\n")
        env_id, description = self.env()
        manifest.save_environment(reports_dir, env_id, description)
        record = {
            "job": job.job_id,
            "report": job.report.name,
            "notebook": self.hasher.rel(job.report.notebook),
            "params": job.params,
            "status": "ok" if result.ok else "failed",
            "error": result.error or None,
            "title": result.title or None,
            "key": self.key(job),
            "inputs": self.inputs[job.job_id],
            "outputs": outputs,
            "figures": figures,
            "environment": env_id,
            "git": self.git(),
        }
        text = json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        write_text(reports_dir / job.stamp, text)

    def _write_figures(self, job: Job, result: Result) -> dict[str, dict[str, Any]]:
        """Write the charts of a job that succeeded into figures/; return what the record lists.

        A name that would leave the figures folder (absolute, `..`) is refused: the job fails.
        """
        written: dict[str, dict[str, Any]] = {}
        if not result.ok:
            return written
        bad = [name for name in result.figures if not _safe_name(name)]
        if bad:
            result.ok = False
            result.error = f"figure file name {bad[0]!r} is not a plain relative path"
            result.log = (result.log or "") + f"\nFAILED: {result.error}\n"
            return written
        for name in sorted(result.figures):
            data = result.figures[name]
            rel = f"{FIGURES_DIR}/{name}"
            write_bytes(self.reports_dir / rel, data)
            written[rel] = {"sha256": cache.bytes_sha256(data), "size": len(data)}
        return written

    def records(self) -> dict[str, dict[str, Any]]:
        """Every job record in reports/.build/ (declared jobs and command-line variants)."""
        found = {}
        state = self.reports_dir / STATE_DIR
        if state.is_dir():
            for path in sorted(state.glob("*.json")):
                if path.name.startswith(("env-", "index")):
                    continue
                try:
                    record = json.loads(path.read_text(encoding="utf-8"))
                except ValueError:
                    continue
                if record.get("report") in self.spec.reports:
                    found[record["job"]] = record
        return found

    def finish(self) -> None:
        """Rewrite manifest.json and index.html from the records (only when they changed)."""
        from .index import render_index, write_index

        records = self.records()
        keys = {job.job_id: self.key(job) for job in self.all_jobs}
        text = manifest.render(records, keys, self.declared, self.reports_dir)
        target = self.reports_dir / "manifest.json"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            write_text(target, text)
        listed = list(self.all_jobs)
        extra_ids = [job_id for job_id in records if job_id not in self.declared]
        if extra_ids:
            listed += _jobs_for_records(self.spec, [records[i] for i in extra_ids])
        write_index(render_index(self.spec, listed, records, self.reports_dir), self.reports_dir)


def _safe_name(name: str) -> bool:
    """A relative POSIX path that stays inside its folder."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def _remove_vanished_figures(
    reports_dir: Path, before: dict[str, Any], now: dict[str, Any]
) -> None:
    """Delete the charts listed `before` but not `now`, if the file is still the one listed."""
    for rel, info in before.items():
        if rel in now or not isinstance(info, dict) or not rel.startswith(f"{FIGURES_DIR}/"):
            continue
        if not _safe_name(rel):
            continue
        path = reports_dir / rel
        try:
            if path.stat().st_size == info.get("size") and cache.file_sha256(path) == info.get(
                "sha256"
            ):
                path.unlink()
        except OSError:
            continue


def _jobs_for_records(spec: Spec, records: Sequence[dict[str, Any]]) -> list[Job]:
    jobs = []
    for record in records:
        report = spec.reports[record["report"]]
        jobs.append(Job(report, record.get("params", {}), record["job"]))
    return jobs


def _warm_imports(jobs: Sequence[Job]) -> list[str]:
    modules: dict[str, None] = {}
    for job in jobs:
        for name in job.report.notebook_info.imports:
            modules.setdefault(name)
    return list(modules)


def _only_ids(jobs: list[Job], job_ids: Sequence[str]) -> list[Job]:
    """The jobs whose ids are listed (all of them when none is); an unknown id is an error."""
    if not job_ids:
        return jobs
    known = {job.job_id for job in jobs}
    unknown = sorted(set(job_ids) - known)
    if unknown:
        from .spec import UnknownSelectionError

        shown = sorted(known)[:10]
        more = f", ... ({len(known)} in all)" if len(known) > len(shown) else ""
        raise UnknownSelectionError(
            f"job id(s) {', '.join(unknown[:10])} are not among the selected jobs "
            f"({', '.join(shown) or 'none'}{more})."
        )
    wanted = set(job_ids)
    return [job for job in jobs if job.job_id in wanted]


def build(options: BuildOptions) -> Summary:
    """Run a build; return its summary (exit_code 0, 1 for failures, 130 when interrupted)."""
    progress = Progress(options.verbosity, options.stream)
    spec = load_spec(options.reports_file)
    ctx = Context(spec, options)
    selected = _only_ids(make_jobs(select(spec, options.only, options.params)), options.job_ids)
    _sweep_partial_files(ctx.reports_dir)
    stale = [
        job
        for job in selected
        if options.force or not cache.is_up_to_date(ctx.reports_dir, job, ctx.key(job))
    ]
    skipped = [job.job_id for job in selected if job not in stale]
    summary = progress.summary
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    executor = None
    try:
        if stale:
            warm = _warm_imports(stale)
            executor = _make_executor(options, warm)
            tasks = [ctx.task(job, warm) for job in stale]
            by_id = {job.job_id: job for job in stale}
            workers = min(executor.workers, len(tasks)) if executor.workers else 0
            progress.begin([t.job_id for t in tasks], skipped, workers)

            def on_result(task: Task, result: Result) -> None:
                ctx.write_result(by_id[task.job_id], result)
                progress.job_done(task.job_id, result.ok, result.error, result.timings)

            executor.run(tasks, lambda task: None, on_result)
        else:
            progress.begin([], skipped, 0)
    except (KeyboardInterrupt, Interrupted):
        summary.interrupted = True
        if executor is not None:
            executor.terminate()
    finally:
        signal.signal(signal.SIGTERM, previous)
    try:
        ctx.finish()
    except (KeyboardInterrupt, Interrupted):  # pragma: no cover - a second interrupt
        summary.interrupted = True
    finally:
        if executor is not None:
            executor.close()
    label = _label(ctx.reports_dir, ctx.root)
    return progress.end(f"{label}/index.html", f"{label}/{LOGS_DIR}")


def _label(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return str(path)


# --------------------------------------------------------------------------- committed notebooks


def update_notebooks(options: BuildOptions, *, check: bool = False) -> int:
    """Execute the notebooks named in reports.toml in place with their default parameters.

    The result is normalised (no papermill metadata, execution counts 1..n) so that nbval can
    compare it and git shows only real changes. With `check=True` nothing is written and the
    exit status is 1 when a committed notebook differs from what the current code produces.
    """
    progress = Progress(options.verbosity, options.stream)
    spec = load_spec(options.reports_file)
    root = spec.root
    names = [n for n in spec.reports if not options.only or n in options.only]
    if options.only:
        select(spec, options.only)  # validates the names
    notebooks: dict[Path, Any] = {}
    for name in names:
        notebooks.setdefault(spec.reports[name].notebook.resolve(), spec.reports[name])
    warm = list(dict.fromkeys(m for r in notebooks.values() for m in r.notebook_info.imports))
    tasks = [
        Task(
            job_id=path.stem,
            notebook=str(path),
            params={},
            kernel=report.kernel,
            cwd=str(path.parent),
            root=str(root.resolve()),
            mode="commit",
            formats=(),
            warm_imports=tuple(warm),
            cell_timeout=options.cell_timeout,
        )
        for path, report in notebooks.items()
    ]
    paths = {task.job_id: Path(task.notebook) for task in tasks}
    differs: list[str] = []
    executor = _make_executor(options, warm)
    progress.begin([t.job_id for t in tasks], [], min(executor.workers, len(tasks)))

    # The executed notebooks go back into notebooks/; their charts are not kept (they are
    # report outputs, written by a report build), and the logs go to the reports folder.
    logs = Path(options.reports_dir or root / "reports") / LOGS_DIR

    def on_result(task: Task, result: Result) -> None:
        path = paths[task.job_id]
        write_text(logs / f"{task.job_id}.log", result.log or f"{result.error}\n")
        if result.ok and result.notebook is not None:
            if path.read_bytes() != result.notebook:
                differs.append(task.job_id)
                if not check:
                    write_bytes(path, result.notebook)
        progress.job_done(task.job_id, result.ok, result.error, result.timings)

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        executor.run(tasks, lambda task: None, on_result)
    except (KeyboardInterrupt, Interrupted):
        progress.summary.interrupted = True
        executor.terminate()
    finally:
        signal.signal(signal.SIGTERM, previous)
        executor.close()
    summary = progress.end("notebooks", _label(logs, root))
    for name in differs:
        verb = "differs from what the code produces" if check else "updated"
        print(f"  {name}.ipynb: {verb}", file=progress.stream)
    if check and differs:
        print(
            "  run `analysis build --update-notebooks` and commit the notebooks.",
            file=progress.stream,
        )
        return 1
    return summary.exit_code
