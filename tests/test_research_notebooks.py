"""A report notebook is a research notebook: change a frame, and the chart and text follow.

A copy of cluster_policy.ipynb is run twice with the analysis kernel (English): once as
committed, once with one province's count changed in the cell that derives `by_province`.
The chart drawn from that frame and the narrative computed from it must change accordingly,
and the published HTML must still leave out the researcher's cells (`remove-cell`).
"""

from __future__ import annotations

import re

import nbformat
import pytest

from analysis import paths
from analysis.publish import export
from analysis.report import views

papermill = pytest.importorskip("papermill")

SICHUAN = 510000
NEW_COUNT = 30  # more than any province has: Sichuan becomes the leader
CHART = "cluster_winners_by_province_en.png"


def _run(nb: nbformat.NotebookNode, folder, monkeypatch) -> tuple[nbformat.NotebookNode, bytes]:
    """Execute `nb` in English; return the executed notebook and the PNG of the chart."""
    folder.mkdir()
    monkeypatch.setenv(paths.FIGURES_ENV, str(folder / "figures"))
    source, out = folder / "in.ipynb", folder / "out.ipynb"
    nbformat.write(nb, source)
    papermill.execute_notebook(
        str(source),
        str(out),
        parameters={"lang": "en"},
        kernel_name="analysis",
        cwd=str(paths.NOTEBOOKS),
        progress_bar=False,
    )
    return nbformat.read(out, as_version=4), (folder / "figures" / CHART).read_bytes()


def _cell(nb: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.get("id") == cell_id)


def _text(cell: nbformat.NotebookNode) -> str:
    return "\n".join(o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", []))


def test_a_changed_frame_changes_the_chart_and_the_narrative(tmp_path, monkeypatch):
    committed = nbformat.read(paths.NOTEBOOKS / "cluster_policy.ipynb", as_version=4)
    changed = nbformat.from_dict(committed)
    load = _cell(changed, "load-province")
    assert load.source.startswith("by_province = views.winners_by_province()")
    load.source += (
        f'\nby_province.loc[by_province["adcode"] == {SICHUAN}, "clusters"] = {NEW_COUNT}'
    )

    before, chart_before = _run(committed, tmp_path / "before", monkeypatch)
    after, chart_after = _run(changed, tmp_path / "after", monkeypatch)

    # The chart drawn from by_province changed: its PNG, saved for slides and shown inline.
    assert chart_before != chart_after
    inline = [o["data"]["image/png"] for o in _cell(after, "cluster-policy-09").outputs]
    assert inline and inline != [
        o["data"]["image/png"] for o in _cell(before, "cluster-policy-09").outputs
    ]

    # The narrative computed from by_province names the new leader with its count.
    stated = views.winners_by_province()
    old_lead = int(stated["clusters"].max())
    province_before = _text(_cell(before, "cluster-policy-08"))
    province_after = _text(_cell(after, "cluster-policy-08"))
    assert re.search(rf"\bSichuan leads with {NEW_COUNT}\b", province_after), province_after
    assert f"with {old_lead};" in province_before and "Sichuan leads" not in province_before
    # The key points name the provinces that hold more than half of the winners: Sichuan first.
    summary = _text(_cell(after, "cluster-policy-03"))
    assert re.search(r"of these \(Sichuan(,| and) ", summary), summary
    assert not re.search(r"of these \(Sichuan", _text(_cell(before, "cluster-policy-03")))
    # So does the regional split, derived in the notebook from the changed frame.
    assert _text(_cell(after, "cluster-policy-14")) != _text(_cell(before, "cluster-policy-14"))

    # The published page leaves out the researcher's cells, changed or not.
    page, _ = export.render_html(after, {"lang": "en"}, notebook_dir=str(paths.NOTEBOOKS))
    researcher = [c.id for c in after.cells if "remove-cell" in c.metadata.get("tags", [])]
    assert "load-province" in researcher and "about" in researcher
    shown = re.findall(r'id="cell-id=([^"]+)"', page)
    assert shown and not set(shown) & set(researcher)
    assert "research notebook" not in page and "by_province" not in page
