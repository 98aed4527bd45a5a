"""`analysis preview`: serve the reports folder on loopback and rebuild what an edit touches.

Staff who edit a narrative template, a chart or a notebook see the result in the browser as
they save, as `quarto preview` or `myst start` give their users:

- **Its own folder, HTML alone.** By default the preview builds into `.preview/` at the
  project root (git-ignored; `--reports-dir` to choose another) and renders only the HTML of
  each job (`--formats html,pdf,docx` for more). A preview is for seeing the page: the PDF
  (~0.3 s a job) and the Word file would sit between the save and the changed page. And
  because it has its own folder, reports/ never holds a job whose HTML was rebuilt and whose
  PDF was not (the two would disagree); what `analysis build` publishes stays whole. The page
  is byte for byte the page `analysis build` writes (the same cache key, the same links to
  the PDF and Word file, which in `.preview/` exist only when asked for); a PDF left from an
  earlier `--formats html,pdf` session is removed when the job is rebuilt without it.
- **A server on 127.0.0.1 only**, on a free port (or `--port`), printed at start. It serves the
  preview folder read-only. Into each HTML page it serves it adds a small script that listens
  on `/__preview/events` (Server-Sent Events) and reloads the page after each rebuild; the files
  on disk stay exactly what `analysis build` writes (no script: published HTML is
  script-free). A job whose last build failed is served as a page showing the failing cell's
  source and its traceback, read from the executed notebook the engine keeps.
- **A watcher** (`watchfiles`, inotify/FSEvents rather than polling) on notebooks/, the package
  code, data/, reports.toml and the lock. On a change it rebuilds with the engine itself
  (`engine.build`, its cache keys, its atomic writes, its reports-folder checks), restricted to
  the jobs the edit touches: a notebook's jobs; for a words file (the narrative templates,
  `report/words/<lang>.toml`), the jobs of that language whose report's table changed (all of
  that language when a shared table, such as `[common]` or `[charts.*]`, changed); for a data
  file, the jobs whose `inputs` match it; for reports.toml, the reports whose entry changed;
  for package code or the lock, every selected job. Within that set the engine's keys decide
  (a save that changed nothing rebuilds nothing).
- **Warm workers** (`executors.WarmExecutor`): their template processes, libraries and a
  spare kernel are kept from one rebuild to the next. They are closed and started afresh when
  anything other than a notebook, a words file or reports.toml changed (package code, the lock,
  data, the map's derived caches), so nothing stale survives an edit.
- The preview holds the reports folder's lock for its whole life (a concurrent `analysis build`
  into the same folder is refused), writes nothing but what the engine writes there, and stops
  cleanly on Ctrl-C or SIGTERM: workers, kernels and template processes end, the port closes.
"""

from __future__ import annotations

import html as html_lib
import http.server
import io
import json
import re
import signal
import sys
import threading
import time
import tomllib
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .engine import (
    BuildError,
    BuildLock,
    BuildOptions,
    Context,
    Interrupted,
    _warm_imports,
    build,
    check_reports_dir,
    prepare_reports_dir,
)
from .jobs import Job, make_jobs
from .progress import QUIET
from .spec import Spec, SpecError, load_spec, select

PREVIEW_DIR = ".preview"  # the default folder, at the project root (git-ignored)
PREVIEW_FORMATS = ("html",)  # what a preview renders unless told otherwise
EVENTS_PATH = "/__preview/events"
STATUS_PATH = "/__preview/status"
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".git"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)

# What the server adds to every HTML page it serves (never to a file on disk): reload after a
# rebuild. The first event gives the current build generation; a later, different one (or the
# server coming back after a restart) reloads the page.
RELOAD_SCRIPT = """<script data-analysis-preview>
(function () {
  var seen = null;
  var source = new EventSource("EVENTS?page=" + encodeURIComponent(location.pathname));
  source.onmessage = function (event) {
    if (seen === null) { seen = event.data; return; }
    if (event.data !== seen) { location.reload(); }
  };
})();
</script>
""".replace("EVENTS", EVENTS_PATH)


@dataclass
class PreviewOptions:
    """What `analysis preview` is told."""

    build: BuildOptions
    port: int = 0  # 0: a free port
    host: str = "127.0.0.1"  # loopback only; not an option on the command line


# --------------------------------------------------------------------------- what an edit touches


def _words_tables(path: Path) -> dict[str, Any] | None:
    """The top-level tables of a words file (None when it does not parse)."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return None


def changed_tables(before: dict[str, Any] | None, after: dict[str, Any] | None) -> set[str]:
    """The top-level tables of a words file whose content differs (every one if unknown)."""
    if before is None or after is None:
        return {"*"}
    return {name for name in set(before) | set(after) if before.get(name) != after.get(name)}


def jobs_for_words(jobs: Iterable[Job], lang: str, tables: set[str]) -> list[Job]:
    """The jobs a change of these tables of `lang`'s words file can change.

    A table named after a report (`[cluster_policy]`, `[cluster_policy.summary]`, ...) holds
    that report's templates alone; any other table (`[common]`, `[charts]`, `[format]`, ...)
    is shared, so every job of the language is touched.
    """
    of_lang = [job for job in jobs if job.lang == lang]
    reports = {job.report.name for job in of_lang}
    if not tables or not tables <= reports:
        return of_lang if tables else []
    return [job for job in of_lang if job.report.name in tables]


def _report_entry(spec: Spec, name: str) -> Any:
    report = spec.reports.get(name)
    if report is None:
        return None
    return (
        str(report.notebook),
        repr(report.params),
        tuple(report.formats),
        report.kernel,
        repr(report.title),
        repr(report.source),
        tuple(report.inputs),
    )


@dataclass
class Plan:
    """What one batch of changes asks for."""

    job_ids: list[str]  # jobs to rebuild (the engine skips those whose key did not change)
    restart: bool  # start the workers afresh first
    errors: list[str]  # what cannot be built at all (a words file that does not parse)


class Watcher:
    """The files the preview watches, and how a batch of changed paths maps to jobs."""

    def __init__(self, options: BuildOptions, spec: Spec, package_dir: Path) -> None:
        self.options = options
        self.spec = spec
        self.root = spec.root.resolve()
        self.package_dir = package_dir.resolve()
        self.words_dir = self.package_dir / "report" / "words"
        self.lock = (options.lock or spec.root / "requirements" / "lock.txt").resolve()
        self.reports_file = Path(options.reports_file).resolve()
        self.reports_dir = Path(options.reports_dir or spec.root / "reports").resolve()
        self.words = {path: _words_tables(path) for path in self._words_files()}

    def _words_files(self) -> list[Path]:
        return sorted(self.words_dir.glob("*.toml")) if self.words_dir.is_dir() else []

    def paths(self) -> list[Path]:
        """What to watch: existing folders and files (watchfiles needs them to exist)."""
        found = [self.root / "notebooks", self.package_dir, self.root / "data"]
        found += [report.notebook.resolve().parent for report in self.spec.reports.values()]
        found += [self.reports_file, self.lock]
        unique = []
        for path in found:
            if path.exists() and path not in unique:
                unique.append(path)
        return unique

    def relevant(self, path: Path) -> bool:
        """Not a cache file, not inside the reports folder."""
        if SKIP_PARTS.intersection(path.parts) or path.suffix in (".pyc", ".pyo"):
            return False
        return self.reports_dir != path and self.reports_dir not in path.parents

    def selected(self) -> list[Job]:
        return make_jobs(select(self.spec, self.options.only, self.options.params))

    def plan(self, changed: Iterable[Path]) -> Plan:
        """The jobs a batch of changed paths touches, and whether the workers must restart."""
        paths = sorted({Path(p).resolve() for p in changed if self.relevant(Path(p))})
        jobs = self.selected()
        touched: dict[str, None] = {}
        restart = False
        errors: list[str] = []

        def touch(selection: Iterable[Job]) -> None:
            for job in selection:
                touched.setdefault(job.job_id)

        for path in paths:
            if path == self.reports_file:
                before = self.spec
                try:
                    self.spec = load_spec(self.reports_file)
                except SpecError as exc:
                    errors.append(str(exc))
                    continue
                jobs = self.selected()
                names = set(before.reports) | set(self.spec.reports)
                changed_names = {
                    n for n in names if _report_entry(before, n) != _report_entry(self.spec, n)
                }
                touch(job for job in jobs if job.report.name in changed_names)
            elif path.parent == self.words_dir and path.suffix == ".toml":
                after = _words_tables(path)
                if after is None and path.exists():
                    errors.append(f"{_rel(path, self.root)} does not parse as TOML; fix it")
                    continue
                tables = changed_tables(self.words.get(path), after)
                self.words[path] = after
                touch(jobs_for_words(jobs, path.stem, tables))
            elif path.suffix == ".ipynb" and any(
                path == job.report.notebook.resolve() for job in jobs
            ):
                touch(job for job in jobs if job.report.notebook.resolve() == path)
            elif path.suffix == ".ipynb" and (self.root / "notebooks") in path.parents:
                continue  # a notebook that is no report (explore.ipynb): nothing to build
            else:
                # Package code, the lock, data: every job whose inputs may hold it, on fresh
                # workers (the template processes imported the code and cached derived data).
                restart = True
                touch(job for job in jobs if self._reads(job, path))
        return Plan(list(touched), restart, errors)

    def _reads(self, job: Job, path: Path) -> bool:
        """Whether `path` is among the inputs of `job` (code and lock: of every job)."""
        if path == self.lock or self.package_dir in path.parents:
            return True
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return True
        return any(rel.match(p) or _under(rel, p) for p in job.report.inputs)


def _under(rel: Path, pattern: str) -> bool:
    """`dir/**` matches every file below dir."""
    if not pattern.endswith("**"):
        return False
    base = pattern[:-2].rstrip("/")
    return rel.as_posix().startswith(base + "/")


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- the server


class State:
    """What the server shows: the build generation, and the failures of the last build."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.generation = 0
        self.building = False
        self.errors: list[str] = []  # problems that stopped a build before it started
        self.stopping = False
        self.open_pages: dict[str, int] = {}  # served path -> listeners

    def bump(self, errors: Sequence[str] = ()) -> None:
        with self.changed:
            self.generation += 1
            self.errors = list(errors)
            self.building = False
            self.changed.notify_all()

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()


class Site:
    """Reads pages out of the reports folder and adds what only the preview serves."""

    def __init__(self, reports_dir: Path, state: State, spec_jobs: Sequence[Job]) -> None:
        self.reports_dir = reports_dir.resolve()
        self.state = state
        self.jobs = {job.outputs().get("html"): job for job in spec_jobs}

    def file(self, url_path: str) -> Path | None:
        """The file under the reports folder a URL names (None outside it or hidden)."""
        rel = urllib.parse.unquote(url_path).lstrip("/") or "index.html"
        if rel.endswith("/"):
            rel += "index.html"
        parts = Path(rel).parts
        if any(part.startswith(".") or part == ".." for part in parts):
            return None
        path = (self.reports_dir / rel).resolve()
        if self.reports_dir not in path.parents:
            return None
        return path

    def page(self, url_path: str) -> tuple[int, str, bytes] | None:
        """(status, content type, body) of an HTML page or a failed job's error page."""
        rel = urllib.parse.unquote(url_path).lstrip("/") or "index.html"
        path = self.file(url_path)
        if path is None:
            return None
        job = self.jobs.get(rel)
        failure = self.failure(job) if job is not None else None
        if failure is not None:
            return 200, "text/html; charset=utf-8", self.inject(failure)
        if path.is_file() and path.suffix == ".html":
            return 200, "text/html; charset=utf-8", self.inject(path.read_text("utf-8"))
        if not path.exists() and job is not None:
            waiting = _page(job.job_id, "<p>Not built yet: the preview is building it.</p>")
            return 404, "text/html; charset=utf-8", self.inject(waiting)
        return None

    def failure(self, job: Job) -> str | None:
        """An error page for a job whose last build failed (None when it did not)."""
        try:
            record = json.loads((self.reports_dir / job.stamp).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("status") != "failed":
            return None
        parts = [f"<p><strong>The build of {html_lib.escape(job.job_id)} failed:</strong> "]
        parts.append(f"{html_lib.escape(str(record.get('error') or ''))}</p>")
        parts += self._failed_cells(job)
        log = self.reports_dir / job.log
        if log.is_file():
            parts.append(f"<details><summary>{html_lib.escape(job.log)}</summary><pre>")
            parts.append(html_lib.escape(log.read_text("utf-8", "replace")[-20000:]))
            parts.append("</pre></details>")
        return _page(f"{job.job_id}: failed", "".join(parts))

    def _failed_cells(self, job: Job) -> list[str]:
        """The source and traceback of each cell of the kept notebook that has an error."""
        path = self.reports_dir / job.outputs()["ipynb"]
        try:
            nb = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return []
        shown = []
        for index, cell in enumerate(nb.get("cells", [])):
            for output in cell.get("outputs", []):
                if output.get("output_type") != "error":
                    continue
                source = "".join(cell.get("source", ""))
                trace = "\n".join(output.get("traceback") or [])
                trace = _ANSI.sub("", trace) or f"{output.get('ename')}: {output.get('evalue')}"
                where = f"cell {cell.get('execution_count') or '#' + str(index)}"
                where += f" (id {cell.get('id')})" if cell.get("id") else ""
                shown.append(
                    f"<h2>{html_lib.escape(where)}</h2><pre class='source'>"
                    f"{html_lib.escape(source)}</pre><pre class='traceback'>"
                    f"{html_lib.escape(trace)}</pre>"
                )
        return shown

    def inject(self, page: str) -> bytes:
        """The page with the reload script (and a banner of errors) before its </body>."""
        extra = RELOAD_SCRIPT
        if self.state.errors:
            items = "".join(f"<li>{html_lib.escape(e)}</li>" for e in self.state.errors)
            extra = (
                '<div data-analysis-preview style="position:fixed;top:0;left:0;right:0;'
                "background:#fde2e1;color:#5c0000;padding:0.5em 1em;font:14px sans-serif;"
                f'z-index:9999"><strong>analysis preview:</strong><ul>{items}</ul></div>' + extra
            )
        matches = list(_BODY_END.finditer(page))
        if matches:
            at = matches[-1].start()
            page = page[:at] + extra + page[at:]
        else:
            page += extra
        return page.encode("utf-8")


def _page(title: str, body: str) -> str:
    style = (
        "body{font:15px/1.45 sans-serif;margin:2em auto;max-width:60em;padding:0 1em}"
        "pre{background:#f6f6f6;padding:0.8em;overflow:auto;white-space:pre-wrap}"
        "pre.traceback{background:#fff0f0}"
    )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html_lib.escape(title)}'
        f"</title><style>{style}</style></head><body><h1>{html_lib.escape(title)}</h1>"
        f"{body}</body></html>\n"
    )


def make_handler(site: Site) -> type[http.server.BaseHTTPRequestHandler]:
    """A request handler serving `site` (files read-only, pages with the reload script)."""
    state = site.state

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site.reports_dir), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # no line per request in the terminal

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            url = urllib.parse.urlsplit(self.path)
            if url.path == EVENTS_PATH:
                return self._events(urllib.parse.parse_qs(url.query).get("page", [""])[0])
            if url.path == STATUS_PATH:
                body = json.dumps(
                    {
                        "generation": state.generation,
                        "building": state.building,
                        "errors": state.errors,
                    }
                ).encode()
                return self._send(200, "application/json", body)
            page = site.page(url.path)
            if page is not None:
                return self._send(*page)
            if site.file(url.path) is None:
                return self._send(404, "text/plain; charset=utf-8", b"not found\n")
            return super().do_GET()

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def _events(self, page: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            with state.changed:
                state.open_pages[page] = state.open_pages.get(page, 0) + 1
            try:
                sent = None
                while True:
                    with state.changed:
                        if state.generation == sent and not state.stopping:
                            state.changed.wait(15)
                        if state.stopping:
                            return
                        generation = state.generation
                    if generation != sent:
                        self.wfile.write(f"retry: 500\ndata: {generation}\n\n".encode())
                        sent = generation
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except OSError:  # the browser went away
                return
            finally:
                with state.changed:
                    state.open_pages[page] -= 1
                    if not state.open_pages[page]:
                        del state.open_pages[page]

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False


# --------------------------------------------------------------------------- the session


class Preview:
    """One preview session: the lock, the server, the watcher and the warm workers."""

    def __init__(self, options: PreviewOptions, stream: Any = None) -> None:
        self.options = options
        self.stream = stream if stream is not None else sys.stdout
        build_options = options.build
        self.spec = load_spec(build_options.reports_file)
        build_options = replace(
            build_options,
            reports_dir=build_options.reports_dir or self.spec.root / PREVIEW_DIR,
            formats=tuple(build_options.formats) or PREVIEW_FORMATS,
        )
        self.options = options = replace(options, build=build_options)
        select(self.spec, build_options.only, build_options.params)  # validates the selection
        self.ctx = Context(self.spec, build_options)
        self.reports_dir = self.ctx.reports_dir
        self.package_dir = self.ctx.hasher.package_dir
        jobs = make_jobs(select(self.spec, build_options.only, build_options.params))
        check_reports_dir(self.spec, self.reports_dir, jobs, self.package_dir)
        prepare_reports_dir(self.reports_dir)
        self.state = State()
        self.watcher = Watcher(build_options, self.spec, self.package_dir)
        self.executor: Any = None
        self.lock: BuildLock | None = None
        self.server: Server | None = None
        self.changes: list[set[Path]] = []
        self.pending = threading.Condition()
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> None:
        """Take the lock, open the port and start watching (no build yet)."""
        self.lock = BuildLock(self.reports_dir, stream=self.stream).acquire()
        try:
            site = Site(self.reports_dir, self.state, self.ctx.all_jobs)
            self.server = Server((self.options.host, self.options.port), make_handler(site))
        except OSError as exc:
            self.lock.release()
            raise BuildError(
                f"cannot listen on {self.options.host}:{self.options.port} "
                f"({exc.strerror or exc}); give another --port, or 0 for a free one."
            ) from None
        serving = threading.Thread(target=self.server.serve_forever, daemon=True, name="serve")
        watching = threading.Thread(target=self._watch, daemon=True, name="watch")
        self._threads = [serving, watching]
        for thread in self._threads:
            thread.start()

    def _watch(self) -> None:
        import watchfiles

        paths = self.watcher.paths()
        for batch in watchfiles.watch(
            *paths,
            debounce=400,
            step=30,
            stop_event=self.stop_event,
            rust_timeout=500,
            yield_on_timeout=False,
            raise_interrupt=False,
        ):
            found = {Path(path) for _, path in batch}
            found = {path for path in found if self.watcher.relevant(path)}
            if found:
                with self.pending:
                    self.changes.append(found)
                    self.pending.notify_all()

    def _executor(self, restart: bool) -> Any:
        from .executors import WarmExecutor

        if restart and self.executor is not None:
            self.executor.close()
            self.executor = None
        if self.executor is None:
            jobs = self.watcher.selected()
            kernels = tuple(
                dict.fromkeys(
                    (job.report.kernel, str(job.report.notebook.resolve().parent)) for job in jobs
                )
            )
            workers = self.options.build.jobs or 1
            self.executor = WarmExecutor(workers, _warm_imports(jobs), kernels)
            self.executor.start()
        return self.executor

    def rebuild(self, job_ids: Sequence[str] | None, restart: bool = False) -> Any:
        """Build `job_ids` (None: the whole selection) with the engine, on the warm workers."""
        with self.state.changed:
            self.state.building = True
        out = io.StringIO()
        options = replace(
            self.options.build,
            reports_file=self.watcher.reports_file,
            job_ids=tuple(job_ids or ()),
            stream=out,
            verbosity=QUIET,
        )
        executor = self._executor(restart)
        started = time.perf_counter()
        try:
            summary = build(options, executor=executor)
        except (SpecError, BuildError) as exc:  # an edit made the spec or a name invalid
            self.state.bump([str(exc)])
            self._say(f"error: {exc}")
            return None
        if summary.interrupted:
            self.executor = None  # the engine terminated its workers
            raise KeyboardInterrupt
        failed = [job_id for job_id, _ in summary.failed]
        elapsed = time.perf_counter() - started
        self._say(
            f"{len(summary.built)} built, {len(summary.skipped)} up to date in {elapsed:.1f} s"
            + (f"; failed: {', '.join(failed)}" if failed else "")
        )
        errors = [f"{job_id}: {error}" for job_id, error in summary.failed]
        if summary.stopped:
            errors.append(summary.stopped)
        self.state.bump(errors)
        return summary

    def _say(self, text: str) -> None:
        print(f"[preview] {text}", file=self.stream, flush=True)

    def _next_batch(self) -> set[Path]:
        with self.pending:
            while not self.changes:
                self.pending.wait(0.5)
            found: set[Path] = set()
            while self.changes:
                found |= self.changes.pop(0)
        return found

    def loop(self) -> None:
        """Build once, then rebuild after each batch of changes, until interrupted."""
        self._say(f"serving {_rel(self.reports_dir, Path.cwd())} at {self.url}")
        self._say("building what is not up to date ...")
        self.rebuild(None)
        self._say("watching for changes (Ctrl-C to stop)")
        while True:
            batch = self._next_batch()
            plan = self.watcher.plan(batch)
            if plan.errors:
                self.state.bump(plan.errors)
                for error in plan.errors:
                    self._say(f"error: {error}")
                continue
            if not plan.job_ids:
                continue
            self.rebuild(self._first_open(plan.job_ids), restart=plan.restart)

    def _first_open(self, job_ids: list[str]) -> list[str]:
        """The jobs whose pages are open in a browser go first."""
        open_pages = {p.lstrip("/") for p in self.state.open_pages}
        html = {job.job_id: job.outputs().get("html") for job in self.watcher.selected()}
        return sorted(job_ids, key=lambda job_id: html.get(job_id) not in open_pages)

    def close(self) -> None:
        """Stop everything this session started (idempotent)."""
        self.stop_event.set()
        self.state.stop()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.executor is not None:
            self.executor.close()
            self.executor = None
        for thread in self._threads:
            thread.join(timeout=5)
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def _on_sigterm(signum: int, frame: object) -> None:
    raise Interrupted()


def preview(options: PreviewOptions, stream: Any = None) -> int:
    """Run `analysis preview` until Ctrl-C or SIGTERM; return the exit status (0)."""
    session = Preview(options, stream)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        session.start()
        session.loop()
    except (KeyboardInterrupt, Interrupted):
        session._say("stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)
        session.close()
    return 0
