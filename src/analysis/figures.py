"""The report charts, in Chinese or English, from the fact tables.

Each public function draws one chart for `lang`, puts the source line under it (article and
section of the rows it shows), saves it as PNG and SVG for slides under reports/figures/, or
the figures folder of the build that runs the notebook (`figures_dir`), byte-stable
(`analysis.style.save_figure`), and returns the Figure; a notebook then calls
`plt.show()`, which shows the PNG just saved (`narrative.setup_notebook`). Words come from the
chart templates in templates/narrative_<lang>.toml, values from `analysis.report_data`. Every
value axis names its unit; value labels sit outside the bars so they never sit on a dark fill;
long category names are wrapped, never cut.

matplotlib is imported inside the functions.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import narrative as nv
from . import report_data as rd
from .provinces import resolve

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.build.zygote.warm_up`), while `import analysis.figures` itself stays cheap.
WARM_IMPORTS = (
    "matplotlib.pyplot",
    "matplotlib.patheffects",
    "analysis.style",
    "analysis.chinamap",
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORMATS = ("png", "svg")
WIDTH_IN = 6.4  # A4 text width, as the house style
# Colours by role (indices into style.PALETTE, the Okabe-Ito colour-blind-safe palette).
KIND_COLOR = {"national": 0, "competition": 1, "regional": 2, "provincial": 3}
REFERENCE_GREY = "#B8B8B8"
LIGHT_GREY = "#E3E3E3"
NOT_LISTED_FACE = "#FFFFFF"


def figures_dir() -> Path:
    """Where charts are saved: `analysis.paths.figures_dir()`, looked up at every save.

    That is `$ANALYSIS_FIGURES_DIR` when set (`analysis build` sets it for each kernel, so
    that a build's charts land in its own reports folder), else `paths.FIGURES`
    (reports/figures/), which tests may redirect.
    """
    from . import paths

    return paths.figures_dir()


def _text(key: str, lang: str, **context: Any) -> str:
    return nv.render_inline(f"charts.{key}", lang, **context)


def _setup() -> Any:
    import matplotlib.pyplot as plt

    from .style import use_style

    use_style()
    return plt


def _finish(fig: Figure, stem: str, lang: str, rows: Any, save: bool) -> Figure:
    """Add the source caption of `rows`, then save `<stem>_<lang>.png/.svg`."""
    from .style import add_caption, save_figure

    add_caption(fig, nv.source_caption(rows, lang))
    if save:
        save_figure(fig, figures_dir() / f"{stem}_{lang}", formats=FORMATS)
    return fig


def _wrap(text: str, lang: str, width_en: int = 26, width_zh: int = 13) -> str:
    """Wrap a category label: at spaces in English, every `width_zh` characters in Chinese."""
    if lang == "en":
        return "\n".join(textwrap.wrap(text, width_en, break_on_hyphens=False)) or text
    if len(text) <= width_zh:
        return text
    lines = math.ceil(len(text) / width_zh)
    size = math.ceil(len(text) / lines)  # balanced lines rather than a short last one
    return "\n".join(text[i : i + size] for i in range(0, len(text), size))


def _strategy_item(row: dict[str, Any], lang: str) -> str:
    """What a strategy count counts: the reviewed label of its item, else the text's word."""
    words = nv.templates(lang)["labels"].get("strategy_items", {})
    return words.get(str(row["item"])) or _cap(nv.row_label(row, "label", lang), lang)


def _cap(text: str, lang: str) -> str:
    """English labels from the glossary start in lower case; a chart label starts upper case."""
    return text[:1].upper() + text[1:] if lang == "en" else text


def _palette(i: int) -> str:
    from .style import PALETTE

    return PALETTE[i % len(PALETTE)]


def _hbar(
    ax: Axes,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    xlabel: str,
    value_labels: Sequence[str],
    colors: Sequence[str] | str | None = None,
    xmax: float | None = None,
) -> None:
    """Horizontal bars, first item on top, value labels just outside the bar ends."""
    n = len(values)
    ys = list(range(n))
    color = colors if colors is not None else _palette(0)
    ax.barh(ys, values, color=color, height=0.66, zorder=2)
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    top = max(values) if values else 1.0
    limit = xmax if xmax is not None else top
    # Room on the right for the longest value label (roughly 0.022 of the axis per character).
    longest = max((len(v) for v in value_labels), default=1)
    ax.set_xlim(0, limit * (1.04 + 0.028 * longest))
    for y, value, text in zip(ys, values, value_labels, strict=True):
        ax.annotate(
            text,
            (value, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=8,
            color="#222222",
        )
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_locator(_integer_locator())


def _integer_locator() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True, nbins=6)


def _height_for(n_bars: int, lines_per_bar: float = 1.0, extra: float = 1.1) -> float:
    """Figure height (inches) for `n_bars` bars whose labels take up to `lines_per_bar` lines."""
    return round(extra + 0.25 * n_bars * (1.0 + 0.25 * (max(1.0, lines_per_bar) - 1.0)), 2)


# --------------------------------------------------------------------------------------------
# Cluster policy
# --------------------------------------------------------------------------------------------


def winners_by_industry(lang: str, save: bool = True) -> Figure:
    """Bar chart of the national competition's winning clusters by industry."""
    nv.check_lang(lang)
    plt = _setup()
    frame = rd.winners_by_industry()
    labels = [
        _wrap(nv.row_label(r, "industry", lang), lang, width_en=34)
        for r in frame.to_dict("records")
    ]
    lines = max(label.count("\n") + 1 for label in labels)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, _height_for(len(frame), lines)))
    _hbar(
        ax,
        labels,
        list(frame["clusters"]),
        xlabel=_text("industry.xlabel", lang),
        value_labels=[nv.format_number(v, lang) for v in frame["clusters"]],
    )
    ax.set_title(_text("industry.title", lang))
    return _finish(fig, "cluster_winners_by_industry", lang, frame, save)


def winners_by_province(lang: str, save: bool = True) -> Figure:
    """Bar chart of winning clusters by province (the provinces the text lists)."""
    nv.check_lang(lang)
    plt = _setup()
    frame = rd.winners_by_province(include_zero=False)
    labels = [nv.province_name(c, lang) for c in frame["adcode"]]
    fig, ax = plt.subplots(figsize=(WIDTH_IN, _height_for(len(frame))))
    region_order = list(rd.REGION_ORDER)
    colors = [_palette(region_order.index(r)) for r in frame["region_zh"]]
    _hbar(
        ax,
        labels,
        list(frame["clusters"]),
        xlabel=_text("province.xlabel", lang),
        value_labels=[nv.format_number(v, lang) for v in frame["clusters"]],
        colors=colors,
    )
    from matplotlib.patches import Patch

    present = [r for r in region_order if r in set(frame["region_zh"])]
    handles = [
        Patch(color=_palette(region_order.index(r)), label=_region_name(r, lang)) for r in present
    ]
    ax.legend(handles=handles, loc="lower right", title=None)
    ax.set_title(_text("province.title", lang))
    return _finish(fig, "cluster_winners_by_province", lang, frame, save)


def _region_name(region_zh: str, lang: str) -> str:
    from .provinces import REGIONS

    return region_zh if lang == "zh" else REGIONS[region_zh]


def winners_map(lang: str, save: bool = True, highlight: Any = None) -> Figure:
    """Choropleth of winning clusters per province; units outside the source are 'no data'."""
    nv.check_lang(lang)
    _setup()
    from .chinamap import province_map

    frame = rd.winners_by_province(include_zero=True)
    values = dict(zip(frame["adcode"].astype(int), frame["clusters"].astype(int), strict=True))
    stated = rd.table("national_clusters_by_province")
    if highlight is None:
        title = _text("winners_map.title", lang)
        legend = _text("winners_map.legend", lang)
        stem = "cluster_winners_map"
    else:
        unit = resolve(highlight)
        name = nv.province_name(unit, lang)
        title = _text("province_locator.title", lang, name=name)
        legend = _text("province_locator.legend", lang)
        stem = f"province_{unit.adcode}_map"
    fig = province_map(
        values,
        lang=lang,
        kind="numeric",
        title=title,
        legend_title=legend,
        highlight=highlight,
        show_values=False,
    )
    _halo_highlight(fig)
    return _finish(fig, stem, lang, stated, save)


def _halo_highlight(fig: Figure) -> None:
    """A white halo under the highlight outline, so that it shows on the darkest fills too."""
    from matplotlib import patheffects

    halo = [patheffects.Stroke(linewidth=4.2, foreground="white"), patheffects.Normal()]
    for artist in fig.findobj(lambda a: str(a.get_gid() or "").endswith("highlight")):
        artist.set_path_effects(halo)


def cluster_terms_map(lang: str, save: bool = True) -> Figure:
    """Map of the term each province used for clusters in its 2020 government work report."""
    nv.check_lang(lang)
    _setup()
    from .chinamap import province_map

    summary = rd.terms_summary()
    terms = rd.cluster_terms()
    names = {}
    colors = {}
    for i, row in enumerate(summary.to_dict("records")):
        term = row["term_zh"] if lang == "zh" else row["term_en"]
        names[row["term_zh"]] = f"{term} ({nv.format_number(row['provinces'], lang)})"
        colors[names[row["term_zh"]]] = _palette(i)
    missing = rd.provinces_not_naming()
    none_label = (
        f"{_text('terms_map.none', lang)} ({nv.format_number(len(missing), lang)})"
        if missing
        else None
    )
    if none_label:
        colors[none_label] = NOT_LISTED_FACE
    # The map's legend lists categories in the order of `values`: most-used term first.
    assigned = {
        int(row["adcode"]): names[row["term_zh"]] if row["named"] else none_label
        for row in terms.to_dict("records")
    }
    order = list(colors)
    values = dict(sorted(assigned.items(), key=lambda item: (order.index(item[1]), item[0])))
    year = rd.indicator_row("cluster_indicators", "provinces_total")["period"]
    ncols = 2 if lang == "en" else 3
    rows = math.ceil((len(colors) + 1) / ncols)  # +1: the "no data" entry
    legend_h = 0.3 + 0.19 * rows
    plt = _setup()
    fig = plt.figure(figsize=(WIDTH_IN, round(4.75 + legend_h, 2)), layout="constrained")
    map_ax, legend_ax = fig.subplots(2, 1, height_ratios=[4.4, legend_h])
    province_map(
        values,
        lang=lang,
        kind="categorical",
        title=_text("terms_map.title", lang, year=year),
        legend_title=_text("terms_map.legend", lang),
        colors=colors,
        ax=map_ax,
    )
    _legend_below(fig, legend_ax, ncols)
    return _finish(fig, "cluster_terms_map", lang, rd.table("provincial_cluster_terms"), save)


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


def policy_timeline(lang: str, save: bool = True) -> Figure:
    """Timeline of the dated national, regional and provincial decisions and competition rounds.

    Time runs down the left axis; each event's label sits to the right, pushed down just enough
    not to overlap the one above, with a leader line back to its date.
    """
    nv.check_lang(lang)
    plt = _setup()
    events = rd.timeline()
    labels = [_event_label(row, lang) for row in events.to_dict("records")]
    times = [_decimal_year(d) for d in events["date"]]
    line_h_pt = 8 * 1.3
    gap_pt = 5.0
    heights_pt = [label.count("\n") * line_h_pt + line_h_pt + gap_pt for label in labels]
    # Room for every label plus the title, legend and the (up to four-line) source caption,
    # which constrained layout takes from the axes.
    height_in = max(3.6, 1.4 + sum(heights_pt) / 72 * 1.3)
    fig = plt.figure(figsize=(WIDTH_IN, round(height_in, 2)), layout="constrained")
    ax = fig.add_subplot()
    start = math.floor(min(times))
    end = math.floor(max(times)) + 1
    axes_pt = height_in * 72 * 0.7
    span = end - start
    per_pt = span / axes_pt
    ys = _spread([t for t in times], [h * per_pt for h in heights_pt], start, end)
    ax.set_ylim(max(end, ys[-1] + heights_pt[-1] / 2 * per_pt), min(start, ys[0] - 0.1))
    ax.set_xlim(0, 1)
    x_text = 0.14
    kinds = list(events["kind"])
    previous: list[float] = []
    for t, y, label, kind in zip(times, ys, labels, kinds, strict=True):
        color = _palette(KIND_COLOR.get(kind, 4))
        # Events within two months of each other sit side by side on the time line.
        x_dot = 0.018 * sum(1 for p in previous if t - p < 2 / 12)
        previous.append(t)
        ax.plot([x_dot], [t], marker="o", markersize=6, color=color, zorder=3, clip_on=False)
        ax.plot(
            [x_dot, x_text - 0.05, x_text - 0.015],
            [t, y, y],
            color="#9A9A9A",
            linewidth=0.6,
            zorder=2,
        )
        ax.text(x_text, y, label, va="center", ha="left", fontsize=8, linespacing=1.3)
    ax.spines["left"].set_color("#888888")
    ax.spines["left"].set_linewidth(1.0)
    ax.set_yticks(range(start, end + 1))
    ax.set_yticklabels([nv.format_month(str(y), lang) for y in range(start, end + 1)])
    ax.set_ylabel(_text("timeline.xlabel", lang))
    ax.set_xticks([])
    ax.grid(False)
    ax.spines["bottom"].set_visible(False)
    from matplotlib.lines import Line2D

    level_words = nv.templates(lang)["labels"]["levels"]
    present = [k for k in KIND_COLOR if k in kinds]
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=_palette(KIND_COLOR[k]),
            label=level_words[k],
        )
        for k in present
    ]
    ax.legend(handles=handles, loc="upper right", ncols=len(handles), fontsize=7.5)
    ax.set_title(_text("timeline.title", lang))
    return _finish(fig, "cluster_policy_timeline", lang, events, save)


def _spread(wanted: list[float], heights: list[float], low: float, high: float) -> list[float]:
    """1-D label placement: centres as close to `wanted` as possible without overlaps.

    Overlapping labels are merged into blocks centred on the mean of their wanted positions
    (so a crowd spreads both up and down), repeated until no two blocks overlap; the whole
    stack is then kept inside [low, high] where it fits.
    """
    blocks: list[list[int]] = [[i] for i in range(len(wanted))]

    def layout(block: list[int]) -> tuple[float, float]:
        total = sum(heights[i] for i in block)
        centre = sum(wanted[i] for i in block) / len(block)
        return centre - total / 2, total

    changed = True
    while changed:
        changed = False
        for k in range(len(blocks) - 1):
            top_a, size_a = layout(blocks[k])
            top_b, _ = layout(blocks[k + 1])
            if top_a + size_a > top_b + 1e-9:
                blocks[k : k + 2] = [blocks[k] + blocks[k + 1]]
                changed = True
                break
    ys: list[float] = []
    for block in blocks:
        top, _ = layout(block)
        for i in block:
            ys.append(top + heights[i] / 2)
            top += heights[i]
    first_top = ys[0] - heights[0] / 2
    if first_top < low:
        ys = [y + (low - first_top) for y in ys]
    last_bottom = ys[-1] + heights[-1] / 2
    if last_bottom > high and ys[0] - heights[0] / 2 - (last_bottom - high) >= low:
        ys = [y - (last_bottom - high) for y in ys]
    return ys


def _decimal_year(period: str) -> float:
    year, _, month = str(period).partition("-")
    return int(year) + (int(month or 1) - 1) / 12


def _event_label(row: dict[str, Any], lang: str) -> str:
    """Two lines: date and who; then what (the round and its winners for competition rounds)."""
    date = nv.format_month(str(row["date"]), lang)
    who = nv.label(row["body"], lang, row.get("body_en"))
    if row["kind"] == "competition":
        fact = row["winners_fact"]
        rounds = {int(r["round"]): r for r in rd.competition_rounds()}
        match = next(r for r in rounds.values() if r["round_zh"] in row["event_zh"])
        what = _text(
            "timeline.round_label",
            lang,
            round=match["round"],
            round_zh=match["round_zh"],
            winners=fact,
        )
    elif lang == "zh":
        what = str(row["event_zh"])
    else:
        event = str(row["event_zh"]).strip("《》")
        what = nv.glossary_label(event) or ""
        if not what and not event.startswith(str(row["body"])):
            # No English name in the glossary yet: the Chinese name, rather than nothing.
            what = event
    head = f"{date}  {who}" if who not in what else date
    if not what:
        return head  # "党的十九大报告" in English is the congress named on the first line
    width = 60 if lang == "en" else 34
    return head + "\n" + _wrap(what, lang, width_en=width, width_zh=width)


def region_split(lang: str, save: bool = True) -> Figure:
    """Two panels per NBS region: winning clusters, and provinces calling for clusters."""
    nv.check_lang(lang)
    plt = _setup()
    frame = rd.winners_by_region()
    names = [_region_name(r, lang) for r in frame["region_zh"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH_IN, 2.9), sharey=True)
    _hbar(
        left,
        names,
        list(frame["clusters"]),
        xlabel=_text("regions.clusters", lang),
        value_labels=[
            f"{nv.format_number(c, lang)} ({nv.format_percent(s, lang)})"
            for c, s in zip(frame["clusters"], frame["share_pct"], strict=True)
        ],
        colors=[_palette(i) for i in range(len(frame))],
    )
    ys = list(range(len(frame)))
    right.barh(ys, frame["provinces"], color=LIGHT_GREY, height=0.66, zorder=1)
    right.barh(
        ys,
        frame["provinces_naming_clusters"],
        color=[_palette(i) for i in range(len(frame))],
        height=0.66,
        zorder=2,
    )
    for y, named, total in zip(
        ys, frame["provinces_naming_clusters"], frame["provinces"], strict=True
    ):
        right.annotate(
            f"{nv.format_number(named, lang)} / {nv.format_number(total, lang)}",
            (total, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    right.set_xlim(0, frame["provinces"].max() * 1.35)
    right.set_xlabel(_text("regions.naming", lang))
    right.xaxis.set_major_locator(_integer_locator())
    right.grid(axis="y", visible=False)
    right.tick_params(axis="y", length=0)
    from matplotlib.patches import Patch

    right.legend(
        handles=[Patch(color=LIGHT_GREY, label=_text("regions.total", lang))],
        loc="lower right",
        fontsize=7.5,
    )
    fig.suptitle(_text("regions.title", lang), x=0.01, ha="left", fontsize=12)
    rows = [*rd.records("national_clusters_by_province"), *rd.records("provincial_cluster_terms")]
    return _finish(fig, "cluster_region_split", lang, rows, save)


def strategy_comparison(lang: str, save: bool = True) -> Figure:
    """The counts each provincial strategy states, grouped by province, next to its winners.

    One bar chart with a block per province: first the province's winners in the national
    competition (grey, for scale), then each count its strategy states (documents, plans,
    clusters targeted...), labelled with what is counted.
    """
    nv.check_lang(lang)
    plt = _setup()
    strategies = rd.strategies()
    winners = rd.winners_by_province()
    labels: list[str] = []
    values: list[float] = []
    colors: list[str] = []
    headers: list[tuple[int, str]] = []
    cited: list[dict[str, Any]] = []
    for strategy in strategies:
        unit = strategy["unit"]
        headers.append((len(labels), nv.province_name(unit, lang)))
        labels.append("")
        values.append(0)
        colors.append("white")
        national = int(winners.loc[winners["adcode"] == unit.adcode, "clusters"].iloc[0])
        labels.append(_wrap(_text("strategies.national", lang), lang, 40, 18))
        values.append(national)
        colors.append(REFERENCE_GREY)
        for row in strategy["counts"]:
            labels.append(_wrap(_strategy_item(row, lang), lang, 40, 18))
            values.append(int(row["count"]))
            colors.append(_palette(0))
            cited.append(row)
    lines = sum(max(1, label.count("\n") + 1) for label in labels)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, round(1.2 + 0.24 * lines, 2)))
    _hbar(
        ax,
        labels,
        values,
        xlabel=_text("strategies.xlabel", lang),
        value_labels=[
            nv.format_number(v, lang) if lbl else "" for v, lbl in zip(values, labels, strict=True)
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
    ax.set_title(_text("strategies.title", lang))
    cited.extend(rd.records("national_clusters_by_province"))
    return _finish(fig, "cluster_strategy_comparison", lang, cited, save)


# --------------------------------------------------------------------------------------------
# AMOLED
# --------------------------------------------------------------------------------------------

AMOUNT_INDICATORS = (
    "new_display_investment",
    "new_display_output_value",
    "amoled_investment",
    "amoled_output_value",
)


def amoled_indicators(lang: str, save: bool = True) -> Figure:
    """Investment and output of the new-display and AMOLED industries, and AMOLED lines."""
    nv.check_lang(lang)
    plt = _setup()
    rows = [rd.indicator_row("amoled_indicators", name) for name in AMOUNT_INDICATORS]
    built = rd.indicator_row("amoled_indicators", "amoled_lines_built")
    building = rd.indicator_row("amoled_indicators", "amoled_lines_under_construction")
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(WIDTH_IN, 4.3), gridspec_kw={"height_ratios": [4, 1.25]}
    )
    scale = 1.0 if lang == "zh" else 10.0  # 亿元 → RMB billion
    labels = []
    for row in rows:
        text = _wrap(nv.indicator_label(row, lang), lang, 30, 16)
        if row.get("period"):
            # The period on a line of its own, so that the name never breaks inside a word.
            when = nv.format_month(str(row["period"]), lang)
            text += f"\n（{when}）" if lang == "zh" else f"\n({when})"
        labels.append(text)
    values = [float(r["value"]) / scale for r in rows]
    value_labels = [nv.Fact.from_row(r).format(lang) for r in rows]
    _hbar(
        top,
        labels,
        values,
        xlabel=_text("amoled_amounts.xlabel", lang),
        value_labels=value_labels,
        colors=[_palette(0), _palette(0), _palette(1), _palette(1)],
    )
    top.xaxis.set_major_locator(_integer_locator())
    top.set_title(_text("amoled_amounts.title", lang))
    top.tick_params(axis="y", labelsize=8)
    # Production lines: one stacked bar, built then under construction.
    b, u = int(built["value"]), int(building["value"])
    bottom.barh([0], [b], color=_palette(1), height=0.5, zorder=2)
    bottom.barh([0], [u], left=[b], color=_palette(4), height=0.5, zorder=2)
    words = nv.templates(lang)["charts"]["amoled_lines"]
    for x, w, word in ((b / 2, b, words["built"]), (b + u / 2, u, words["building"])):
        bottom.text(
            x, 0.42, f"{word} {nv.format_number(w, lang)}", ha="center", va="bottom", fontsize=8
        )
    bottom.set_ylim(-0.4, 1.0)
    bottom.set_yticks([])
    bottom.set_xlim(0, (b + u) * 1.3)
    bottom.xaxis.set_major_locator(_integer_locator())
    bottom.set_xlabel(_text("amoled_lines.xlabel", lang))
    bottom.set_title(
        _text("amoled_lines.title", lang, period=nv.format_month(str(built["period"]), lang)),
        fontsize=10,
    )
    bottom.grid(axis="y", visible=False)
    return _finish(fig, "amoled_indicators", lang, [*rows, built, building], save)


def localisation_gap(lang: str, save: bool = True) -> Figure:
    """The localisation rate of organic light-emitting materials on a 0–100% scale."""
    nv.check_lang(lang)
    plt = _setup()
    row = rd.indicator_row("amoled_indicators", "organic_material_localisation_rate")
    fact = nv.Fact.from_row(row)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.9))
    value = float(fact.value)
    ax.barh([0], [100], color=LIGHT_GREY, height=0.5, zorder=1)
    ax.barh([0], [value], color=_palette(5), height=0.5, zorder=2)
    if fact.qualifier in ("less_than", "at_most"):
        # An upper bound: an arrow pointing left from the stated figure.
        ax.annotate(
            "",
            xy=(value * 0.35, 0.38),
            xytext=(value, 0.38),
            arrowprops=dict(arrowstyle="-|>", color=_palette(5), linewidth=1.0),
        )
    ax.annotate(
        _text("localisation.note", lang, value=fact.format(lang)),
        (value, 0),
        xytext=(6, 0),
        textcoords="offset points",
        va="center",
        fontsize=9,
    )
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.5, 0.7)
    ax.set_yticks([0], [_wrap(_text("localisation.bar", lang), lang, 18, 8)])
    ax.set_xlabel(_text("localisation.xlabel", lang))
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.set_title(_text("localisation.title", lang, period=row["period"]))
    return _finish(fig, "amoled_localisation_gap", lang, [row], save)


def equipment_concentration(lang: str, save: bool = True) -> Figure:
    """Combined market share of the top suppliers per kind of AMOLED equipment."""
    nv.check_lang(lang)
    plt = _setup()
    rows = rd.amoled_context()["equipment"]
    labels, values, texts, hatches = [], [], [], []
    for row in rows:
        labels.append(_wrap(_cap(nv.row_label(row, "equipment", lang), lang), lang, 18, 8))
        if row.get("share_pct") is None:
            firms = row["firms"] if lang == "zh" else row["firms_en_list"]
            values.append(100.0)
            texts.append(_text("equipment.exclusive", lang, firms=nv.join_items(firms, lang)))
            hatches.append("///")
        else:
            share = row["share_fact"].format(lang)
            values.append(float(row["share_pct"]))
            texts.append(_text("equipment.share", lang, n=row["top_firms"], share=share))
            hatches.append("")
    fig, ax = plt.subplots(figsize=(WIDTH_IN, _height_for(len(rows), 1.4, 1.3)))
    ys = list(range(len(rows)))
    for y, value, hatch in zip(ys, values, hatches, strict=True):
        ax.barh(
            [y],
            [value],
            color=_palette(0) if not hatch else "white",
            edgecolor=_palette(0),
            hatch=hatch or None,
            linewidth=0.8,
            height=0.62,
            zorder=2,
        )
    for y, value, text in zip(ys, values, texts, strict=True):
        ax.annotate(
            text, (value, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8
        )
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 100 * 1.55)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(_text("equipment.xlabel", lang))
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.spines["bottom"].set_bounds(0, 100)
    ax.set_title(_text("equipment.title", lang))
    return _finish(fig, "amoled_equipment_concentration", lang, rows, save)


# --------------------------------------------------------------------------------------------
# Province profile
# --------------------------------------------------------------------------------------------


def province_locator(province: Any, lang: str, save: bool = True) -> Figure:
    """Map of winning clusters per province with `province` outlined."""
    return winners_map(lang, save=save, highlight=resolve(province).adcode)
