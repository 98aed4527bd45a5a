"""The reports as printed: pages that are not left half empty, no page holding only a footer.

Measured on WeasyPrint's own layout (the boxes it placed on each page), the same layout the PDF
is drawn from, so a test needs no rasterising.
"""

from __future__ import annotations

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
