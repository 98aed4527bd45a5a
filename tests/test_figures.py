"""Charts: drawn from the tables in both languages, saved for slides, legible and deterministic."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from analysis import load, paths  # noqa: E402
from analysis.errors import UnknownProvinceError  # noqa: E402
from analysis.report import (
    chart_kit,  # noqa: E402
    views,  # noqa: E402
)
from analysis.report import charts as figures  # noqa: E402
from analysis.report import lang as lg  # noqa: E402
from analysis.report.style import missing_glyphs  # noqa: E402

CHARTS = (
    "policy_timeline",
    "winners_by_industry",
    "winners_by_province",
    "region_split",
    "strategy_comparison",
    "amoled_indicators",
    "equipment_concentration",
)
MAPS = ("winners_map", "cluster_terms_map")
LANGS = ("zh", "en")


def _frames(name):
    """The frames a report notebook hands chart `name`, from the views."""
    by_province = views.winners_by_province()
    return {
        "policy_timeline": lambda: (views.timeline(),),
        "winners_by_industry": lambda: (views.winners_by_industry(),),
        "winners_by_province": lambda: (by_province,),
        "region_split": lambda: (views.winners_by_region(),),
        "strategy_comparison": lambda: (views.strategies(), by_province),
        "amoled_indicators": lambda: (views.indicators("amoled_indicators"),),
        "equipment_concentration": lambda: (views.equipment(),),
        "winners_map": lambda: (by_province,),
        "cluster_terms_map": lambda: (views.cluster_terms(), views.terms_summary()),
    }[name]()


def draw(name, lang):
    return getattr(figures, name)(*_frames(name), lang)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Every chart in both languages, drawn once, saved into a temporary figures folder."""
    folder = tmp_path_factory.mktemp("figures")
    patch = pytest.MonkeyPatch()
    patch.setattr(paths, "FIGURES", folder)
    patch.delenv(paths.FIGURES_ENV, raising=False)
    # All of them stay open for inspection; pyplot would warn from the 21st on.
    patch.setitem(matplotlib.rcParams, "figure.max_open_warning", 0)
    out = {}
    for name in CHARTS + MAPS:
        for lang in LANGS:
            fig = draw(name, lang)
            fig.canvas.draw()
            out[name, lang] = fig
    yield folder, out
    plt.close("all")
    patch.undo()


@pytest.fixture
def figures_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "FIGURES", tmp_path)
    monkeypatch.delenv(paths.FIGURES_ENV, raising=False)
    yield tmp_path
    plt.close("all")


def _out_of_view_tick_labels(fig):
    """Labels of ticks that the locator made outside the axis limits (they are not drawn)."""
    hidden = set()
    for ax in fig.axes:
        for axis, (lo, hi) in (
            (ax.xaxis, sorted(ax.get_xlim())),
            (ax.yaxis, sorted(ax.get_ylim())),
        ):
            for tick in axis.get_major_ticks():
                if not lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    hidden.update((id(tick.label1), id(tick.label2)))
    return hidden


def _texts(fig):
    """Every visible, non-empty text artist of the figure (titles, labels, ticks, notes)."""
    hidden = _out_of_view_tick_labels(fig)
    return [
        artist
        for artist in fig.findobj(matplotlib.text.Text)
        if artist.get_visible() and artist.get_text().strip() and id(artist) not in hidden
    ]


def _boxes(fig, texts):
    renderer = fig.canvas.get_renderer()
    return [(t, t.get_window_extent(renderer)) for t in texts]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", CHARTS + MAPS)
def test_chart_is_saved_for_slides_with_a_source_caption(name, lang, drawn):
    folder, done = drawn
    fig = done[name, lang]
    stems = {p.stem for p in folder.iterdir() if p.suffix in (".png", ".svg")}
    mine = [s for s in stems if s.endswith(f"_{lang}")]
    assert len(stems) == len(CHARTS + MAPS) * len(LANGS)  # one stem per chart and language
    assert all((folder / f"{s}.png").is_file() and (folder / f"{s}.svg").is_file() for s in mine)
    caption = fig._supxlabel.get_text() if fig._supxlabel else ""
    prefix = lg.load_words(lang)["common"]["caption_prefix"]
    titles = set(load("cited_sentences")["article_title"])
    if lang == "en":  # an English caption cites the title in English (issue 11)
        from analysis.report.labels import glossary_label

        titles = {glossary_label(t) for t in titles}
    assert caption.replace("\n", "").startswith(prefix)
    flat = "".join(caption.split())  # a wrapped English caption breaks lines between words
    assert any("".join(t.split()) in flat for t in titles)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", CHARTS + MAPS)
def test_every_character_has_a_glyph(name, lang, drawn):
    fig = drawn[1][name, lang]
    assert missing_glyphs(t.get_text() for t in _texts(fig)) == set()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", CHARTS)
def test_value_axes_name_their_unit(name, lang, drawn):
    fig = drawn[1][name, lang]
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        has_x_values = bool(ax.get_xticks().size) and ax.xaxis.get_visible()
        labelled = [t for t in ax.get_xticklabels() if t.get_text().strip()]
        if has_x_values and labelled:
            assert ax.get_xlabel().strip(), f"{name} ({lang}): an x axis without a unit"
        if name == "policy_timeline":
            assert ax.get_ylabel().strip(), "the time axis names its unit"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", CHARTS)
def test_labels_neither_overlap_nor_leave_the_figure(name, lang, drawn):
    assert _layout_problems(drawn[1][name, lang]) == []


def _layout_problems(fig):
    """Texts that stick out of the figure, and pairs of texts that overlap."""
    boxes = _boxes(fig, _texts(fig))
    width, height = fig.canvas.get_width_height()
    problems = []
    for text, box in boxes:
        if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
            problems.append(f"{text.get_text()!r} is cut")
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        overlap_w = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        overlap_h = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        if overlap_w > 1 and overlap_h > 1:
            problems.append(f"{a.get_text()!r} overlaps {b.get_text()!r}")
    return problems


def test_the_layout_check_finds_overlaps_and_cut_labels():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_xlabel("单位（个）")
    ax.text(0.5, 0.5, "江苏 8", transform=ax.transAxes)
    ax.text(0.52, 0.5, "浙江 7", transform=ax.transAxes)
    fig.text(0.9, 0.1, "a label far too long for the figure")
    fig.canvas.draw()
    problems = _layout_problems(fig)
    assert any("overlaps" in p for p in problems)
    assert any("is cut" in p for p in problems)
    plt.close(fig)


def test_values_shown_come_from_the_tables(drawn):
    fig = drawn[1]["winners_by_industry", "en"]
    ax = fig.axes[0]
    frame = load("national_clusters_by_industry")
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == sorted(frame["clusters"].astype(float))
    names = {t.get_text().replace("\n", " ") for t in ax.get_yticklabels()}
    assert set(frame["industry_en"]) == names


def test_the_same_chart_gives_the_same_bytes(figures_in_tmp):
    draw("equipment_concentration", "zh")
    first = {p.name: p.read_bytes() for p in figures_in_tmp.iterdir()}
    plt.close("all")
    draw("equipment_concentration", "zh")
    second = {p.name: p.read_bytes() for p in figures_in_tmp.iterdir()}
    assert first == second


def test_province_locator_highlights_the_province(figures_in_tmp):
    fig = figures.province_locator(views.winners_by_province(), "Jiangsu", "en")
    gids = {a.get_gid() for a in fig.findobj() if a.get_gid()}
    assert "highlight" in gids
    assert (figures_in_tmp / "province_320000_map_en.png").exists()


def test_charts_go_where_the_environment_says(tmp_path, monkeypatch):
    """`analysis build` names each kernel's figures folder in $ANALYSIS_FIGURES_DIR."""
    default = tmp_path / "default"
    monkeypatch.setattr(paths, "FIGURES", default)
    monkeypatch.delenv(paths.FIGURES_ENV, raising=False)
    assert chart_kit.figures_dir() == default  # JupyterLab: reports/figures/
    build = tmp_path / "build"
    monkeypatch.setenv(paths.FIGURES_ENV, str(build))
    assert chart_kit.figures_dir() == build  # read at every save, not at import
    draw("equipment_concentration", "en")
    plt.close("all")
    assert sorted(p.name for p in build.iterdir()) == [
        "amoled_equipment_concentration_en.png",
        "amoled_equipment_concentration_en.svg",
    ]
    assert not default.exists()
    monkeypatch.setenv(paths.FIGURES_ENV, "")
    assert chart_kit.figures_dir() == default  # empty counts as unset


def test_a_relative_figures_folder_is_refused(monkeypatch):
    monkeypatch.setenv(paths.FIGURES_ENV, "out/figures")
    with pytest.raises(ValueError, match="ANALYSIS_FIGURES_DIR='out/figures' is not an absolute"):
        chart_kit.figures_dir()


def test_bad_language_and_province_are_rejected():
    with pytest.raises(lg.UnknownLanguageError, match="zh, en"):
        draw("winners_by_industry", "de")
    with pytest.raises(UnknownProvinceError, match="Nearest valid names"):
        figures.province_locator(views.winners_by_province(), "Jiangsuu", "en")


def _bar_colors(ax):
    return {
        matplotlib.colors.to_hex(p.get_facecolor())
        for p in ax.patches
        if isinstance(p, matplotlib.patches.Rectangle) and p.get_width() > 0
    }


def _legend_colors(fig):
    return {
        matplotlib.colors.to_hex(h.get_facecolor())
        for ax in fig.axes
        if ax.get_legend() is not None
        for h in ax.get_legend().legend_handles
        if isinstance(h, matplotlib.patches.Patch)
    }


@pytest.mark.parametrize("lang", LANGS)
def test_strategy_chart_puts_one_measure_on_each_axis(drawn, lang):
    fig = drawn[1]["strategy_comparison", lang]
    panels = {ax.get_gid(): ax for ax in fig.axes if str(ax.get_gid()).startswith("measure-")}
    assert set(panels) == {"measure-clusters", "measure-documents"}
    measures = figures.strategy_measures(views.strategies(), views.winners_by_province())
    for name, ax in panels.items():
        rows = measures[name.removeprefix("measure-")]
        assert len(ax.get_yticklabels()) == len(rows) > 1  # no one-bar panel
        # Every count on the axis is of the axis's measure: 51 documents never beside clusters.
        assert sorted(p.get_width() for p in ax.patches) == sorted(r["count"] for r in rows)
    assert 51 not in [p.get_width() for p in panels["measure-clusters"].patches]
    # Measures that only one province states are written out, not drawn as a lone bar.
    note = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "6" in note and "8" in note
    # Every colour of a bar is explained, the grey of the national winners included.
    colors = set().union(*(_bar_colors(ax) for ax in panels.values()))
    assert chart_kit.REFERENCE_GREY.lower() in colors
    assert colors <= _legend_colors(fig)


@pytest.mark.parametrize("lang", LANGS)
def test_amoled_chart_separates_stocks_from_flows_and_opens_lower_bounds(drawn, lang):
    from analysis.report import amoled_charts

    fig = drawn[1]["amoled_indicators", lang]
    panels = {ax.get_gid(): ax for ax in fig.axes if str(ax.get_gid()).startswith("measure-")}
    assert set(panels) == {"measure-stock", "measure-flow", "measure-lines"}
    rows = {r["indicator"]: r for r in load("amoled_indicators").to_dict("records")}
    for gid, names in (
        ("measure-stock", amoled_charts.STOCK_INDICATORS),
        ("measure-flow", amoled_charts.FLOW_INDICATORS),
        ("measure-lines", amoled_charts.LINE_INDICATORS),
    ):
        ax = panels[gid]
        assert len(ax.patches) - len(
            [p for p in ax.patches if str(p.get_gid()).startswith("lower-bound-")]
        ) == len(names)
        shown = {t.get_gid().removeprefix("value-") for t in ax.texts if t.get_gid()}
        assert shown == set(names)
        for name in names:
            arrows = [p for p in ax.patches if p.get_gid() == f"lower-bound-{name}"]
            floor = rows[name]["qualifier"] in amoled_charts.LOWER_BOUNDS
            # A floor ("more than") is an open-ended arrow running on past the stated value,
            # and its label says "more than"; an exact value is a plain bar.
            assert len(arrows) == (1 if floor else 0), name
            if floor:
                (x0, _), (x1, _) = arrows[0]._posA_posB
                unit = (
                    1.0 if gid == "measure-lines" else lg.check_lang(lang).fmt["amount_axis_unit"]
                )
                assert x0 == pytest.approx(float(rows[name]["value"]) / unit) and x1 > x0
                label = next(t for t in ax.texts if t.get_gid() == f"value-{name}")
                assert label.get_text().startswith(("超过", "more than"))
    floors = sum(
        r["qualifier"] in amoled_charts.LOWER_BOUNDS
        for r in rows.values()
        if r["indicator"] in amoled_charts.AMOUNT_INDICATORS
    )
    assert floors == 3  # new-display investment and output, AMOLED investment
    colors = set().union(*(_bar_colors(ax) for ax in panels.values()))
    assert colors <= _legend_colors(fig)


@pytest.mark.parametrize(
    ("province", "winners"), [("西藏", False), ("Hebei", False), ("上海", True)]
)
def test_profile_map_is_the_one_that_says_something_of_the_province(
    figures_in_tmp, province, winners
):
    """A province without winners is placed on the terms map, not on a map that says "none"."""
    by_province = views.winners_by_province()
    fig = figures.province_locator(by_province, province, "en")
    main = next(ax for ax in fig.axes if ax.get_gid() == "main-map")
    legend = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().texts]
    terms = views.terms_summary()
    on_terms_map = any(label.startswith(terms["term_en"].iloc[0]) for label in legend)
    assert on_terms_map is not winners
    assert any(str(a.get_gid()).startswith("highlight") for a in main.get_children())
    from analysis.provinces import resolve

    assert (figures_in_tmp / f"province_{resolve(province).adcode}_map_en.png").exists()
    assert (views.province_rank(province)["clusters"] > 0) is winners


def _agg_renderer(fig):
    """The figure drawn afresh at its own dpi (a test before may have saved it as SVG or PDF,
    which leaves it a canvas without a renderer)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _shown_xticklabels(ax):
    low, high = sorted(ax.get_xlim())
    return [t for t in ax.get_xticklabels() if t.get_text() and low <= t.get_position()[0] <= high]


@pytest.mark.parametrize("name", CHARTS)
@pytest.mark.parametrize("lang", LANGS)
def test_side_by_side_panels_keep_their_tick_labels_apart(drawn, name, lang):
    """Old code: the region chart's left panel ended on "40" 6 pt from the right panel's "0",
    which read as one number ("40 0"). Between panels side by side: at least 12 pt."""
    fig = drawn[1][name, lang]
    renderer = _agg_renderer(fig)
    panels = [ax for ax in fig.axes if _shown_xticklabels(ax)]
    for left, right in itertools.permutations(panels, 2):
        a, b = left.get_position(), right.get_position()
        if not (a.x1 <= b.x0 and a.y0 < b.y1 and b.y0 < a.y1):  # not side by side
            continue
        end = max(t.get_window_extent(renderer).x1 for t in _shown_xticklabels(left))
        start = min(t.get_window_extent(renderer).x0 for t in _shown_xticklabels(right))
        assert (start - end) / fig.dpi * 72 >= 12


@pytest.mark.parametrize("name", CHARTS)
@pytest.mark.parametrize("lang", LANGS)
def test_value_labels_end_well_inside_the_figure(drawn, name, lang):
    """Old code: "Held exclusively by Canon and Nikon" ended 0.6 % of the width from the edge
    of the equipment chart (it touched the edge of the page's text block). Every label drawn
    in a panel now ends at least 3 % of the figure's width inside it."""
    fig = drawn[1][name, lang]
    renderer = _agg_renderer(fig)
    width = fig.bbox.width
    for ax in fig.axes:
        for text in ax.texts:
            if text.get_visible() and text.get_text().strip():
                assert text.get_window_extent(renderer).x1 <= 0.97 * width, text.get_text()


@pytest.mark.parametrize("lang", LANGS)
def test_strategy_note_puts_the_unit_after_the_number(drawn, lang):
    """Old code: "另述：广东重点工程（项）：6" (the measure word in brackets, the number after a
    colon). Now "广东重点工程6项", as a Chinese sentence counts; English "6 flagship projects"."""
    fig = drawn[1]["strategy_comparison", lang]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    note = next(t for t in texts if t.startswith(("另述", "Also stated")))
    if lang == "zh":
        assert "广东重点工程6项" in note and "（项）" not in note and "：6" not in note
    else:
        assert "Guangdong, 6 flagship projects" in note


@pytest.mark.parametrize("lang", LANGS)
def test_timeline_is_compact_enough_to_print_legibly_and_its_labels_do_not_overlap(drawn, lang):
    """Printed at most `CHART_MAX_HEIGHT` (108 mm) high, the timeline's 8 pt labels keep about 7 pt
    if the figure is at most ~130 mm high; old code drew it 152 mm high (labels 5.7 pt printed)."""
    fig = drawn[1]["policy_timeline", lang]
    assert fig.get_figheight() * 25.4 <= 130
    renderer = _agg_renderer(fig)
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert len(boxes) >= 9
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
