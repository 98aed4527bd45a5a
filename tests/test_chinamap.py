"""The China map: every unit drawn, the South China Sea inset, no-data style, labels, errors."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import shapely  # noqa: E402
from matplotlib.text import Annotation, Text  # noqa: E402

from analysis.errors import UnknownProvinceError  # noqa: E402
from analysis.provinces import all_provinces, resolve  # noqa: E402
from analysis.report import map_geometry, map_labels, style  # noqa: E402
from analysis.report import maps as chinamap  # noqa: E402

ALL_CODES = {unit.adcode for unit in all_provinces()}
SMALL_NORTH = (110000, 120000, 130000)  # Beijing, Tianjin, Hebei
# Example values keyed by every kind of name resolve() accepts; Taiwan, Hong Kong, Macao and
# Xizang are left out on purpose so that they show the no-data style.
LEFT_OUT = {710000, 810000, 820000, 540000}
VALUES = {
    unit.name_en if i % 3 == 0 else (unit.short_zh if i % 3 == 1 else unit.adcode): i % 9
    for i, unit in enumerate(all_provinces())
    if unit.adcode not in LEFT_OUT
}
CATEGORIES = {"江苏省": "第一批", "粤": "第一批", "Zhejiang": "第二批", "北京": "第三批"}


def _main_axes(fig):
    return next(ax for ax in fig.axes if ax.get_gid() == "main-map")


def _inset(fig):
    return next(ax for ax in _main_axes(fig).child_axes if ax.get_gid() == "scs-inset")


def _units(ax, prefix=""):
    return {
        int(a.get_gid().rsplit("-", 1)[1]): a
        for a in ax.patches
        if (a.get_gid() or "").startswith(f"{prefix}unit-")
    }


def _labels(fig):
    return {
        int(t.get_gid().split("-")[1]): t
        for t in _main_axes(fig).texts
        if (t.get_gid() or "").startswith("label-")
    }


def _label_boxes(fig):
    """Window extents of the label texts (without the leader lines) after a full draw."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return {code: Text.get_window_extent(t, renderer) for code, t in _labels(fig).items()}


@pytest.fixture(scope="module")
def maps():
    """One figure per case, drawn once for the whole module (a map takes about a second)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph or a bad kwarg must fail here
        figures = {
            "numeric_zh": chinamap.province_map(
                VALUES, lang="zh", title="示例", legend_title="集群数（个）", highlight="苏"
            ),
            "numeric_en": chinamap.province_map(
                VALUES, lang="en", legend_title="Clusters", show_values=True
            ),
            "categorical_zh": chinamap.province_map(CATEGORIES, kind="categorical"),
            "categorical_en": chinamap.province_map(CATEGORIES, kind="categorical", lang="en"),
            "values_zh": chinamap.province_map(
                {k: v * 12.5 for k, v in VALUES.items()}, show_values=True, caption="来源：测试"
            ),
        }
        for fig in figures.values():
            fig.canvas.draw()
    yield figures
    plt.close("all")


@pytest.mark.parametrize("case", ["numeric_zh", "categorical_en"])
def test_all_34_units_are_drawn_in_the_main_map(maps, case):
    units = _units(_main_axes(maps[case]))
    assert set(units) == ALL_CODES
    assert all(len(patch.get_path().vertices) > 3 for patch in units.values())


def test_inset_frames_the_south_china_sea(maps):
    fig = maps["numeric_zh"]
    main, inset = _main_axes(fig), _inset(fig)
    gids = {a.get_gid() for a in inset.patches}
    assert any(g.startswith("inset-maritime") for g in gids)
    assert "inset-unit-460000" in gids  # Hainan with the island groups
    assert all(spine.get_visible() for spine in inset.spines.values())  # framed
    # The inset sits in the lower right and covers no part of the main map.
    renderer = fig.canvas.get_renderer()
    box, frame = inset.get_window_extent(renderer), main.get_window_extent(renderer)
    assert box.x0 > frame.x0 + frame.width / 2 and box.y0 < frame.y0 + frame.height / 2
    x0, y0, x1, y1 = (
        *main.transData.inverted().transform([box.x0, box.y0]),
        *main.transData.inverted().transform([box.x1, box.y1]),
    )
    outline = map_geometry._load_map_data(None).north_of(map_geometry.MAIN_SOUTH_LAT).outline
    assert not outline.intersects(shapely.box(x0, y0, x1, y1))
    # Nothing is clipped: the islands down to Zengmu Ansha and the whole line are in view.
    data = map_geometry._load_map_data(None)
    hx0, hy0, hx1, hy1 = shapely.union_all([data.units[460000], *data.lines]).bounds
    (vx0, vx1), (vy0, vy1) = inset.get_xlim(), inset.get_ylim()
    assert vx0 <= hx0 and hx1 <= vx1 and vy0 <= hy0 and hy1 <= vy1
    # The main map is cut south of Hainan: nothing of the Nansha islands is drawn there.
    assert main.get_ylim()[0] > map_geometry._project(112.0, 10.0)[1]


def test_no_data_units_get_the_no_data_style(maps):
    for case in ("numeric_zh", "categorical_zh"):
        fig = maps[case]
        given = (
            {resolve(k).adcode for k in VALUES}
            if case == "numeric_zh"
            else {resolve(k).adcode for k in CATEGORIES}
        )
        for prefix, ax in (("", _main_axes(fig)), ("inset-", _inset(fig))):
            for code, patch in _units(ax, prefix).items():
                if code in given:
                    assert not patch.get_hatch()
                    assert patch.get_facecolor()[:3] != matplotlib.colors.to_rgb(
                        chinamap.NO_DATA_FACE
                    )
                else:
                    assert patch.get_hatch() == chinamap.NO_DATA_HATCH_PATTERN
                    assert matplotlib.colors.to_hex(patch.get_facecolor()) == (
                        chinamap.NO_DATA_FACE.lower()
                    )
    legend = _main_axes(maps["values_zh"]).get_legend()  # a colorbar, and "no data" beside it
    assert [t.get_text() for t in legend.get_texts()] == ["无数据"]
    assert legend.legend_handles[0].get_hatch() == chinamap.NO_DATA_HATCH_PATTERN
    classed = _main_axes(maps["numeric_zh"]).get_legend()  # counts: a swatch per class
    assert [t.get_text() for t in classed.get_texts()][-1] == "无数据"
    assert classed.legend_handles[-1].get_hatch() == chinamap.NO_DATA_HATCH_PATTERN


def test_categorical_legend_lists_categories_then_no_data(maps):
    zh = _main_axes(maps["categorical_zh"]).get_legend()
    en = _main_axes(maps["categorical_en"]).get_legend()
    assert [t.get_text() for t in zh.get_texts()] == ["第一批", "第二批", "第三批", "无数据"]
    assert [t.get_text() for t in en.get_texts()][-1] == "No data"
    colors = [matplotlib.colors.to_hex(h.get_facecolor()) for h in zh.legend_handles[:3]]
    assert colors == [c.lower() for c in style.PALETTE[:3]]
    units = _units(_main_axes(maps["categorical_zh"]))
    assert matplotlib.colors.to_hex(units[320000].get_facecolor()) == colors[0]  # 江苏 第一批
    assert matplotlib.colors.to_hex(units[440000].get_facecolor()) == colors[0]  # 广东 第一批


def test_numeric_fill_darkens_with_the_value_and_labels_stay_legible(maps):
    fig = maps["numeric_zh"]
    units, labels = _units(_main_axes(fig)), _labels(fig)
    by_value = sorted((v, resolve(k).adcode) for k, v in VALUES.items())
    lum = [map_labels.luminance(units[code].get_facecolor()) for _, code in by_value]
    assert all(a >= b for a, b in zip(lum, lum[1:], strict=False)) and lum[0] > lum[-1]
    darkest, lightest = by_value[-1][1], by_value[0][1]
    assert matplotlib.colors.to_hex(labels[darkest].get_color()) == "#ffffff"
    assert matplotlib.colors.to_hex(labels[lightest].get_color()) == map_labels.DARK_TEXT.lower()
    # Every label has a halo, so it reads on any fill, or (the highlighted unit's) a frame.
    assert all(t.get_path_effects() or t.get_bbox_patch() for t in labels.values())
    assert _main_axes(fig).get_legend().get_title().get_text() == "集群数（个）"
    values = maps["values_zh"]  # not counts: a colorbar
    assert any(a.get_gid() == "colorbar" for a in _main_axes(values).child_axes)


@pytest.mark.parametrize("case", ["numeric_zh", "numeric_en", "categorical_en", "values_zh"])
def test_labels_do_not_collide(maps, case):
    boxes = _label_boxes(maps[case])
    for a, b in itertools.combinations(SMALL_NORTH, 2):
        assert not boxes[a].overlaps(boxes[b]), f"labels of {a} and {b} overlap"
    clashes = [(a, b) for a, b in itertools.combinations(boxes, 2) if boxes[a].overlaps(boxes[b])]
    assert clashes == []
    fig = maps[case]
    inset = _inset(fig).get_window_extent(fig.canvas.get_renderer())
    assert not [code for code, box in boxes.items() if box.overlaps(inset)]
    assert all(
        fig.bbox.contains(b.x0, b.y0) and fig.bbox.contains(b.x1, b.y1) for b in boxes.values()
    )


def _left_out_of_layout_and_outside(fig) -> list[str]:
    """What the constrained layout leaves out of an axes of `fig` but lies outside its box."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    outside = []
    for ax in fig.axes:
        frame = ax.get_window_extent(renderer).padded(0.5)
        for artist in ax.get_children():
            if artist.get_in_layout() or not artist.get_visible():
                continue
            box = artist.get_tightbbox(renderer)  # an annotation's includes its leader line
            if box is None or not box._is_finite() or box.width == box.height == 0:
                continue
            if not (frame.x0 <= box.x0 and box.x1 <= frame.x1):
                outside.append(artist.get_gid() or type(artist).__name__)
            elif not (frame.y0 <= box.y0 and box.y1 <= frame.y1):
                outside.append(artist.get_gid() or type(artist).__name__)
    return outside


@pytest.mark.parametrize("case", ["numeric_zh", "numeric_en", "values_zh", "categorical_en"])
def test_what_the_layout_leaves_out_lies_inside_the_map(maps, case):
    # The labels, leader lines, units, key and inset are left out of the constrained layout
    # (measuring them in every layout pass was about a tenth of a map's time); that is safe
    # only while each lies inside the map's axes, whose box the layout does reserve.
    fig = maps[case]
    labels = _labels(fig)
    assert labels and not any(t.get_in_layout() for t in labels.values())
    assert _left_out_of_layout_and_outside(fig) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_what_the_layout_leaves_out_lies_inside_the_report_maps(lang):
    from analysis.report import charts, views

    by_province = views.winners_by_province()
    figures = [
        charts.winners_map(by_province, lang, save=False),
        charts.cluster_terms_map(views.cluster_terms(), views.terms_summary(), lang, save=False),
        charts.province_locator(by_province, "海南", lang, save=False),
        charts.province_locator(by_province, "内蒙古", lang, save=False),
    ]
    try:
        assert [_left_out_of_layout_and_outside(fig) for fig in figures] == [[]] * len(figures)
    finally:
        for fig in figures:
            plt.close(fig)


def test_small_units_get_leader_lines(maps):
    labels = _labels(maps["numeric_zh"])
    for code in (110000, 120000, 310000, 810000, 820000):
        assert isinstance(labels[code], Annotation) and labels[code].arrow_patch is not None
    assert not isinstance(labels[130000], Annotation)  # Hebei holds its own name


def test_labels_follow_the_language(maps):
    zh, en = _labels(maps["numeric_zh"]), _labels(maps["categorical_en"])
    for unit in all_provinces():
        assert zh[unit.adcode].get_text() == unit.short_zh
        assert en[unit.adcode].get_text() == unit.name_en
    inset_texts = {t.get_text() for t in _inset(maps["categorical_en"]).texts}
    assert inset_texts == {"South China Sea\nIslands"}
    assert {t.get_text() for t in _inset(maps["numeric_zh"]).texts} == {"南海诸岛"}


def test_show_values_prints_the_value_under_the_name(maps):
    labels = _labels(maps["values_zh"])
    assert labels[320000].get_text() == f"江苏\n{VALUES['Jiangsu'] * 12.5:g}"
    assert labels[540000].get_text() == "西藏"  # no value, no number


def test_highlight_draws_a_thick_outline(maps):
    main = _main_axes(maps["numeric_zh"])
    outline = next(a for a in main.patches if a.get_gid() == "highlight")
    jiangsu = _units(main)[320000]
    assert outline.get_linewidth() >= 3 * jiangsu.get_linewidth()
    # It traces Jiangsu itself (islets aside, which get a thin outline of their own).
    traced = {tuple(v) for v in outline.get_path().vertices.round(3)}
    own = {tuple(v) for v in jiangsu.get_path().vertices.round(3)}
    assert traced <= own and len(traced) > 0.9 * len(own)
    assert not any(a.get_gid() == "highlight" for a in _main_axes(maps["numeric_en"]).patches)


def test_reference_map_fills_the_highlighted_unit():
    fig = chinamap.province_map(None, highlight="Hainan", lang="en")
    units = _units(_main_axes(fig))
    assert matplotlib.colors.to_hex(units[460000].get_facecolor()) == style.PALETTE[0].lower()
    assert not any(p.get_hatch() for p in units.values())  # a locator map has no "no data"
    assert _main_axes(fig).get_legend() is None
    plt.close(fig)


def test_unknown_province_raises_before_drawing():
    figures = plt.get_fignums()
    with pytest.raises(UnknownProvinceError, match="Jiangsu"):
        chinamap.province_map({"Jiangsuu": 1})
    with pytest.raises(UnknownProvinceError):
        chinamap.province_map({"江苏": 1}, highlight="Atlantis")
    assert plt.get_fignums() == figures


def test_bad_values_are_refused():
    with pytest.raises(ValueError, match="given twice"):
        chinamap.province_map({"江苏": 1, "江苏省": 2})
    with pytest.raises(TypeError, match="not a number"):
        chinamap.province_map({"江苏": "many"})
    with pytest.raises(ValueError, match="lang"):
        chinamap.province_map({"江苏": 1}, lang="fr")
    too_many = {unit.adcode: f"c{i}" for i, unit in enumerate(all_provinces())}
    with pytest.raises(ValueError, match="categories"):
        chinamap.province_map(too_many, kind="categorical")


def test_import_is_light():
    code = (
        "import sys, analysis.report.maps, analysis.report.style; "
        "heavy = {'matplotlib', 'pandas', 'geopandas', 'shapely', 'numpy'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


_MAP_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import matplotlib
    matplotlib.use("Agg")

    from analysis.report.maps import province_map
    from analysis.report.style import save_figure

    fig = province_map(
        {"江苏": 3, "广东": 5, "北京": 1, "Tianjin": 0},
        highlight="Beijing",
        legend_title="集群数（个）",
        caption="来源：赛迪智库",
    )
    save_figure(fig, Path(sys.argv[1]) / "map")
    """
)


def test_map_bytes_are_identical_across_processes(tmp_path):
    script = tmp_path / "save_map.py"
    script.write_text(_MAP_SCRIPT, encoding="utf-8")
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"run{seed}"
        env = dict(os.environ, PYTHONHASHSEED=seed, MPLBACKEND="Agg")
        subprocess.run([sys.executable, str(script), str(out)], check=True, env=env)
        outputs.append(out)
    for fmt in ("png", "svg", "pdf"):
        assert (outputs[0] / f"map.{fmt}").read_bytes() == (outputs[1] / f"map.{fmt}").read_bytes()


def _lightness(color):
    """CIE L* (0 black … 100 white) of a matplotlib colour: equal steps look equally different."""
    y = map_labels.luminance(color)
    return 116 * y ** (1 / 3) - 16 if y > 0.008856 else 903.3 * y


# Counts shaped like the winners per province: many zeros and ones, a gap between 4 and 7.
COUNTS = {"江苏": 8, "浙江": 7, "广东": 7, "湖北": 4, "上海": 3, "天津": 2, "北京": 1, "吉林": 1}
COUNTS |= {u.short_zh: 0 for u in all_provinces() if u.is_mainland and u.short_zh not in COUNTS}


@pytest.fixture(scope="module")
def counts_maps():
    figures = {
        lang: chinamap.province_map(
            COUNTS, lang=lang, legend_title="n", zero_label="none", highlight="上海"
        )
        for lang in ("zh", "en")
    }
    for fig in figures.values():
        fig.canvas.draw()
    yield figures
    plt.close("all")


def test_counts_get_a_swatch_per_class_with_zero_apart(counts_maps):
    main = _main_axes(counts_maps["en"])
    legend = main.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        *("none", "1", "2", "3", "4", "7", "8"),
        "No data",
    ]
    swatches = [h.get_facecolor() for h in legend.legend_handles[:-1]]
    units = _units(main)
    # Every unit wears the swatch of its class, and the classes read apart: 0 clearly from 1,
    # and each class from the next (7 from 8), by their lightness.
    for name, value in COUNTS.items():
        index = [0, 1, 2, 3, 4, 7, 8].index(value)
        assert units[resolve(name).adcode].get_facecolor() == swatches[index]
    lightness = [_lightness(c) for c in swatches]
    assert lightness[0] - lightness[1] >= 15
    assert all(a - b >= 8 for a, b in zip(lightness[1:], lightness[2:], strict=False))
    assert not any(a.get_gid() == "colorbar" for a in main.child_axes)


def test_many_count_values_are_binned_evenly():
    assert chinamap.count_classes([0, 1, 2, 3, 4, 7, 8]) == [
        (0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (7, 7), (8, 8)
    ]  # fmt: skip
    assert chinamap.count_classes(list(range(1, 9))) == [
        (1, 2), (3, 4), (5, 5), (6, 6), (7, 7), (8, 8)
    ]  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_highlight_of_a_small_unit_never_hides_a_label(counts_maps, lang):
    fig = counts_maps[lang]
    main = _main_axes(fig)
    renderer = fig.canvas.get_renderer()
    labels = _labels(fig)
    marks = [a for a in main.get_children() if str(a.get_gid() or "").startswith("highlight")]
    assert marks
    assert max(a.get_zorder() for a in marks) < min(t.get_zorder() for t in labels.values())
    # Shanghai is a few square millimetres of map: a thin line, no blob over Jiangsu's name.
    points = fig.dpi / 72
    for mark in marks:
        assert mark.get_linewidth() <= 1.0
        box = mark.get_window_extent(renderer).padded((mark.get_linewidth() + 2.0) * points)
        for code, text in labels.items():
            if code != 310000:
                assert not Text.get_window_extent(text, renderer).overlaps(box), code
    # The highlighted unit's own name is framed and whole inside the figure.
    shanghai = labels[310000]
    assert shanghai.get_bbox_patch() is not None
    frame = shanghai.get_bbox_patch().get_window_extent(renderer)
    assert fig.bbox.contains(frame.x0, frame.y0) and fig.bbox.contains(frame.x1, frame.y1)
