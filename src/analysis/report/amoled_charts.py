"""The AMOLED report's charts: investment, output and lines; equipment suppliers.

The localisation rate of organic materials (less than 10%) is one number: the text states it,
and a chart of one bar would say no more (issue 11).

Drawn from the amoled_indicators frame and the `views.equipment()` rows a notebook hands them;
`charts` makes them available with the other report charts. matplotlib is imported inside the
functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import chart_kit as kit
from . import views as v
from .formatting import format_month, in_parens, join_items
from .labels import capitalised, indicator_label, row_label
from .lang import check_lang
from .values import Fact

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure


# Stocks (investment accumulated to a date) and flows (output value of one year) are different
# measures even in the same currency: each gets its own axis. Curated from the sentences
# (a2-p036-s01/s02, a2-p037-s02, a2-p038-s01).
STOCK_INDICATORS = ("new_display_investment", "amoled_investment")
FLOW_INDICATORS = ("new_display_output_value", "amoled_output_value")
AMOUNT_INDICATORS = STOCK_INDICATORS + FLOW_INDICATORS
LINE_INDICATORS = ("amoled_lines_built", "amoled_lines_under_construction")
# Qualifiers that make a figure a floor: the true value lies beyond the bar's end.
LOWER_BOUNDS = ("more_than", "at_least")


def _industry(indicator: str) -> int:
    """Palette index of an indicator's industry: the new-display industry, or AMOLED in it."""
    return 1 if indicator.startswith("amoled_") else 0


def amoled_indicators(indicators: pd.DataFrame, lang: str, save: bool = True) -> Figure:
    """Investment to date, output value of a year and production lines of the new-display and
    AMOLED industries (rows of `indicators`, the amoled_indicators table): one panel per
    measure, so that no axis mixes a stock with a flow or yuan with lines.

    A figure the text gives as a floor ("more than", "at least") is drawn as an open-ended bar:
    solid up to the floor, then a dashed arrow that runs on past it (gid
    `lower-bound-<indicator>`), with the qualifier in its label.
    """
    lang = check_lang(lang)
    plt = kit.setup(lang)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    stocks = v.indicator_rows(indicators, STOCK_INDICATORS)
    flows = v.indicator_rows(indicators, FLOW_INDICATORS)
    lines = v.indicator_rows(indicators, LINE_INDICATORS)
    words = lang.words["charts"]["amoled_lines"]
    fig, (key_ax, *axes) = plt.subplots(
        4, 1, figsize=(kit.WIDTH_IN, 5.9), gridspec_kw={"height_ratios": [0.12, 1, 1, 1]}
    )
    scale = lang.fmt["amount_axis_unit"]  # 亿元 per unit of the value axis
    # Stocks and flows apart, but in the same currency on the same scale: a bar's length
    # compares across the two panels.
    # Room past the longest bar for its label ("more than RMB 1.2 trillion", wider in Noto Sans
    # than "超过1.2万亿元" in the CJK face: at 1.75 it ended 1.5 % from the figure's edge).
    room = 1.9 if lang.fmt["word_space"] else 1.75
    widest = max(float(r["value"]) / scale for r in [*stocks, *flows]) * room
    for ax, rows, key in ((axes[0], stocks, "stock"), (axes[1], flows, "flow")):
        _bounded_bars(
            ax,
            rows,
            [float(r["value"]) / scale for r in rows],
            [_amount_label(r, lang) for r in rows],
            lang,
            xmax=widest,
        )
        ax.set_xlabel(kit.chart_text(f"amoled_amounts.xlabel_{key}", lang))
        ax.set_title(kit.chart_text(f"amoled_amounts.title_{key}", lang), fontsize=10, loc="left")
        ax.set_gid(f"measure-{key}")
    period = format_month(str(lines[0]["period"]), lang)
    _bounded_bars(
        axes[2],
        lines,
        [float(r["value"]) for r in lines],
        [words["built"], words["building"]],
        lang,
        xmax=max(float(r["value"]) for r in lines) * 1.75,
    )
    axes[2].set_xlabel(kit.chart_text("amoled_lines.xlabel", lang))
    axes[2].set_title(
        kit.chart_text("amoled_lines.title", lang, period=period), fontsize=10, loc="left"
    )
    axes[2].set_gid("measure-lines")
    handles = [
        Patch(color=kit.palette(0), label=kit.chart_text("amoled_amounts.key_display", lang)),
        Patch(color=kit.palette(1), label=kit.chart_text("amoled_amounts.key_amoled", lang)),
    ]
    if any(r.get("qualifier") in LOWER_BOUNDS for r in [*stocks, *flows, *lines]):
        handles.append(
            Line2D(
                [],
                [],
                color="#555555",
                linestyle=(0, (2, 1.5)),
                marker=">",
                markersize=4,
                label=kit.chart_text("amoled_amounts.key_floor", lang),
            )
        )
    # The key on a row of its own under the title: every colour and the floor's arrow.
    from matplotlib.transforms import blended_transform_factory

    key_ax.set_axis_off()
    key_ax.legend(
        handles=handles,
        loc="center left",
        bbox_to_anchor=(0.01, 0.5),
        bbox_transform=blended_transform_factory(fig.transFigure, key_ax.transAxes),
        ncols=len(handles),
        fontsize=7.5,
        frameon=False,
        borderaxespad=0.0,
    )
    fig.suptitle(kit.chart_text("amoled_amounts.title", lang), x=0.01, ha="left", fontsize=12)
    return kit.finish(fig, "amoled_indicators", lang, [*stocks, *flows, *lines], save)


def _amount_label(row: dict[str, Any], lang: str) -> str:
    text = kit.wrap(indicator_label(row, lang), lang, 30, 16)
    if row.get("period"):
        # The period on a line of its own, so that the name never breaks inside a word.
        text += "\n" + in_parens(format_month(str(row["period"]), lang), lang)
    return text


def _bounded_bars(
    ax: Any,
    rows: list[dict[str, Any]],
    values: list[float],
    labels: list[str],
    lang: str,
    *,
    xmax: float,
) -> None:
    """Bars of `values` on a 0–`xmax` axis, coloured by industry; floors open-ended (a dashed
    arrow past the end)."""
    from matplotlib.patches import FancyArrowPatch

    reach = 0.09 * xmax  # how far the arrow of a floor runs past it
    kit.hbar(
        ax,
        labels,
        values,
        xlabel="",
        value_labels=["" for _ in values],
        colors=[kit.palette(_industry(str(r["indicator"]))) for r in rows],
    )
    ax.set_xlim(0, xmax)
    ax.tick_params(axis="y", labelsize=8)
    for y, (row, value) in enumerate(zip(rows, values, strict=True)):
        end = value
        if row.get("qualifier") in LOWER_BOUNDS:
            arrow = FancyArrowPatch(
                (value, y),
                (value + reach, y),
                arrowstyle="-|>,head_length=4,head_width=2.5",
                linestyle=(0, (2, 1.5)),
                linewidth=1.0,
                color=kit.palette(_industry(str(row["indicator"]))),
                shrinkA=0,
                shrinkB=0,
                zorder=3,
            )
            arrow.set_gid(f"lower-bound-{row['indicator']}")
            ax.add_patch(arrow)
            end = value + reach
        ax.annotate(
            Fact.from_row(row).format(lang),
            (end, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="#222222",
            gid=f"value-{row['indicator']}",
        )


def equipment_concentration(
    equipment: list[dict[str, Any]], lang: str, save: bool = True
) -> Figure:
    """Combined market share of the top suppliers per kind of AMOLED equipment (`equipment`,
    the rows of `views.equipment()`)."""
    lang = check_lang(lang)
    plt = kit.setup(lang)
    rows = equipment
    labels, values, texts, hatches = [], [], [], []
    for row in rows:
        labels.append(kit.wrap(capitalised(row_label(row, "equipment", lang), lang), lang, 18, 8))
        if row.get("share_pct") is None:
            firms = lang.pick(row["firms"], row["firms_en_list"])
            values.append(100.0)
            # On two lines where it is long: on one, the English label ran to the figure's edge.
            exclusive = kit.chart_text("equipment.exclusive", lang, firms=join_items(firms, lang))
            texts.append(kit.wrap(exclusive, lang, 22, 10))
            hatches.append("///")
        else:
            share = row["share_fact"].format(lang)
            values.append(float(row["share_pct"]))
            texts.append(kit.chart_text("equipment.share", lang, n=row["top_firms"], share=share))
            hatches.append("")
    fig, ax = plt.subplots(figsize=(kit.WIDTH_IN, kit.height_for(len(rows), 1.4, 1.3)))
    ys = list(range(len(rows)))
    for y, value, hatch in zip(ys, values, hatches, strict=True):
        ax.barh(
            [y],
            [value],
            color=kit.palette(0) if not hatch else "white",
            edgecolor=kit.palette(0),
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
    ax.set_xlabel(kit.chart_text("equipment.xlabel", lang))
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.spines["bottom"].set_bounds(0, 100)
    ax.set_title(kit.chart_text("equipment.title", lang))
    return kit.finish(fig, "amoled_equipment_concentration", lang, rows, save)
