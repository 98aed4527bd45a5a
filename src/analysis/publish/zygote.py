"""Kernels forked from a warm template process: a fresh kernel per notebook at a fraction of
the cost of starting one.

A kernel normally starts a new Python, imports IPython and ipykernel, then the notebook imports
pandas, matplotlib and the project: about two seconds of CPU per notebook on this machine,
the largest cost of a build. A build instead starts one *zygote*: a Python process
that imports all of that once (the modules the notebooks import, found in their code), then
forks a child per kernel. The child is a new process with its own memory, which becomes the
kernel (`IPKernelApp`) on the connection file that jupyter_client wrote, so every notebook still
gets a pristine namespace and module state no notebook code has touched. Only imports are
shared, as with the kernel warm-up this replaces: the modules a kernel loads before its first
cell (`KERNEL_MODULES`), the modules the notebooks import, and the modules those list in a
`WARM_IMPORTS` tuple, what their functions import when first called (pandas, seaborn, ...).
A full build starts it before it forks its workers, and each worker asks it for kernels
through a channel of its own (`SharedZygote`, `Channel`); a worker started otherwise (the
preview's, or in a process that cannot fork) starts its own (`Zygote`), before its imports.

`ZygoteKernelManager` is an `AsyncKernelManager` whose provisioner asks the zygote for the
process instead of calling Popen; everything else (ports, signals, shutdown) is jupyter_client's.
The kernels a worker asked for die when its channel closes (the worker ended or died), the
zygote when its last channel closes or its parent dies, and each kernel when its zygote dies
(`die_with_parent`): a build whose main process is killed leaves no process behind.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------- parent death

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _set_pdeathsig(signum: int) -> bool:
    """Ask Linux to send `signum` to this process when its parent dies; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover - no libc, or no prctl in it
        return False


def _watch_parent(parent: int, signum: int, grace: float) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signum)
    # The signal's handler unwinds the process; if it cannot (the main thread is stuck in C
    # code), end it anyway.
    time.sleep(grace)
    os._exit(128 + signum)


def die_with_parent(
    parent: int, signum: int = signal.SIGTERM, *, watch: bool = False, grace: float = 10.0
) -> None:
    """Have this process get `signum` as soon as its parent process (pid `parent`) dies.

    Why: a process whose parent was killed (kill -9, the OOM killer) is adopted by init and
    would otherwise live on, blocked on a queue nobody feeds, or running a notebook nobody
    waits for. On Linux the kernel signals it (`prctl(PR_SET_PDEATHSIG)`, which fires when
    the *thread* that started this process ends: every caller here is started by its parent's
    main thread). With `watch=True` a daemon thread also polls the parent pid twice a second,
    the portable way (macOS has no PR_SET_PDEATHSIG); it is not for a process that forks,
    such as the zygote, which must stay single-threaded. A parent that died before this call
    is noticed at once.
    """
    _set_pdeathsig(signum)
    if watch:
        threading.Thread(
            target=_watch_parent, args=(parent, signum, grace), daemon=True, name="parent-watch"
        ).start()
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signum)


# --------------------------------------------------------------------------- the zygote process


# The kernels this process forked and has not yet reaped: pid -> the channel that asked.
_KERNELS: dict[int, int] = {}


def _reap(signum: int, frame: object) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _KERNELS.pop(pid, None)


def _child(request: dict[str, Any], zygote: int, inherited: Sequence[int] = ()) -> None:
    """In the forked child: become the kernel described by `request`. Never returns.

    `inherited`: the template process's request and reply pipes, which the kernel closes (a
    kernel holding a reply pipe open would hide the template process's death from a worker).
    """
    status = 1
    try:
        for fd in inherited:
            if fd > 2:
                os.close(fd)
        # A kernel has nothing to save: it dies at once with its zygote (a fork does not
        # inherit the parent-death signal, so the child asks for it itself).
        die_with_parent(zygote, signal.SIGKILL)
        os.setsid()  # like jupyter_client's launcher: its own process group for interrupts
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # A new process would draw its random state from the OS; so does each child.
        import random

        random.seed()
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            numpy.random.seed()
        sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
        # IPKernelApp's parent handle makes it poll its parent pid and exit when that changes
        # (the portable fallback of `die_with_parent`), and prints no terminal banner. Its
        # parent is the zygote, not the worker named by JPY_PARENT_PID: ipykernel ignores a
        # handle that is not the process's own parent.
        sys.argv.append(f"--IPKernelApp.parent_handle={zygote}")
        # No history database: a build's kernel runs one notebook and is gone, and IPython's
        # thread that writes every cell into a SQLite file (under the home folder, outside the
        # project) costs CPU for nothing. `In` and `Out` work as before, from memory.
        sys.argv.append("--HistoryManager.enabled=False")
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=sys.argv[1:])
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # the kernel could not start: the manager sees the process end
        import traceback

        traceback.print_exc()
    finally:
        os._exit(status)


# What a kernel imports itself between its start and its first cell, when nothing has yet:
# ipykernel's debugger (debugpy, about 0.15 s), the history database, tornado's queues.
KERNEL_MODULES = (
    "ipykernel.ipkernel",
    "ipykernel.kernelapp",
    "ipykernel.debugger",
    "IPython.core.history",
    "IPython.extensions.storemagic",
    "sqlite3",
    "tornado.gen",
    "tornado.locks",
    "tornado.queues",
    "PIL.features",
)


def warm_up(modules: Sequence[str], calls: bool = False) -> list[str]:
    """Import `modules` and, after each, the modules listed in its `WARM_IMPORTS`; return the
    names imported. A module that fails to import is skipped: the notebook reports it itself.

    `WARM_IMPORTS` lets a module name what its functions import lazily (pandas, seaborn, ...),
    so that importing it stays cheap elsewhere while kernels still start with it loaded. With
    `calls` (the template process), the functions a module names in `WARM_CALLS` are called
    once all are imported: work whose result every kernel would otherwise redo, such as the
    projected base map of China (`report.map_geometry.prepare_base_map`). One that fails is
    skipped too: the kernel then does the work itself, and reports what is wrong. The
    functions listed in `IDLE_CALLS` are called after the first kernel is forked (`serve`).
    """
    import importlib

    queue = list(modules)
    seen: set[str] = set()
    done: list[str] = []
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        try:
            module = importlib.import_module(name)
        except Exception:  # also a `from x import name` whose name is not a module
            continue
        done.append(name)
        queue += [str(n) for n in getattr(module, "WARM_IMPORTS", ())]
    if calls:
        call_listed(done, "WARM_CALLS")
    return done


def call_listed(modules: Sequence[str], attribute: str) -> None:
    """Call the functions each module lists in `attribute` (one that fails is skipped)."""
    for name in modules:
        module = sys.modules.get(name)
        for function in getattr(module, attribute, ()):
            try:
                getattr(module, function)()
            except Exception:
                continue


def as_in_a_kernel() -> None:
    """Undo what libraries decided at import time because no kernel existed yet.

    pandas chooses `display.max_columns` when it is imported: 20 inside a Jupyter kernel, 0
    (fit the width of the terminal) elsewhere. Imported here, before the kernel that will be
    forked exists, it took itself to be in a terminal, so frames printed as text in a report
    differed from those of a plain kernel (and of nbval's run of the committed notebooks).
    """
    pandas = sys.modules.get("pandas")
    if pandas is not None:
        pandas.set_option("display.max_columns", 20)


def _freeze() -> None:
    """Move every object of the template process into the collector's permanent generation.

    A forked kernel inherits the template's heap (about 140,000 tracked objects: IPython,
    pandas, matplotlib, the base map). Unfrozen, the kernel's first full collections walk all
    of them, and writing their headers copies the pages they sit on (copy on write): CPU time
    and memory for objects no kernel frees. Frozen, its collections look at its own objects
    only. Measured on the full build (2 cores, `/usr/bin/time`), with the kernels' history
    database turned off too (`_child`): 90.3 → 85.2 s of CPU, 47.5 → 44.8 s.
    """
    import gc

    gc.collect()
    gc.freeze()


def serve(
    modules: Sequence[str], parent: int = 0, channels: Sequence[tuple[int, int]] = ()
) -> None:
    """The zygote's main loop: import, then fork one kernel per request line.

    A request comes on a channel, a pair of pipe ends (read, write): stdin and stdout for a
    template process owned by one worker, or one pair per worker for one shared by a build's
    workers (`SharedZygote`). The reply, the kernel's pid, goes back on the same channel.
    It dies with its parent (`parent`: a worker, or the build): at once where the OS can
    say so. When a channel closes (its worker ended or died), the kernels forked for it are
    killed; when the last one closes, the template process ends, and its kernels with it.
    """
    if parent:
        die_with_parent(parent, signal.SIGKILL)  # no thread: this process forks
    me = os.getpid()
    channels = list(channels) or [(sys.stdin.fileno(), sys.stdout.fileno())]
    inherited = sorted({fd for pair in channels for fd in pair})
    warm_up(KERNEL_MODULES)
    done = warm_up(modules, calls=True)
    as_in_a_kernel()
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build decides what Ctrl-C means
    _freeze()
    import selectors

    selector = selectors.DefaultSelector()
    buffers: dict[int, bytes] = {}

    def end(read: int, index: int) -> None:
        """The channel closed, or its worker stopped reading: drop it, and its kernels."""
        selector.unregister(read)
        del buffers[read]
        _end_channel(index)

    for index, (read, write) in enumerate(channels):
        selector.register(read, selectors.EVENT_READ, (index, write))
        buffers[read] = b""
        try:
            _write_line(write, {"ready": True})
        except OSError:  # its worker is already gone
            end(read, index)
    idle, forked = True, False
    while buffers:
        for key, _ in selector.select():
            read = key.fd
            index, write = key.data
            if read not in buffers:  # dropped earlier in this round
                continue
            chunk = os.read(read, 65536)
            if not chunk:
                end(read, index)
                continue
            buffers[read] += chunk
            while read in buffers and b"\n" in buffers[read]:
                line, buffers[read] = buffers[read].split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    _child(request, me, inherited)
                _KERNELS[pid] = index
                forked = True
                try:
                    _write_line(write, {"pid": pid})
                except OSError:  # the worker died waiting for it
                    end(read, index)
        if idle and forked and not selector.select(timeout=0):
            # Once no worker waits for a kernel: what only later kernels gain from (a first
            # chart drawn, `IDLE_CALLS`), so that it never delays the first ones.
            idle = False
            call_listed(done, "IDLE_CALLS")
            _freeze()


def _write_line(fd: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:  # a line is far below PIPE_BUF: one write, which nothing can interleave
        data = data[os.write(fd, data) :]


def _end_channel(index: int) -> None:
    """The channel's worker is gone: so are the kernels it asked for."""
    for pid, channel in list(_KERNELS.items()):
        if channel == index:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - ended and not yet reaped
                pass


# --------------------------------------------------------------------------- the worker side


_PROC = os.path.exists("/proc/self/stat")


class ForkedProcess:
    """Enough of Popen's interface for jupyter_client to manage a kernel it did not start."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        """None while the kernel runs (a zombie counts as ended)."""
        if self.returncode is None:
            if not _PROC:  # macOS: no /proc; the zygote reaps its children as they end
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    self.returncode = 0
                except PermissionError:  # pragma: no cover - the pid was reused
                    self.returncode = 0
                return self.returncode
            try:
                state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                if state in ("Z", "X"):
                    self.returncode = 0
            except (OSError, IndexError):
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Block until the kernel has ended."""
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        """Signal the kernel."""
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL the kernel."""
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        """SIGTERM the kernel."""
        self.send_signal(signal.SIGTERM)


def close_stdin(process: subprocess.Popen) -> None:
    """Close a child's stdin, which tells it to end; one already gone is no error."""
    try:
        if process.stdin:
            process.stdin.close()
    except OSError:
        pass


class _Client:
    """The worker's end of a template process: requests out, replies in (text, by line)."""

    def __init__(self, requests: Any, replies: Any) -> None:
        self._requests = requests
        self._replies = replies
        self._ready = False

    def fork(self, connection_file: str, cwd: str, env: dict[str, str], log: str) -> int:
        """A new kernel process; its pid."""
        if not self._ready:
            if not json.loads(self._replies.readline() or "{}").get("ready"):
                raise RuntimeError("the kernel template process did not start")
            self._ready = True
        request = {"connection_file": connection_file, "cwd": cwd, "env": env, "log": log}
        self._requests.write(json.dumps(request) + "\n")
        self._requests.flush()
        reply = self._replies.readline()
        if not reply:
            raise RuntimeError("the kernel template process ended")
        return int(json.loads(reply)["pid"])


def _command(python: Sequence[str], modules: Sequence[str], channels: Sequence = ()) -> list[str]:
    code = "import json, sys\nfrom analysis.publish.zygote import serve\n"
    code += "serve(json.loads(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]))\n"
    return [*python, "-c", code, json.dumps(list(modules)), str(os.getpid()), json.dumps(channels)]


class Zygote(_Client):
    """A warm template process owned by one worker."""

    def __init__(
        self, python: Sequence[str], modules: Sequence[str], env: dict[str, str], cwd: str
    ) -> None:
        self.process = subprocess.Popen(
            _command(python, modules),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            text=True,
            start_new_session=True,
        )
        super().__init__(self.process.stdin, self.process.stdout)

    def close(self) -> None:
        """End the template process now (its kernels are shut down by their managers)."""
        close_stdin(self.process)
        self.process.kill()  # nothing to save; waiting for a clean exit only costs time
        self.process.wait()


class Channel(_Client):
    """A worker's own channel to a template process shared with other workers.

    Closing it ends the worker's part: the template process kills the kernels forked for
    this channel that are still running, and goes on serving the other workers.
    """

    def __init__(self, request_fd: int, reply_fd: int) -> None:
        super().__init__(
            os.fdopen(request_fd, "w", encoding="utf-8"), os.fdopen(reply_fd, encoding="utf-8")
        )

    def close(self) -> None:
        """Close this worker's pipes to the template process."""
        for stream in (self._requests, self._replies):
            try:
                stream.close()
            except OSError:
                pass


class SharedZygote:
    """One template process for all the workers of a build, started by the build itself.

    Each worker gets its own channel (`ends(i)`), a pair of pipes inherited when the worker
    is forked; the build closes its copies once the workers are started (`release`), so a
    channel closes when its worker ends. The imports are paid once instead of once a worker
    (about a second of CPU each: a third of the template processes' cost on 3 workers), and
    the workers' kernels share one heap.
    """

    def __init__(
        self,
        python: Sequence[str],
        modules: Sequence[str],
        env: dict[str, str],
        cwd: str,
        workers: int,
    ) -> None:
        self._worker_ends: list[tuple[int, int]] = []
        theirs: list[tuple[int, int]] = []
        for _ in range(workers):
            request_read, request_write = os.pipe()
            reply_read, reply_write = os.pipe()
            theirs.append((request_read, reply_write))
            self._worker_ends.append((request_write, reply_read))
        try:
            self.process = subprocess.Popen(
                _command(python, modules, theirs),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                pass_fds=[fd for pair in theirs for fd in pair],
                start_new_session=True,
            )
        except BaseException:
            self.release()
            raise
        finally:
            for pair in theirs:
                for fd in pair:
                    os.close(fd)

    def ends(self, index: int) -> tuple[int, int]:
        """Worker `index`'s ends: (requests, replies)."""
        return self._worker_ends[index]

    def all_fds(self) -> list[int]:
        """Every worker end this process still holds (a worker closes the others' ends)."""
        return [fd for pair in self._worker_ends for fd in pair]

    def release(self) -> None:
        """Close the build's copies of the workers' ends, once the workers have them."""
        for fd in self.all_fds():
            try:
                os.close(fd)
            except OSError:
                pass
        self._worker_ends = []

    def close(self) -> None:
        """End the template process (and whatever kernels are left)."""
        self.release()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def kernel_argv(name: str) -> list[str]:
    """The argv of the kernelspec `name` ([] when there is none).

    Read from the first `kernels/<name>/kernel.json` on Jupyter's data path, the folder
    jupyter_client's KernelSpecManager would take it from, without importing jupyter_client
    (a third of a second that the template process would otherwise wait before it starts);
    KernelSpecManager itself answers when that file is not there or not plain.
    """
    try:
        from jupyter_core.paths import jupyter_path

        for folder in jupyter_path("kernels"):
            spec = Path(folder) / name / "kernel.json"
            if spec.is_file():
                argv = json.loads(spec.read_text(encoding="utf-8"))["argv"]
                if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
                    return argv
                break
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        return list(KernelSpecManager().get_kernel_spec(name).argv)
    except Exception:
        return []


def interpreter(argv: Sequence[str]) -> list[str] | None:
    """The interpreter part of a kernelspec argv `python ... -m ipykernel_launcher -f {cf}`."""
    argv = list(argv)
    if "-m" not in argv:
        return None
    index = argv.index("-m")
    if argv[index + 1 : index + 2] != ["ipykernel_launcher"]:
        return None
    return argv[:index]


@functools.cache
def client_class() -> type:
    """An AsyncKernelClient whose `wait_for_ready` ends when the kernel has answered.

    jupyter_client's sends kernel_info until the reply comes and IOPub is seen to carry
    messages, then reads IOPub until it has been silent for 0.2 s: a fixed fifth of a second
    of waiting before every notebook (13 s of a full build's 68 jobs, in which the worker
    and its kernel did nothing). This one ends as soon as the kernel's idle status for the
    kernel_info request it answered has arrived on IOPub, which also shows IOPub connected;
    a request that goes unanswered (a subscription not yet in place drops the status) is
    sent again, as jupyter_client does. Whatever else IOPub holds is not the next cell's:
    nbclient takes only the messages of the request it sent.
    """
    import asyncio
    import time
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        async def _idle_after(self, msg_id: str, within: float) -> bool:
            deadline = time.monotonic() + within
            while (left := deadline - time.monotonic()) > 0:
                try:
                    msg = await self.iopub_channel.get_msg(timeout=left)
                except Empty:
                    return False
                if (
                    msg["msg_type"] == "status"
                    and msg["parent_header"].get("msg_id") == msg_id
                    and msg["content"].get("execution_state") == "idle"
                ):
                    return True
            return False

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                msg_id = self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    reply = None
                if (
                    reply is not None
                    and reply["msg_type"] == "kernel_info_reply"
                    and reply["parent_header"].get("msg_id") == msg_id
                    and await self._idle_after(msg_id, 0.2)
                ):
                    self._handle_kernel_info_reply(reply)
                    return
                if not await self.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
                await asyncio.sleep(0)

    return ReadyClient


def manager_class() -> type:
    """An AsyncKernelManager that launches through a Zygote (set as `zygote` on the instance)."""
    from jupyter_client.manager import AsyncKernelManager

    class ZygoteKernelManager(AsyncKernelManager):
        zygote: Zygote | None = None
        console_path: str = os.devnull

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.client_factory = client_class()

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            provisioner = self.provisioner
            assert provisioner is not None and self.zygote is not None
            connection_file = kernel_cmd[kernel_cmd.index("-f") + 1]
            env = {key: str(value) for key, value in kw.get("env", os.environ).items()}
            env["JPY_PARENT_PID"] = str(os.getpid())  # what jupyter_client's launcher sets
            cwd = str(kw.get("cwd") or os.getcwd())
            pid = self.zygote.fork(connection_file, cwd, env, self.console_path)
            process = ForkedProcess(pid)
            provisioner.process = process  # type: ignore[attr-defined]
            provisioner.pid = pid  # type: ignore[attr-defined]
            provisioner.pgid = pid  # type: ignore[attr-defined]  # setsid made it a leader
            provisioner.cwd = cwd  # type: ignore[attr-defined]
            self._reconcile_connection_info(provisioner.connection_info)

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            # A forked kernel, killed, is gone (reaped by its template process) within a few
            # milliseconds; jupyter_client looks every 100 ms, and the worker waited about
            # that long after every job before it took the next one.
            await super()._async_wait(pollinterval=min(pollinterval, 0.005))

    return ZygoteKernelManager
