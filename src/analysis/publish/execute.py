"""Run one notebook through papermill's Python API, in a worker process, and clean the result.

What is done here, and why:

- The kernel is started by the worker itself, before papermill and nbconvert are imported, and
  is sent a silent `import` of the modules the notebooks import: the kernel boots and loads
  pandas/matplotlib on one core while the worker loads its own libraries on the other. A local
  worker then starts the next job's kernel while it exports the current one.
- The kernel is shut down immediately (no graceful wait, which stalls several seconds); a
  local worker does it just after it has sent the job's result.
- `jsonschema` builds an Earley parser for the RFC 3987 "iri" format at import time (about a
  second here); no notebook schema uses that format, so workers block the optional module
  `rfc3987_syntax`, which jsonschema then skips.
- Parameters are injected as readable Python literals ("江苏", not "\\u6c5f\\u82cf").
- Volatile metadata (papermill and nbclient timings, paths, random cell ids of inserted
  cells, the interpreter's patch version) is removed so that the same inputs give the same
  bytes in any output folder and on any supported Python.
- A kernel that fails to start is retried once; one that dies or exceeds the per-cell time
  limit (`Task.cell_timeout`, `--cell-timeout`) while a cell runs fails the job with the
  notebook executed so far, which the engine keeps like that of a cell that raised.
- Charts (`analysis.report.charts`) are saved into a staging folder of the kernel's own, named by
  `$ANALYSIS_FIGURES_DIR` (`analysis.paths.figures_dir`), and travel back in the Result as
  bytes, like the HTML and PDF: the engine writes them into `<reports-dir>/figures/` and lists
  them under the job in the manifest. See `Kernel` for why the folder belongs to the kernel.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..paths import FIGURE_FORMATS_FILE, FIGURES_ENV

INJECTED_TAG = "injected-parameters"
ERROR_TAG = "papermill-error-cell-tag"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
STARTUP_TIMEOUT = 120  # seconds for a kernel to start and import the warm-up modules
CELL_TIMEOUT = 300  # default seconds one cell may run (`analysis build --cell-timeout`)
ENGINE = "analysis"  # papermill's nbclient engine that lets a failed run's notebook be kept
# Lines every kernel prints on start: not worth a place in a job's log.
_KERNEL_NOISE = ("Kernel is running over TCP without encryption",)

# Environment of every kernel: fixed hash seed and source date, no Jupyter debugger warnings.
KERNEL_ENV = {
    "PYTHONHASHSEED": "0",
    "SOURCE_DATE_EPOCH": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


@dataclass(frozen=True)
class Task:
    """Everything a worker needs to run one job (picklable, so it can travel to Dask)."""

    job_id: str
    notebook: str  # absolute path
    params: dict[str, Any]
    kernel: str
    cwd: str  # the kernel's working directory: the notebook's folder
    root: str  # the repository (or test) root, removed from paths in outputs
    mode: str = "report"  # "report": execute and export; "commit": execute in place, no export
    formats: tuple[str, ...] = ("html", "pdf")
    export: dict[str, Any] = field(default_factory=dict)  # title, citation, lang, footer, ...
    warm_imports: tuple[str, ...] = ()
    prestart_next: bool = False  # start a kernel for a later job while this one is exported
    cell_timeout: int = CELL_TIMEOUT  # seconds one cell may run before the job fails
    # The files each chart is saved as (reports.toml `figures`); () leaves the notebook's own.
    figure_formats: tuple[str, ...] = ()


@dataclass
class Result:
    """What a worker sends back: the bytes of every output, or the failure."""

    job_id: str
    ok: bool
    error: str = ""
    notebook: bytes | None = None
    html: bytes | None = None
    pdf: bytes | None = None
    docx: bytes | None = None
    title: str = ""
    log: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    # The files the notebook saved in its figures folder (relative POSIX path -> bytes); only
    # for a job that succeeded: a failed job's charts are not kept.
    figures: dict[str, bytes] = field(default_factory=dict)


# --------------------------------------------------------------------------- process set-up

_PREPARED = False


def prepare_process() -> None:
    """Make this process cheap to start jobs in (idempotent; see the module docstring)."""
    global _PREPARED
    if _PREPARED:
        return
    _PREPARED = True
    # An import of a module mapped to None raises ImportError, which jsonschema catches.
    if "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    os.environ.setdefault("NBFORMAT_VALIDATOR", "fastjsonschema")


class KernelStartError(Exception):
    """The kernel failed before the notebook's first cell started (worth one retry)."""


class _JobLog(logging.Handler):
    """Sends papermill's and nbclient's messages into the log of the job that is running,
    rather than to the build's terminal, where they would name no job."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        lines = getattr(self.local, "lines", None)
        if lines is not None:
            lines.append(record.getMessage())


_PAPERMILL_LOG = _JobLog()
_RUNNING = threading.local()  # the papermill execution manager of this thread's notebook

# Where papermill writes the executed notebook: this process's memory (`_KeptOutput`).
OUTPUT_SCHEME = "analysis-output:"


class _KeptOutput:
    """papermill's I/O handler for `OUTPUT_SCHEME`: the notebook it writes is kept in memory,
    by thread, for the build to read back (`kept_output`) as it read the file before.

    papermill writes the executed notebook (as JSON) once, when it ends (with the failing cell
    marked, when one raised: the build saves no notebook along the way), and the build read it
    back. It went to a file in a temporary folder of its
    own, and a worker killed during a job (`kill -9`, or the build's main process killed) left
    that folder behind: one in /tmp for each such job, never removed. The JSON is the same, so
    is the notebook read from it; only the folder and the file are gone.
    """

    @staticmethod
    def write(buf: str, path: str) -> None:
        _RUNNING.output = buf

    @staticmethod
    def read(path: str) -> str:
        raise OSError(f"{path}: papermill reads no notebook from the build's output scheme")

    @staticmethod
    def listdir(path: str) -> list[str]:
        raise OSError(f"{path}: not a folder")

    @staticmethod
    def pretty_path(path: str) -> str:
        return path


def kept_output() -> Any:
    """The notebook papermill wrote last in this thread (`_KeptOutput`), read as a file is."""
    import nbformat

    buf = getattr(_RUNNING, "output", None)
    if buf is None:
        raise RuntimeError("papermill wrote no notebook")
    return nbformat.reads(buf, as_version=4)


def _import_libraries() -> None:
    import papermill  # noqa: F401
    import papermill.translators as translators
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import papermill_io

    translators.papermill_translators.register("python", readable_translator())

    class KeepingEngine(NBClientEngine):
        """papermill's nbclient engine that remembers the notebook being executed.

        papermill returns the executed notebook only when every cell ran or one raised; a
        kernel that dies or times out raises through it and takes the notebook with it. The
        execution manager holds that notebook, cell outputs so far included.
        """

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            _RUNNING.manager = nb_man
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(ENGINE, KeepingEngine)
    papermill_io.register(OUTPUT_SCHEME, _KeptOutput)
    # Parameters are validated before any kernel starts; papermill's own guess (it cannot read
    # `Literal[...]` annotations) would only add false warnings.
    logger = logging.getLogger("papermill")
    logger.setLevel(logging.ERROR)
    logger.addHandler(_PAPERMILL_LOG)
    logger.propagate = False


def python_literal(value: Any) -> str:
    """A valid Python literal for a parameter value that keeps non-ASCII text readable."""
    if isinstance(value, str):
        text = repr(value)  # repr escapes only what must be escaped; 江苏 stays 江苏
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1] + '"'
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    return repr(value)


def parameters_source(params: dict[str, Any]) -> str:
    """The source of the injected parameters cell."""
    lines = ["# Parameters"] + [f"{name} = {python_literal(v)}" for name, v in params.items()]
    return "\n".join(lines) + "\n"


def readable_translator() -> type:
    """papermill's Python translator with readable string literals."""
    from papermill.translators import PythonTranslator

    class ReadablePythonTranslator(PythonTranslator):
        @classmethod
        def translate_str(cls, val: str) -> str:
            return python_literal(val)

        @classmethod
        def translate_escaped_str(cls, str_val: Any) -> str:
            return python_literal(str(str_val))

        @classmethod
        def codify(cls, parameters: dict[str, Any], comment: str = "Parameters") -> str:
            return parameters_source(parameters)

    return ReadablePythonTranslator


# --------------------------------------------------------------------------- kernels


def _warm_code(modules: Sequence[str]) -> str:
    # Runs silently in the user namespace, so it deletes the names it made; a module that
    # fails to import is left for the notebook to report in its own cell. Like the template
    # process (`zygote.warm_up`), it follows each module's `WARM_IMPORTS`.
    return (
        "def __analysis_warm(names):\n"
        "    import importlib\n"
        "    seen = set()\n"
        "    while names:\n"
        "        name = names.pop(0)\n"
        "        if name in seen:\n"
        "            continue\n"
        "        seen.add(name)\n"
        "        try:\n"
        "            module = importlib.import_module(name)\n"
        "        except Exception:\n"
        "            continue\n"
        "        names += [str(n) for n in getattr(module, 'WARM_IMPORTS', ())]\n"
        f"__analysis_warm({list(modules)!r})\n"
        "del __analysis_warm\n"
    )


def _stop_manager(km: Any) -> None:
    """Kill a manager's kernel now and remove its connection file (either may be gone)."""
    from jupyter_core.utils import run_sync

    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # already dead, or never started: nothing to stop
        pass
    try:
        run_sync(km.cleanup_resources)()
    except Exception:
        pass


class Kernel:
    """A started kernel with its manager, possibly still warming up.

    Each kernel gets a new, empty staging folder for charts (`figures`), passed to it as
    `$ANALYSIS_FIGURES_DIR` in its environment. It is the kernel's rather than the job's
    because a kernel's environment is fixed when it starts, and a spare kernel starts before
    its job is known; a kernel runs exactly one notebook, so the folder holds exactly what that
    job saved, whatever file names it used, without relying on file times. The folder is on
    the machine of the worker (a Dask worker may not see the reports folder) and is removed
    with the kernel.
    """

    def __init__(
        self, name: str, cwd: str, warm_imports: Sequence[str], zygote: Any = None
    ) -> None:
        from jupyter_client import BlockingKernelClient
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.name, self.cwd = name, cwd
        self.figures = tempfile.mkdtemp(prefix="analysis-figures-")
        env = {**os.environ, **KERNEL_ENV, FIGURES_ENV: self.figures}
        # The kernel's own messages go to the job's log, not to the build's terminal.
        fd, self.console_path = tempfile.mkstemp(prefix="analysis-kernel-", suffix=".log")
        os.close(fd)
        try:
            if zygote is not None:
                from .zygote import manager_class

                self.km = manager_class()(kernel_name=name)
                self.km.zygote = zygote
                self.km.console_path = self.console_path
                run_sync(self.km.start_kernel)(cwd=cwd, env=env)
                warm_imports = ()  # the zygote imported them
            else:
                from .zygote import client_class

                self.km = AsyncKernelManager(kernel_name=name)
                self.km.client_factory = client_class()
                with open(self.console_path, "ab") as console:
                    run_sync(self.km.start_kernel)(cwd=cwd, env=env, stdout=console, stderr=console)
        except BaseException:  # no kernel: nothing will shut it down and clean up after it
            # (also a SIGTERM half-way through the start: the connection file is written)
            if getattr(self, "km", None) is not None:
                _stop_manager(self.km)
            Path(self.console_path).unlink(missing_ok=True)
            shutil.rmtree(self.figures, ignore_errors=True)
            raise
        # The warm-up runs in a thread that waits for its reply: a second client (nbclient's)
        # that connects while the kernel is still busy with it can wait forever for
        # kernel_info, so `ready()` joins the thread before the kernel is handed over.
        self._warm_thread = None
        if warm_imports:
            info = self.km.get_connection_info(session=True)
            for key in ("curve_publickey", "curve_secretkey"):
                if isinstance(info.get(key), str):
                    info[key] = info[key].encode("ascii")
            code = _warm_code(warm_imports)
            self._warm_thread = threading.Thread(
                target=self._warm, args=(BlockingKernelClient(**info), code), daemon=True
            )
            self._warm_thread.start()

    def _warm(self, client: Any, code: str) -> None:
        try:
            client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
            msg_id = client.execute(code, silent=True, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while time.monotonic() < deadline:
                reply = client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    break
        except Exception:  # a kernel that died here fails the job visibly in nbclient
            pass
        finally:
            client.stop_channels()

    def ready(self) -> None:
        """Wait until the warm-up has finished (the kernel is then idle and responsive)."""
        if self._warm_thread is not None:
            self._warm_thread.join(STARTUP_TIMEOUT + 5)
            self._warm_thread = None

    def console_text(self) -> str:
        """What the kernel process printed itself (not cell output), minus known noise."""
        try:
            text = Path(self.console_path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        lines = [line for line in text.splitlines() if not any(n in line for n in _KERNEL_NOISE)]
        return "\n".join(lines)

    def set_figure_formats(self, formats: Sequence[str]) -> None:
        """Tell the job's charts which files to save (`paths.figure_formats` reads it).

        A file in the kernel's figures folder rather than its environment, which is fixed
        when the kernel starts, before a spare kernel knows its job; hidden, so it is not
        taken for a chart."""
        if formats:
            path = Path(self.figures) / FIGURE_FORMATS_FILE
            path.write_text(",".join(formats) + "\n", encoding="ascii")

    def saved_figures(self) -> dict[str, bytes]:
        """The files in the kernel's figures folder: relative POSIX path -> bytes, sorted.

        Hidden files (a `.name.tmp` left by a save that was cut short) and symbolic links are
        not charts and are left out.
        """
        folder = Path(self.figures)
        found = {}
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if path.is_file() and not path.is_symlink():
                found[rel.as_posix()] = path.read_bytes()
        return found

    def shutdown(self) -> None:
        """Kill the kernel now and remove its connection file and figures folder."""
        try:
            _stop_manager(self.km)
        finally:  # even when a SIGTERM cuts the shutdown short
            Path(self.console_path).unlink(missing_ok=True)
            shutil.rmtree(self.figures, ignore_errors=True)


def template_command(kernel: str) -> tuple[list[str] | None, dict[str, str]]:
    """The interpreter of `kernel`'s kernelspec (None when its kernels cannot be forked from
    a template process) and the environment a template process for it runs in."""
    from .zygote import interpreter, kernel_argv

    return interpreter(kernel_argv(kernel)), {**os.environ, **KERNEL_ENV}


class Runtime:
    """Per-process state of a worker: libraries loaded once, and the next job's kernel."""

    def __init__(self, warm_imports: Sequence[str] = (), use_zygote: bool = False) -> None:
        prepare_process()
        self.warm_imports = tuple(warm_imports)
        self.use_zygote = use_zygote
        self._zygotes: dict[str, Any] = {}
        self.spare: Kernel | None = None
        self.spare_key: tuple[str, str] | None = None
        self._libraries = False
        self._export_thread: threading.Thread | None = None
        # A local worker sends a job's result before it shuts down the job's kernel (`reap`):
        # the kernel has finished, and waiting for it to exit is not part of the job.
        self.defer_shutdown = False
        self._retired: list[Kernel] = []

    def zygote(self, kernel: str, cwd: str) -> Any:
        """The warm template process for `kernel` (None when forking is not possible)."""
        if not self.use_zygote:
            return None
        if kernel not in self._zygotes:
            from .zygote import Zygote

            python, env = template_command(kernel)
            # It imports in the notebooks' folder, where a new kernel would start.
            self._zygotes[kernel] = Zygote(python, self.warm_imports, env, cwd) if python else None
        return self._zygotes[kernel]

    def adopt_zygote(self, kernel: str, request_fd: int, reply_fd: int) -> None:
        """Fork `kernel`'s kernels through this worker's channel to a shared template process."""
        if self.use_zygote and kernel not in self._zygotes:
            from .zygote import Channel

            self._zygotes[kernel] = Channel(request_fd, reply_fd)

    def _new_kernel(self, kernel: str, cwd: str) -> Kernel:
        zygote = self.zygote(kernel, cwd)
        if zygote is not None:
            try:
                return Kernel(kernel, cwd, self.warm_imports, zygote)
            except Exception:
                # A template process that failed is not worth a failed job: start kernels the
                # usual way from now on.
                zygote.close()
                self._zygotes[kernel] = None
        return Kernel(kernel, cwd, self.warm_imports)

    def start_spare(self, kernel: str, cwd: str) -> None:
        """Start a kernel for a job that has not arrived yet."""
        if self.spare is None:
            self.spare = self._new_kernel(kernel, cwd)
            self.spare_key = (kernel, cwd)

    def kernel_for(self, kernel: str, cwd: str) -> Kernel:
        """The spare kernel when it fits, else a new one."""
        if self.spare is not None and self.spare_key == (kernel, cwd):
            chosen, self.spare, self.spare_key = self.spare, None, None
            return chosen
        if self.spare is not None:
            self.spare.shutdown()
            self.spare, self.spare_key = None, None
        return self._new_kernel(kernel, cwd)

    def libraries(self) -> None:
        """Import papermill (once per process)."""
        if not self._libraries:
            _import_libraries()
            self._libraries = True

    def prepare_export(self) -> None:
        """Load nbconvert, WeasyPrint and the font in a thread, while the kernel works.

        The worker mostly waits on the kernel's sockets while a notebook runs, so this costs
        the critical path of a job nothing once the kernel is busy.
        """
        if self._export_thread is None and not _PRELOADED["export"]:
            from . import export

            self._export_thread = threading.Thread(target=export.prepare, daemon=True)
            self._export_thread.start()

    def export_ready(self) -> None:
        """Wait for `prepare_export` to finish."""
        if self._export_thread is not None:
            self._export_thread.join()

    def retire(self, kernel: Kernel) -> None:
        """Shut down a kernel whose notebook has finished: now, or at `reap` when deferred."""
        if self.defer_shutdown:
            self._retired.append(kernel)
        else:
            kernel.shutdown()

    def reap(self) -> None:
        """Shut down the kernels retired since the last call."""
        while self._retired:
            # Listed until shut down: a SIGTERM meanwhile leaves it to `close` to finish.
            self._retired[-1].shutdown()
            self._retired.pop()

    def close(self) -> None:
        """Shut down the spare kernel and the template processes."""
        self.reap()
        if self.spare is not None:
            self.spare.shutdown()
            self.spare, self.spare_key = None, None
        for zygote in self._zygotes.values():
            if zygote is not None:
                zygote.close()
        self._zygotes.clear()


_RUNTIME: Runtime | None = None
_PRELOADED = {"libraries": False, "export": False}


def preload(export: bool) -> None:
    """Load, in a build's main process, what each worker it forks would load for itself:
    papermill, nbclient and jupyter_client, and with `export` nbconvert, WeasyPrint and the
    fonts, warmed up (`export.prepare`). Forked, every worker has them at once, for the CPU
    of one load instead of one per worker (about 0.7 s each). The loaded objects are frozen
    out of the collector's reach (as in the template process, `zygote._freeze`), so that
    the workers' collections neither walk them nor copy the pages they sit on."""
    import gc

    prepare_process()
    if not _PRELOADED["libraries"]:
        _import_libraries()
        from .zygote import manager_class

        manager_class()
        _PRELOADED["libraries"] = True
    if export and not _PRELOADED["export"]:
        from . import export as exporter

        try:
            exporter.prepare()
            _PRELOADED["export"] = True
        except Exception:  # each worker then prepares for itself, and a job that cannot be
            pass  # exported says why in its own log, as before this preload
    gc.collect()
    gc.freeze()


def runtime(warm_imports: Sequence[str] = (), use_zygote: bool = False) -> Runtime:
    """The process's Runtime (created on first use)."""
    global _RUNTIME
    if _RUNTIME is None:
        _RUNTIME = Runtime(warm_imports, use_zygote)
    return _RUNTIME


# --------------------------------------------------------------------------- notebooks


def _relativise(text: str, root: str) -> str:
    prefix = root.rstrip("/") + "/"
    return text.replace(prefix, "")


def normalise_notebook(nb: Any, root: str, *, commit: bool) -> Any:
    """Remove everything from an executed notebook that changes from one run to the next.

    `commit=True` gives the form committed in notebooks/: no papermill metadata at all.
    Execution counts become 1..n in cell order, inserted cells get fixed ids, and the root
    folder is removed from paths printed in outputs.

    Nor does a notebook record where it was written (papermill's `output_path`: the same job
    built into two folders gives the same bytes) or a notebook path outside the root, or the
    interpreter's version (`language_info.version`: 3.11, 3.12 and 3.13 kernels give the
    same bytes; the build's manifest records the interpreter).
    """
    nb = copy.deepcopy(nb)
    meta = nb.metadata
    meta.pop("widgets", None)
    language = meta.get("language_info")
    if isinstance(language, dict):
        language.pop("version", None)
    papermill = meta.get("papermill")
    if commit or papermill is None:
        meta.pop("papermill", None)
    else:
        for key in ("start_time", "end_time", "duration", "environment_variables"):
            papermill.pop(key, None)
        papermill.pop("output_path", None)
        source = _relativise(str(papermill.pop("input_path", "") or ""), root)
        if source and not os.path.isabs(source):
            papermill["input_path"] = source
        if not papermill.get("exception"):
            papermill.pop("exception", None)
    count = 0
    error_cells = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        tags = cell.metadata.get("tags", [])
        pm = cell.metadata.pop("papermill", None)
        if pm and pm.get("exception") and not commit:
            cell.metadata["papermill"] = {"exception": True, "status": "failed"}
        if not tags and "tags" in cell.metadata:
            del cell.metadata["tags"]
        if INJECTED_TAG in tags:
            cell["id"] = "injected-parameters"
        elif ERROR_TAG in tags:
            cell["id"] = f"papermill-error-{error_cells}"
            error_cells += 1
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is not None:
            count += 1
            cell.execution_count = count
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = cell.execution_count
            if output.get("output_type") == "stream":
                output["text"] = _relativise(output["text"], root)
            elif output.get("output_type") == "error":
                output["traceback"] = [_relativise(line, root) for line in output["traceback"]]
    return nb


def notebook_bytes(nb: Any) -> bytes:
    """Serialise a notebook the way Jupyter does (sorted keys, indent 1, final newline)."""
    import nbformat

    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def _error_summary(nb: Any) -> str:
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                number = cell.get("execution_count")
                where = f"cell {number}" if number else f"cell #{index}"
                return f"{output.get('ename')}: {output.get('evalue')} ({where})"
    return "the notebook stopped with an error"


def _streams(nb: Any) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(f"[{output['name']}] {output['text']}")
            elif output.get("output_type") == "error":
                parts.append(_ANSI.sub("", "\n".join(output.get("traceback", []))) + "\n")
    return "".join(parts)


def _running_cell(nb: Any) -> int | None:
    """The index of the cell papermill started last (None when none started)."""
    started = None
    for index, cell in enumerate(nb.cells):
        if (cell.metadata.get("papermill") or {}).get("start_time"):
            started = index
    return started


def _cell_number(nb: Any, index: int) -> int:
    """A cell's number as the build's messages give it: its place among the code cells
    (counting the injected parameters cell), the execution count it would get in order."""
    return 1 + sum(1 for cell in nb.cells[:index] if cell.cell_type == "code")


def _stopped(nb: Any, index: int, exc: BaseException, timeout: int) -> str:
    """Mark the cell that was running when `exc` stopped the notebook; return the job's error.

    The cell gets an error output saying what happened, as a cell that raised has its
    traceback, so that the kept notebook shows where and why the run ended.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_output

    number = _cell_number(nb, index)
    if isinstance(exc, DeadKernelError):
        error = f"the kernel died while running cell {number}"
        detail = "the kernel process ended (killed, out of memory, or crashed)"
    elif isinstance(exc, CellTimeoutError) and "Timeout waiting for IOPub" in str(exc):
        error = f"cell {number} finished, but its output did not arrive in time (nbclient: "
        error += "Timeout waiting for IOPub output)"
        detail = error
    elif isinstance(exc, CellTimeoutError):
        error = f"cell {number} did not finish within {timeout} s (--cell-timeout)"
        detail = f"the cell ran for more than {timeout} s and was stopped (--cell-timeout)"
    else:
        summary = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        error = f"the notebook stopped while running cell {number}: {type(exc).__name__}"
        error += f": {summary}" if summary else ""
        detail = error
    cell = nb.cells[index]
    cell.setdefault("outputs", []).append(
        new_output("error", ename=type(exc).__name__, evalue=detail, traceback=[])
    )
    cell.metadata["papermill"] = {**cell.metadata.get("papermill", {}), "exception": True}
    cell.metadata["papermill"]["status"] = "failed"
    nb.metadata.setdefault("papermill", {})["exception"] = True
    return error


def execute(
    task: Task, rt: Runtime, timings: dict[str, float]
) -> tuple[Any, bool, str, str, dict[str, bytes]]:
    """Run the task's notebook; return (executed notebook, ok, error summary, kernel console,
    the files it saved in its figures folder: only for a report, not for `--update-notebooks`).

    Raises KernelStartError when the kernel failed before the first cell started. A kernel
    that dies, or a cell that runs past `task.cell_timeout`, once the notebook has started is
    a failure of the job (ok False) that returns the notebook executed so far.
    """
    # Whatever boots the kernel (a new process, or the template process it is forked from)
    # starts first; this process loads its own libraries meanwhile.
    started = time.perf_counter()
    kernel = None
    try:
        kernel = None if rt.use_zygote else rt.kernel_for(task.kernel, task.cwd)
        if kernel is None:
            rt.zygote(task.kernel, task.cwd)
    except Exception as exc:
        raise KernelStartError(f"{type(exc).__name__}: {exc}") from exc
    timings["kernel_start"] = time.perf_counter() - started
    console = ""
    figures: dict[str, bytes] = {}
    try:
        started = time.perf_counter()
        if task.mode == "report" and task.formats:
            rt.prepare_export()
        rt.libraries()
        timings["libraries"] = time.perf_counter() - started
        started = time.perf_counter()
        try:
            if kernel is None:
                kernel = rt.kernel_for(task.kernel, task.cwd)
            kernel.ready()
            kernel.set_figure_formats(task.figure_formats)
        except Exception as exc:
            raise KernelStartError(f"{type(exc).__name__}: {exc}") from exc
        timings["kernel_wait"] = time.perf_counter() - started
        import papermill
        from papermill.exceptions import PapermillExecutionError

        ok, error = True, ""
        started = time.perf_counter()
        _RUNNING.manager = _RUNNING.output = None
        try:
            papermill.execute_notebook(
                task.notebook,
                f"{OUTPUT_SCHEME}executed.ipynb",
                parameters=task.params or None,
                engine_name=ENGINE,
                kernel_name=task.kernel,
                language="python",
                progress_bar=False,
                request_save_on_cell_execute=False,
                km=kernel.km,
                record_timing=False,
                shutdown_kernel="immediate",
                start_timeout=STARTUP_TIMEOUT,
                execution_timeout=task.cell_timeout,
            )
            nb = kept_output()
        except PapermillExecutionError:
            ok = False
            nb = kept_output()
            error = _error_summary(nb)
        except Exception as exc:
            manager, _RUNNING.manager = _RUNNING.manager, None
            index = None if manager is None else _running_cell(manager.nb)
            if index is None:  # no cell started: the kernel did not come up
                raise KernelStartError(f"{type(exc).__name__}: {exc}") from exc
            ok, nb = False, manager.nb
            error = _stopped(nb, index, exc, task.cell_timeout)
        finally:
            _RUNNING.manager = _RUNNING.output = None
        timings["run"] = time.perf_counter() - started
        if task.mode == "report":
            figures = kernel.saved_figures()
    finally:
        if kernel is not None:
            try:
                console = kernel.console_text()
            finally:
                rt.retire(kernel)
    return nb, ok, error, console, figures


def _prestart(task: Task, rt: Runtime) -> None:
    """Boot the next job's kernel while this one is exported."""
    if task.prestart_next:
        try:
            rt.start_spare(task.kernel, task.cwd)
        except Exception:
            rt.spare = None


def forget_words() -> None:
    """Drop this process's parsed words files (`report.lang.load_words` caches them).

    The export reads the page words of the report's language; a worker kept from one build to
    the next (`analysis preview`) must see a words file edited in between. A parse costs
    milliseconds. (Kernels are forked fresh for every job and read the files themselves.)
    """
    lang = sys.modules.get("analysis.report.lang")
    if lang is not None:
        lang.load_words.cache_clear()


def run_task(task: Task, rt: Runtime | None = None) -> Result:
    """Execute (and for reports, export) one job. Never raises: failures are in the Result."""
    rt = rt or runtime(task.warm_imports)
    forget_words()
    timings: dict[str, float] = {}
    log = io.StringIO()
    log.write(f"job {task.job_id}\nnotebook {_relativise(task.notebook, task.root)}\n")
    log.write(f"parameters {json.dumps(task.params, ensure_ascii=False, sort_keys=True)}\n")
    started = time.perf_counter()
    messages: list[str] = []
    _PAPERMILL_LOG.local.lines = messages
    try:
        try:
            nb, ok, error, console, figures = execute(task, rt, timings)
        except KernelStartError as first:
            # A kernel that dies before replying to kernel_info is a start-up accident seen
            # under load, not a property of the notebook: try once more with a fresh kernel.
            log.write(f"kernel start failed ({first}); retrying once\n")
            nb, ok, error, console, figures = execute(task, rt, timings)
    except KernelStartError as exc:  # twice: report, do not crash
        log.write(f"the kernel could not start, twice:\n{traceback.format_exc()}")
        _prestart(task, rt)
        return Result(task.job_id, False, f"the kernel could not start: {exc}", log=log.getvalue())
    except Exception as exc:  # a fault of the build itself: report, do not crash
        detail = "".join(traceback.format_exception_only(exc)).strip()
        log.write(f"execution failed:\n{traceback.format_exc()}")
        _prestart(task, rt)
        return Result(
            task.job_id, False, f"could not run the notebook: {detail}", log=log.getvalue()
        )
    finally:
        timings["execute"] = time.perf_counter() - started
        _PAPERMILL_LOG.local.lines = None
    _prestart(task, rt)
    nb = normalise_notebook(nb, task.root, commit=task.mode == "commit")
    result = Result(task.job_id, ok, error, notebook=notebook_bytes(nb), timings=timings)
    log.write("\n--- notebook output (stdout, stderr, tracebacks) ---\n")
    log.write(_streams(nb) or "(none)\n")
    if console.strip():
        log.write(f"\n--- kernel messages ---\n{_relativise(console, task.root)}\n")
    if messages:
        text = _relativise("\n".join(messages), task.root)
        log.write(f"\n--- papermill and nbclient messages ---\n{text}\n")
    if not ok:
        log.write(_figures_note(figures, False))
        log.write(f"\nFAILED: {error}\n")
        result.log = log.getvalue()
        return result
    if task.mode == "report" and task.formats:
        from . import export

        try:
            started = time.perf_counter()
            rt.export_ready()
            timings["export_wait"] = time.perf_counter() - started
            started = time.perf_counter()
            html, title = export.render_html(nb, task.export, notebook_dir=task.cwd)
            timings["html"] = time.perf_counter() - started
            result.title = title
            if "html" in task.formats:
                result.html = html.encode("utf-8")
            if "pdf" in task.formats:
                started = time.perf_counter()
                result.pdf = export.render_pdf(html, base_url=task.cwd)
                timings["pdf"] = time.perf_counter() - started
            if "docx" in task.formats:
                started = time.perf_counter()
                result.docx = export.render_docx(html)
                timings["docx"] = time.perf_counter() - started
        except Exception as exc:
            result.ok = False
            result.error = "export failed: " + "".join(traceback.format_exception_only(exc)).strip()
            log.write(f"\nexport failed:\n{traceback.format_exc()}")
    if result.ok:
        result.figures = figures
    log.write(_figures_note(figures, result.ok))
    log.write("\nok\n" if result.ok else f"\nFAILED: {result.error}\n")
    result.log = log.getvalue()
    return result


def _figures_note(figures: dict[str, bytes], kept: bool) -> str:
    """The log's line about the charts a job saved."""
    if not figures:
        return ""
    if kept:
        return f"\nfigures: {', '.join(figures)}\n"
    return f"\n{len(figures)} figure file(s) not kept: the job failed\n"
