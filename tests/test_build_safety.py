"""What the build must never do to the reports folder and the repository, checked without kernels.

The executor is replaced by a fake one that returns canned results at once, so each case costs a
fraction of a second: the temp-file sweep, the lock, the checks of the reports folder, a disk
that fills up mid-build, a job that fails after an earlier success, the kernel check, `--check`,
`--jobs` and the grid guard. The real kernels are exercised in test_build_engine.py.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import buildkit
import pytest

from analysis import cli
from analysis.publish import engine
from analysis.publish.engine import BuildError, BuildLock, BuildOptions, update_notebooks
from analysis.publish.execute import Result
from analysis.publish.spec import ParamSet, SpecError

FIXTURE = Path(__file__).parent / "fixtures" / "build"
ALL_JOBS = ["chart.zh", "chart.en", "fragile.1", "fragile.0"]
REAL_WRITE = engine._write_file


class FakeExecutor:
    """Returns a result per task at once: `version` changes the bytes, `fail` fails jobs."""

    def __init__(self, version: str = "1", fail: tuple[str, ...] = (), limit: int = 50) -> None:
        self.workers = 1
        self.version = version
        self.fail = fail
        self.limit = limit
        self.ran: list[str] = []

    def run(self, tasks, on_start, on_result) -> None:
        assert len(tasks) <= self.limit, f"{len(tasks)} tasks reached the executor"
        for task in tasks:
            on_start(task)
            self.ran.append(task.job_id)
            on_result(task, self.result(task))

    def result(self, task) -> Result:
        if task.mode == "commit":
            return Result(task.job_id, True, notebook=Path(task.notebook).read_bytes(), log="ok\n")
        tag = f"{task.job_id} v{self.version}"
        if task.job_id in self.fail:
            notebook = json.dumps({"failed": tag}).encode() + b"\n"
            return Result(task.job_id, False, "ValueError: boom (cell 3)", notebook, log="x\n")
        result = Result(task.job_id, True, notebook=f'{{"nb": "{tag}"}}\n'.encode(), log="ok\n")
        result.title = task.job_id
        if "html" in task.formats:
            result.html = f"<p>{tag}</p>\n".encode()
        if "pdf" in task.formats:
            result.pdf = f"%PDF {tag}\n".encode()
        result.figures = {f"{task.job_id}.png": f"png {tag}".encode()}
        return result

    def terminate(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def project(tmp_path: Path) -> Path:
    where = tmp_path / "project"
    shutil.copytree(FIXTURE, where)
    (where / "package").mkdir()
    (where / "package" / "module.py").write_text("VALUE = 1\n", encoding="utf-8")
    return where


@pytest.fixture
def fake(monkeypatch):
    """Install a FakeExecutor (replace `.executor` to change it); `.made` counts creations."""

    class Holder:
        executor = FakeExecutor()
        made: list[BuildOptions] = []

    def make(options, warm):
        Holder.made.append(options)
        return Holder.executor

    monkeypatch.setattr(engine, "_make_executor", make)
    return Holder


def options(project: Path, **kwargs) -> BuildOptions:
    return buildkit.options(project, **{"jobs": 1, **kwargs})


def run(project: Path, **kwargs):
    return buildkit.run(project, **{"jobs": 1, **kwargs})


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def assert_consistent(reports: Path) -> None:
    """Records and manifest describe exactly the files on disk; no temporary file is left."""
    assert [p for p in reports.rglob("*.tmp")] == []
    listed: set[str] = set()
    for path in (reports / ".build").glob("*.*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        for rel, info in {**record["outputs"], **record["figures"]}.items():
            assert hashlib.sha256((reports / rel).read_bytes()).hexdigest() == info["sha256"]
            listed.add(rel)
    if (reports / "manifest.json").exists():
        jobs = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))["jobs"]
        for job in jobs.values():
            for rel, info in {**job["outputs"], **job["figures"]}.items():
                assert hashlib.sha256((reports / rel).read_bytes()).hexdigest() == info["sha256"]
    for folder in ("html", "pdf", "figures"):
        for path in (reports / folder).rglob("*") if (reports / folder).is_dir() else ():
            assert path.relative_to(reports).as_posix() in listed, f"{path} has no record"


# --------------------------------------------------------------------------- 1. the sweep


def test_the_sweep_removes_only_the_engines_own_temporary_files(project, fake) -> None:
    reports = project / "reports"
    theirs = [
        "docs/.thesis.docx.tmp",  # a user's file in a user's folder
        ".bashrc.tmp",  # a user's file at the top level
        "html/.chart.zh.html.abc123.tmp",  # not the engine's name
        "docs/.analysis-tmp-x.abc.tmp",  # the engine's name, but not in one of its folders
    ]
    ours = [
        ".analysis-tmp-manifest.json.k2j3.tmp",
        "html/.analysis-tmp-chart.zh.html.k2j3.tmp",
        ".build/.analysis-tmp-chart.zh.json.k2j3.tmp",
        "figures/sub/.analysis-tmp-a.png.k2j3.tmp",
    ]
    for rel in theirs + ours:
        (reports / rel).parent.mkdir(parents=True, exist_ok=True)
        (reports / rel).write_text("keep me\n", encoding="utf-8")
    summary, _ = run(project)
    assert summary.exit_code == 0
    for rel in theirs:
        assert (reports / rel).read_text(encoding="utf-8") == "keep me\n", rel
    for rel in ours:
        assert not (reports / rel).exists(), rel


# --------------------------------------------------------------------------- 3. the lock


def test_a_second_build_into_the_same_folder_is_refused_and_sweeps_nothing(project, fake) -> None:
    reports = project / "reports"
    in_flight = reports / "html" / ".analysis-tmp-chart.zh.html.k2j3.tmp"
    in_flight.parent.mkdir(parents=True)
    in_flight.write_text("being written by the first build\n", encoding="utf-8")
    with BuildLock(reports):
        with pytest.raises(BuildError, match=rf"another build \(pid {os.getpid()}\) is writing"):
            run(project)
        assert in_flight.exists()  # the first build's temporary file survives
        assert fake.made == []
        with pytest.raises(BuildError, match="another build"):
            update_notebooks(options(project))
    summary, _ = run(project)  # released: the next build runs
    assert sorted(summary.built) == sorted(ALL_JOBS)


def test_the_lock_names_another_process_and_wait_waits_for_it(project, fake, capsys) -> None:
    reports = project / "reports"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from analysis.publish.engine import BuildLock\n"
            f"lock = BuildLock(Path({str(reports)!r})).acquire()\n"
            "print('locked', flush=True); sys.stdin.readline(); time.sleep(0.5)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        argv = ["build", "--reports-file", str(project / "reports.toml"), "-q"]
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert f"another build (pid {holder.pid}) is writing into" in err
        assert "--wait" in err
        assert fake.made == []
        # With --wait the build starts once the holder has gone.
        threading.Timer(0.3, lambda: (holder.stdin.write("go\n"), holder.stdin.flush())).start()
        summary, text = run(project, wait=True)
        assert f"waiting for another build (pid {holder.pid})" in text
        assert sorted(summary.built) == sorted(ALL_JOBS)
        assert holder.wait(timeout=30) == 0
    finally:
        holder.kill()
        holder.wait()


# --------------------------------------------------------------------------- 2. inputs


@pytest.mark.parametrize(
    ("where", "words"),
    [
        (".", "is the repository root"),
        ("..", "contains the repository root"),
        ("notebooks", "is notebooks/"),
        ("notebooks/out", "lies inside notebooks/"),
        ("data", "contains data/raw/**"),
        ("data/raw/out", "lies inside data/raw/**"),
        ("data/processed/out", "lies inside data/processed/**"),
        ("src", "is src/"),
        ("package/out", "lies inside package/ (the code)"),
    ],
)
def test_a_reports_folder_that_overlaps_the_inputs_is_refused(project, fake, where, words) -> None:
    # A report with a fixed language, as in the probe: its executed notebook would be named
    # like the source notebook.
    spec = project / "reports.toml"
    spec.write_text(spec.read_text(encoding="utf-8").replace('["zh", "en"]', '"zh"'), "utf-8")
    before = snapshot(project.parent)
    with pytest.raises(BuildError, match="outputs must never overwrite") as caught:
        run(project, reports_dir=project / where)
    assert words in str(caught.value)
    assert fake.made == []
    assert snapshot(project.parent) == before


def test_an_output_that_resolves_to_an_input_through_a_link_is_refused(project, fake) -> None:
    reports = project / "reports"
    reports.mkdir()
    (reports / "notebooks").symlink_to(project / "notebooks")
    before = snapshot(project / "notebooks")
    with pytest.raises(BuildError, match=r"its notebooks/ resolves to .* is notebooks/"):
        run(project)
    (reports / "notebooks").unlink()
    (reports / "notebooks").mkdir()
    (reports / "notebooks" / "fragile.1.ipynb").symlink_to(project / "data/raw/values.json")
    with pytest.raises(BuildError, match="fragile.1 resolves to the input data/raw/values.json"):
        run(project)
    assert fake.made == []
    assert snapshot(project / "notebooks") == before


# --------------------------------------------------------------------------- 4. the folder


def test_a_reports_folder_that_is_a_file_or_cannot_be_made_is_refused_first(project, fake) -> None:
    target = project.parent / "out"
    target.write_text("not a folder\n", encoding="utf-8")
    with pytest.raises(BuildError, match=r"out is a file, not a folder"):
        run(project, reports_dir=target)
    with pytest.raises(BuildError, match=r"cannot be created \(Not a directory\)"):
        run(project, reports_dir=target / "sub")
    assert target.read_text(encoding="utf-8") == "not a folder\n"
    assert fake.made == []


def test_an_unwritable_reports_folder_is_refused_before_any_kernel(project, fake, monkeypatch):
    def read_only(handle, data):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(engine, "_write_file", read_only)
    assert cli.main(["build", "--reports-file", str(project / "reports.toml"), "-q"]) == 2
    assert fake.made == []
    assert [p.name for p in (project / "reports").iterdir()] == []


def _full_after(monkeypatch, writes: int) -> None:
    """Make the engine's writes fail with ENOSPC from the `writes`+1-th on."""
    real = engine._write_file
    count = {"n": 0}

    def write(handle, data):
        count["n"] += 1
        if count["n"] > writes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(handle, data)

    monkeypatch.setattr(engine, "_write_file", write)


def test_a_full_disk_mid_build_stops_cleanly_and_keeps_everything_consistent(
    project, fake, monkeypatch
) -> None:
    reports = project / "reports"
    # From an empty folder: the probe, the first job's chart and notebook, then the disk is full.
    _full_after(monkeypatch, 3)
    summary, text = run(project)
    assert summary.exit_code == 1
    assert "stopped: cannot write" in text and "No space left on device" in text
    assert "Traceback" not in text
    assert not list((reports / ".build").glob("chart.*.json"))
    assert_consistent(reports)
    # A clean build, then a rebuild with new bytes that fills the disk in the second job.
    monkeypatch.setattr(engine, "_write_file", REAL_WRITE)
    assert run(project)[0].exit_code == 0
    first = snapshot(reports)
    fake.executor = FakeExecutor(version="2")
    _full_after(monkeypatch, 1 + 6 + 2)  # probe, chart.zh (6 files), 2 files of chart.en
    summary, text = run(project, force=True)
    assert summary.exit_code == 1 and "stopped: cannot write" in text
    assert summary.built == ["chart.zh"]
    assert_consistent(reports)
    after = snapshot(reports)
    for rel in ("html/chart.en.html", "pdf/chart.en.pdf", "figures/chart.en.png"):
        assert after[rel] == first[rel]  # the job being written keeps its previous outputs
    assert after["html/chart.zh.html"] != first["html/chart.zh.html"]


def _signal_during(monkeypatch, signum: int, *, write: int = 0, rename: int = 0) -> None:
    """Send this process `signum` from inside the engine's `write`-th file write, or its
    `rename`-th rename of a staged file into place (counting from 1)."""
    real_write, real_replace = engine._write_file, os.replace
    count = {"write": 0, "rename": 0}

    def writing(handle, data):
        count["write"] += 1
        if count["write"] == write:
            os.kill(os.getpid(), signum)
        real_write(handle, data)

    def renaming(src, dst):
        if ".analysis-tmp-" in str(src):
            count["rename"] += 1
            if count["rename"] == rename:
                os.kill(os.getpid(), signum)
        real_replace(src, dst)

    monkeypatch.setattr(engine, "_write_file", writing)
    monkeypatch.setattr(engine.os, "replace", renaming)


@pytest.mark.parametrize("moment", ["write", "rename"])
def test_sigterm_while_a_job_is_written_leaves_it_whole(project, fake, monkeypatch, moment):
    # Old code: a SIGTERM inside a job's writes left its staged temporary files behind (only a
    # write failure discarded them), and one between two renames left the new outputs beside
    # the previous record.
    reports = project / "reports"
    assert run(project)[0].exit_code == 0
    first = snapshot(reports)
    fake.executor = FakeExecutor(version="2")
    if moment == "write":
        _signal_during(monkeypatch, signal.SIGTERM, write=2)
    else:
        _signal_during(monkeypatch, signal.SIGTERM, rename=2)
    summary, _ = run(project, force=True)
    assert summary.interrupted
    assert_consistent(reports)
    after = snapshot(reports)
    written = [
        rel for rel in ("html/chart.zh.html", "html/chart.en.html") if after[rel] != first[rel]
    ]
    if moment == "write":
        assert written == []  # caught while staging: the previous files and records stand
    else:
        assert written == ["html/chart.zh.html"]  # the renames finish, then the build stops
        record = json.loads((reports / ".build" / "chart.zh.json").read_text(encoding="utf-8"))
        assert record["outputs"]["html/chart.zh.html"]["sha256"] == after["html/chart.zh.html"]


# --------------------------------------------------------------------------- 5. a failed job


def test_a_failed_job_moves_its_previous_outputs_to_failed(project, fake) -> None:
    reports = project / "reports"
    assert run(project)[0].exit_code == 0
    first = snapshot(reports)
    (reports / "pdf" / "chart.en.pdf").write_bytes(b"edited by hand\n")  # no longer the engine's
    fake.executor = FakeExecutor(version="2", fail=("chart.zh", "chart.en"))
    summary, _ = run(project, force=True)
    assert sorted(job for job, _ in summary.failed) == ["chart.en", "chart.zh"]
    for rel in ("html/chart.zh.html", "pdf/chart.zh.pdf", "figures/chart.zh.png"):
        assert not (reports / rel).exists()
        moved = reports / "failed" / "chart.zh" / rel
        assert hashlib.sha256(moved.read_bytes()).hexdigest() == first[rel]
    assert not (reports / "html" / "chart.en.html").exists()
    assert (reports / "pdf" / "chart.en.pdf").read_bytes() == b"edited by hand\n"  # left alone
    assert not (reports / "failed" / "chart.en" / "pdf").exists()
    assert "moved to failed/chart.zh/" in (reports / "logs" / "chart.zh.log").read_text("utf-8")
    jobs = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))["jobs"]
    assert jobs["chart.zh"]["status"] == "failed" and jobs["chart.zh"]["outputs"].keys() == {
        "notebooks/chart.zh.ipynb"
    }
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert index.count('class="failed"') == 2
    assert "html/chart.zh.html" not in index


# --------------------------------------------------------------------------- 6. smaller items


def test_an_unknown_kernel_is_refused_before_any_kernel_starts(project, fake) -> None:
    spec = project / "reports.toml"
    spec.write_text('[defaults]\nkernel = "nosuchkernel"\n' + spec.read_text("utf-8"), "utf-8")
    with pytest.raises(SpecError, match=r"reports.toml \[reports.chart\], \[reports.fragile\]"):
        run(project)
    with pytest.raises(SpecError, match=r"kernel 'nosuchkernel' is not installed; known.*analysis"):
        update_notebooks(options(project))
    assert fake.made == []
    assert not (project / "reports").exists()


def test_update_notebooks_check_writes_nothing(project, fake) -> None:
    before = snapshot(project)
    assert update_notebooks(options(project), check=True) == 0
    assert fake.executor.ran == ["chart", "fragile"]
    assert not (project / "reports").exists()
    assert snapshot(project) == before
    assert update_notebooks(options(project)) == 0  # without --check: the logs are kept
    assert sorted(p.name for p in (project / "reports" / "logs").iterdir()) == [
        "chart.log",
        "fragile.log",
    ]


def test_more_jobs_than_cores_are_capped_with_a_warning(project, fake) -> None:
    from analysis.publish.executors import cores, default_jobs

    _, text = run(project, jobs=1000)
    assert f"warning: --jobs 1000 is more than the {cores()} core(s)" in text
    assert default_jobs() == cores() + 1
    assert fake.made[0].jobs == default_jobs()


def test_a_huge_grid_is_refused_without_yes(project, fake, monkeypatch) -> None:
    from analysis.publish import spec as spec_module

    values = [f"r{i}" for i in range(3000)]
    monkeypatch.setitem(spec_module.PARAM_SETS, "many", ParamSet(values=lambda: values))
    spec = project / "reports.toml"
    spec.write_text(spec.read_text("utf-8").replace('region = "华东"', 'region = "@many"'), "utf-8")
    with pytest.raises(BuildError, match=r"the selection has 6002 jobs \(more than 5000\)"):
        run(project)
    assert fake.made == []
    stream = io.StringIO()
    engine._check_selection_size(None, 1200, options(project, yes=True), stream)
    assert stream.getvalue().startswith("1200 jobs selected")


def test_update_notebooks_runs_the_extra_notebooks_unless_reports_are_chosen(project, fake) -> None:
    """[notebooks] extra (the start-here notebook) is run and compared like the reports'
    notebooks, with its default parameters; `--only` names reports and leaves it out."""
    shutil.copy(project / "notebooks" / "chart.ipynb", project / "notebooks" / "explore.ipynb")
    spec = project / "reports.toml"
    spec.write_text(
        spec.read_text("utf-8") + '[notebooks]\nextra = ["notebooks/explore.ipynb"]\n', "utf-8"
    )
    assert update_notebooks(options(project), check=True) == 0
    assert fake.executor.ran == ["chart", "fragile", "explore"]
    fake.executor.ran = []
    assert update_notebooks(options(project, only=("chart",)), check=True) == 0
    assert fake.executor.ran == ["chart"]

    # A run that gives other outputs: --check names the notebook, the update rewrites it.
    produced = fake.executor.result

    def result(task) -> Result:
        if task.job_id != "explore":
            return produced(task)
        return Result(task.job_id, True, notebook=b'{"nb": "explore"}\n', log="ok\n")

    fake.executor.result = result
    stream = io.StringIO()
    assert update_notebooks(options(project, stream=stream), check=True) == 1
    assert "explore.ipynb: differs from what the code produces" in stream.getvalue()
    assert update_notebooks(options(project)) == 0
    assert (project / "notebooks" / "explore.ipynb").read_bytes() == b'{"nb": "explore"}\n'
