"""Where jobs run: local worker processes (default) or a Dask distributed cluster.

An executor takes `execute.Task`s and calls back with `execute.Result`s; it never writes into
reports/ (the engine does, atomically), so a worker killed half-way leaves nothing behind.

Local: `--jobs N` long-lived processes (one per core and one more by default) that take the
next task from a shared queue. They are forked from the build's process once it has loaded
papermill, nbconvert and WeasyPrint (`execute.preload`), and fork their kernels from one
template process shared by them all (`zygote.SharedZygote`): both loaded once, not per worker.
Workers ignore SIGINT; on Ctrl-C or SIGTERM the engine terminates them and each kills its
kernels first. A
worker whose main process died (kill -9, the OOM killer) does the same on its own
(`zygote.die_with_parent`): nothing of a killed build is left running.

Dask (`pip install` the `dask` extra): `--executor dask --scheduler tcp://HOST:PORT`. Each
Dask worker must run the same environment and see the repository at the same path (the
notebooks and data are read there); the outputs travel back to this process as bytes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..errors import EnvironmentSetupError
from . import execute
from .execute import Result, Task

OnStart = Callable[[Task], None]
OnResult = Callable[[Task, Result], None]


class Executor(Protocol):
    """Runs tasks and reports each result as soon as it is known."""

    workers: int

    def run(self, tasks: Sequence[Task], on_start: OnStart, on_result: OnResult) -> None:
        """Run every task; call `on_result` once per task, in completion order."""

    def terminate(self) -> None:
        """Stop everything now (interrupt); results not yet reported are lost."""

    def close(self) -> None:
        """Release the workers once every result has been reported."""


def cores() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """One worker per core, and one more.

    A worker is not busy all the time: between the cells of a notebook it waits for its
    kernel's messages, and the kernel for the next cell. One worker per core left the cores
    idle 15 to 18 % of a full build (CPU time over wall time times cores); one more fills those
    gaps: on 2 cores, 68 jobs in 48.0 s instead of 53.7 s (`/usr/bin/time`, one run each, the
    same sources), at a peak of 1.4 GB (PSS, `bench/bench_build.py`) instead of 1.0 GB.
    """
    return cores() + 1


# --------------------------------------------------------------------------- local processes


def _sigterm_handler(results: multiprocessing.Queue) -> Callable[[int, object], None]:
    def on_sigterm(signum: int, frame: object) -> None:
        # Once only: a second SIGTERM (the parent watch, or the engine) must not cut short
        # the shutdown of the kernels that follows.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # Results not yet sent are dropped: nobody reads them any more, and waiting for a
        # full pipe to drain at exit would hang this process for good.
        results.cancel_join_thread()
        # SystemExit unwinds the worker: kernels are shut down in `finally` blocks.
        raise SystemExit(128 + signum)

    return on_sigterm


WORKER_GC_THRESHOLD = 10_000


def _worker_main(
    tasks: multiprocessing.Queue,
    results: multiprocessing.Queue,
    warm: tuple,
    kernels: tuple[tuple[str, str], ...] = (),
    parent: int = 0,
    channels: dict[str, tuple[int, int]] | None = None,
    others: Sequence[int] = (),
    scratch: str = "",
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine decides what Ctrl-C means
    if scratch:  # this worker's temporary files (its kernels' folders and logs) go there
        tempfile.tempdir = scratch
    signal.signal(signal.SIGTERM, _sigterm_handler(results))
    if parent:
        # SIGTERM when the main process dies, as if the engine had terminated the worker.
        from .zygote import die_with_parent

        die_with_parent(parent, signal.SIGTERM, watch=True)
    for fd in others:  # the other workers' channels to the shared template process
        os.close(fd)
    # The collector's youngest generation at 10,000 objects rather than 700: WeasyPrint makes
    # some hundred thousand short-lived objects per PDF, and collecting them every 700 cost
    # about 10 ms of a profile's 0.29 s PDF step (median of 8, two runs; 5,000 and 50,000
    # measured the same as 10,000). What the worker inherited is frozen (`execute.preload`).
    import gc

    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    from . import execute

    # Every kernel is forked from a warm template process: the build's shared one (through
    # this worker's channel, `channels`), or else one of this worker's own, started first of
    # all, since its imports are the longest wait before the first notebook can run.
    rt = execute.runtime(warm, use_zygote=True)
    rt.defer_shutdown = True
    try:
        for kernel, ends in (channels or {}).items():
            rt.adopt_zygote(kernel, *ends)
        for kernel, cwd in kernels:
            rt.zygote(kernel, cwd)
        while True:
            task = tasks.get()
            if task is None:
                break
            results.put(("start", task.job_id, os.getpid()))
            results.put(("done", execute.run_task(task, rt), os.getpid()))
            rt.reap()  # the finished job's kernel, once its result is on its way
    finally:
        rt.close()
        if scratch and parent and os.getppid() != parent:
            # The build's main process died, and with it what would remove the folder: the
            # last worker out removes it, once it is empty.
            with contextlib.suppress(OSError):
                os.rmdir(scratch)


class LocalExecutor:
    """A pool of worker processes on this machine."""

    def __init__(self, workers: int | None = None, warm_imports: Sequence[str] = ()) -> None:
        self.workers = max(1, workers or default_jobs())
        self.warm_imports = tuple(warm_imports)
        self._procs: list[multiprocessing.process.BaseProcess] = []
        self._shared: dict[str, Any] = {}  # kernel name -> zygote.SharedZygote
        self._scratch = ""  # the workers' temporary folder (`_new_scratch`)

    def _new_scratch(self) -> str:
        """A temporary folder for the workers' temporary files, removed by this process once
        they have ended (`_join`, `terminate`), also after a worker was killed.

        A worker killed with SIGKILL (or by the OOM killer) cannot clean up after itself: its
        kernels' figures folders and logs (`execute.Kernel`), made in the system's temporary
        folder, stayed there, three entries per killed job. Made here, they go with the build.
        """
        self._remove_scratch()
        self._scratch = tempfile.mkdtemp(prefix="analysis-build-")
        return self._scratch

    def _remove_scratch(self) -> None:
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = ""

    def _context(self) -> multiprocessing.context.BaseContext:
        # fork is the cheapest start, and safe while this process runs a single thread.
        method = "fork" if threading.active_count() == 1 else "spawn"
        return multiprocessing.get_context(method)

    def run(self, tasks: Sequence[Task], on_start: OnStart, on_result: OnResult) -> None:
        """Run the tasks on min(workers, tasks) processes."""
        if not tasks:
            return
        ctx = self._context()
        count = min(self.workers, len(tasks))
        by_id = {task.job_id: task for task in tasks}
        kernels = tuple(dict.fromkeys((task.kernel, task.cwd) for task in tasks))
        if ctx.get_start_method() == "fork":
            # Forked workers inherit what this process holds: one template process for them
            # all, and the libraries they load (`execute.preload`), loaded once, here, while
            # the template process imports its own on the other core.
            self._shared = _shared_zygotes(kernels, self.warm_imports, count)
            execute.preload(any(task.mode == "report" and task.formats for task in tasks))
        task_queue: multiprocessing.Queue = ctx.Queue()
        result_queue: multiprocessing.Queue = ctx.Queue()
        every = [fd for zygote in self._shared.values() for fd in zygote.all_fds()]
        scratch = self._new_scratch()
        self._procs = []
        for i in range(count):
            channels = {kernel: zygote.ends(i) for kernel, zygote in self._shared.items()}
            mine = {fd for pair in channels.values() for fd in pair}
            others = [fd for fd in every if fd not in mine]
            self._procs.append(
                ctx.Process(
                    target=_worker_main,
                    args=(task_queue, result_queue, self.warm_imports, kernels, os.getpid()),
                    kwargs={"channels": channels, "others": others, "scratch": scratch},
                    name=f"analysis-build-{i}",
                    daemon=True,
                )
            )
        for proc in self._procs:
            proc.start()
        for zygote in self._shared.values():
            zygote.release()
        # The tasks go in only once every worker is forked: the first `put` starts the queue's
        # feeder thread, and a fork after that copies a process with two threads (Python 3.12
        # warns of the deadlocks it can cause; the feeder may hold the queue's lock).
        for index, task in enumerate(tasks):
            # Only start a spare kernel when another task will still come to some worker.
            prestart = index < len(tasks) - count
            task_queue.put(_with_prestart(task, prestart))
        for _ in range(count):
            task_queue.put(None)
        self._collect(result_queue, by_id, on_start, on_result)
        # The workers exit on their own now; `close()` waits for them, after the engine has
        # written the manifest and the index.

    def _collect(
        self,
        result_queue: multiprocessing.Queue,
        by_id: dict[str, Task],
        on_start: OnStart,
        on_result: OnResult,
    ) -> None:
        """Report each task's result as it arrives (a dead worker's task as failed)."""
        running: dict[int, str] = {}
        pending = set(by_id)
        try:
            while pending:
                try:
                    kind, payload, pid = result_queue.get(timeout=0.5)
                except queue.Empty:
                    self._reap(running, pending, by_id, on_result)
                    continue
                if kind == "start":
                    running[pid] = payload
                    on_start(by_id[payload])
                else:
                    running.pop(pid, None)
                    pending.discard(payload.job_id)
                    on_result(by_id[payload.job_id], payload)
        except BaseException:
            self.terminate()
            raise

    def close(self) -> None:
        """Wait for the workers to exit."""
        self._join()

    def _reap(
        self, running: dict[int, str], pending: set[str], by_id: dict, on_result: OnResult
    ) -> None:
        """Turn a worker that died (killed, out of memory) into failed results."""
        for proc in self._procs:
            if proc.is_alive() or proc.exitcode in (0, None):
                continue
            job = running.pop(proc.pid, None)
            if job is not None and job in pending:
                pending.discard(job)
                on_result(
                    by_id[job],
                    Result(job, False, f"the worker process died (exit code {proc.exitcode})"),
                )
        if pending and not any(proc.is_alive() for proc in self._procs):
            for job in sorted(pending):
                on_result(by_id[job], Result(job, False, "no worker left to run this job"))
            pending.clear()

    def _join(self) -> None:
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():  # pragma: no cover - a worker stuck past its sentinel
                proc.kill()
                proc.join()
        self._procs = []
        self._close_shared()
        self._remove_scratch()

    def _close_shared(self) -> None:
        for zygote in self._shared.values():
            zygote.close()
        self._shared = {}

    def terminate(self) -> None:
        """SIGTERM every worker (they kill their kernels), then wait for them."""
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():  # pragma: no cover
                proc.kill()
                proc.join()
        self._procs = []
        self._close_shared()
        self._remove_scratch()


class WarmExecutor(LocalExecutor):
    """Local workers kept alive from one build to the next (`analysis preview`).

    Each worker keeps its template process (`zygote`), its loaded papermill, nbconvert and
    WeasyPrint, and a spare kernel forked for the next job, so a rebuild after an edit starts
    running cells at once. What they hold is only imports and the package's derived caches:
    the preview closes the executor and starts a new one when the package code, the lock or
    the data change (see `preview`), so no worker outlives the code it imported.
    """

    def __init__(
        self,
        workers: int | None,
        warm_imports: Sequence[str],
        kernels: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(workers, warm_imports)
        self.kernels = tuple(kernels)
        self._queues: tuple[multiprocessing.Queue, multiprocessing.Queue] | None = None

    def start(self) -> None:
        """Start the workers (and their template processes) now, before the first task."""
        if self._queues is not None:
            return
        ctx = self._context()
        tasks: multiprocessing.Queue = ctx.Queue()
        results: multiprocessing.Queue = ctx.Queue()
        scratch = self._new_scratch()
        self._procs = [
            ctx.Process(
                target=_worker_main,
                args=(tasks, results, self.warm_imports, self.kernels, os.getpid()),
                kwargs={"scratch": scratch},
                name=f"analysis-preview-{i}",
                daemon=True,
            )
            for i in range(self.workers)
        ]
        for proc in self._procs:
            proc.start()
        self._queues = (tasks, results)

    def run(self, tasks: Sequence[Task], on_start: OnStart, on_result: OnResult) -> None:
        """Run the tasks on the kept workers; each starts a spare kernel after its task."""
        if not tasks:
            return
        self.start()
        assert self._queues is not None
        task_queue, result_queue = self._queues
        for task in tasks:
            task_queue.put(_with_prestart(task, True))
        self._collect(result_queue, {task.job_id: task for task in tasks}, on_start, on_result)

    def close(self) -> None:
        """End the workers (they shut down their kernels and template processes)."""
        if self._queues is not None:
            for _ in self._procs:
                self._queues[0].put(None)
            self._queues = None
        self._join()

    def terminate(self) -> None:
        """SIGTERM every worker now."""
        super().terminate()
        self._queues = None


def _shared_zygotes(
    kernels: Sequence[tuple[str, str]], warm: Sequence[str], workers: int
) -> dict[str, Any]:
    """A shared template process for each kernel that can be forked (`zygote.SharedZygote`);
    a kernel whose template process cannot start is left to the workers (each then tries
    one of its own, and starts kernels the usual way if that fails too)."""
    from .zygote import SharedZygote

    shared: dict[str, Any] = {}
    for kernel, cwd in kernels:
        python, env = execute.template_command(kernel)
        if kernel in shared or python is None:
            continue
        try:
            # It imports in the notebooks' folder, where a new kernel would start.
            shared[kernel] = SharedZygote(python, warm, env, cwd, workers)
        except OSError:
            continue
    return shared


def _with_prestart(task: Task, prestart: bool) -> Task:
    from dataclasses import replace

    return replace(task, prestart_next=prestart)


# --------------------------------------------------------------------------- Dask


def _dask_run(task: Task) -> Result:
    from . import execute

    return execute.run_task(task, execute.runtime(task.warm_imports))


class DaskExecutor:
    """Send tasks to a Dask distributed scheduler."""

    def __init__(self, scheduler: str, warm_imports: Sequence[str] = ()) -> None:
        if not scheduler:
            raise EnvironmentSetupError(
                "--executor dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)."
            )
        try:
            import distributed  # noqa: F401
        except ImportError as exc:
            raise EnvironmentSetupError(
                "--executor dask needs the optional Dask packages: .venv/bin/uv pip install "
                "--require-hashes -r requirements/lock-dask.txt"
            ) from exc
        self.scheduler = scheduler
        self.warm_imports = tuple(warm_imports)
        self.workers = 0
        self._client = None
        self._futures: list = []

    def run(self, tasks: Sequence[Task], on_start: OnStart, on_result: OnResult) -> None:
        """Submit every task and report results as they complete."""
        from distributed import Client, as_completed

        with Client(self.scheduler, timeout="30s") as client:
            self._client = client
            self.workers = max(1, len(client.scheduler_info().get("workers", {})))
            futures = {}
            for task in tasks:
                future = client.submit(_dask_run, task, pure=False, retries=0)
                futures[future] = task
                on_start(task)
            self._futures = list(futures)
            for future in as_completed(futures):
                task = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the worker died or could not unpickle the task
                    result = Result(task.job_id, False, f"the Dask worker failed: {exc!r}")
                on_result(task, result)
        self._client = None

    def close(self) -> None:
        """Nothing to release: the client is closed when `run` returns."""

    def terminate(self) -> None:
        """Cancel what has not finished."""
        if self._client is not None and self._futures:
            try:
                self._client.cancel(self._futures)
            except Exception:  # pragma: no cover - the connection is already gone
                pass
