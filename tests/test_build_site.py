"""The site around the reports: title block, contents, links, alt text, print rules, Word
output, data downloads, methodology note, index, and a static accessibility check.

Pages are rendered from small executed notebooks made here (no kernel), with the site context
of the real reports.toml, so the whole file runs in seconds.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from a11y import NBCONVERT_ALT, problems
from nbformat.v4 import new_code_cell, new_notebook, new_output

from analysis import paths
from analysis.publish import export, site
from analysis.publish.index import render_index, with_font
from analysis.publish.jobs import make_jobs
from analysis.publish.spec import load_spec, select

SPEC = load_spec(paths.ROOT / "reports.toml")


def _job(report: str, lang: str, **params: str):
    jobs = make_jobs(select(SPEC, [report], {"lang": lang, **params}))
    return jobs[0]


def _png(height_px: int = 40) -> str:
    """A plain PNG of the given height (the page shrinks images to its width, not height)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(4, height_px / 100), dpi=100)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _cell(html: str | None = None, png: str | None = None, alt: str | None = None):
    cell = new_code_cell("show()", execution_count=1)
    if html is not None:
        cell.outputs.append(new_output("display_data", data={"text/html": html, "text/plain": "x"}))
    if png is not None:
        metadata = {"image/png": {"alt": alt}} if alt else {}
        cell.outputs.append(
            new_output(
                "display_data", data={"image/png": png, "text/plain": "<Figure>"}, metadata=metadata
            )
        )
    return cell


def _notebook(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"c{index}"
    return nb


TEXT = {
    "zh": ("集群政策报告", "要点", "胜出集群共44家，分属11个行业。", "地区分布", "工具箱"),
    "en": (
        "Cluster policy report",
        "Key points",
        "44 clusters won, in 11 industries.",
        "Regions",
        "Toolbox",
    ),
}


def _report(lang: str, *, alt: str | None = None) -> nbformat.NotebookNode:
    title, first, sentence, second, third = TEXT[lang]
    ref = '<sup class="an-ref"><a href="#s-n1">[1]</a></sup>'
    notes = '<ol class="an-notes"><li id="s-n1" value="1">原文：“共有44家集群胜出。”</li></ol>'
    if lang == "en":
        notes = notes.replace("原文：", '<span lang="zh-CN">').replace(
            "。”</li>", "。”</span></li>"
        )
    audit = site._words(lang)["audit_ref"]
    return _notebook(
        [
            _cell(f"<h1>{title}</h1>"),
            _cell(f'<h2 id="summary">{first}</h2><p>{sentence[:2]}{ref}{sentence[2:]}</p>{notes}'),
            _cell(f"<h2>{second}</h2><p>{audit}</p>"),
            _cell(png=_png(), alt=alt),
            _cell(
                '<figure class="an-figure-table"><table class="an-table">'
                f"<caption>{'表' if lang == 'zh' else 'Table'}</caption>"
                '<thead><tr><th scope="col">A</th><th scope="col" class="num">N</th></tr></thead>'
                "<tbody><tr><td>x</td><td>12</td></tr><tr><td>y</td><td>32</td></tr></tbody>"
                "</table></figure>"
            ),
            _cell(f"<h2>{third}</h2><p>{sentence}</p>"),
        ]
    )


def _options(job, **extra):
    return {
        "job_id": job.job_id,
        "title": None,
        "lang": job.lang,
        "notebook": "notebooks/cluster_policy.ipynb",
        "params": dict(job.params),
        "key": "0123456789abcdef",
        "site": site.page_context(SPEC, job),
        **extra,
    }


@pytest.fixture(scope="module", params=["zh", "en"])
def built(request, tmp_path_factory) -> tuple[str, str]:
    lang = request.param
    job = _job("cluster_policy", lang)
    page, _ = export.render_html(
        _report(lang), _options(job), notebook_dir=str(tmp_path_factory.mktemp("nb"))
    )
    return lang, page


def _body(page: str) -> str:
    body = page.split("<body>", 1)[1]
    return re.sub(r"data:[a-z/+.-]+;base64,[A-Za-z0-9+/=]+", "DATA", body)


# --------------------------------------------------------------------------- title block


def test_title_block_names_the_publisher_and_what_is_known_of_the_date(built) -> None:
    """Old code: the title block had no publisher and no date."""
    lang, page = built
    block = _body(page).split("</header>", 1)[0]
    words = site._words(lang)
    publisher = "赛迪智库（中国电子信息产业发展研究院）" if lang == "zh" else "CCID Think Tank ("
    assert words["publisher"] in block and publisher in block
    # The records state no date: the line says "undated" and the bound the text gives (the
    # latest month it names), never the build's date.
    assert words["source_date"] in block and words["date_unknown"] in block
    imprint = block.split('class="imprint"', 1)[1].split("</p>")[0]
    assert re.findall(r"20[2-9]\d", imprint) == ["2020"]
    assert ("2020年11月" if lang == "zh" else "November 2020") in imprint


def test_publisher_label_takes_the_names_of_the_page_language() -> None:
    record = "CCID Think Tank (赛迪智库), China Center for X (中国某研究院)"
    assert site.publisher_label(record, "zh") == "赛迪智库（中国某研究院）"
    assert site.publisher_label(record, "en") == "CCID Think Tank (China Center for X)"


# --------------------------------------------------------------------------- navigation


def test_contents_lists_every_section_with_a_working_anchor(built) -> None:
    """Old code: no table of contents."""
    lang, page = built
    body = _body(page)
    toc = re.search(r'<nav class="an-toc".*?</nav>', body, re.S)
    assert toc is not None
    targets = re.findall(r'href="#([^"]+)"', toc.group(0))
    assert len(targets) == 3  # the h2 sections, not the contents' own heading
    ids = set(re.findall(r'\bid="([^"]+)"', body))
    assert all(target in ids for target in targets)
    assert targets[0] == "summary"  # an id the report layer gave is kept
    assert site._words(lang)["toc"] in toc.group(0)


def test_reports_link_the_index_the_methodology_the_audit_and_their_data(built) -> None:
    """Old code: "see the Source audit report" was plain text, and no page linked anything."""
    lang, page = built
    hrefs = set(re.findall(r'href="([^"#][^"]*)"', _body(page)))
    audit = f"../html/source_audit.{lang}.html"
    assert {"../index.html", f"../methodology.{lang}.html", audit} <= hrefs
    assert {f"../pdf/cluster_policy.{lang}.pdf", f"../docx/cluster_policy.{lang}.docx"} <= hrefs
    assert "../data/ccid_facts.xlsx" in hrefs
    for table in SPEC.reports["cluster_policy"].data:
        assert f"../data/{table}.csv" in hrefs
    phrase = html_escape(site._words(lang)["audit_ref"])
    assert f'<a class="an-xref" href="{audit}">{phrase}</a>' in page


def html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=False)


def test_pdf_links_stay_relative(built, tmp_path) -> None:
    """Old code would have resolved each relative link against the notebook folder, writing a
    file:// URL of the machine's checkout into every PDF."""
    import pypdf

    _, page = built
    pdf = export.render_pdf(page, base_url=str(tmp_path))
    uris = []
    for sheet in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for annot in sheet.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action is not None and "/URI" in action:
                uris.append(str(action["/URI"]))
    assert uris and all(uri.startswith("../") for uri in uris), uris
    assert str(tmp_path).encode() not in pdf and str(paths.ROOT).encode() not in pdf


# --------------------------------------------------------------------------- alt text


def test_every_image_has_alt_text_in_the_report_language(built) -> None:
    """Old code: nbconvert's English placeholder on every image, in both languages."""
    lang, page = built
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', page)
    assert alts and NBCONVERT_ALT not in page
    heading = TEXT[lang][3]
    # No alt from the report layer: the kind of figure and the heading of its section.
    assert alts == [f"图表：{heading}" if lang == "zh" else f"Chart: {heading}"]


def test_alt_text_from_the_report_layer_is_used(tmp_path) -> None:
    job = _job("cluster_policy", "zh")
    page, _ = export.render_html(
        _report("zh", alt="图表：胜出集群的行业分布。"), _options(job), notebook_dir=str(tmp_path)
    )
    assert re.findall(r'<img [^>]*alt="([^"]*)"', page) == ["图表：胜出集群的行业分布。"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_figure_alt_gives_title_and_what_the_chart_shows(lang: str) -> None:
    """A chart shown in a notebook carries alt text composed from its own labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.report import display
    from analysis.report.style import use_style

    use_style()

    labels = {
        "zh": ("胜出集群的行业分布", "胜出集群（家）", "东部"),
        "en": ("Winning clusters by industry", "Winning clusters (number)", "East"),
    }[lang]
    fig, ax = plt.subplots()
    ax.barh(["a"], [1], label=labels[2])
    ax.set_title(labels[0])
    ax.set_xlabel(labels[1])
    ax.legend(title=labels[1] + "·")
    alt = display.figure_alt(fig, lang)
    data, metadata = display._inline_png(fig, lang)
    plt.close(fig)
    assert metadata == {"alt": alt} and data
    assert all(label in alt for label in labels)
    assert labels[1] + "·" in alt  # a legend's title says what its colours are
    assert alt.startswith("图表：" if lang == "zh" else "Chart: ")
    described = plt.figure()
    display.describe(described, "given")
    assert display.figure_alt(described, lang) == "given"
    plt.close(described)


# --------------------------------------------------------------------------- footer


def test_footer_is_in_the_report_language(built) -> None:
    """Old code: "Generated by analysis build from …" in English-like words on Chinese pages."""
    lang, page = built
    footer = page.split('<footer class="report-footer">', 1)[1].split("</footer>", 1)[0]
    text = re.sub(r"<code[^>]*>.*?</code>", "", footer)
    text = re.sub(r"<[^>]+>", "", text)
    if lang == "zh":
        assert not re.search(r"[A-Za-z]{3,}", text), text
    else:
        assert not re.search(r"[\u4e00-\u9fff]", text), text


# --------------------------------------------------------------------------- accessibility


def test_report_page_passes_the_static_accessibility_check(built) -> None:
    _, page = built
    assert problems(page) == []


def test_the_accessibility_check_finds_what_it_should() -> None:
    page = (
        '<html><body><h1>T</h1><h3>skip</h3><h1>again</h1><img src="x.png">'
        f'<img src="y.png" alt="{NBCONVERT_ALT}"><table><tr><td>1</td></tr></table>'
        '<a href="x"></a><p>中文</p></body></html>'
    )
    found = "\n".join(problems(page))
    for expected in (
        "declares no language",
        "2 h1",
        "h1 then h3",
        "without alt",
        "placeholder",
        "no header cells",
        "link without text",
        "Chinese on an English page",
    ):
        assert expected in found
    zh = '<html lang="zh-CN"><body><h1>标题</h1><p>see the report</p><p lang="en">fine</p>'
    assert problems(zh) == [
        "English on a Chinese page, not marked lang=en: ['see', 'the', 'report']"
    ]


def test_methodology_note_and_index_pass_the_check() -> None:
    for lang in ("zh", "en"):
        page = site.render_methodology(lang, "报告" if lang == "zh" else "Reports")
        assert problems(page) == [], lang
        assert f'class="an-xref" href="html/source_audit.{lang}.html"' in page
        assert 'href="index.html"' in page
    jobs = make_jobs(select(SPEC))
    index = render_index(SPEC, jobs, {}, paths.ROOT / "no-such-folder")
    assert problems(index) == []


# --------------------------------------------------------------------------- print


def _pages_of(page: str, selector_tags: tuple[str, ...]) -> dict[str, list[int]]:
    """Page numbers (1-based) on which each element of the given tags is laid out, by id or
    class (a layout, not a PDF: read from WeasyPrint's boxes)."""
    import weasyprint

    document = weasyprint.HTML(string=page).render()
    found: dict[str, list[int]] = {}

    def walk(box, number):
        element = getattr(box, "element", None)
        if element is not None and getattr(box, "element_tag", None) in selector_tags:
            key = element.get("id") or element.get("alt") or element.tag
            found.setdefault(key, [])
            if number not in found[key]:
                found[key].append(number)
        for child in getattr(box, "children", []) or []:
            walk(child, number)

    for number, sheet in enumerate(document.pages, start=1):
        walk(sheet._page_box, number)
    return found


def _filler(paragraphs: int) -> str:
    return "".join(f"<p>段落 {i}：用于占满页面的正文文字。</p>" for i in range(paragraphs))


@pytest.mark.parametrize("filler", [18, 22])
def test_a_heading_is_never_left_at_the_foot_of_a_page_away_from_its_chart(filler, tmp_path):
    """A section (heading and a line of text) then a chart too tall for the rest of the page:
    the heading goes over with the chart. Old code left it at the foot of the page (nbconvert's
    empty collapser div hid the chart cell's break rule)."""
    nb = _notebook(
        [
            _cell("<h1>标题</h1>" + _filler(filler)),
            _cell('<h2 id="sec">地区分布</h2><p>一句说明。</p>'),
            _cell(png=_png(500), alt="图表：地区"),
        ]
    )
    page, _ = export.render_html(nb, {"lang": "zh"}, notebook_dir=str(tmp_path))
    where = _pages_of(page, ("h2", "img"))
    assert where["sec"] == where["图表：地区"], where


def test_a_table_leaves_no_lone_row_and_keeps_its_caption(tmp_path) -> None:
    rows = "".join(f'<tr id="r{i}"><td>行{i}</td><td>{i}</td></tr>' for i in range(6))
    table = (
        '<figure class="an-figure-table"><table class="an-table"><caption id="cap">表</caption>'
        f'<thead><tr><th scope="col">名称</th><th scope="col">数</th></tr></thead><tbody>{rows}'
        "</tbody></table></figure>"
    )
    from analysis.report.display import REPORT_CSS  # sets the report's captions above tables

    for filler in range(17, 25):  # the table starts lower and lower on the first page
        nb = _notebook(
            [_cell(f"<style>{REPORT_CSS}</style><h1>标题</h1>" + _filler(filler)), _cell(table)]
        )
        page, _ = export.render_html(nb, {"lang": "zh"}, notebook_dir=str(tmp_path))
        where = _pages_of(page, ("tr", "caption"))
        by_page: dict[int, int] = {}
        for i in range(6):
            for number in where[f"r{i}"]:
                by_page[number] = by_page.get(number, 0) + 1
        assert all(count >= 2 for count in by_page.values()), (filler, by_page)
        assert where["cap"][0] == min(where["r0"]), (filler, where)


# --------------------------------------------------------------------------- Word


def test_docx_carries_headings_numbers_footnotes_tables_and_charts(built, tmp_path) -> None:
    """Every docx opens with python-docx, with the HTML's headings and numbers."""
    import docx

    lang, page = built
    data = export.render_docx(page)
    document = docx.Document(io.BytesIO(data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    html_headings = [
        re.sub(r"<[^>]+>", "", h)
        for h in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", page.split("</nav>", 1)[1], re.S)
    ]
    assert headings == [TEXT[lang][0], *html_headings]
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    for number in ("44", "11", "12", "32"):
        assert number in text
    assert len(document.tables) == 1 and len(document.inline_shapes) == 1
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        notes = archive.read("word/footnotes.xml").decode()
        styles = archive.read("word/styles.xml").decode()
    assert "共有44家集群胜出" in notes  # a real Word footnote, not a list at the end
    assert 'w:eastAsia="Noto Sans CJK SC"' in styles and 'w:ascii="Noto Sans"' in styles


def test_docx_bytes_do_not_depend_on_the_folder_or_the_clock(built, tmp_path, monkeypatch):
    _, page = built
    first = export.render_docx(page)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    second = export.render_docx(page)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert str(tmp_path).encode() not in second


def test_the_kept_pandoc_makes_the_bytes_of_a_pandoc_per_report(built, tmp_path, monkeypatch):
    """One pandoc converts report after report (`export._KeptPandoc`): each Word file has the
    bytes a pandoc started for it alone makes, whatever came before; a kept pandoc that died
    is replaced, and the report it was asked for is still made, the same. When its stdin
    closes, it removes its temporary folder."""
    import signal

    lang, page = built
    export._discard_kept_pandoc()
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    other = export.page_shell(
        "<h1>Other</h1><p>一段文字 with 2 numbers, 3 and 4.</p>",
        "Other",
        "zh" if lang == "en" else "en",
    )
    kept = export._kept_pandoc()
    assert kept is not None
    for each in (page, other, page):
        request = export._docx_request(each)
        assert kept.convert(*request) == export._render_docx_once(*request)
    assert len(list(tmp_path.glob("analysis-docx*"))) == 1  # its folder
    kept.process.send_signal(signal.SIGINT)  # it ends (and tidies up) behind our back
    kept.process.wait()
    assert export.render_docx(page) == export._render_docx_once(*export._docx_request(page))
    assert export._kept_pandoc() is not kept  # a new one, for the next report
    export._discard_kept_pandoc()
    assert list(tmp_path.glob("analysis-docx*")) == []


def test_reference_docx_names_the_house_fonts_with_fallbacks() -> None:
    with zipfile.ZipFile(io.BytesIO(export.reference_docx())) as archive:
        fonts = archive.read("word/fontTable.xml").decode()
        dates = {info.date_time for info in archive.infolist()}
    assert '<w:font w:name="Noto Sans CJK SC"><w:altName w:val="Microsoft YaHei"/>' in fonts
    assert dates == {(1980, 1, 1, 0, 0, 0)}


# --------------------------------------------------------------------------- site files


def test_write_site_copies_the_declared_tables_and_removes_only_its_own(tmp_path) -> None:
    processed = paths.ROOT / "data" / "processed"
    reports = tmp_path / "reports"
    record = site.write_site(SPEC, reports, processed)
    declared = {t for r in SPEC.reports.values() for t in r.data}
    assert {f"data/{t}.csv" for t in declared} | {"data/ccid_facts.xlsx"} <= set(record)
    for table in declared:
        assert (reports / "data" / f"{table}.csv").read_bytes() == (
            processed / f"{table}.csv"
        ).read_bytes()
    assert {"methodology.zh.html", "methodology.en.html"} <= set(record)
    saved = json.loads((reports / site.SITE_RECORD).read_text())["files"]
    assert saved == record
    # A file of someone else's in data/, and a copy someone changed, are left alone; a copy
    # the build made and no report declares any more is removed.
    (reports / "data" / "mine.csv").write_text("a person's file\n")
    changed = reports / "data" / "policy_events.csv"
    changed.write_text("edited by hand\n")
    fewer = _without_table(SPEC, "policy_events")
    fewer = _without_table(fewer, "cited_sentences")
    site.write_site(fewer, reports, processed)
    assert (reports / "data" / "mine.csv").exists()
    assert changed.read_text() == "edited by hand\n"
    assert not (reports / "data" / "cited_sentences.csv").exists()


def _without_table(spec, table):
    import dataclasses

    reports = {
        name: dataclasses.replace(r, data=tuple(t for t in r.data if t != table))
        for name, r in spec.reports.items()
    }
    return dataclasses.replace(spec, reports=reports)


def test_a_declared_table_that_does_not_exist_is_refused(tmp_path) -> None:
    from analysis.publish.spec import SpecError

    (tmp_path / "data" / "processed").mkdir(parents=True)
    (tmp_path / "data" / "processed" / "datapackage.json").write_text(
        json.dumps({"resources": [{"name": "policy_events"}]})
    )
    nb = tmp_path / "notebooks" / "r.ipynb"
    nb.parent.mkdir()
    book = _notebook([new_code_cell("lang = 'zh'", metadata={"tags": ["parameters"]})])
    book.metadata["kernelspec"] = {"name": "analysis", "display_name": "a", "language": "python"}
    nbformat.write(book, nb)
    toml = tmp_path / "reports.toml"
    toml.write_text('[reports.r]\nnotebook = "notebooks/r.ipynb"\ndata = ["policy_event"]\n')
    with pytest.raises(SpecError) as info:
        load_spec(toml)
    assert "policy_event" in str(info.value) and "did you mean 'policy_events'" in str(info.value)


# --------------------------------------------------------------------------- index


def test_index_describes_each_report_and_embeds_its_font_under_a_private_name() -> None:
    """Old code: no description, and the subset embedded as "Noto Sans CJK SC"."""
    jobs = make_jobs(select(SPEC, ["cluster_policy"]))
    page = with_font(render_index(SPEC, jobs, {}, Path("/nonexistent")))
    description = SPEC.reports["cluster_policy"].description
    assert description["zh"] in page and description["en"] in page
    assert 'font-family: "Noto Sans CJK SC"' not in page
    assert f'font-family: "{export.EMBEDDED_FAMILY}"' in page
    assert 'href="methodology.zh.html"' in page and 'href="methodology.en.html"' in page


def test_only_a_short_lead_in_is_kept_with_its_chart() -> None:
    """A chart after a long section may start the next page (moving the whole section left
    half-empty pages, two in a row); a table always stays with what precedes it."""

    def cell(inner: str) -> str:
        return f'<div class="jp-Cell jp-CodeCell" id="x">{inner}</div>'

    chart = cell('<div class="jp-RenderedImage"><img alt="" src="data:image/png;base64,AA"></div>')
    table = cell('<figure class="an-figure-table"><table></table></figure>')
    short = cell("<h2>标题</h2><p>一句说明。</p>")
    long = cell("<h2>标题</h2><p>" + "很长的说明文字。" * 40 + "</p>")
    assert "an-keep-prev" in export._cells_marked(short + chart).split(short)[1]
    assert "an-keep-prev" not in export._cells_marked(long + chart)
    assert "an-keep-prev" in export._cells_marked(long + table)


def test_the_index_of_a_build_passes_the_check(tmp_path) -> None:
    """With records, outputs and charts (old code: chart file names and "failed", "log",
    "figures" unmarked English on the Chinese page)."""
    jobs = make_jobs(select(SPEC, ["cluster_policy"]))
    records = {}
    for number, job in enumerate(jobs):
        for rel in job.outputs().values():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text("x")
        figure = f"figures/cluster_policy_timeline_{job.lang}.png"
        (tmp_path / figure).parent.mkdir(exist_ok=True)
        (tmp_path / figure).write_text("x")
        records[job.job_id] = {
            "status": "ok" if number == 0 else "failed",
            "title": TEXT[job.lang][0],
            "figures": {figure: {}},
        }
    page = render_index(SPEC, jobs, records, tmp_path)
    assert problems(page) == []
    assert "cluster_policy_timeline_zh.png" in page and "失败" in page


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no cell",
        '<div class="jp-Cell a">x</div>',
        'head<div class="jp-Cell a">x</div><div class="jp-Cell b">y</div>tail',
        '<div class="jp-Cell <div class="jp-Cell ',
    ],
)
def test_cells_are_cut_where_the_lookahead_split_cut_them(text) -> None:
    """`export._split_before` gives what `re.split(r'(?=<div class="jp-Cell )')` gave."""
    expected = re.split(r'(?=<div class="jp-Cell )', text)
    assert export._split_before(text, export._CELL_START) == expected
