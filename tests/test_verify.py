"""`analysis verify`: a rebuild in a temporary folder compared with the published manifest.

The project is the engine tests' fixture cut down to its chart report (two jobs, real kernels,
about 2 s a build). The published folder lies outside the project, as the rebuild's does.
`analysis.facts.integrity` (the data/processed/ check) is replaced by a stand-in that records
its calls, so that these tests depend on the build engine alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
import tempfile
import types
from pathlib import Path

import pytest

from analysis import cli
from analysis.publish.engine import BuildOptions, build
from analysis.publish.progress import QUIET
from analysis.publish.spec import UnknownSelectionError
from analysis.publish.verify import (
    SAMPLE_SEED,
    VerifyOptions,
    VerifyReport,
    check_processed_data,
    compare_rebuild,
    sample_jobs,
    verify,
)

FIXTURE = Path(__file__).parent / "fixtures" / "build"
REPORTS_TOML = """\
[site]
title = { zh = "测试报告", en = "Test reports" }

[source]
zh = "资料来源：测试用数据。"
en = "Source: test data."

[reports.chart]
notebook = "notebooks/chart.ipynb"
params = { lang = ["zh", "en"], region = "华东" }
"""
# Per job: notebook, HTML, PDF and two charts.
FILES = [
    f"{kind}/chart.{lang}.{ext}"
    for lang in ("zh", "en")
    for kind, ext in (("notebooks", "ipynb"), ("html", "html"), ("pdf", "pdf"))
] + [f"figures/chart_{lang}.{ext}" for lang in ("zh", "en") for ext in ("png", "svg")]
# The site's own files beside the reports (`publish.site`), listed in the manifest's `site`.
FILES += ["methodology.zh.html", "methodology.en.html"]


def make_project(where: Path) -> Path:
    shutil.copytree(FIXTURE, where)
    (where / "reports.toml").write_text(REPORTS_TOML, encoding="utf-8")
    (where / "package").mkdir()
    (where / "package" / "module.py").write_text("VALUE = 1\n", encoding="utf-8")
    return where


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The project and the folder one build published into."""
    base = tmp_path_factory.mktemp("verify")
    project = make_project(base / "project")
    reports = base / "published"
    summary = build(
        BuildOptions(
            reports_file=project / "reports.toml",
            reports_dir=reports,
            package_dir=project / "package",
            verbosity=QUIET,
            stream=io.StringIO(),
            jobs=2,
        )
    )
    assert summary.exit_code == 0 and sorted(summary.built) == ["chart.en", "chart.zh"]
    return project, reports


@pytest.fixture
def integrity(monkeypatch, tmp_path):
    """A stand-in for analysis.facts.integrity; set `.problems` to make it report some."""
    fake = types.ModuleType("analysis.facts.integrity")
    fake.calls = []
    fake.problems = []

    def check_processed(folder):
        fake.calls.append(Path(folder))
        return list(fake.problems)

    fake.check_processed = check_processed
    monkeypatch.setitem(sys.modules, "analysis.facts.integrity", fake)
    # mkdtemp's folders go here, so that a test can see that verify removed its own.
    temp = tmp_path / "tempdir"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    fake.tempdir = temp
    return fake


def run_verify(project: Path, reports: Path, **kwargs) -> tuple[VerifyReport, str]:
    stream = io.StringIO()
    options = VerifyOptions(
        reports_file=project / "reports.toml",
        reports_dir=reports,
        package_dir=project / "package",
        verbosity=QUIET,
        stream=stream,
        jobs=2,
        **kwargs,
    )
    report = verify(options)
    return report, stream.getvalue() + report.render()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def verify_folders(temp: Path) -> list[Path]:
    """The rebuild folders verify left in `temp` (WeasyPrint's font folders are not its own)."""
    return sorted(temp.glob("analysis-verify-*"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_fresh_build_verifies_and_nothing_is_left_behind(published, integrity) -> None:
    project, reports = published
    before = snapshot(reports)
    report, text = run_verify(project, reports)
    assert report.exit_code == 0, text
    assert sorted(report.checked) == sorted(FILES)
    assert report.rebuilt == ["chart.en", "chart.zh"]
    assert f"{len(FILES)} files checked, 0 differ" in text
    assert integrity.calls == [project / "data" / "processed"]
    assert verify_folders(integrity.tempdir) == []  # the rebuild folder is gone
    assert snapshot(reports) == before  # the published folder is only read


def test_tampered_missing_and_extra_files_are_named(published, integrity, tmp_path) -> None:
    project, original = published
    reports = tmp_path / "published"
    shutil.copytree(original, reports)
    # 1. A published file changed after the build (its manifest entry is the build's).
    page = reports / "html/chart.zh.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>edited</p></body>"))
    # 2. A file and its manifest entry changed together: only the rebuild can tell.
    svg = reports / "figures/chart_en.svg"
    svg.write_bytes(svg.read_bytes() + b"\n")
    manifest_path = reports / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["jobs"]["chart.en"]["figures"]["figures/chart_en.svg"]["sha256"] = sha256(
        svg.read_bytes()
    )
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    # 3. A file the manifest lists is gone; 4. a stale report nobody lists is left in html/.
    (reports / "pdf/chart.en.pdf").unlink()
    (reports / "html/old_report.en.html").write_text("<html></html>", encoding="utf-8")
    integrity.problems = ["national_clusters.csv: sha256 differs from datapackage.json"]

    report, text = run_verify(project, reports)

    assert report.exit_code == 1
    kinds = {(f.kind, f.what) for f in report.findings}
    assert kinds == {
        ("differs", "html/chart.zh.html"),
        ("differs", "figures/chart_en.svg"),
        ("missing", "pdf/chart.en.pdf"),
        ("extra", "html/old_report.en.html"),
        ("data", "data/processed"),
    }, text
    lines = text.splitlines()
    assert any(
        line.startswith("differs  html/chart.zh.html: the published file is not the one")
        for line in lines
    )
    assert any(
        line.startswith("differs  figures/chart_en.svg: the rebuild gives other bytes")
        for line in lines
    )
    assert "national_clusters.csv: sha256 differs" in text
    assert f"{len(FILES) + 1} files checked, 4 differ" in text
    assert verify_folders(integrity.tempdir) == []


def test_stale_reports_are_reported_through_the_command_line(
    published, integrity, tmp_path, capsys, monkeypatch
) -> None:
    project = make_project(tmp_path / "project")
    reports = tmp_path / "published"
    shutil.copytree(published[1], reports)
    # The data changed after the build: the published reports no longer follow from it.
    (project / "data/raw/values.json").write_text('{"江苏": 1}\n', encoding="utf-8")
    argv = ["verify", "--reports-file", str(project / "reports.toml")]
    argv += ["--reports-dir", str(reports), "--sample", "1", "--quiet"]
    # The stand-in for src/analysis, as the other tests use (the CLI has no option for it).
    import analysis.publish.engine as engine

    monkeypatch.setattr(engine, "_package_dir", lambda: project / "package")
    status = cli.main(argv)
    out = capsys.readouterr().out
    assert status == 1
    assert "stale    chart.en: inputs changed since: data/raw/values.json" in out
    assert "stale    chart.zh: inputs changed since: data/raw/values.json" in out
    assert "run `make reports`" in out


def test_a_sample_rebuilds_only_its_jobs_and_checks_every_published_file(
    published, integrity
) -> None:
    project, reports = published
    report, text = run_verify(project, reports, sample=1, keep=True)
    try:
        assert report.exit_code == 0, text
        assert report.rebuilt == sample_jobs(["chart.zh", "chart.en"], 1)
        assert "a sample of 1 of 2 job(s)" in text
        # Only the sampled job was rebuilt (BuildOptions.job_ids) ...
        assert report.kept is not None and report.kept.parent == integrity.tempdir
        records = sorted(p.stem for p in (report.kept / ".build").glob("chart.*.json"))
        assert records == report.rebuilt
        # ... and the published files of both were checked.
        assert sorted(report.checked) == sorted(FILES)
    finally:
        if report.kept is not None:
            shutil.rmtree(report.kept)


def test_no_manifest_exits_2_before_any_build(integrity, published, tmp_path, capsys) -> None:
    project, _ = published
    empty = tmp_path / "nothing"
    empty.mkdir()
    argv = ["verify", "--reports-file", str(project / "reports.toml"), "--reports-dir", str(empty)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "manifest.json: no manifest to verify against; run `make reports` first" in err
    assert list(integrity.tempdir.iterdir()) == []  # not even a rebuild folder was made
    assert list(empty.iterdir()) == []


def test_the_sample_is_fixed_by_the_ids_alone() -> None:
    ids = [f"province_profile.p{i:02d}.{lang}" for i in range(30) for lang in ("zh", "en")]
    chosen = sample_jobs(ids, 5)
    assert chosen == sample_jobs(list(reversed(ids)), 5) == sorted(chosen)
    ranked = sorted(ids, key=lambda i: hashlib.sha256((SAMPLE_SEED + i).encode()).hexdigest())
    assert chosen == sorted(ranked[:5])
    assert chosen != sorted(ids)[:5]  # not merely the first ids
    # Adding a job moves at most one other out of the sample.
    assert len(set(chosen) - set(sample_jobs([*ids, "new.zh"], 5))) <= 1
    assert sample_jobs(ids, 1000) == sorted(ids)
    assert sample_jobs(ids, None) == sorted(ids)
    with pytest.raises(Exception, match="--sample 0"):
        sample_jobs(ids, 0)


def test_sample_on_the_command_line_is_checked_and_explained(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["verify", "--sample", "0"])
    assert exc.value.code == 2
    assert "--sample: 0: give at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["verify", "--help"])
    helptext = " ".join(capsys.readouterr().out.split())
    assert "smallest sha256 of 'analysis-verify:<job id>'" in helptext


def test_job_ids_select_exact_jobs_and_unknown_ids_are_refused(published, tmp_path) -> None:
    project, _ = published
    with pytest.raises(UnknownSelectionError, match="chart.fr"):
        build(
            BuildOptions(
                reports_file=project / "reports.toml",
                reports_dir=tmp_path / "out",
                job_ids=["chart.fr"],
                package_dir=project / "package",
                verbosity=QUIET,
                stream=io.StringIO(),
            )
        )
    assert not (tmp_path / "out").exists()


def test_rebuild_comparison_names_each_kind_of_difference() -> None:
    listed = {"sha256": "a" * 64, "size": 1}
    other = {"sha256": "b" * 64, "size": 1}
    published = {
        "x": {"status": "ok", "outputs": {"html/x.html": listed, "pdf/x.pdf": listed}},
        "y": {"status": "ok", "outputs": {"html/y.html": listed}},
    }
    rebuilt = {
        "x": {
            "status": "ok",
            "outputs": {"html/x.html": other},
            "figures": {"figures/x.png": listed},
        },
        "y": {"status": "failed", "error": "ZeroDivisionError", "outputs": {"html/y.html": listed}},
    }
    report = VerifyReport()
    compare_rebuild(published, rebuilt, ["x", "y", "z"], report)
    assert {(f.kind, f.what) for f in report.findings} == {
        ("differs", "html/x.html"),
        ("missing", "pdf/x.pdf"),
        ("extra", "figures/x.png"),
        ("rebuild", "y"),
    }
    assert report.differing == {"html/x.html", "pdf/x.pdf", "figures/x.png"}
    assert "1 job(s) did not rebuild" in report.render()
    assert "reports/ is not current" not in report.render()


def test_a_missing_integrity_check_is_a_difference_not_a_pass(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "analysis.facts.integrity", None)  # import fails
    report = VerifyReport()
    check_processed_data(tmp_path, report)
    assert [f.kind for f in report.findings] == ["data"]
    assert report.exit_code == 1


def test_an_interrupted_rebuild_removes_its_folder_and_exits_130(
    published, integrity, monkeypatch
) -> None:
    import analysis.publish.engine as engine

    made = []

    def interrupted_build(options):
        made.append(Path(options.reports_dir))
        (Path(options.reports_dir) / "half.html").write_text("<html>", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "build", interrupted_build)
    project, reports = published
    report, text = run_verify(project, reports)
    assert report.exit_code == 130 and "interrupted" in text
    assert made and made[0].parent == integrity.tempdir and not made[0].exists()
    assert (reports / "manifest.json").is_file()  # the published folder is untouched


def test_many_jobs_with_one_problem_are_counted_but_every_file_is_listed() -> None:
    from analysis.publish.verify import JOBS_SHOWN, Finding

    report = VerifyReport()
    detail = "declared in reports.toml, not in the manifest"
    report.findings = [Finding("missing", f"job{i:02d}", detail, is_file=False) for i in range(25)]
    report.findings += [Finding("differs", f"html/p{i:02d}.html", "other bytes") for i in range(25)]
    report.checked = {f.what for f in report.findings if f.is_file}
    lines = report.render().splitlines()
    assert sum(detail in ln for ln in lines) == JOBS_SHOWN + 1
    assert f"missing  ... and {25 - JOBS_SHOWN} more job(s): {detail}" in lines
    assert sum(ln.startswith("differs  html/") for ln in lines) == 25
    assert "25 files checked, 25 differ" in lines
    assert "25 job problem(s): reports/ is not current; run `make reports`" in lines


def test_a_changed_methodology_note_or_a_stray_data_file_is_named(published, integrity, tmp_path):
    """The site's files are checked like the reports (old code: not checked at all)."""
    project, original = published
    reports = tmp_path / "published"
    shutil.copytree(original, reports)
    note = reports / "methodology.en.html"
    note.write_bytes(note.read_bytes().replace(b"</body>", b"<p>edited</p></body>"))
    (reports / "data").mkdir(exist_ok=True)
    (reports / "data" / "stray.csv").write_text("a,b\n", encoding="utf-8")
    report = VerifyReport()
    from analysis.publish.verify import check_site_files

    check_site_files(reports, report)
    kinds = {(f.kind, f.what) for f in report.findings}
    assert kinds == {("differs", "methodology.en.html"), ("extra", "data/stray.csv")}
