"""The report charts, in Chinese or English, each drawn from the frame a notebook hands it.

A chart function takes the frame (or rows) of a data view and the language —
`charts.winners_by_province(by_province, lang)` — so a researcher can filter or change the frame
and draw again. It puts the source line under the chart (article and section of the rows it
shows), saves it as PNG and SVG for slides under reports/figures/, or the figures folder of the
build that runs the notebook (`chart_kit.figures_dir`), byte-stable (`style.save_figure`), and
returns the Figure; a notebook then calls `plt.show()`, which shows the PNG just saved
(`display.setup_notebook`). Words come from the `[charts]` templates of the words files. Every
value axis names its unit; value labels sit outside the bars so they never sit on a dark fill;
long category names are wrapped, never cut. The timeline is in `timeline`, the AMOLED charts
in `amoled_charts` (both available here).

matplotlib is imported inside the functions.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from ..provinces import resolve
from . import chart_kit as kit
from . import views as v
from .amoled_charts import amoled_indicators, equipment_concentration
from .formatting import format_number, format_percent
from .labels import capitalised, pair, province_name, region_name, row_label
from .lang import check_lang
from .timeline import policy_timeline
from .values import is_missing

# What the functions below import when first called (matplotlib, the maps' geometry): a report
# kernel imports these ahead of time (`analysis.publish.zygote.warm_up`).
WARM_IMPORTS = ("analysis.report.chart_kit",)
IDLE_CALLS = ("warm_maps",)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "amoled_indicators",
    "cluster_terms_map",
    "equipment_concentration",
    "policy_timeline",
    "province_locator",
    "region_split",
    "strategy_comparison",
    "winners_by_industry",
    "winners_by_province",
    "winners_map",
]


def _strategy_item(row: dict[str, Any], lang: str) -> str:
    """What a strategy count counts: the reviewed label of its item, else the text's word."""
    words = check_lang(lang).words["labels"].get("strategy_items", {})
    return words.get(str(row["item"])) or capitalised(row_label(row, "label", lang), lang)


# A Chinese label's measure word, in full-width brackets at its end: "重点工程（项）".
_UNIT_SUFFIX = re.compile(r"^(?P<item>.+?)（(?P<unit>[^（）；]+)）$")


def _item_and_unit(label: str) -> tuple[str, str]:
    """Split a label into what it counts and its measure word ("重点工程（项）" -> "重点工程",
    "项"), so that a sentence can put the unit after the number ("广东重点工程6项") instead of
    leaving it in the label ("广东重点工程（项）：6"). A label without one is returned whole."""
    match = _UNIT_SUFFIX.match(label)
    return (match["item"], match["unit"]) if match else (label, "")


def _cluster_bars(
    ax: Axes, labels: list[str], frame: pd.DataFrame, chart: str, lang: str, colors: Any = None
) -> None:
    """Bars of the frame's `clusters`, with the x label of chart template `charts.<chart>`."""
    kit.hbar(
        ax,
        labels,
        list(frame["clusters"]),
        xlabel=kit.chart_text(f"{chart}.xlabel", lang),
        value_labels=[format_number(v, lang) for v in frame["clusters"]],
        colors=colors,
    )


def winners_by_industry(by_industry: pd.DataFrame, lang: str, save: bool = True) -> Figure:
    """Bar chart of the national competition's winning clusters by industry (`by_industry`, a
    `views.winners_by_industry()` frame), in the frame's order."""
    lang = check_lang(lang)
    plt = kit.setup(lang)
    frame = by_industry
    labels = [
        kit.wrap(row_label(r, "industry", lang), lang, width_en=34)
        for r in frame.to_dict("records")
    ]
    lines = max(label.count("\n") + 1 for label in labels)
    fig, ax = plt.subplots(figsize=(kit.WIDTH_IN, kit.height_for(len(frame), lines)))
    _cluster_bars(ax, labels, frame, "industry", lang)
    ax.set_title(kit.chart_text("industry.title", lang))
    return kit.finish(fig, "cluster_winners_by_industry", lang, frame, save)


def winners_by_province(by_province: pd.DataFrame, lang: str, save: bool = True) -> Figure:
    """Bar chart of winning clusters by province (`by_province`, a `views.winners_by_province()`
    frame): the provinces with winners, most first."""
    lang = check_lang(lang)
    plt = kit.setup(lang)
    frame = _with_winners(by_province)
    labels = [province_name(c, lang) for c in frame["adcode"]]
    fig, ax = plt.subplots(figsize=(kit.WIDTH_IN, kit.height_for(len(frame))))
    region_order = list(v.REGION_ORDER)
    colors = [kit.palette(region_order.index(r)) for r in frame["region_zh"]]
    _cluster_bars(ax, labels, frame, "province", lang, colors)
    from matplotlib.patches import Patch

    present = [r for r in region_order if r in set(frame["region_zh"])]
    handles = [
        Patch(color=kit.palette(region_order.index(r)), label=region_name(r, lang)) for r in present
    ]
    ax.legend(handles=handles, loc="lower right", title=None)
    ax.set_title(kit.chart_text("province.title", lang))
    return kit.finish(fig, "cluster_winners_by_province", lang, frame, save)


def _with_winners(by_province: pd.DataFrame) -> pd.DataFrame:
    """The provinces of `by_province` with at least one winner, most first (ties by adcode)."""
    frame = by_province[by_province["clusters"] > 0]
    frame = frame.sort_values(["clusters", "adcode"], ascending=[False, True], kind="stable")
    return frame.reset_index(drop=True)


def _cited(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of `frame` that cite a sentence (the stated ones), for the source line."""
    return frame[[not is_missing(s) for s in frame["sentence_id"]]]


def winners_map(
    by_province: pd.DataFrame, lang: str, save: bool = True, highlight: Any = None
) -> Figure:
    """Choropleth of winning clusters per province (`by_province`, a
    `views.winners_by_province()` frame); units outside the source are 'no data'."""
    lang = check_lang(lang)
    kit.setup(lang)
    from .maps import province_map

    frame = by_province
    values = dict(zip(frame["adcode"].astype(int), frame["clusters"].astype(int), strict=True))
    stated = _cited(frame)
    if highlight is None:
        title = kit.chart_text("winners_map.title", lang)
        legend = kit.chart_text("winners_map.legend", lang)
        stem = "cluster_winners_map"
    else:
        unit = resolve(highlight)
        name = province_name(unit, lang)
        title = kit.chart_text("province_locator.title", lang, name=name)
        legend = kit.chart_text("province_locator.legend", lang)
        stem = f"province_{unit.adcode}_map"
    fig = province_map(
        values,
        lang=lang,
        kind="numeric",
        title=title,
        legend_title=legend,
        highlight=highlight,
        show_values=False,
        zero_label=kit.chart_text("winners_map.zero", lang, n=format_number(0, lang)),
    )
    return kit.finish(fig, stem, lang, stated, save)


def cluster_terms_map(
    terms: pd.DataFrame,
    summary: pd.DataFrame,
    lang: str,
    save: bool = True,
    highlight: Any = None,
) -> Figure:
    """Map of the term each province used for clusters in its 2020 government work report
    (`terms`, `views.cluster_terms()`; legend order and counts from `summary`,
    `views.terms_summary()`), with `highlight` outlined (a province profile's map)."""
    lang = check_lang(lang)
    kit.setup(lang)
    from .maps import province_map

    names = {}
    colors = {}
    for i, row in enumerate(summary.to_dict("records")):
        term = pair(row, "term", lang)
        names[row["term_zh"]] = f"{term} ({format_number(row['provinces'], lang)})"
        colors[names[row["term_zh"]]] = kit.palette(i)
    missing = v.provinces_not_naming(terms)
    none_label = (
        f"{kit.chart_text('terms_map.none', lang)} ({format_number(len(missing), lang)})"
        if missing
        else None
    )
    if none_label:
        colors[none_label] = kit.NOT_LISTED_FACE
    # The map's legend lists categories in the order of `values`: most-used term first.
    assigned = {
        int(row["adcode"]): names[row["term_zh"]] if row["named"] else none_label
        for row in terms.to_dict("records")
    }
    order = list(colors)
    values = dict(sorted(assigned.items(), key=lambda item: (order.index(item[1]), item[0])))
    year = v.indicator_row("cluster_indicators", "provinces_total")["period"]
    ncols = 2 if lang.fmt["word_space"] else 3  # words with spaces make longer names
    rows = math.ceil((len(colors) + 1) / ncols)  # +1: the "no data" entry
    legend_h = 0.3 + 0.19 * rows
    plt = kit.setup(lang)
    from .maps import MAP_DPI

    fig = plt.figure(
        figsize=(kit.WIDTH_IN, round(4.75 + legend_h, 2)), layout="constrained", dpi=MAP_DPI
    )
    map_ax, legend_ax = fig.subplots(2, 1, height_ratios=[4.4, legend_h])
    if highlight is None:
        title, stem = kit.chart_text("terms_map.title", lang, year=year), "cluster_terms_map"
    else:
        unit = resolve(highlight)
        name = province_name(unit, lang)
        title = kit.chart_text("province_locator.terms_title", lang, name=name, year=year)
        title = kit.wrap(title, lang, width_en=64, width_zh=32)  # the longest names need two lines
        stem = f"province_{unit.adcode}_map"
    province_map(
        values,
        lang=lang,
        kind="categorical",
        title=title,
        legend_title=kit.chart_text("terms_map.legend", lang),
        colors=colors,
        ax=map_ax,
        highlight=highlight,
    )
    _legend_below(fig, legend_ax, ncols)
    return kit.finish(fig, stem, lang, _cited(terms), save)


def _legend_below(fig: Figure, legend_ax: Axes, ncols: int) -> None:
    """Move the map's legend from the lower-left corner of the map into `legend_ax` below it.

    The category names (long in English) would otherwise cover Yunnan, Guangxi and Guangdong.
    """
    main = next(a for a in fig.axes if a.get_gid() == "main-map")
    legend = main.get_legend()
    legend_ax.set_axis_off()
    if legend is None:
        return
    handles, labels = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
    for handle in handles:
        # A white category needs an outline to be seen in the legend.
        if handle.get_facecolor()[:3] == (1.0, 1.0, 1.0):
            handle.set_edgecolor("#8C8C8C")
            handle.set_linewidth(0.6)
    title = legend.get_title().get_text()
    legend.remove()
    box = legend_ax.legend(
        handles,
        labels,
        title=title,
        loc="upper left",
        ncols=ncols,
        fontsize=7.5,
        title_fontsize=8,
        handlelength=1.6,
        handleheight=1.1,
        alignment="left",
        frameon=False,
        borderaxespad=0.0,
    )
    box.set_gid("legend")


def region_split(by_region: pd.DataFrame, lang: str, save: bool = True) -> Figure:
    """Two panels per NBS region (`by_region`, a `views.winners_by_region()` frame): winning
    clusters, and provinces calling for clusters."""
    lang = check_lang(lang)
    plt = kit.setup(lang)
    frame = by_region
    names = [region_name(r, lang) for r in frame["region_zh"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(kit.WIDTH_IN, 2.9), sharey=True)
    # Room between the panels: with the layout's default the left panel's last tick ("40")
    # ran into the right panel's first ("0").
    fig.get_layout_engine().set(wspace=0.08)
    kit.hbar(
        left,
        names,
        list(frame["clusters"]),
        xlabel=kit.chart_text("regions.clusters", lang),
        value_labels=[
            f"{format_number(c, lang)} ({format_percent(s, lang)})"
            for c, s in zip(frame["clusters"], frame["share_pct"], strict=True)
        ],
        colors=[kit.palette(i) for i in range(len(frame))],
    )
    ys = list(range(len(frame)))
    right.barh(ys, frame["provinces"], color=kit.LIGHT_GREY, height=0.66, zorder=1)
    right.barh(
        ys,
        frame["provinces_naming_clusters"],
        color=[kit.palette(i) for i in range(len(frame))],
        height=0.66,
        zorder=2,
    )
    for y, named, total in zip(
        ys, frame["provinces_naming_clusters"], frame["provinces"], strict=True
    ):
        right.annotate(
            f"{format_number(named, lang)} / {format_number(total, lang)}",
            (total, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    right.set_xlim(0, frame["provinces"].max() * 1.35)
    right.set_xlabel(kit.chart_text("regions.naming", lang))
    right.xaxis.set_major_locator(kit.integer_locator())
    right.grid(axis="y", visible=False)
    right.tick_params(axis="y", length=0)
    from matplotlib.patches import Patch

    right.legend(
        handles=[Patch(color=kit.LIGHT_GREY, label=kit.chart_text("regions.total", lang))],
        loc="lower right",
        fontsize=7.5,
    )
    fig.suptitle(kit.chart_text("regions.title", lang), x=0.01, ha="left", fontsize=12)
    rows = [*v.records("national_clusters_by_province"), *v.records("provincial_cluster_terms")]
    return kit.finish(fig, "cluster_region_split", lang, rows, save)


# What each count of a provincial strategy counts (`provincial_strategies.item`): counts of one
# measure share an axis, counts of different measures never do (51 documents and 6 projects
# are not comparable). Reviewed against the sentences: Guangdong's pillar industries are
# clusters in the title of its document (战略性支柱产业集群).
STRATEGY_MEASURES = {
    "target_clusters": "clusters",
    "pillar_industries": "clusters",
    "emerging_industry_clusters": "clusters",
    "competition_clusters": "clusters",
    "supporting_documents": "documents",
    "action_plans": "documents",
    "projects": "projects",
    "task_areas": "areas",
}


def strategy_measures(
    strategies: list[dict[str, Any]], by_province: pd.DataFrame
) -> dict[str, list[dict[str, Any]]]:
    """The counts of the provincial strategies grouped by what they count, in text order.

    Each entry is a row with `unit`, `item`, `count` and `kind` ("national" for the
    province's winners of the national competition, which lead the "clusters" measure for
    scale, else "stated"). An item missing from `STRATEGY_MEASURES` is refused: a count of an
    unknown measure could otherwise land on another measure's axis.
    """
    measures: dict[str, list[dict[str, Any]]] = {"clusters": []}
    for strategy in strategies:
        unit = strategy["unit"]
        national = by_province.loc[by_province["adcode"] == unit.adcode, "clusters"]
        measures["clusters"].append(
            {"unit": unit, "item": None, "count": int(national.iloc[0]), "kind": "national"}
        )
        for row in strategy["counts"]:
            measure = STRATEGY_MEASURES.get(str(row["item"]))
            if measure is None:
                raise ValueError(
                    f"strategy_comparison: the count item {row['item']!r} of "
                    f"{unit.name_en} is not in charts.STRATEGY_MEASURES; say what it counts."
                )
            entry = {**row, "unit": unit, "count": int(row["count"]), "kind": "stated"}
            measures.setdefault(measure, []).append(entry)
    return measures


def strategy_comparison(
    strategies: list[dict[str, Any]], by_province: pd.DataFrame, lang: str, save: bool = True
) -> Figure:
    """The counts each provincial strategy states, one panel per measure, one unit per axis.

    The clusters panel sets each province's stated clusters beside its winners of the national
    competition (grey, for scale; the legend says so); documents and plans have a panel of
    their own. A measure only one province states (Guangdong's projects, Zhejiang's areas)
    would be a one-bar panel: it is written in a line under the panels instead. From
    `strategies` (`views.strategies()`) and `by_province` (`views.winners_by_province()`).
    """
    lang = check_lang(lang)
    plt = kit.setup(lang)
    from matplotlib.patches import Patch

    measures = strategy_measures(strategies, by_province)
    panels = {m: rows for m, rows in measures.items() if len(rows) > 1}
    single = [rows[0] for m, rows in measures.items() if len(rows) == 1]

    def label(row: dict[str, Any]) -> str:
        name = province_name(row["unit"], lang)
        what = (
            kit.chart_text("strategies.national", lang)
            if row["kind"] == "national"
            else _strategy_item(row, lang)
        )
        return kit.wrap(kit.chart_text("strategies.bar", lang, name=name, item=what), lang, 44, 20)

    labelled = {m: [label(r) for r in rows] for m, rows in panels.items()}
    lines = {
        m: sum(max(1, t.count("\n") + 1) * 0.8 + 0.4 for t in ts) for m, ts in labelled.items()
    }
    note = ""
    if single:
        items = [
            kit.chart_text(
                "strategies.single_item",
                lang,
                name=province_name(r["unit"], lang),
                n=format_number(r["count"], lang),
                item=item,
                unit=unit,
            )
            for r in single
            for item, unit in [_item_and_unit(_strategy_item(r, lang))]
        ]
        note = kit.wrap(kit.chart_text("strategies.single", lang, items=items), lang, 100, 48)
    height = 1.3 + sum(0.22 * n + 0.55 for n in lines.values()) + 0.2 * (note.count("\n") + 1)
    ratios = [n + 2.2 for n in lines.values()]
    if note:
        ratios.append(0.9 * (note.count("\n") + 1))
    fig, axes = plt.subplots(
        len(ratios),
        1,
        figsize=(kit.WIDTH_IN, round(height, 2)),
        height_ratios=ratios,
        squeeze=False,
    )
    cited: list[dict[str, Any]] = []
    for ax, (measure, rows) in zip(axes[: len(panels), 0], panels.items(), strict=True):
        colors = [kit.REFERENCE_GREY if r["kind"] == "national" else kit.palette(0) for r in rows]
        kit.hbar(
            ax,
            labelled[measure],
            [r["count"] for r in rows],
            xlabel=kit.chart_text(f"strategies.xlabel_{measure}", lang),
            value_labels=[format_number(r["count"], lang) for r in rows],
            colors=colors,
        )
        ax.tick_params(axis="y", labelsize=8)
        ax.set_gid(f"measure-{measure}")
        cited.extend(r for r in rows if r["kind"] == "stated")
    cited.extend(single)
    handles = [Patch(color=kit.palette(0), label=kit.chart_text("strategies.stated", lang))]
    if any(r["kind"] == "national" for rows in panels.values() for r in rows):
        handles.append(
            Patch(color=kit.REFERENCE_GREY, label=kit.chart_text("strategies.national_key", lang))
        )
    # The key above the first panel, where no bar can run into it, from the figure's left edge.
    from matplotlib.transforms import blended_transform_factory

    axes[0, 0].legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.01, 1.0),
        bbox_transform=blended_transform_factory(fig.transFigure, axes[0, 0].transAxes),
        ncols=len(handles),
        fontsize=7.5,
        frameon=False,
        borderaxespad=0.2,
    )
    fig.suptitle(kit.chart_text("strategies.title", lang), x=0.01, ha="left", fontsize=12)
    if note:
        # The counts of a measure only one province states: a line of text, not a lone bar.
        note_ax = axes[-1, 0]
        note_ax.set_axis_off()
        where = blended_transform_factory(fig.transFigure, note_ax.transAxes)
        note_ax.text(0.01, 1.0, note, fontsize=8, color="#222222", va="top", transform=where)
    cited.extend(v.records("national_clusters_by_province"))
    return kit.finish(fig, "cluster_strategy_comparison", lang, cited, save)


# --------------------------------------------------------------------------------------------
# Province profile
# --------------------------------------------------------------------------------------------


def province_locator(
    by_province: pd.DataFrame,
    province: Any,
    lang: str,
    save: bool = True,
    terms: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
) -> Figure:
    """The map of a province profile, with `province` outlined: the map that says something
    about it.

    A province with winners is placed on the winners map (`by_province`); for one without, that
    map says only "none", so it is placed on the map of the terms the 2020 work reports used
    (`terms`, `summary`; by default `views.cluster_terms()` and `views.terms_summary()`), which
    the source gives for 29 of the 31 and, for the other two, shows that they are not listed.
    """
    unit = resolve(province)
    row = by_province[by_province["adcode"] == unit.adcode]
    if not row.empty and int(row["clusters"].iloc[0]) > 0:
        return winners_map(by_province, lang, save=save, highlight=unit.adcode)
    terms = v.cluster_terms() if terms is None else terms
    summary = v.terms_summary() if summary is None else summary
    return cluster_terms_map(terms, summary, lang, save=save, highlight=unit.adcode)


def warm_maps() -> None:
    """Lay out the two maps a province profile draws, in both languages, in the template
    process, as a profile lays them out (not rendered, not saved): the source lines wrapped as
    `chart_kit.finish` wraps them (`style.wrap_caption`, remembered in `style._MEASURED`) and
    every text laid out (the province labels, the legend, the inset's name; remembered by
    `style._remember_text_layouts`). A kernel forked later measures none of them again: 15 ms
    of a map for the source lines, 22 ms for the labels (a fork of a warmed process against
    one of a cold, median of 8 en maps: 182 -> 160 ms), for 0.38 s once in the template
    process. What a kernel asks for differently is measured afresh. The words files read for
    the text are forgotten again (`chart_kit.warm_draw`).
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from .lang import load_words
    from .style import wrap_caption

    frames = (v.winners_by_province(), v.cluster_terms())
    for lang in ("zh", "en"):
        with mpl.rc_context():
            kit.setup(lang)
            for frame in frames:
                wrap_caption(kit.source_caption(_cited(frame), lang), kit.WIDTH_IN)
            # 江苏 is placed on the winners map, 西藏 (no winners) on the terms map.
            for province in ("江苏", "西藏"):
                fig = province_locator(frames[0], province, lang, save=False)
                fig.draw_without_rendering()
                plt.close(fig)
    load_words.cache_clear()
