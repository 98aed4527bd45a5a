"""The report notebooks and reports.toml: structure, committed outputs, rendered HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from analysis import load, paths
from analysis.provinces import mainland, resolve
from analysis.publish import export
from analysis.publish.spec import UnknownSelectionError, load_spec, select
from analysis.report import formatting as fm

REPORTS_FILE = paths.ROOT / "reports.toml"
NOTEBOOKS = ("cluster_policy", "amoled_industry", "province_profile", "source_audit")


def _notebook(name: str) -> nbformat.NotebookNode:
    return nbformat.read(paths.NOTEBOOKS / f"{name}.ipynb", as_version=4)


def _indicator(table: str, name: str):
    frame = load(table)
    return frame.loc[frame["indicator"] == name].iloc[0]


def _page(nb: nbformat.NotebookNode, lang: str) -> str:
    page, _ = export.render_html(nb, {"lang": lang}, notebook_dir=str(paths.NOTEBOOKS))
    return page


def _visible_text(page: str) -> str:
    """The page's text as a reader sees it: no tags, no embedded data, no note markers."""
    body = page.split("<body>", 1)[1]
    body = re.sub(r"<style>.*?</style>", "", body, flags=re.S)
    body = re.sub(r'<sup class="an-ref">.*?</sup>', "", body, flags=re.S)
    return re.sub(r"<[^>]+>", "", body)


# --------------------------------------------------------------------------- reports.toml


def test_reports_toml_declares_every_report_and_grid():
    spec = load_spec(REPORTS_FILE)
    assert list(spec.reports) == list(NOTEBOOKS)
    jobs = select(spec)
    by_report = {}
    for report, params in jobs:
        by_report.setdefault(report.name, []).append(params)
    for name in NOTEBOOKS:
        assert {p["lang"] for p in by_report[name]} == {"zh", "en"}
        assert set(spec.reports[name].formats) == {"html", "pdf", "docx"}
    provinces = {p["province"] for p in by_report["province_profile"]}
    assert provinces == {unit.short_zh for unit in mainland()}
    assert len(by_report["province_profile"]) == 2 * len(mainland())


def test_unknown_province_or_language_is_rejected_before_any_kernel_starts():
    spec = load_spec(REPORTS_FILE)
    with pytest.raises(UnknownSelectionError) as exc:
        select(spec, ["province_profile"], {"province": "火星"})
    assert "江苏" in str(exc.value) and "西藏" in str(exc.value)  # the valid values are listed
    with pytest.raises(UnknownSelectionError) as exc:
        select(spec, ["cluster_policy"], {"lang": "fr"})
    assert "zh, en" in str(exc.value)
    # Any alias the reference table knows is accepted.
    ((_, params),) = select(spec, ["province_profile"], {"province": "Jiangsu", "lang": "en"})
    assert params["province"] == "江苏"


# --------------------------------------------------------------------------- notebooks


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_structure(name):
    nb = _notebook(name)
    assert nb.metadata["kernelspec"] == {
        "name": "analysis",
        "display_name": "Python (analysis)",
        "language": "python",
    }
    first = nb.cells[0]
    assert "parameters" in first.metadata.get("tags", [])
    assert re.search(r'^lang: Literal\["zh", "en"\] = "zh"$', first.source, re.M)
    for cell in nb.cells:
        # The published words are rendered from templates: a Markdown cell explains the notebook
        # to the researcher and stays out of the report (it could hold no language's number).
        if cell.cell_type == "markdown":
            assert "remove-cell" in cell.metadata.get("tags", []), cell.id
        if cell.cell_type == "code" and "charts." in cell.source:
            assert cell.source.rstrip().endswith("plt.show()")
    imports = "\n".join(c.source for c in nb.cells)
    assert "from analysis.report import" in imports


def test_province_profile_default_is_a_known_province():
    source = _notebook("province_profile").cells[0].source
    default = re.search(r'^province = "([^"]+)"', source, re.M).group(1)
    assert resolve(default).is_mainland


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebooks_carry_clean_outputs(name):
    nb = _notebook(name)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert outputs, "the committed notebook has no outputs; run analysis build --update-notebooks"
    # The report's cells display; a researcher's cell (remove-cell) may show a frame's repr.
    published = [
        o
        for c in nb.cells
        if "remove-cell" not in c.metadata.get("tags", [])
        for o in c.get("outputs", [])
    ]
    kinds = {o.output_type for o in published}
    assert kinds <= {"display_data"}, f"errors, prints or stray reprs: {kinds}"
    researcher = {o.output_type for o in outputs} - kinds
    assert researcher <= {"display_data", "execute_result"}, f"errors or prints: {researcher}"
    text = json.dumps([o.get("data", {}).get("text/plain", "") for o in outputs])
    assert " at 0x" not in text and str(paths.ROOT) not in text
    assert any("image/png" in o.get("data", {}) for o in outputs) or name == "source_audit"


# --------------------------------------------------------------------------- rendered HTML


def test_cluster_policy_html_shows_the_key_figures_of_the_tables():
    page = _page(_notebook("cluster_policy"), "zh")
    text = _visible_text(page)
    total = _indicator("cluster_indicators", "competition_winners")
    share = _indicator("cluster_indicators", "provinces_naming_clusters_share")
    naming = _indicator("cluster_indicators", "provinces_naming_clusters")
    assert fm.format_count(total["value"], "zh", "家") in text
    assert fm.format_percent(share["value"], "zh") in text
    assert fm.format_count(naming["value"], "zh", "个") in text
    industries = load("national_clusters_by_industry").sort_values(
        ["clusters", "position"], ascending=[False, True]
    )
    for row in industries.head(3).itertuples():  # the text names the three largest
        assert f"{row.industry_zh}（{fm.format_count(row.clusters, 'zh', '个')}）" in text
    rounds = load("cluster_competition_rounds")
    for row in rounds.itertuples():
        assert fm.format_count(row.winners, "zh", "家") in text
        assert fm.format_month(row.launched, "zh") in text
    # Each key number's note quotes its sentence.
    sentences = load("cited_sentences").set_index("sentence_id")["text"]
    assert sentences[total["sentence_id"]] in text


def test_amoled_html_shows_the_key_figures_of_the_tables():
    page = _page(_notebook("amoled_industry"), "zh")
    text = _visible_text(page)
    for name in ("new_display_investment", "amoled_investment", "amoled_output_value"):
        row = _indicator("amoled_indicators", name)
        shown = fm.format_value(row["value"], row["unit"], "zh", row["qualifier"])
        assert shown in text, shown
    built = _indicator("amoled_indicators", "amoled_lines_built")
    assert fm.format_count(built["value"], "zh", "条") in text
    for row in load("amoled_equipment_concentration").itertuples():
        assert row.equipment_zh in text


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_html_is_self_contained_and_declares_its_language(name):
    page = _page(_notebook(name), "zh")
    assert export.find_remote_resources(page) == []
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.I)
    assert '<html lang="zh-CN">' in page
    assert "Noto Sans CJK SC" in page


@pytest.fixture(scope="module")
def amoled_en(tmp_path_factory) -> tuple[str, Path]:
    """The AMOLED notebook run with lang="en" (as the build does): its HTML and its folder."""
    import papermill

    folder = tmp_path_factory.mktemp("amoled-en")
    out = folder / "amoled_en.ipynb"
    # The kernel inherits this environment: its charts go to the folder, not reports/figures/.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(paths.FIGURES_ENV, str(folder / "figures"))
        papermill.execute_notebook(
            str(paths.NOTEBOOKS / "amoled_industry.ipynb"),
            str(out),
            parameters={"lang": "en"},
            kernel_name="analysis",
            cwd=str(paths.NOTEBOOKS),
            progress_bar=False,
        )
    return _page(nbformat.read(out, as_version=4), "en"), folder


def test_english_report_renders_amounts_the_english_way(amoled_en):
    page, folder = amoled_en
    text = _visible_text(page)
    investment = _indicator("amoled_indicators", "new_display_investment")
    output = _indicator("amoled_indicators", "amoled_output_value")
    assert "more than " + fm.format_amount(investment["value"], "en") in text  # RMB 1.2 trillion
    assert fm.format_amount(output["value"], "en") in text  # RMB 21 billion
    # Chinese amounts appear only in the notes that quote the original sentences.
    prose = re.sub(r'<ol class="an-notes">.*?</ol>', "", page, flags=re.S)
    assert not re.search(r"[0-9.]+万?亿元", _visible_text(prose))
    assert '<html lang="en">' in page
    assert export.find_remote_resources(page) == []
    assert sorted(p.name for p in (folder / "figures").glob("*_en.png"))


def test_notebook_paths_are_relative():
    for name in NOTEBOOKS:
        text = (paths.NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8")
        assert str(Path(paths.ROOT)) not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pdf_text_layer_holds_every_number_and_word_of_a_real_report(lang, amoled_en, tmp_path):
    """The text layer of a real report's PDF holds every number and word its HTML shows (the
    English AMOLED report run above; the committed cluster-policy notebook in Chinese). Old
    code: the English PDFs lost every digit in running text ("launched in August  and May .")
    and the Chinese ones every ligature ("rst" for "first")."""
    from textlayer import missing_from_text_layer, pdf_text

    page = amoled_en[0] if lang == "en" else _page(_notebook("cluster_policy"), "zh")
    text = pdf_text(export.render_pdf(page, base_url=str(paths.NOTEBOOKS)), tmp_path)
    assert missing_from_text_layer(page, text) == {"numbers": [], "words": []}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_docx_of_a_real_report_has_the_headings_and_numbers_of_its_html(lang, amoled_en):
    """The Word file of a real report (the English AMOLED report, the Chinese cluster report)
    opens with python-docx and holds every heading of its HTML, in order, and every number its
    HTML shows outside the table of contents and the footer (which Word leaves out) at least as
    often: footnotes and table cells included."""
    import io
    import zipfile
    from collections import Counter

    import docx
    from textlayer import NUMBER, visible_text

    page = amoled_en[0] if lang == "en" else _page(_notebook("cluster_policy"), "zh")
    data = export.render_docx(page)
    document = docx.Document(io.BytesIO(data))
    body = page.split("<body>", 1)[1]
    body = re.sub(
        r'<nav class="an-toc".*?</nav>|<footer class="report-footer">.*?</footer>',
        "",
        body,
        flags=re.S,
    )
    headings = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", h)).strip()
        for h in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", body, re.S)
    ]
    word_headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert [re.sub(r"\s+", " ", h).strip() for h in word_headings] == headings
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = (
            archive.read("word/document.xml").decode() + archive.read("word/footnotes.xml").decode()
        )
    text = re.sub(r"<[^>]+>", "", xml.replace("</w:p>", "\n"))
    # Note markers ("[2]") become Word's own footnote references, numbered by Word.
    markers = re.sub(r'<sup class="an-ref">.*?</sup>', "", body, flags=re.S)
    # The text outside the notes at least as often; a note that a passage cites twice is one
    # Word footnote, so the notes' numbers are only required to be there.
    notes = re.findall(r'<ol class="an-notes".*?</ol>', markers, flags=re.S)
    outside = re.sub(r'<ol class="an-notes".*?</ol>', "", markers, flags=re.S)
    shown = Counter(NUMBER.findall(visible_text(outside)))
    shown.subtract(Counter(NUMBER.findall(text)))
    assert sorted(n for n, count in shown.items() if count > 0) == []
    in_notes = {n for note in notes for n in NUMBER.findall(visible_text(note))}
    assert sorted(in_notes - set(NUMBER.findall(text))) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_real_report_passes_the_structural_accessibility_check(lang, amoled_en):
    """Language declared, one h1, no skipped level, alt text in the report's language on every
    chart, table headers, link text (old code: nbconvert's English placeholder as the alt text
    of every chart). The marking of quoted text in the other language is checked on the pages
    the export writes itself (test_build_site.py)."""
    from a11y import problems

    page = amoled_en[0] if lang == "en" else _page(_notebook("cluster_policy"), "zh")
    assert "<img" in page
    assert problems(page, languages=False) == []
