"""End-to-end builds of the fixture project: real kernels, real papermill, real WeasyPrint."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from buildkit import add_package, run

from analysis.publish import export
from analysis.publish.engine import BuildOptions, Context, update_notebooks
from analysis.publish.execute import Result
from analysis.publish.progress import QUIET
from analysis.publish.spec import load_spec

FIXTURE = Path(__file__).parent / "fixtures" / "build"
ALL_JOBS = ["chart.zh", "chart.en", "fragile.1", "fragile.0"]


def copy_project(where: Path) -> Path:
    shutil.copytree(FIXTURE, where)
    # The code whose change must rebuild everything; a stand-in for src/analysis, which other
    # people may edit while the tests run.
    return add_package(where)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(reports: Path) -> dict[str, bytes]:
    return {
        p.relative_to(reports).as_posix(): p.read_bytes()
        for p in sorted(reports.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One full build of the fixture project (one job fails on purpose)."""
    project = copy_project(tmp_path_factory.mktemp("first") / "project")
    summary, text = run(project)
    return project, summary, text


def test_failing_job_keeps_its_notebook_and_others_go_on(built) -> None:
    project, summary, text = built
    reports = project / "reports"
    assert summary.exit_code == 1
    assert sorted(summary.built) == ["chart.en", "chart.zh", "fragile.1"]
    assert [job for job, _ in summary.failed] == ["fragile.0"]
    assert "ZeroDivisionError" in summary.failed[0][1]
    assert "failed: fragile.0: ZeroDivisionError" in text and "logs/fragile.0.log" in text
    failed = nbformat.read(reports / "notebooks" / "fragile.0.ipynb", as_version=4)
    errors = [o for c in failed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].ename == "ZeroDivisionError"
    assert not (reports / "html" / "fragile.0.html").exists()
    assert "ZeroDivisionError: division by zero" in (reports / "logs/fragile.0.log").read_text()
    for name in ("html/chart.zh.html", "pdf/chart.en.pdf", "html/fragile.1.html"):
        assert (reports / name).stat().st_size > 1000
    # The failed job saved a chart before its error: it is not kept.
    figures = sorted(p.name for p in (reports / "figures").iterdir())
    assert figures == ["chart_en.png", "chart_en.svg", "chart_zh.png", "chart_zh.svg"] + [
        "fragile_1.txt"
    ]
    assert (reports / "figures/fragile_1.txt").read_text() == "divisor 1\n"
    assert (
        "1 figure file(s) not kept: the job failed" in (reports / "logs/fragile.0.log").read_text()
    )
    assert "figures: fragile_1.txt" in (reports / "logs/fragile.1.log").read_text()


def test_executed_notebook_has_readable_parameters_and_no_volatile_metadata(built) -> None:
    project, _, _ = built
    raw = (project / "reports/notebooks/chart.zh.ipynb").read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert injected.source == '# Parameters\nregion = "华东"\nlang = "zh"\n'
    assert "\\u534e" not in raw
    assert nb.metadata.papermill["parameters"] == {"region": "华东", "lang": "zh"}
    assert nb.metadata.papermill["input_path"] == "notebooks/chart.ipynb"
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", raw)  # no timestamps
    assert str(project) not in raw and "/tmp/" not in raw
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))


def test_html_reports_open_offline_in_their_language(built) -> None:
    project, _, _ = built
    zh = (project / "reports/html/chart.zh.html").read_text(encoding="utf-8")
    en = (project / "reports/html/chart.en.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    assert "<h1>华东示例报告</h1>" in zh and "<h1>Example report: 华东</h1>" in en
    assert "资料来源：测试用数据" in zh and "Source: test data" in en
    for page in (zh, en):
        assert export.find_remote_urls(page) == []
        assert "<script" not in page
        assert "data:image/png;base64," in page  # the chart is embedded
        assert "font/otf;base64," in page
        assert "values.json" in page  # the citation
    assert "total = 28" in zh


def test_manifest_and_index_describe_every_output(built) -> None:
    project, _, _ = built
    reports = project / "reports"
    text = (reports / "manifest.json").read_text(encoding="utf-8")
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text)
    manifest = json.loads(text)
    jobs = manifest["jobs"]
    assert sorted(jobs) == sorted(ALL_JOBS)
    chart = jobs["chart.zh"]
    data = (project / "data/raw/values.json").read_bytes()
    import hashlib

    assert chart["inputs"]["data/raw/values.json"] == hashlib.sha256(data).hexdigest()
    assert chart["params"] == {"region": "华东", "lang": "zh"}
    assert chart["status"] == "ok" and chart["up_to_date"] is True
    html = (reports / "html/chart.zh.html").read_bytes()
    assert chart["outputs"]["html/chart.zh.html"]["sha256"] == hashlib.sha256(html).hexdigest()
    assert jobs["fragile.0"]["status"] == "failed" and jobs["fragile.0"]["up_to_date"] is False
    # Every chart a job saved, with the sha256 and size of the file in figures/; none for the
    # failed job, and every file in figures/ is listed by exactly one job.
    assert sorted(chart["figures"]) == ["figures/chart_zh.png", "figures/chart_zh.svg"]
    for rel, info in chart["figures"].items():
        assert info == {"sha256": sha256(reports / rel), "size": (reports / rel).stat().st_size}
    assert chart["figures"]["figures/chart_zh.png"]["size"] > 1000
    assert jobs["fragile.0"]["figures"] == {}
    assert list(jobs["fragile.1"]["figures"]) == ["figures/fragile_1.txt"]
    listed = [rel for job in jobs.values() for rel in job["figures"]]
    on_disk = [p.relative_to(reports).as_posix() for p in (reports / "figures").iterdir()]
    assert sorted(listed) == sorted(on_disk)
    environment = manifest["environments"][chart["environment"]]
    assert environment["packages"]["papermill"] == "2.7.0"
    assert "commit" in chart["git"]
    index = (reports / "index.html").read_text(encoding="utf-8")
    for link in (
        "html/chart.zh.html",
        "html/chart.en.html",
        "pdf/chart.zh.pdf",
        "pdf/chart.en.pdf",
    ):
        assert f'href="{link}"' in index
    assert "中文" in index and "English" in index
    for link in ("figures/chart_zh.svg", "figures/chart_en.png", "figures/fragile_1.txt"):
        assert f'href="{link}"' in index
    assert "fragile_0" not in index
    assert 'href="notebooks/fragile.0.ipynb">失败 <span lang="en">failed</span>' in index
    assert export.find_remote_urls(index) == []


def test_noop_rebuild_skips_and_input_changes_rebuild(built, tmp_path) -> None:
    project = copy_project(tmp_path / "project")
    shutil.copytree(built[0] / "reports", project / "reports")
    html = project / "reports/html/chart.zh.html"
    before = html.stat().st_mtime_ns
    summary, _ = run(project, only=("chart",))
    assert summary.built == [] and sorted(summary.skipped) == ["chart.en", "chart.zh"]
    assert html.stat().st_mtime_ns == before
    # The notebook reads this data file: changing it makes both languages stale.
    values = project / "data/raw/values.json"
    values.write_text('{"江苏": 13, "广东": 9, "浙江": 7}\n', encoding="utf-8")
    summary, _ = run(project, only=("chart",), params={"lang": "en"})
    assert summary.built == ["chart.en"] and summary.exit_code == 0
    assert "total = 29" in (project / "reports/html/chart.en.html").read_text(encoding="utf-8")
    manifest = json.loads((project / "reports/manifest.json").read_text(encoding="utf-8"))
    assert manifest["jobs"]["chart.zh"]["up_to_date"] is False  # stale, not rebuilt
    assert manifest["jobs"]["chart.en"]["up_to_date"] is True
    summary, _ = run(project, only=("fragile",), params={"divisor": "1"}, force=True)
    assert summary.built == ["fragile.1"]
    # A job whose chart is gone is not up to date: it is rebuilt, and the chart comes back.
    chart = project / "reports/figures/chart_en.svg"
    saved = chart.read_bytes()
    chart.unlink()
    summary, _ = run(project, only=("chart",), params={"lang": "en"})
    assert summary.built == ["chart.en"]  # it was up to date before the chart went
    assert chart.read_bytes() == saved
    # A change in the package code makes every report stale.
    (project / "package" / "module.py").write_text("VALUE = 2\n", encoding="utf-8")
    summary, _ = run(project, only=("fragile",), params={"divisor": "1"})
    assert summary.built == ["fragile.1"]


def test_two_clean_builds_are_byte_identical(built, tmp_path) -> None:
    project = copy_project(tmp_path / "elsewhere" / "project")
    summary, _ = run(project, jobs=1)
    first, second = files(built[0] / "reports"), files(project / "reports")
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == []
    assert summary.exit_code == 1  # the same job failed the same way


def test_figures_go_to_the_reports_dir_of_the_build(built, tmp_path) -> None:
    project = copy_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    summary, _ = run(project, reports_dir=elsewhere, only=("chart",), params={"lang": "en"})
    assert summary.built == ["chart.en"] and summary.exit_code == 0
    # Nothing in the project's own reports/ (where the charts used to go), all of it here.
    assert not (project / "reports").exists()
    assert sorted(p.name for p in (elsewhere / "figures").iterdir()) == [
        "chart_en.png",
        "chart_en.svg",
    ]
    record = json.loads((elsewhere / "manifest.json").read_text(encoding="utf-8"))["jobs"]
    for rel, info in record["chart.en"]["figures"].items():
        assert info["sha256"] == sha256(elsewhere / rel)
        assert (elsewhere / rel).read_bytes() == (built[0] / "reports" / rel).read_bytes()


def test_a_chart_the_job_no_longer_saves_is_removed(built, tmp_path) -> None:
    project = copy_project(tmp_path / "project")
    shutil.copytree(built[0] / "reports", project / "reports")
    figures = project / "reports/figures"
    other = figures / "not_from_a_job.png"
    other.write_bytes(b"made by hand")
    notebook = project / "notebooks/chart.ipynb"
    text = notebook.read_text(encoding="utf-8")
    png_line = (
        '    "fig.savefig(out / f\\"chart_{lang}.png\\", metadata={\\"Software\\": None})\\n",\n'
    )
    assert png_line in text
    notebook.write_text(text.replace(png_line, ""), encoding="utf-8")
    summary, _ = run(project, only=("chart",), params={"lang": "zh"})
    assert summary.built == ["chart.zh"] and summary.exit_code == 0
    assert not (figures / "chart_zh.png").exists()
    assert (figures / "chart_zh.svg").exists() and (figures / "chart_en.png").exists()
    assert other.read_bytes() == b"made by hand"  # not listed by any job: left alone
    record = json.loads((project / "reports/manifest.json").read_text(encoding="utf-8"))
    assert list(record["jobs"]["chart.zh"]["figures"]) == ["figures/chart_zh.svg"]


def test_a_figure_name_outside_the_figures_folder_fails_the_job(built, tmp_path) -> None:
    project = copy_project(tmp_path / "project")
    reports = tmp_path / "reports"
    options = BuildOptions(
        reports_file=project / "reports.toml",
        reports_dir=reports,
        package_dir=project / "package",
    )
    ctx = Context(load_spec(options.reports_file), options)
    job = next(job for job in ctx.all_jobs if job.job_id == "fragile.1")
    for name in ("../escape.txt", "/tmp/escape.txt", "a/../../escape.txt"):
        result = Result("fragile.1", True, notebook=b"{}\n", figures={name: b"x", "ok.txt": b"y"})
        ctx.write_result(job, result)
        record = json.loads((reports / job.stamp).read_text(encoding="utf-8"))
        assert record["status"] == "failed" and name in record["error"]
        assert record["figures"] == {}
    assert not (tmp_path / "escape.txt").exists() and not (reports / "figures").exists()


def test_interrupted_build_leaves_no_partial_file_and_resumes(tmp_path) -> None:
    project = copy_project(tmp_path / "project")
    reports = project / "reports"
    # The engine in its own process, as `analysis build` runs it (the CLI only parses options).
    script = (
        "import sys; from pathlib import Path\n"
        "from analysis.publish.engine import BuildOptions, build\n"
        f"project = Path({str(project)!r})\n"
        "options = BuildOptions(reports_file=project / 'reports.toml', jobs=1,\n"
        "    package_dir=project / 'package')\n"
        "sys.exit(build(options).exit_code)\n"
    )
    command = [sys.executable, "-c", script]
    psutil = pytest.importorskip("psutil")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tree = psutil.Process(process.pid)
    seen: set[int] = set()  # every worker, template process and kernel of the build
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list((reports / ".build").glob("chart.*.json")):
        try:
            seen.update(child.pid for child in tree.children(recursive=True))
        except psutil.Error:
            pass
        time.sleep(0.1)
    seen.update(child.pid for child in tree.children(recursive=True))
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()
    assert "interrupted" in err.decode()
    assert len(seen) >= 2  # a worker and at least one kernel were running
    leftovers = [p for p in reports.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    done = sorted(p.stem for p in (reports / ".build").glob("*.*.json"))
    assert 1 <= len(done) < len(ALL_JOBS)
    for job in done:  # whatever has a record is complete
        record = json.loads((reports / ".build" / f"{job}.json").read_text())
        for name, info in {**record["outputs"], **record["figures"]}.items():
            assert (reports / name).stat().st_size == info["size"]
    # Nothing the interrupted build started is left running.
    time.sleep(1)
    alive = []
    for pid in seen:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            continue
    assert alive == []
    summary, _ = run(project)
    assert sorted(summary.skipped) == done
    finished = summary.built + summary.skipped + [job for job, _ in summary.failed]
    assert sorted(finished) == sorted(ALL_JOBS)


def test_update_notebooks_in_place_is_deterministic(tmp_path) -> None:
    project = copy_project(tmp_path / "project")
    options = BuildOptions(
        reports_file=project / "reports.toml",
        package_dir=project / "package",
        only=("chart",),
        verbosity=QUIET,
        stream=io.StringIO(),
        jobs=1,
    )
    assert update_notebooks(options) == 0
    path = project / "notebooks/chart.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert "papermill" not in nb.metadata
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert any(o.output_type == "display_data" for c in code for o in c.outputs)
    assert all("execution" not in c.metadata and "papermill" not in c.metadata for c in nb.cells)
    before = path.read_bytes()
    options.stream = io.StringIO()
    assert update_notebooks(options, check=True) == 0  # what the code produces again
    assert path.read_bytes() == before
    assert b"total = 28" in before
    path.write_bytes(before.replace(b"total = 28", b"total = 27"))  # a stale output
    options.stream = io.StringIO()
    assert update_notebooks(options, check=True) == 1
    assert "chart.ipynb: differs" in options.stream.getvalue()


def test_dask_executor_on_a_local_cluster_gives_the_same_bytes(built, tmp_path) -> None:
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    project = copy_project(tmp_path / "project")
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        summary, _ = run(
            project,
            executor="dask",
            scheduler=cluster.scheduler_address,
            only=("fragile",),
            params={"divisor": "1"},
        )
    assert summary.built == ["fragile.1"] and summary.exit_code == 0
    for name in ("notebooks/fragile.1.ipynb", "html/fragile.1.html", "figures/fragile_1.txt"):
        assert (project / "reports" / name).read_bytes() == (
            built[0] / "reports" / name
        ).read_bytes()
    # The chart travelled back from the Dask worker and is listed like a local one.
    records = [
        json.loads((where / "reports/manifest.json").read_text(encoding="utf-8"))["jobs"]
        for where in (project, built[0])
    ]
    assert records[0]["fragile.1"]["figures"] == records[1]["fragile.1"]["figures"] != {}


def test_a_broken_template_process_falls_back_to_a_new_kernel(tmp_path, monkeypatch) -> None:
    from analysis.publish import execute, zygote

    project = copy_project(tmp_path / "project")
    monkeypatch.setattr(zygote, "interpreter", lambda argv: ["/bin/false"])
    scratch = tmp_path / "scratch"  # where the kernels' figures folders are made
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    rt = execute.Runtime(use_zygote=True)
    notebook = project / "notebooks" / "fragile.ipynb"
    task = execute.Task(
        job_id="fragile.7",
        notebook=str(notebook),
        params={"divisor": 7},
        kernel="analysis",
        cwd=str(notebook.parent),
        root=str(project),
        formats=(),
    )
    try:
        result = execute.run_task(task, rt)
        # The template process is given up for good: kernels start the usual way.
        assert rt._zygotes == {"analysis": None}
    finally:
        rt.close()
    assert result.ok, result.log
    nb = nbformat.reads(result.notebook.decode(), as_version=4)
    assert "result = 1.4285714285714286" in "".join(
        o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
    )
    # The kernel started the usual way saved its chart in its own folder too; the folder of
    # the kernel that could not be forked and that of the kernel that ran are both gone.
    assert result.figures == {"fragile_7.txt": b"divisor 7\n"}
    assert list(scratch.glob("analysis-figures-*")) == []


def test_a_kernel_that_dies_at_start_is_retried_once(tmp_path, monkeypatch) -> None:
    from analysis.publish import execute

    project = copy_project(tmp_path / "project")
    notebook = project / "notebooks" / "fragile.ipynb"
    task = execute.Task(
        job_id="fragile.7",
        notebook=str(notebook),
        params={"divisor": 7},
        kernel="analysis",
        cwd=str(notebook.parent),
        root=str(project),
        formats=(),
    )
    real_execute = execute.execute
    calls = []

    def dies_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise execute.KernelStartError("Kernel died before replying to kernel_info")
        return real_execute(*args, **kwargs)

    monkeypatch.setattr(execute, "execute", dies_once)
    rt = execute.Runtime()
    try:
        result = execute.run_task(task, rt)
    finally:
        rt.close()
    assert len(calls) == 2
    assert result.ok, result.log
    assert "retrying once" in result.log

    # Twice in a row is a failure that names the cause, not a crash.
    calls.clear()
    monkeypatch.setattr(
        execute, "execute", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("Kernel died"))
    )
    result = execute.run_task(task, execute.Runtime())
    assert not result.ok and "Kernel died" in result.error


def test_the_workers_take_the_reports_with_fewest_jobs_first() -> None:
    """A report built once or twice is a long document; the profiles' 62 short jobs come
    last, so that no long job is left for the end of a build. Equals keep their order."""
    from types import SimpleNamespace

    from analysis.publish.engine import _longest_first

    counts = [("cluster", 2), ("profile", 5), ("audit", 1), ("amoled", 2)]
    jobs = [
        SimpleNamespace(report=SimpleNamespace(name=name), job_id=f"{name}.{i}")
        for name, count in counts
        for i in range(count)
    ]
    order = [job.job_id for job in _longest_first(jobs)]
    assert order == [
        "audit.0",
        "cluster.0",
        "cluster.1",
        "amoled.0",
        "amoled.1",
        *(f"profile.{i}" for i in range(5)),
    ]
