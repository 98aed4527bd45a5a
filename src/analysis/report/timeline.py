"""The policy timeline chart: dated decisions and competition rounds, labelled without overlap.

Drawn from a `views.timeline()` frame; a chart of its own module because placing its labels
(`_spread`) is most of the work. matplotlib is imported inside the functions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from . import chart_kit as kit
from . import formatting as fm
from . import labels as lb
from . import views as v
from .lang import check_lang

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure


def policy_timeline(events: pd.DataFrame, lang: str, save: bool = True) -> Figure:
    """Timeline of the dated national, regional and provincial decisions and competition rounds
    (`events`, a `views.timeline()` frame).

    Time runs down the left axis; each event's label sits to the right, pushed down just enough
    not to overlap the one above, with a leader line back to its date.
    """
    lang = check_lang(lang)
    plt = kit.setup(lang)
    labels = [_event_label(row, lang) for row in events.to_dict("records")]
    times = [_decimal_year(d) for d in events["date"]]
    line_h_pt = 8 * 1.3
    gap_pt = 4.0
    heights_pt = [label.count("\n") * line_h_pt + line_h_pt + gap_pt for label in labels]
    # Room for every label plus the title, legend and the (up to four-line) source caption,
    # which constrained layout takes from the axes; 5 % to spare. With 30 % (before) the nine
    # events took 152 mm, and printed at most `CHART_MAX_HEIGHT` high the labels shrank to 5.7 pt.
    height_in = max(3.6, 1.4 + sum(heights_pt) / 72 * 1.05)
    fig = plt.figure(figsize=(kit.WIDTH_IN, round(height_in, 2)), layout="constrained")
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
        color = kit.palette(kit.KIND_COLOR.get(kind, 4))
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
    ax.set_yticklabels([fm.format_month(str(y), lang) for y in range(start, end + 1)])
    ax.set_ylabel(kit.chart_text("timeline.xlabel", lang))
    ax.set_xticks([])
    ax.grid(False)
    ax.spines["bottom"].set_visible(False)
    from matplotlib.lines import Line2D

    level_words = lb.words(lang, "levels")
    present = [k for k in kit.KIND_COLOR if k in kinds]
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=kit.palette(kit.KIND_COLOR[k]),
            label=level_words[k],
        )
        for k in present
    ]
    ax.legend(handles=handles, loc="upper right", ncols=len(handles), fontsize=7.5)
    ax.set_title(kit.chart_text("timeline.title", lang))
    return kit.finish(fig, "cluster_policy_timeline", lang, events, save)


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
    """The point of the time axis for a period: its month's start, or mid-year for an event
    the text dates by its year alone (2018年), whose label then says only the year."""
    year, _, month = str(period).partition("-")
    return int(year) + ((int(month) - 1) / 12 if month else 0.5)


def _event_label(row: dict[str, Any], lang: str) -> str:
    """Two lines: date and who; then what (the round and its winners for competition rounds)."""
    date = fm.format_month(str(row["date"]), lang)
    who = lb.label(row["body"], lang, row.get("body_en"))
    if row["kind"] == "competition":
        fact = row["winners_fact"]
        rounds = {int(r["round"]): r for r in v.competition_rounds()}
        match = next(r for r in rounds.values() if r["round_zh"] in row["event_zh"])
        what = kit.chart_text(
            "timeline.round_label",
            lang,
            round=match["round"],
            round_zh=match["round_zh"],
            winners=fact,
        )
    elif check_lang(lang).is_source:
        what = str(row["event_zh"])
    else:
        event = str(row["event_zh"]).strip("《》")
        what = lb.glossary_label(event) or ""
        if not what and not event.startswith(str(row["body"])):
            # No English name in the glossary yet: the Chinese name, rather than nothing.
            what = event
    head = f"{date}  {who}" if who not in what else date
    if not what:
        return head  # "党的十九大报告" in English is the congress named on the first line
    width = 60 if check_lang(lang).fmt["word_space"] else 34
    return head + "\n" + kit.wrap(what, lang, width_en=width, width_zh=width)
