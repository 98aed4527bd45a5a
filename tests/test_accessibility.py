"""Whole built pages, as a reader and a screen reader get them: each wholly in its language
(report, footer, alt text, index and methodology note), and free of serious or critical
accessibility violations as axe-core finds them in headless Chromium.

One small real build serves the module: the Jiangsu profile in both languages (quotes,
tables, a map, the data links and the footer's parameters), with the index and the
methodology notes the build writes beside it (~10 s). The report bodies of every report type
and all 31 profiles are checked in-process by `test_editorial.py`; the committed notebooks of
the other report types are rendered here too, so axe sees every report type. The whole grid is
checked by `make a11y` (tools/axe_check.py).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from buildkit import run
from nbformat.v4 import new_code_cell, new_notebook, new_output
from purity import page_lang, purity_errors

from analysis import paths
from analysis.publish import export, site
from analysis.publish.index import render_index, with_font
from analysis.publish.jobs import make_jobs
from analysis.publish.spec import load_spec, select

_spec = importlib.util.spec_from_file_location("axe_check", paths.ROOT / "tools" / "axe_check.py")
axe_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(axe_check)

SPEC = load_spec(paths.ROOT / "reports.toml")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A real build of the Jiangsu profile in both languages, with its index and notes."""
    folder = tmp_path_factory.mktemp("a11y-build")
    summary, printed = run(
        paths.ROOT,
        reports_file=paths.ROOT / "reports.toml",
        reports_dir=folder,
        package_dir=None,
        only=["province_profile"],
        params={"province": "江苏"},
    )
    assert (folder / "html" / "province_profile.jiangsu.en.html").exists(), printed
    return folder


def _pages(folder: Path) -> list[Path]:
    pages = axe_check.pages_of(folder)
    assert {p.name for p in pages} >= {
        "province_profile.jiangsu.en.html",
        "province_profile.jiangsu.zh.html",
        "index.html",
        "methodology.en.html",
        "methodology.zh.html",
    }
    return pages


def test_every_built_page_is_wholly_in_its_language(built):
    """Old code: the footer of every profile printed `province=江苏` in an English page (and as
    English-marked code in a Chinese one); the index headed the profiles "Province profile" in
    English alone, folded each row's charts under "图表 figures" in the English column too, and
    named the manifest in English alone."""
    errors = {}
    for path in _pages(built):
        page = path.read_text(encoding="utf-8")
        errors[path.name] = purity_errors(page, page_lang(page))[:3]
    assert {name: e for name, e in errors.items() if e} == {}


def test_the_footer_marks_a_chinese_parameter_and_names_it_in_english(built):
    page = (built / "html" / "province_profile.jiangsu.en.html").read_text(encoding="utf-8")
    footer = page.split('<footer class="report-footer">', 1)[1]
    assert '<code lang="zh-CN">江苏</code> (Jiangsu)' in footer


def test_the_whole_page_check_reads_attributes_and_skips_styles():
    """Alt and title text is what a screen reader reads; CSS and the tab title are not text."""
    assert purity_errors('<p>江苏<img alt="a map of Jiangsu"></p>', "zh")
    assert purity_errors('<p>Jiangsu <a title="江苏" href="x">map</a></p>', "en")
    assert purity_errors('<h2><span lang="en">Province profile</span></h2>', "zh")
    assert purity_errors('<p lang="en">图表</p>', "zh")
    assert not purity_errors('<h2>省级概况 <span lang="en">Profiles</span></h2>', "zh")
    assert not purity_errors('<div lang="en"><table><tr><td>East</td></tr></table></div>', "zh")
    page = '<html lang="zh-CN"><head><title>报告 · Reports</title><style>body{}</style></head>'
    assert not purity_errors(page + "<body><p>报告</p></body></html>", "zh")


# --------------------------------------------------------------------------- axe-core


needs_chromium = pytest.mark.skipif(
    axe_check.chromium() is None, reason="no Chromium on PATH: axe-core needs a browser"
)


def _rendered(folder: Path) -> list[Path]:
    """The other report types as the export renders them, written into `folder`: in Chinese
    from their committed notebooks (charts included), in English from the bodies their code
    displays when run with lang="en" (`test_editorial.body`, charts left out)."""
    from test_editorial import body

    written = []
    for name in ("cluster_policy", "amoled_industry", "source_audit"):
        for lang in ("zh", "en"):
            job = make_jobs(select(SPEC, [name], {"lang": lang}))[0]
            if lang == "zh":
                nb = nbformat.read(paths.NOTEBOOKS / f"{name}.ipynb", as_version=4)
            else:
                html = body(name, lang).removeprefix('<main lang="en">').removesuffix("</main>")
                cell = new_code_cell("show()", execution_count=1)
                cell.outputs.append(new_output("display_data", data={"text/html": html}))
                nb = new_notebook(cells=[cell])
            options = {
                "job_id": job.job_id,
                "title": None,
                "lang": lang,
                "notebook": f"notebooks/{name}.ipynb",
                "params": dict(job.params),
                "key": "0123456789abcdef",
                "site": site.page_context(SPEC, job),
            }
            page, _ = export.render_html(nb, options, notebook_dir=str(paths.NOTEBOOKS))
            path = folder / f"{job.job_id}.html"
            path.write_text(page, encoding="utf-8")
            written.append(path)
    return written


def _full_index(folder: Path) -> Path:
    """The index of the whole grid, every job built with one chart (stand-in files): the
    index as `make reports` writes it, without the build."""
    jobs = make_jobs(select(SPEC))
    records = {}
    for job in jobs:
        for rel in job.outputs().values():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text("x")
        figure = f"figures/{job.job_id}.png"
        (folder / "figures").mkdir(exist_ok=True)
        (folder / figure).write_text("x")
        records[job.job_id] = {"status": "ok", "title": job.job_id, "figures": {figure: {}}}
    path = folder / "index.html"
    path.write_text(with_font(render_index(SPEC, jobs, records, folder)), encoding="utf-8")
    return path


@needs_chromium
def test_no_page_has_a_serious_or_critical_axe_violation(built, tmp_path):
    """Every report type in both languages, the index and the methodology notes, against
    WCAG 2.2 A/AA and axe's best practices. Old code: the index's chart folds were targets
    under 24 px high, packed row on row (target-size, serious), and its corner cell an empty
    header (empty-table-header, minor: reported, not failed on)."""
    pages = _pages(built) + _rendered(tmp_path) + [_full_index(tmp_path / "grid")]
    found = axe_check.check(pages)
    assert len(found) == len(pages) == 12
    serious = {
        p.name: [axe_check.describe(v) for v in axe_check.blocking(vs)] for p, vs in found.items()
    }
    assert {name: v for name, v in serious.items() if v} == {}
    assert not any(v["id"] == "empty-table-header" for v in found[built / "index.html"])


@needs_chromium
def test_axe_finds_what_it_should(tmp_path, capsys):
    """The check can fail: a page with low contrast, an image without alt text and an empty
    link has serious and critical violations, and the command exits 1 on its folder."""
    (tmp_path / "html").mkdir()
    bad = tmp_path / "html" / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><main><h1>T</h1>'
        '<p style="color:#ccc;background:#fff">faint</p><img src="x.png"><a href="y"></a>'
        "</main></body></html>",
        encoding="utf-8",
    )
    assert axe_check.main([str(tmp_path)]) == 1
    printed = capsys.readouterr().out
    for rule in ("color-contrast (serious)", "image-alt (critical)", "link-name (serious)"):
        assert "html/bad.html:\n" in printed and f"  {rule}: " in printed, printed


def test_the_command_says_when_there_is_nothing_to_check(tmp_path, capsys):
    assert axe_check.main([str(tmp_path)]) == 2
    assert "no HTML pages" in capsys.readouterr().err
