"""The reports as printed: pages that are not left half empty, no page holding only a footer.

Measured on WeasyPrint's own layout (the boxes it placed on each page), the same layout the PDF
is drawn from, so a test needs no rasterising.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from analysis import paths
from analysis.publish import export

BOX_KINDS = ("LineBox", "BlockReplacedBox", "InlineReplacedBox", "TableRowBox")


def page_fill(page: str) -> list[float]:
    """For each printed page, the share of the text block's height down to its lowest line,
    image or table row (the running header and page number, in the margins, do not count)."""
    import weasyprint

    export._subset_with_pinned_harfbuzz()
    with export._font_configuration() as font_config, export._source_date_epoch():
        document = weasyprint.HTML(string=page).render(font_config=font_config)
    fills = []
    for printed in document.pages:
        box = printed._page_box
        top = box.content_box_y()
        bottom = top
        stack = list(box.children)
        while stack:
            child = stack.pop()
            name = type(child).__name__
            if name == "MarginBox":
                continue
            if name in BOX_KINDS:
                bottom = max(bottom, child.position_y + child.margin_height())
            stack.extend(getattr(child, "children", None) or [])
        fills.append((bottom - top) / box.height)
    return fills


@pytest.fixture(scope="module")
def cluster_zh_fill() -> list[float]:
    nb = nbformat.read(paths.NOTEBOOKS / "cluster_policy.ipynb", as_version=4)
    page, _ = export.render_html(nb, {"lang": "zh"}, notebook_dir=str(paths.NOTEBOOKS))
    return page_fill(page)


def test_no_page_of_the_cluster_report_is_left_half_empty(cluster_zh_fill):
    """Old code: the tall charts (timeline 162 mm, strategy chart 171 mm, maps 133 mm printed)
    did not fit below the text before them and left pages half full, and the last page held
    only the footer (5 % of the page). Charts are now at most CHART_MAX_HEIGHT high in print."""
    body, last = cluster_zh_fill[:-1], cluster_zh_fill[-1]
    assert min(body) >= 0.5, [round(f, 2) for f in cluster_zh_fill]
    assert last >= 0.15, [round(f, 2) for f in cluster_zh_fill]
    assert len(cluster_zh_fill) <= 8  # old: 10


def test_charts_are_capped_in_print_only():
    css = export.page_css("en")
    print_rules = css.split("@media print", 1)[1]
    assert f"max-height: {export.CHART_MAX_HEIGHT}" in print_rules
    # On screen a chart keeps its full width: the cap is for the A4 page.
    assert "max-height" not in css.split("@media print", 1)[0]


def test_a_chart_after_a_chart_may_start_a_new_page():
    """Two figures in a row are not chained: old code kept the map with the bar chart before it,
    and heading, lead-in, bar chart and map, taller than a page, pushed to a page of their own."""
    cell = '<div class="jp-Cell jp-CodeCell">{}</div>'
    body = (
        cell.format("<h2>Winners</h2><p>Short lead-in.</p>")
        + cell.format('<div class="jp-RenderedImage"><img alt="bars"></div>')
        + cell.format('<div class="jp-RenderedImage"><img alt="map"></div>')
    )
    marked = export._cells_marked(body)
    assert marked.count("an-keep-prev") == 1
    assert marked.index("an-keep-prev") < marked.index('alt="bars"')


def _printed_toc(headings: int) -> list[tuple[float, float]]:
    """Where WeasyPrint places each entry of a page's table of contents (x, y), in order."""
    import weasyprint
    from nbformat.v4 import new_markdown_cell, new_notebook

    sections = "".join(f"\n\n## Section {i}\n\nText of section {i}." for i in range(headings))
    nb = new_notebook(cells=[new_markdown_cell(f"# A report{sections}")])
    page, _ = export.render_html(nb, {"lang": "en"}, notebook_dir=str(paths.NOTEBOOKS))
    export._subset_with_pinned_harfbuzz()
    with export._font_configuration() as font_config, export._source_date_epoch():
        document = weasyprint.HTML(string=page).render(font_config=font_config)
    places: list[tuple[float, float]] = []

    def walk(box, in_toc: bool) -> None:
        tag = getattr(box, "element_tag", None)
        if in_toc and tag == "li":  # the entry's outer box (its line is inside it)
            places.append((round(box.position_x, 1), round(box.position_y, 1)))
            return
        for child in getattr(box, "children", None) or []:
            walk(child, in_toc or tag == "nav")

    walk(document.pages[0]._page_box, False)
    return places


@pytest.mark.parametrize(("headings", "first_column"), [(5, 3), (4, 2), (2, 1)])
def test_the_printed_contents_are_two_columns_the_first_the_longer(headings, first_column):
    # A grid of two columns filled column by column (WeasyPrint balanced `columns: 2` by
    # laying the list out again and again): the entries in order, down the first column.
    places = _printed_toc(headings)
    assert len(places) == headings
    left, right = places[:first_column], places[first_column:]
    assert len({x for x, _ in left}) == 1 and len({x for x, _ in right}) == 1
    assert right[0][0] > left[0][0]
    assert [y for _, y in left] == sorted(y for _, y in left)
    assert [y for _, y in right] == [y for _, y in left][: len(right)]


def test_the_contents_page_is_laid_out_twice_and_shows_the_right_page_numbers(monkeypatch):
    """The contents' page numbers need their page laid out once more after the pages they point
    to (`export._toc_in_two_passes`); WeasyPrint 70 on its own laid it out three times, also
    when an entry points to the page the contents are on (tried: 3 layouts of page 1)."""
    import io

    import pypdf
    import weasyprint.layout.page as layout_page
    from nbformat.v4 import new_markdown_cell, new_notebook

    long_text = "\n\n".join(
        f"Paragraph {j} of a long section, with enough words to fill lines." for j in range(40)
    )
    sections = "".join(f"\n\n## Section {i}\n\n{long_text if i else 'Short.'}" for i in range(4))
    nb = new_notebook(cells=[new_markdown_cell(f"# A report{sections}")])
    page, _ = export.render_html(nb, {"lang": "en"}, notebook_dir=str(paths.NOTEBOOKS))
    made: list[int] = []
    make_page = layout_page.make_page

    def counted(context, root_box, page_type, resume_at, page_number, *args, **kwargs):
        made.append(page_number)
        return make_page(context, root_box, page_type, resume_at, page_number, *args, **kwargs)

    monkeypatch.setattr(layout_page, "make_page", counted)
    pdf = pypdf.PdfReader(io.BytesIO(export.render_pdf(page, base_url=".")))
    texts = [p.extract_text() for p in pdf.pages]
    assert len(texts) >= 4 and made.count(1) == 2, made
    # A heading is a line of its own; a contents entry is the title, a leader and the number.
    on_page = {
        int(line.split()[1]): n
        for n, text in enumerate(texts, 1)
        for line in text.splitlines()
        if re.fullmatch(r"Section \d", line)
    }
    contents = re.findall(r"^Section (\d)[ .]+ (\d+)$", texts[0], re.MULTILINE)
    assert {int(i): int(n) for i, n in contents} == on_page, texts[0]
    assert on_page[0] == 1 and on_page[3] > on_page[2] > 1, on_page  # on the contents' page too
