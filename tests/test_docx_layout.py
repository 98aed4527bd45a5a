"""The Word files as a reader sees them: A4 pages, tables across the page with columns that fit
what they hold, charts no taller than in the PDF, links in the title block kept apart."""

from __future__ import annotations

import base64
import io
import re
import zipfile

import pytest

from analysis.publish import export

LONG = ", ".join(["core-strengthening project", "chain-strengthening project"] * 4)


def _png(width: int, height: int) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _page() -> str:
    rows = "".join(
        f"<tr><td>{province}</td><td>Flagship projects</td><td>2020</td><td>6</td>"
        f"<td>{LONG}</td></tr>"
        for province in ("Jiangsu", "Guangdong", "Zhejiang")
    )
    table = (
        '<figure class="an-figure-table"><table class="an-table an-compact">'
        "<caption>Provincial cluster strategies</caption><thead><tr>"
        '<th scope="col">Province</th><th scope="col">Item</th><th scope="col">Year</th>'
        '<th scope="col">What the text states</th><th scope="col">Listed in the text</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></figure>"
    )
    nav = (
        '<p class="an-nav"><a href="../index.html">All reports</a> '
        '<a href="../methodology.en.html">Methodology note</a> <a href="x.pdf">PDF</a></p>'
    )
    # A chart 163 x 152 mm at 200 dpi, as tall as the old timeline.
    chart = (
        '<div class="jp-RenderedImage"><img src="data:image/png;base64,'
        f'{_png(1280, 1194)}" alt="Chart: a timeline"></div>'
    )
    inner = f'<header class="title-block"><h1>Report</h1>{nav}</header><h2>Part</h2>{table}{chart}'
    return export.page_shell(inner, "Report", "en")


@pytest.fixture(scope="module")
def document_xml() -> str:
    with zipfile.ZipFile(io.BytesIO(export.render_docx(_page()))) as archive:
        return archive.read("word/document.xml").decode()


def test_the_word_page_is_a4_with_the_pdf_margins(document_xml):
    """Old code: no page size, so Word and LibreOffice chose US Letter."""
    section = re.findall(r"<w:sectPr>.*?</w:sectPr>", document_xml, re.S)[-1]
    assert re.search(r'<w:pgSz w:h="16838" w:w="11906" ?/>', section)
    # The schema's order: footnote properties before the page size (Word refuses the reverse).
    assert section.index("footnotePr") < section.index("pgSz")


def test_a_table_spans_the_page_and_gives_long_lists_the_room(document_xml):
    """Old code: five equal columns; the list wrapped one word a line, page after page. Now the
    table spans the text width, the list gets the widest column, and "Guangdong" and "2020"
    (their columns' longest words) are not broken."""
    assert '<w:tblW w:type="pct" w:w="5000" />' in document_xml
    grid = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)" ?/>', document_xml)]
    assert len(grid) == 5
    # pandoc writes the grid for a page of its own; Word stretches it to the text width.
    scale = export.DOCX_TEXT_WIDTH_MM * 1440 / 25.4 / sum(grid)
    province, item, year, states, listed = (w * scale for w in grid)
    assert listed == max(province, item, year, states, listed) and listed >= 1.5 * item
    # 9 pt table text: a character about 5.5 pt (110 twips) wide, cells padded 108 twips a side.
    assert province >= len("Guangdong") * 110 + 216
    assert year >= len("2020") * 110 + 216
    assert re.search(r"<w:tblHeader( w:val=\"on\")? ?/>", document_xml)  # header row repeats


def test_a_tall_chart_is_no_taller_in_word_than_in_the_pdf(document_xml):
    """Old code: pandoc sized the chart by its 200 dpi, 152 mm high."""
    (cx, cy), *_ = [
        (int(a), int(b)) for a, b in re.findall(r'<wp:extent cx="(\d+)" cy="(\d+)"', document_xml)
    ]
    max_mm = float(export.CHART_MAX_HEIGHT.removesuffix("mm"))
    assert cy / 36000 == pytest.approx(max_mm, abs=0.5)  # EMU: 36000 a millimetre
    assert cx / cy == pytest.approx(1280 / 1194, rel=0.01)
    assert 'descr="Chart: a timeline"' in document_xml


def test_the_title_block_links_stand_apart(document_xml):
    """Old code: "All reports Methodology note PDF", one run of link text."""
    text = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", document_xml))
    assert "All reports · Methodology note · PDF" in text


def test_word_text_is_set_at_report_sizes():
    """Old code: pandoc's 12 pt for everything, tables included."""
    with zipfile.ZipFile(io.BytesIO(export.reference_docx())) as archive:
        styles = archive.read("word/styles.xml").decode()
    defaults = re.search(r"<w:docDefaults>.*?</w:docDefaults>", styles, re.S).group(0)
    assert '<w:sz w:val="21" />' in defaults
    table = re.search(r'w:styleId="Table">.*?</w:style>', styles, re.S).group(0)
    assert '<w:sz w:val="18" />' in table


def test_a_note_cited_twice_is_one_footnote_whose_number_is_repeated():
    """Old code: "29[2] of the 31 provinces … (93.5%[2])" gave two identical footnotes."""
    import docx

    ref = '<sup class="an-ref"><a href="#s-n{0}">[{0}]</a></sup>'
    notes = (
        '<ol class="an-notes"><li id="s-n1">Source: “One.”</li>'
        '<li id="s-n2">Source: “Two.”</li></ol>'
    )
    inner = (
        f"<h2>Part</h2><p>First 44{ref.format(1)}, then 29{ref.format(2)} and "
        f"93.5%{ref.format(2)}.</p>{notes}"
    )
    data = export.render_docx(export.page_shell(inner, "Report", "en"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        footnotes = archive.read("word/footnotes.xml").decode()
    assert footnotes.count("Source: “Two.”") == 1 and footnotes.count("Source: “One.”") == 1
    paragraph = next(p for p in docx.Document(io.BytesIO(data)).paragraphs if "First" in p.text)
    assert paragraph.text.endswith("93.5%[2].")  # the repeated marker shows note 2's number
