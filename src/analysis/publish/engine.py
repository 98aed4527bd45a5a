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

What protects the reports folder and the repository (all checked before any kernel starts):

- The folder must not be, contain or lie inside the repository root, notebooks/, src/, data/,
  an `inputs` glob of reports.toml or a report notebook's folder, and no output may resolve to
  an input file (a symbolic link): outputs never overwrite inputs, and a build's outputs never
  become inputs of the next one. It must be a folder, or be creatable, and writable (a probe
  file is written and removed; as root, permission bits prove nothing).
- One build (or `--update-notebooks`) writes into a folder at a time: `.build/lock` is held
  with a POSIX record lock (`fcntl.lockf`), which the kernel drops when the process dies,
  however it dies; unlike `flock`, the forked workers do not inherit it. The file holds the
  holder's pid, for the message. A second build exits 2 naming that pid, or waits (`--wait`).
- Temporary files are named `.analysis-tmp-<name>.<random>.tmp` (`jobs.TMP_PREFIX`), and the
  start-of-build sweep, done while holding the lock, removes only such names and only in the
  folders the engine writes (the top level, notebooks/, html/, pdf/, logs/, .build/, and
  figures/ with its subfolders): never a file someone else made, never a concurrent build's.
- A job's files are all written under temporary names first, then renamed into place, the
  record last. A write that fails (disk full, read-only) removes the temporary files and
  stops the build (exit 1, a message, no traceback): the job keeps its previous outputs and
  record, exactly as they were, and the manifest is rewritten from the records.
- A job that fails moves the HTML, PDF and charts of its previous success (only the files its
  record lists, and only while they still hold the bytes it lists) to
  `failed/<job>/html/...`, `failed/<job>/pdf/...`, `failed/<job>/figures/...`: no stale
  report stays among the current ones, and nothing is lost. The index marks the job failed.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from ..errors import AnalysisError
from ..io import signals_held, write_bytes, write_text
from ..paths import ROOT
from . import ENGINE_VERSION, cache, manifest, site
from .execute import CELL_TIMEOUT, Result, Task
from .jobs import (
    DATA_DIR,
    DOCX_DIR,
    FAILED_DIR,
    FIGURES_DIR,
    HTML_DIR,
    LOCK_FILE,
    LOGS_DIR,
    NOTEBOOKS_DIR,
    PDF_DIR,
    STATE_DIR,
    TMP_PREFIX,
    Job,
    make_jobs,
)
from .progress import NORMAL, Progress, Summary
from .spec import Spec, SpecError, load_spec, select

# A selection larger than this is refused without --yes (a typo in a grid can multiply the
# jobs by thousands); above GRID_NOTICE the count is printed at once, before the hashing.
GRID_LIMIT = 5000
GRID_NOTICE = 1000


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
    wait: bool = False  # wait for another build that holds the reports folder's lock
    yes: bool = False  # build a selection of more than GRID_LIMIT jobs
    # Render only these of each report's formats (empty: all it declares). `analysis preview`
    # renders HTML alone: the key, and so the page's bytes, are those of a full build; the
    # record lists what was written, and a later build that wants the rest renders it.
    formats: Sequence[str] = ()


class BuildError(AnalysisError):
    """The reports folder or the selection cannot be built into (exit 2, before any work)."""


class WriteFailure(Exception):
    """Writing into the reports folder failed mid-build (disk full, read-only, ...)."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(f"{path}: {error.strerror or error}")
        self.path = path
        self.error = error


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


# What the last `finish` was made from (`Context.finish_key`); named index-* so that
# `Context.records` does not take it for a job's record.
FINISH_RECORD = f"{STATE_DIR}/index-inputs.json"
ENGINE_DIRS = (NOTEBOOKS_DIR, HTML_DIR, PDF_DIR, DOCX_DIR, DATA_DIR, LOGS_DIR, STATE_DIR)


def _sweep_partial_files(reports_dir: Path) -> list[Path]:
    """Remove the temporary files a build killed in the middle of a write left behind.

    Only the engine's own names (`TMP_PREFIX`), only in the folders it writes, never in a
    folder of someone else's: call it while holding the lock, so that no concurrent build's
    file in flight is taken. Returns what was removed.
    """
    pattern = f"{TMP_PREFIX}*.tmp"
    candidates = [*reports_dir.glob(pattern)]
    for name in ENGINE_DIRS:
        candidates += (reports_dir / name).glob(pattern)
    candidates += (reports_dir / FIGURES_DIR).rglob(pattern)  # charts may use subfolders
    removed = []
    for path in candidates:
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


# --------------------------------------------------------------------------- the reports folder


def _display(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return str(path)


def _glob_base(pattern: str) -> str:
    """The folder part of a glob before its first wildcard ("data/raw/**" -> "data/raw")."""
    parts = []
    for part in PurePosixPath(pattern).parts:
        if any(char in part for char in "*?["):
            break
        parts.append(part)
    return "/".join(parts)


def _relation(path: Path, base: Path) -> str | None:
    """How `path` overlaps `base` (both resolved): "is", "lies inside", "contains" or None."""
    if path == base:
        return "is"
    if base in path.parents:
        return "lies inside"
    if path in base.parents:
        return "contains"
    return None


def _protected(spec: Spec, package_dir: Path | None) -> list[tuple[Path, str]]:
    """The folders no output may go into: (resolved path, what it is), most specific first."""
    root = spec.root.resolve()
    found: list[tuple[Path, str]] = []
    for report in spec.reports.values():
        where = f"{spec.path.name} [reports.{report.name}]"
        for pattern in report.inputs:
            found.append(((root / _glob_base(pattern)).resolve(), f"{pattern} (inputs of {where})"))
        folder = report.notebook.resolve().parent
        found.append((folder, f"{_rel(folder, root)}/ (the folder of the notebook of {where})"))
    for name in ("notebooks", "src", "data"):
        found.append((root / name, f"{name}/ (the repository's {name} folder)"))
    if package_dir is not None:
        found.append((package_dir.resolve(), f"{_rel(package_dir.resolve(), root)}/ (the code)"))
    return list(dict.fromkeys(found))


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)


def _input_files(spec: Spec) -> set[Path]:
    """Every existing file a report reads (notebooks, files of its `inputs` globs, the spec)."""
    files = {spec.path.resolve()}
    for report in spec.reports.values():
        files.add(report.notebook.resolve())
        for pattern in report.inputs:
            if pattern.endswith("**"):
                pattern += "/*"
            files.update(p.resolve() for p in spec.root.glob(pattern) if p.is_file())
    return files


def check_reports_dir(
    spec: Spec, reports_dir: Path, jobs: Sequence[Job], package_dir: Path | None = None
) -> None:
    """Refuse a reports folder whose outputs would overwrite or mix with the inputs.

    The folder (and each folder the engine writes in it, which may be a symbolic link) must
    not be the repository root or contain it, and must not be, contain or lie inside
    notebooks/, src/, data/, an input glob's folder or a notebook's folder; no output of the
    selected jobs may resolve to an input file. Runs before anything is written.
    """
    label = f"--reports-dir {_display(reports_dir)}"
    fix = (
        "outputs must never overwrite or mix with the inputs; choose a folder outside "
        "notebooks/, src/ and data/ (the default is reports/)."
    )
    root = spec.root.resolve()
    target = reports_dir.resolve()
    if target == root or target in root.parents:
        what = "is" if target == root else "contains"
        raise BuildError(
            f"{label}: it {what} the repository root {_display(root)}, which holds the "
            f"notebooks, the code and the data; {fix}"
        )
    protected = _protected(spec, package_dir)
    folders = [("", target)] + [
        (name, (reports_dir / name).resolve()) for name in (*ENGINE_DIRS, FIGURES_DIR, FAILED_DIR)
    ]
    for name, folder in folders:
        for base, what in protected:
            relation = _relation(folder, base)
            if relation is None:
                continue
            which = f" (its {name}/ resolves to {folder})" if name else ""
            raise BuildError(f"{label}{which}: it {relation} {what}; {fix}")
    inputs = _input_files(spec)
    for job in jobs:
        for rel in [*job.outputs().values(), job.log, job.stamp]:
            path = (reports_dir / rel).resolve()
            if path in inputs:
                raise BuildError(
                    f"{label}: the output {rel} of job {job.job_id} resolves to the input "
                    f"{_rel(path, root)}; {fix}"
                )


def prepare_reports_dir(reports_dir: Path) -> None:
    """Make sure the reports folder exists, is a folder and can be written into (exit 2 if not).

    Writability is tested by writing and removing a probe file: permission bits say nothing
    when running as root, and a read-only or full file system shows only when written to.
    """
    label = f"--reports-dir {_display(reports_dir)}"
    if reports_dir.exists() and not reports_dir.is_dir():
        raise BuildError(f"{label} is a file, not a folder; give a folder for the outputs.")
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(
            f"{label}: the folder cannot be created ({exc.strerror or exc}); give a folder "
            "you can write into."
        ) from None
    try:
        fd, name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}probe.", suffix=".tmp", dir=reports_dir)
        try:
            with os.fdopen(fd, "wb") as handle:
                _write_file(handle, b"analysis build: write test\n")
        finally:
            Path(name).unlink(missing_ok=True)
    except OSError as exc:
        raise BuildError(
            f"{label}: cannot write into the folder ({exc.strerror or exc}); free space or "
            "give a folder you can write into."
        ) from None


# Lock files this process holds, by resolved path. A POSIX record lock belongs to the
# process, so a second lock from the same process would succeed, and closing a second
# descriptor of the file would drop the first: both are prevented with this table.
_HELD: dict[str, int] = {}


class BuildLock:
    """The reports folder's lock: one build (or notebook update) writes into it at a time."""

    def __init__(self, reports_dir: Path, *, wait: bool = False, stream: Any = None) -> None:
        self.reports_dir = reports_dir
        self.path = reports_dir / LOCK_FILE
        self.wait = wait
        self.stream = stream
        self._key: str | None = None

    def _busy(self, pid: str) -> BuildError:
        return BuildError(
            f"another build (pid {pid or '?'}) is writing into {_display(self.reports_dir)}; "
            "wait for it or pass --wait."
        )

    def acquire(self) -> BuildLock:
        """Take the lock, or raise BuildError naming the holder (or wait for it with `wait`)."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = str(self.path.resolve())
        if key in _HELD:
            raise self._busy(str(os.getpid()))
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EAGAIN):
                    raise
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                if not self.wait:
                    raise self._busy(holder) from None
                print(
                    f"waiting for another build (pid {holder or '?'}) to finish writing into "
                    f"{_display(self.reports_dir)}",
                    file=self.stream,
                    flush=True,
                )
                fcntl.lockf(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except BaseException:
            os.close(fd)
            raise
        _HELD[key] = fd
        self._key = key
        return self

    def release(self) -> None:
        """Let the next build in (the file stays: removing it would race with a waiter)."""
        if self._key is None:
            return
        fd = _HELD.pop(self._key)
        self._key = None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        os.close(fd)

    @staticmethod
    def held(reports_dir: Path) -> bool:
        """Whether this process holds the lock of `reports_dir`."""
        return str((reports_dir / LOCK_FILE).resolve()) in _HELD

    def __enter__(self) -> BuildLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def check_kernels(spec: Spec, jobs: Sequence[Job]) -> None:
    """Refuse kernel names (reports.toml `kernel`) that no installed kernel spec has."""
    wanted: dict[str, list[str]] = {}
    for job in jobs:
        wanted.setdefault(job.report.kernel, [])
        if job.report.name not in wanted[job.report.kernel]:
            wanted[job.report.kernel].append(job.report.name)
    if not wanted or set(wanted) <= _kernel_folders():
        return
    from jupyter_client.kernelspec import KernelSpecManager

    known = sorted(KernelSpecManager().find_kernel_specs())
    for kernel, reports in wanted.items():
        if kernel not in known:
            where = ", ".join(f"[reports.{name}]" for name in reports)
            raise SpecError(
                f"{spec.path.name} {where}: kernel {kernel!r} is not installed; known kernels: "
                f"{', '.join(known) or 'none'}. Fix `kernel` in {spec.path.name} (or in its "
                "[defaults]), or install the kernel (`make setup` installs 'analysis')."
            )


def _kernel_folders() -> set[str]:
    """The kernels with a `kernels/<name>/kernel.json` on Jupyter's data path: where
    KernelSpecManager finds them, read without importing jupyter_client (a fifth of a second
    before the first job could start). A name not found here goes to KernelSpecManager, which
    also knows kernels without such a folder and names them all in its error."""
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:  # pragma: no cover - jupyter_core comes with the lock
        return set()
    found = set()
    for folder in jupyter_path("kernels"):
        try:
            found.update(p.name for p in Path(folder).iterdir() if (p / "kernel.json").is_file())
        except OSError:
            continue
    return found


def _workers(options: BuildOptions, stream: Any) -> int | None:
    """--jobs, capped at one more than the cores this process may use (`default_jobs`; more
    only slows a CPU-bound build and costs memory)."""
    if options.executor != "local" or options.jobs is None:
        return options.jobs
    from .executors import cores, default_jobs

    most = default_jobs()
    if options.jobs > most:
        print(
            f"warning: --jobs {options.jobs} is more than the {cores()} core(s) this process "
            f"may use and one more; running {most} worker(s) (more would only slow the build "
            "down).",
            file=stream,
        )
        return most
    return options.jobs


def _check_selection_size(spec: Spec, count: int, options: BuildOptions, stream: Any) -> None:
    """Print a large selection's size at once; refuse one above GRID_LIMIT without --yes."""
    if count > GRID_LIMIT and not options.yes:
        raise BuildError(
            f"the selection has {count} jobs (more than {GRID_LIMIT}) from the grids in "
            f"{spec.path.name}; narrow it with --only/--param/--lang, or pass --yes to build "
            "them all."
        )
    if count > GRID_NOTICE:
        print(f"{count} jobs selected; checking which are up to date ...", file=stream, flush=True)


def _write_file(handle: BinaryIO, data: bytes) -> None:
    """The one place where the engine writes bytes into the reports folder (tests make it
    fail to simulate a full disk)."""
    handle.write(data)


class _Staged:
    """A job's files, written under temporary names next to their targets, then renamed.

    Everything that needs space happens in `add`; `place` only renames, so a full disk stops
    a job before any of its previous files is replaced.
    """

    def __init__(self, reports_dir: Path) -> None:
        self.reports_dir = reports_dir
        self.pending: list[tuple[Path, Path]] = []  # (target, temporary file)
        self.placed: list[Path] = []

    def add(self, rel: str, data: bytes) -> None:
        target = self.reports_dir / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(
                prefix=f"{TMP_PREFIX}{target.name}.", suffix=".tmp", dir=target.parent
            )
            self.pending.append((target, Path(name)))
            with os.fdopen(fd, "wb") as handle:
                _write_file(handle, data)
            os.chmod(name, 0o644)
        except OSError as exc:
            raise WriteFailure(target, exc) from None

    def place(self, keep: int = 0) -> None:
        """Rename the staged files into place, in order, but for the last `keep` of them."""
        while len(self.pending) > keep:
            target, tmp = self.pending[0]
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise WriteFailure(target, exc) from None
            self.pending.pop(0)
            self.placed.append(target)

    def discard(self) -> None:
        """Remove the temporary files not yet renamed."""
        for _, tmp in self.pending:
            tmp.unlink(missing_ok=True)
        self.pending = []


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

    def stale(self, job: Job) -> bool:
        """Whether the job must be built (forced, or its record does not match)."""
        if self.options.force:
            return True
        return not cache.is_up_to_date(self.reports_dir, job, self.key(job), self.wanted(job))

    def rendered(self, job: Job) -> tuple[str, ...]:
        """The formats this build renders for a job (its report's, less what is left out)."""
        wanted = self.options.formats
        formats = job.report.formats
        return tuple(f for f in formats if f in wanted) if wanted else tuple(formats)

    def wanted(self, job: Job) -> list[str]:
        """The outputs (relative paths) a build of this job writes."""
        rendered = self.rendered(job)
        return [rel for kind, rel in job.outputs().items() if kind == "ipynb" or kind in rendered]

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
            formats=self.rendered(job),
            figure_formats=report.figures,
            export={
                "job_id": job.job_id,
                "title": job.title(),
                "citation": citation,
                "series": series,
                "lang": lang,
                "notebook": self.hasher.rel(report.notebook),
                "params": dict(job.params),
                "key": self.key(job),
                "site": site.page_context(self.spec, job),
            },
            warm_imports=tuple(warm),
            cell_timeout=self.options.cell_timeout,
        )

    def write_result(self, job: Job, result: Result) -> None:
        """Write a job's figures, outputs, log and record (the record last).

        Every file is first written under a temporary name (`_Staged`); only when all of them
        are on disk are they renamed into place. A write that fails raises WriteFailure and
        leaves the job's previous files and record as they were.
        """
        reports_dir = self.reports_dir
        previous = cache.read_record(reports_dir, job)
        staged = _Staged(reports_dir)
        figures = self._figures(job, result)
        retired = _retirable(reports_dir, previous) if not result.ok else []
        outputs: dict[str, dict[str, Any]] = {}
        paths = job.outputs()
        complete = False
        try:
            for rel in figures:
                staged.add(rel, result.figures[rel.split("/", 1)[1]])
            for kind, data in (
                ("ipynb", result.notebook),
                ("html", result.html),
                ("pdf", result.pdf),
                ("docx", result.docx),
            ):
                if data is None or kind not in paths:
                    continue
                staged.add(paths[kind], data)
                outputs[paths[kind]] = {"sha256": cache.bytes_sha256(data), "size": len(data)}
            log = result.log or f"job {job.job_id}\n{result.error}\n"
            if retired:
                moved = ", ".join(retired)
                log += f"\nthe previous build's {moved} moved to {FAILED_DIR}/{job.job_id}/\n"
            staged.add(job.log, log.encode("utf-8"))
            env_id, description = self.env()
            env_rel = f"{STATE_DIR}/env-{env_id}.json"
            if not (reports_dir / env_rel).exists():
                text = json.dumps(description, ensure_ascii=False, indent=1, sort_keys=True)
                staged.add(env_rel, (text + "\n").encode("utf-8"))
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
            staged.add(job.stamp, text.encode("utf-8"))
            # Only renames from here on. Ctrl-C and SIGTERM wait until they are done, so an
            # interrupted build never leaves a job half placed; against SIGKILL, the previous
            # record goes first: files placed without their record make the next run redo the
            # job, whereas an old record beside new files would describe what is not there.
            with signals_held():
                if previous is not None:
                    (reports_dir / job.stamp).unlink(missing_ok=True)
                staged.place(keep=1)
                if result.ok and previous is not None:
                    _remove_vanished(reports_dir, previous.data.get("figures", {}), figures)
                    _remove_vanished(reports_dir, previous.data.get("outputs", {}), outputs)
                _retire(reports_dir, job, retired)
                staged.place()
                complete = True  # an interrupt held until here finds the job whole
        except BaseException:  # a write failure, or an interrupt while the files were staged
            if complete:
                raise
            staged.discard()
            if staged.placed:
                # Some of the previous files were replaced: the previous record no longer
                # describes what is on disk, and the new one is not in place.
                for path in staged.placed:
                    path.unlink(missing_ok=True)
                (reports_dir / job.stamp).unlink(missing_ok=True)
            raise

    def _figures(self, job: Job, result: Result) -> dict[str, dict[str, Any]]:
        """The charts of a job that succeeded, as its record lists them (nothing written).

        A name that would leave the figures folder (absolute, `..`) is refused: the job fails.
        """
        listed: dict[str, dict[str, Any]] = {}
        if not result.ok:
            return listed
        bad = [name for name in result.figures if not _safe_name(name)]
        if bad:
            result.ok = False
            result.error = f"figure file name {bad[0]!r} is not a plain relative path"
            result.log = (result.log or "") + f"\nFAILED: {result.error}\n"
            return listed
        for name in sorted(result.figures):
            data = result.figures[name]
            listed[f"{FIGURES_DIR}/{name}"] = {
                "sha256": cache.bytes_sha256(data),
                "size": len(data),
            }
        return listed

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

    def finish_key(self, records: dict[str, dict[str, Any]]) -> str:
        """A digest of everything `finish` reads: the engine, the code, the lock, reports.toml,
        every data file, the records, the jobs' keys and which listed files exist."""
        present = sorted(
            rel
            for record in records.values()
            for rel in {**record.get("outputs", {}), **record.get("figures", {})}
            if (self.reports_dir / rel).exists()
        )
        lock = self.hasher.lock
        described = {
            "engine": ENGINE_VERSION,
            "package": self.hasher.package(),
            "lock": self.hasher.file(lock) if lock is not None and lock.is_file() else None,
            "spec": self.hasher.file(self.spec.path),
            "data": self.hasher.data(("data/**",)),
            "records": records,
            "keys": {job.job_id: self.key(job) for job in self.all_jobs},
            "present": present,
        }
        return cache.bytes_sha256(cache.canonical_json(described).encode("utf-8"))

    def _finished(self, key: str) -> bool:
        """Whether the last `finish` had this key and its files are still in place."""
        try:
            marker = json.loads((self.reports_dir / FINISH_RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(marker, dict) or marker.get("key") != key:
            return False
        if not (self.reports_dir / "index.html").is_file():  # as `write_index` checks it
            return False
        placed = {"manifest.json": {"sha256": marker.get("manifest")}}
        placed.update(site.read_site_record(self.reports_dir))
        return all(
            site.holds(self.reports_dir / rel, info.get("sha256")) for rel, info in placed.items()
        )

    def finish(self) -> None:
        """Rewrite manifest.json and index.html from the records (only when they changed).

        Skipped when nothing it reads changed since it last ran (`finish_key`) and its files
        are in place: a no-op build then renders no index (whose tables import pandas and
        read the data) and copies no data file.
        """
        from .index import render_index, write_index

        records = self.records()
        key = self.finish_key(records)
        if not self.options.force and self._finished(key):
            return
        (self.reports_dir / FINISH_RECORD).unlink(missing_ok=True)
        site.write_site(self.spec, self.reports_dir)
        keys = {job.job_id: self.key(job) for job in self.all_jobs}
        text = manifest.render(records, keys, self.declared, self.reports_dir)
        target = self.reports_dir / "manifest.json"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            try:
                write_text(target, text, TMP_PREFIX)
            except OSError as exc:
                # The old manifest would describe files that have changed since: none is
                # better than a wrong one (the records in .build/ still hold the truth).
                target.unlink(missing_ok=True)
                raise WriteFailure(target, exc) from None
        listed = list(self.all_jobs)
        extra_ids = [job_id for job_id in records if job_id not in self.declared]
        if extra_ids:
            listed += _jobs_for_records(self.spec, [records[i] for i in extra_ids])
        write_index(render_index(self.spec, listed, records, self.reports_dir), self.reports_dir)
        marker = {"key": key, "manifest": cache.file_sha256(target)}
        write_text(self.reports_dir / FINISH_RECORD, json.dumps(marker) + "\n", TMP_PREFIX)


def _safe_name(name: str) -> bool:
    """A relative POSIX path that stays inside its folder."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def _matches(path: Path, info: Any) -> bool:
    """Whether `path` still holds the bytes a record lists (size and sha256)."""
    try:
        return (
            isinstance(info, dict)
            and path.is_file()
            and not path.is_symlink()
            and path.stat().st_size == info.get("size")
            and cache.file_sha256(path) == info.get("sha256")
        )
    except OSError:
        return False


def _retirable(reports_dir: Path, previous: cache.Record | None) -> list[str]:
    """The HTML, PDF and charts of the previous build of a job that has now failed: the files
    its record lists that still hold the bytes it lists (the engine's own files, then)."""
    if previous is None:
        return []
    listed = {**previous.data.get("outputs", {}), **previous.data.get("figures", {})}
    found = []
    for rel, info in sorted(listed.items()):
        if not _safe_name(rel) or not rel.startswith(
            (f"{HTML_DIR}/", f"{PDF_DIR}/", f"{DOCX_DIR}/", f"{FIGURES_DIR}/")
        ):
            continue
        if _matches(reports_dir / rel, info):
            found.append(rel)
    return found


def _retire(reports_dir: Path, job: Job, rels: Sequence[str]) -> None:
    """Move the files to failed/<job>/ (a rename needs no space; removed if it fails)."""
    for rel in rels:
        source = reports_dir / rel
        target = reports_dir / FAILED_DIR / job.job_id / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        except OSError:
            source.unlink(missing_ok=True)


_VANISHABLE = (f"{FIGURES_DIR}/", f"{HTML_DIR}/", f"{PDF_DIR}/", f"{DOCX_DIR}/")


def _remove_vanished(reports_dir: Path, before: dict[str, Any], now: dict[str, Any]) -> None:
    """Delete the charts and outputs listed `before` but not `now`, if the file is still the
    one listed (the engine's own, then). A PDF a build no longer renders (a format dropped
    from reports.toml, a preview of HTML alone) would otherwise stay beside an HTML page that
    says something else."""
    for rel, info in before.items():
        if rel in now or not isinstance(info, dict) or not rel.startswith(_VANISHABLE):
            continue
        if not _safe_name(rel):
            continue
        path = reports_dir / rel
        if _matches(path, info):
            path.unlink(missing_ok=True)


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


def build(options: BuildOptions, executor: Any = None) -> Summary:
    """Run a build; return its summary (exit_code 0, 1 for failures, 130 when interrupted).

    Everything that can be wrong with the request (the spec, the selection, the kernels, the
    reports folder, a concurrent build) raises an AnalysisError before any kernel starts.

    `executor`: workers kept warm by the caller between builds (`analysis preview`), used
    instead of new ones and left open. Its caller holds the reports folder's lock already
    (a `BuildLock` of this process, for the whole session); it is checked, not taken again.
    """
    progress = Progress(options.verbosity, options.stream)
    spec = load_spec(options.reports_file)
    selection = select(spec, options.only, options.params)
    _check_selection_size(spec, len(selection), options, progress.stream)
    selected = _only_ids(make_jobs(selection), options.job_ids)
    ctx = Context(spec, options)
    if options.executor == "local":  # a Dask worker has kernels of its own
        # Only the kernels of jobs that will run, and not those a warm executor (the preview)
        # has started already: a no-op build need not import jupyter_client (a third of its
        # time). The records are read again under the lock, which decides.
        running = {kernel for kernel, _ in getattr(executor, "kernels", ())}
        check_kernels(
            spec, [job for job in selected if job.report.kernel not in running and ctx.stale(job)]
        )
    check_reports_dir(spec, ctx.reports_dir, selected, ctx.hasher.package_dir)
    prepare_reports_dir(ctx.reports_dir)
    options = replace(options, jobs=_workers(options, progress.stream))
    if executor is not None:
        if not BuildLock.held(ctx.reports_dir):
            raise BuildError(f"{_display(ctx.reports_dir)}: a warm executor needs the lock held")
        return _build_locked(options, ctx, selected, progress, executor)
    with BuildLock(ctx.reports_dir, wait=options.wait, stream=progress.stream):
        return _build_locked(options, ctx, selected, progress)


def _build_locked(
    options: BuildOptions,
    ctx: Context,
    selected: Sequence[Job],
    progress: Progress,
    warm_executor: Any = None,
) -> Summary:
    _sweep_partial_files(ctx.reports_dir)
    stale = [job for job in selected if ctx.stale(job)]
    skipped = [job.job_id for job in selected if job not in stale]
    summary = progress.summary
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    executor = None
    try:
        if stale:
            warm = _warm_imports(stale)
            executor = warm_executor or _make_executor(options, warm)
            tasks = [ctx.task(job, warm) for job in _longest_first(stale)]
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
    except WriteFailure as exc:
        summary.stopped = _write_failure_message(exc, ctx.reports_dir)
        if executor is not None:
            executor.terminate()
    finally:
        signal.signal(signal.SIGTERM, previous)
    try:
        ctx.finish()
    except (KeyboardInterrupt, Interrupted):  # pragma: no cover - a second interrupt
        summary.interrupted = True
    except WriteFailure as exc:
        summary.stopped = summary.stopped or _write_failure_message(exc, ctx.reports_dir)
    finally:
        if executor is not None and executor is not warm_executor:
            executor.close()
    label = _label(ctx.reports_dir, ctx.root)
    return progress.end(f"{label}/index.html", f"{label}/{LOGS_DIR}")


def _longest_first(jobs: Sequence[Job]) -> list[Job]:
    """The jobs in the order the workers take them: the reports with the fewest jobs first
    (a long document each: the cluster report's 2.6 s of cells, the source audit's 0.8 s
    PDF), the many short jobs of a grid (the 62 profiles) last; in the order of reports.toml
    among equals. A long job taken last kept one core busy after the other had run out of
    work. No output depends on the order."""
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.report.name] = counts.get(job.report.name, 0) + 1
    order = {id(job): index for index, job in enumerate(jobs)}
    return sorted(jobs, key=lambda job: (counts[job.report.name], order[id(job)]))


def _write_failure_message(exc: WriteFailure, reports_dir: Path) -> str:
    where = _label(exc.path, reports_dir)
    return (
        f"cannot write {where} ({exc.error.strerror or exc.error}); the build stopped, and "
        "the job being written keeps its previous outputs. Free space (or make the folder "
        "writable) and run the same command again to resume."
    )


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
    for extra in () if options.only else spec.extra:  # [notebooks] extra: not reports
        notebooks[extra.notebook.resolve()] = extra
    warm = list(dict.fromkeys(m for r in notebooks.values() for m in r.notebook_info.imports))
    if options.executor == "local":
        check_kernels(spec, [Job(r, {}, r.name) for r in notebooks.values()])
    reports_dir = Path(options.reports_dir or root / "reports")
    lock = None
    if not check:  # --check writes nothing at all, so it needs no lock either
        check_reports_dir(spec, reports_dir, [], options.package_dir)
        prepare_reports_dir(reports_dir)
        lock = BuildLock(reports_dir, wait=options.wait, stream=progress.stream).acquire()
    try:
        return _update_notebooks(options, spec, notebooks, warm, reports_dir, progress, check)
    finally:
        if lock is not None:
            lock.release()


def _update_notebooks(
    options: BuildOptions,
    spec: Spec,
    notebooks: dict[Path, Any],
    warm: list[str],
    reports_dir: Path,
    progress: Progress,
    check: bool,
) -> int:
    root = spec.root
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
    executor = _make_executor(replace(options, jobs=_workers(options, progress.stream)), warm)
    progress.begin([t.job_id for t in tasks], [], min(executor.workers, len(tasks)))

    # The executed notebooks go back into notebooks/; their charts are not kept (they are
    # report outputs, written by a report build), and the logs go to the reports folder
    # (not with --check, which writes nothing).
    logs = reports_dir / LOGS_DIR

    def on_result(task: Task, result: Result) -> None:
        path = paths[task.job_id]
        log = result.log or f"{result.error}\n"
        if not check:
            write_text(logs / f"{task.job_id}.log", log, TMP_PREFIX)
        elif not result.ok:  # no log file: show it here
            print(log, file=progress.stream)
        if result.ok and result.notebook is not None:
            if path.read_bytes() != result.notebook:
                differs.append(task.job_id)
                if not check:
                    write_bytes(path, result.notebook, TMP_PREFIX)
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
    summary = progress.end("notebooks", None if check else _label(logs, root))
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
