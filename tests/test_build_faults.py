"""Faults while notebooks run: a kernel that dies, a cell that never ends, a killed build.

The project here is written into a temporary folder: three tiny notebooks (one that works, one
whose kernel kills itself in its third cell, one whose third cell sleeps), no data and no
charts, so that each build takes a few seconds. Also here: what executed notebooks must not
record (the output folder, the interpreter's version).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import buildkit
import nbformat
import pytest
from buildkit import KERNELSPEC, add_package, write_notebook

from analysis.publish import execute

NOTEBOOKS = {
    "ok": ["x = 1", "print('x =', x)"],
    "dies": [
        "x = 1",
        "print('before')",
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
        "print('after')",
    ],
    "hangs": [
        "seconds = 30",
        "print('before')",
        # The file tells the test that the cell runs (the kernel's folder is notebooks/).
        "import time\nopen('started', 'w').close()\ntime.sleep(seconds)",
        "print('after')",
    ],
}
REPORTS_TOML = """\
[defaults]
formats = []
inputs = []

[reports.ok]
notebook = "notebooks/ok.ipynb"

[reports.dies]
notebook = "notebooks/dies.ipynb"

[reports.hangs]
notebook = "notebooks/hangs.ipynb"
"""


def make_project(root: Path) -> Path:
    """The three-notebook project in `root`."""
    for name, cells in NOTEBOOKS.items():
        write_notebook(root / "notebooks" / f"{name}.ipynb", cells, name)
    (root / "reports.toml").write_text(REPORTS_TOML, encoding="utf-8")
    return add_package(root)


def run(project: Path, **kwargs):
    started = time.monotonic()
    summary, text = buildkit.run(project, **kwargs)
    return summary, text, time.monotonic() - started


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """One build of the three notebooks with a 2 s cell timeout."""
    project = make_project(tmp_path_factory.mktemp("faults") / "project")
    summary, text, seconds = run(project, cell_timeout=2)
    return project, summary, text, seconds


def cell_outputs(path: Path) -> list[list[dict]]:
    nb = nbformat.read(path, as_version=4)
    return [cell.get("outputs", []) for cell in nb.cells]


def test_a_kernel_that_dies_mid_notebook_fails_its_job_and_keeps_the_notebook(faulty) -> None:
    project, summary, text, _ = faulty
    failed = dict(summary.failed)
    assert failed["dies"] == "the kernel died while running cell 3"
    log = (project / "reports" / "logs" / "dies.log").read_text(encoding="utf-8")
    # Not mistaken for a kernel that could not start, and not run again.
    assert "retrying" not in log and "before the notebook ran" not in log
    assert log.count("[stdout] before") == 1
    assert "FAILED: the kernel died while running cell 3" in log
    # The notebook as far as it ran: the output of cell 2, and where it ended.
    outputs = cell_outputs(project / "reports" / "notebooks" / "dies.ipynb")
    assert outputs[1] == [{"name": "stdout", "output_type": "stream", "text": "before\n"}]
    (error,) = outputs[2]
    assert error["output_type"] == "error" and error["ename"] == "DeadKernelError"
    assert outputs[3] == []
    record = json.loads((project / "reports" / "manifest.json").read_text())["jobs"]["dies"]
    assert record["status"] == "failed" and "notebooks/dies.ipynb" in record["outputs"]


def test_a_cell_that_never_ends_fails_its_job_after_the_cell_timeout(faulty) -> None:
    project, summary, text, seconds = faulty
    failed = dict(summary.failed)
    assert failed["hangs"] == "cell 3 did not finish within 2 s (--cell-timeout)"
    assert seconds < 20  # the cell would sleep 30 s
    outputs = cell_outputs(project / "reports" / "notebooks" / "hangs.ipynb")
    assert outputs[1] == [{"name": "stdout", "output_type": "stream", "text": "before\n"}]
    assert [o["ename"] for o in outputs[2]] == ["CellTimeoutError"]
    assert outputs[3] == []
    # The build went on with the others.
    assert summary.built == ["ok"] and summary.exit_code == 1
    assert "failed: hangs: cell 3 did not finish within 2 s (--cell-timeout)" in text


def test_cell_timeout_option_is_checked(capsys) -> None:
    from analysis.cli import main

    assert main(["build", "--cell-timeout", "0", "--only", "x"]) == 2
    assert "--cell-timeout 0: give at least 1 s." in capsys.readouterr().err


def test_a_job_built_into_two_folders_gives_the_same_notebook_bytes(faulty) -> None:
    project, _, _, _ = faulty
    summary, text, _ = run(project, only=("ok",), reports_dir=project / "elsewhere")
    assert summary.exit_code == 0, text
    first = (project / "reports" / "notebooks" / "ok.ipynb").read_bytes()
    second = (project / "elsewhere" / "notebooks" / "ok.ipynb").read_bytes()
    assert first == second
    papermill = json.loads(first)["metadata"]["papermill"]
    assert "output_path" not in papermill and papermill["input_path"] == "notebooks/ok.ipynb"


def _executed(version: str, input_path: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {
            "codemirror_mode": {"name": "ipython", "version": 3},
            "file_extension": ".py",
            "name": "python",
            "pygments_lexer": "ipython3",
            "version": version,
        },
        "papermill": {
            "input_path": input_path,
            "output_path": "/tmp/build-1/notebooks/demo.ipynb",
            "parameters": {},
            "version": "2.7.0",
        },
    }
    nb.cells.append(nbformat.v4.new_code_cell("x = 1", execution_count=4))
    nb.cells[0].id = "demo-0"
    return nb


@pytest.mark.parametrize("commit", [True, False])
def test_notebooks_record_no_interpreter_version_and_no_outside_path(commit) -> None:
    made = [
        execute.notebook_bytes(
            execute.normalise_notebook(
                _executed(v, "/elsewhere/demo.ipynb"), "/repo", commit=commit
            )
        )
        for v in ("3.11.7", "3.12.1", "3.13.0")
    ]
    assert made[0] == made[1] == made[2]
    meta = json.loads(made[0])["metadata"]
    assert "version" not in meta["language_info"] and meta["language_info"]["name"] == "python"
    assert meta["kernelspec"] == KERNELSPEC
    assert b"/elsewhere" not in made[0] and b"/tmp/" not in made[0]


# --------------------------------------------------------------------------- killed builds

try:
    import psutil  # a dependency of ipykernel, so in every environment that runs kernels
except ImportError:  # pragma: no cover
    psutil = None
needs_psutil = pytest.mark.skipif(psutil is None, reason="psutil is not installed")


def _marked(marker: str) -> list:
    """The processes whose environment carries `marker` (the build's, its kernels')."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("ANALYSIS_TEST_MARKER") == marker:
                found.append(proc)
        except (psutil.Error, OSError):  # ended meanwhile, or not ours to read
            continue
    return found


def _start_hung_build(tmp_path: Path):
    """A build of `hangs` in a subprocess, once its cell is running: (process, marker)."""
    project = make_project(tmp_path / "project")
    marker = uuid.uuid4().hex
    analysis = Path(sys.executable).with_name("analysis")
    command = [str(analysis), "build", "--reports-file", str(project / "reports.toml")]
    command += ["--only", "hangs", "--jobs", "1", "--reports-dir", str(tmp_path / "out")]
    # The build's own temporary folder, to see what it leaves there (`_left_in_tmp`).
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "ANALYSIS_TEST_MARKER": marker, "TMPDIR": str(tmp_path / "tmp")}
    with (tmp_path / "build.log").open("wb") as log:
        main = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    started = project / "notebooks" / "started"
    deadline = time.monotonic() + 60
    while not started.exists():
        assert main.poll() is None, (tmp_path / "build.log").read_text()
        assert time.monotonic() < deadline, "the notebook did not start within 60 s"
        time.sleep(0.1)
    return main, marker


def _stop(main: subprocess.Popen, marker: str) -> None:
    """Leave nothing running, whatever the test found."""
    for proc in _marked(marker):
        try:
            proc.kill()
        except psutil.Error:
            pass
    if main.poll() is None:
        main.kill()
    main.wait()


def _left_in_tmp(tmp_path: Path, within: float = 10) -> list[str]:
    """What the build left in its temporary folder (waiting for its last process to go)."""
    deadline = time.monotonic() + within
    while True:
        left = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "tmp").rglob("*"))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _survivors(marker: str, within: float) -> list:
    deadline = time.monotonic() + within
    while True:
        left = [p for p in _marked(marker) if p.status() != psutil.STATUS_ZOMBIE]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@needs_psutil
def test_nothing_of_a_build_survives_a_kill_of_its_main_process(tmp_path) -> None:
    main, marker = _start_hung_build(tmp_path)
    try:
        names = {p.pid: " ".join(p.cmdline())[:80] for p in _marked(marker)}
        # The main process, its worker, the worker's template process and the kernel.
        assert len(names) >= 4, names
        main.kill()  # SIGKILL: no handler runs in the main process
        main.wait()
        left = _survivors(marker, within=10)
        assert left == [], [names.get(p.pid, p.pid) for p in left]
        assert _left_in_tmp(tmp_path) == []
    finally:
        _stop(main, marker)


@needs_psutil
def test_the_kernels_of_a_killed_worker_die_with_it(tmp_path) -> None:
    main, marker = _start_hung_build(tmp_path)
    try:
        # The build's children: its worker, and the template process the kernels are forked
        # from, shared by the build's workers (`zygote.SharedZygote`).
        children = psutil.Process(main.pid).children()
        (worker,) = [p for p in children if "analysis.publish.zygote" not in " ".join(p.cmdline())]
        (template,) = [p for p in children if p.pid != worker.pid]
        (kernel,) = template.children()
        os.kill(worker.pid, signal.SIGKILL)
        # The kernel dies with its worker's channel, before the build has ended.
        psutil.wait_procs([kernel], timeout=10)
        assert not kernel.is_running() or kernel.status() == psutil.STATUS_ZOMBIE
        assert main.wait(timeout=30) == 1
        output = (tmp_path / "build.log").read_text(encoding="utf-8")
        assert "the worker process died (exit code -9)" in output
        assert _survivors(marker, within=10) == []
        # Its kernel's figures folder and log, and the notebook's output: the build removes
        # them (old code: three entries in the temporary folder per killed job).
        assert _left_in_tmp(tmp_path) == []
    finally:
        _stop(main, marker)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@needs_psutil
def test_a_shared_template_process_kills_the_kernels_of_a_closed_channel_only(tmp_path) -> None:
    """One template process serves every worker of a build, each through its own channel:
    when a worker ends (or is killed), its channel closes and the kernels forked for it die
    at once; the other workers' kernels live on, and their channel still forks. When the last
    channel closes, the template process ends."""
    from analysis.publish.zygote import Channel, SharedZygote

    env = dict(os.environ)
    shared = SharedZygote([sys.executable], [], env, str(tmp_path), workers=2)
    try:
        first, second = (Channel(*(os.dup(fd) for fd in shared.ends(i))) for i in range(2))
        shared.release()  # as the build does once its workers have their ends

        def kernel(channel, name):
            return channel.fork(str(tmp_path / f"{name}.json"), str(tmp_path), env, os.devnull)

        ours, theirs = kernel(first, "a"), kernel(second, "b")
        assert not _gone(ours) and not _gone(theirs)
        first.close()
        deadline = time.monotonic() + 10
        while not _gone(ours) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(ours)
        assert not _gone(theirs)
        another = kernel(second, "c")
        assert another not in (ours, theirs) and not _gone(another)
        second.close()
        assert shared.process.wait(timeout=10) == 0
        deadline = time.monotonic() + 10
        while not (_gone(theirs) and _gone(another)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(theirs) and _gone(another)
    finally:
        shared.close()


_ORPHAN = """\
import os, signal, sys, time
from analysis.publish import zygote

zygote._set_pdeathsig = lambda signum: False  # as on macOS: only the parent watch is left
parent = os.getpid()
if os.fork() == 0:
    if sys.argv[1] == "stuck":  # a process whose main thread never runs the handler
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    zygote.die_with_parent(parent, signal.SIGTERM, watch=True, grace=1.0)
    print(os.getpid(), flush=True)
    time.sleep(60)
    os._exit(0)
time.sleep(60)
"""


@needs_psutil
@pytest.mark.parametrize("how", ["handler", "stuck"])
def test_the_parent_watch_ends_a_process_whose_parent_died(tmp_path, how) -> None:
    """The portable fallback of PR_SET_PDEATHSIG (what a worker relies on on macOS)."""
    middle = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN, how], stdout=subprocess.PIPE, text=True
    )
    try:
        assert middle.stdout is not None
        child = psutil.Process(int(middle.stdout.readline()))
        middle.kill()
        middle.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if child.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.1)
        else:
            child.kill()
            pytest.fail("the orphaned process did not notice that its parent died")
    finally:
        if middle.poll() is None:
            middle.kill()
        middle.wait()
        if middle.stdout is not None:
            middle.stdout.close()


@pytest.mark.parametrize("proc", [True, False])
def test_a_forked_kernel_is_seen_to_end_with_or_without_proc(monkeypatch, proc) -> None:
    """`ForkedProcess.poll` reads /proc on Linux and asks the OS elsewhere (macOS)."""
    from analysis.publish import zygote

    if proc and not zygote._PROC:
        pytest.skip("no /proc here")
    monkeypatch.setattr(zygote, "_PROC", proc)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        forked = zygote.ForkedProcess(child.pid)
        assert forked.poll() is None
        child.kill()
        child.wait()  # reaped, as the zygote reaps its kernels
        assert forked.poll() == 0 and forked.wait(timeout=1) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


_FORK_PROBE = """
import json, os, sys, threading
from pathlib import Path
main, counts, real_fork = os.getpid(), [], os.fork

def fork():
    counts.append(threading.active_count())
    return real_fork()

os.fork = fork
from analysis.publish.engine import BuildOptions, build
from analysis.publish.progress import QUIET
project = Path(sys.argv[1])
options = BuildOptions(reports_file=project / "reports.toml", verbosity=QUIET, jobs=2,
                       package_dir=project / "package", only=("ok",))
summary = build(options)
if os.getpid() == main:
    print(json.dumps({"exit": summary.exit_code, "threads_at_fork": counts}))
"""


def test_workers_are_forked_from_a_single_threaded_process(tmp_path) -> None:
    # Old code: the tasks were queued before the workers started, so the queue's feeder thread
    # was running when they were forked (Python 3.12 warns: "use of fork() may lead to
    # deadlocks in the child").
    project = make_project(tmp_path / "project")
    script = tmp_path / "probe.py"
    script.write_text(_FORK_PROBE, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script), str(project)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["exit"] == 0
    assert report["threads_at_fork"] and set(report["threads_at_fork"]) == {1}
