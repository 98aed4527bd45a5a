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
from typing import TYPE_CHECKING, Any

from ..provinces import resolve
from . import chart_kit as kit
from . import views as v
from .amoled_charts import amoled_indicators, equipment_concentration, localisation_gap
from .formatting import format_number, format_percent
from .labels import capitalised, pair, province_name, region_name, row_label
from .lang import check_lang
from .timeline import policy_timeline
from .values import is_missing

# What the functions below import when first called (matplotlib, the maps' geometry): a report
# kernel imports these ahead of time (`analysis.publish.zygote.warm_up`).
WARM_IMPORTS = ("analysis.report.chart_kit",)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "amoled_indicators",
    "cluster_terms_map",
    "equipment_concentration",
    "localisation_gap",
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
    plt = kit.setup()
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
    plt = kit.setup()
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
    kit.setup()
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
        zero_label=kit.chart_text("winners_map.zero", lang),
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
    kit.setup()
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
    plt = kit.setup()
    fig = plt.figure(figsize=(kit.WIDTH_IN, round(4.75 + legend_h, 2)), layout="constrained")
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
    plt = kit.setup()
    frame = by_region
    names = [region_name(r, lang) for r in frame["region_zh"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(kit.WIDTH_IN, 2.9), sharey=True)
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


def strategy_comparison(
    strategies: list[dict[str, Any]], by_province: pd.DataFrame, lang: str, save: bool = True
) -> Figure:
    """The counts each provincial strategy states, grouped by province, next to its winners.

    One bar chart with a block per province: first the province's winners in the national
    competition (grey, for scale), then each count its strategy states (documents, plans,
    clusters targeted...), labelled with what is counted. From `strategies`
    (`views.strategies()`) and `by_province` (`views.winners_by_province()`).
    """
    lang = check_lang(lang)
    plt = kit.setup()
    winners = by_province
    labels: list[str] = []
    values: list[float] = []
    colors: list[str] = []
    headers: list[tuple[int, str]] = []
    cited: list[dict[str, Any]] = []
    for strategy in strategies:
        unit = strategy["unit"]
        headers.append((len(labels), province_name(unit, lang)))
        labels.append("")
        values.append(0)
        colors.append("white")
        national = int(winners.loc[winners["adcode"] == unit.adcode, "clusters"].iloc[0])
        labels.append(kit.wrap(kit.chart_text("strategies.national", lang), lang, 40, 18))
        values.append(national)
        colors.append(kit.REFERENCE_GREY)
        for row in strategy["counts"]:
            labels.append(kit.wrap(_strategy_item(row, lang), lang, 40, 18))
            values.append(int(row["count"]))
            colors.append(kit.palette(0))
            cited.append(row)
    lines = sum(max(1, label.count("\n") + 1) for label in labels)
    fig, ax = plt.subplots(figsize=(kit.WIDTH_IN, round(1.2 + 0.24 * lines, 2)))
    kit.hbar(
        ax,
        labels,
        values,
        xlabel=kit.chart_text("strategies.xlabel", lang),
        value_labels=[
            format_number(v, lang) if lbl else "" for v, lbl in zip(values, labels, strict=True)
        ],
        colors=colors,
    )
    ax.tick_params(axis="y", labelsize=8)
    for y, name in headers:
        # The province's name heads its block, on the row left empty for it.
        ax.annotate(
            name,
            (0, y),
            xycoords=("axes fraction", "data"),
            xytext=(-6, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=10,
            color="#111111",
        )
        if y:
            ax.axhline(y - 0.5, color="#CCCCCC", linewidth=0.6, zorder=1)
    ax.set_title(kit.chart_text("strategies.title", lang))
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
