"""The AMOLED report's charts: investment and output, the localisation gap, equipment suppliers.

Drawn from the amoled_indicators frame and the `views.equipment()` rows a notebook hands them;
`charts` makes them available with the other report charts. matplotlib is imported inside the
functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import chart_kit as kit
from . import views as v
from .formatting import format_month, format_number, in_parens, join_items
from .labels import capitalised, indicator_label, row_label
from .lang import check_lang
from .values import Fact

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure


AMOUNT_INDICATORS = (
    "new_display_investment",
    "new_display_output_value",
    "amoled_investment",
    "amoled_output_value",
)


def amoled_indicators(indicators: pd.DataFrame, lang: str, save: bool = True) -> Figure:
    """Investment and output of the new-display and AMOLED industries, and AMOLED lines (rows
    of `indicators`, the amoled_indicators table)."""
    lang = check_lang(lang)
    plt = kit.setup()
    rows = v.indicator_rows(indicators, AMOUNT_INDICATORS)
    built, building = v.indicator_rows(
        indicators, ["amoled_lines_built", "amoled_lines_under_construction"]
    )
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(kit.WIDTH_IN, 4.3), gridspec_kw={"height_ratios": [4, 1.25]}
    )
    scale = lang.fmt["amount_axis_unit"]  # 亿元 per unit of the value axis
    labels = []
    for row in rows:
        text = kit.wrap(indicator_label(row, lang), lang, 30, 16)
        if row.get("period"):
            # The period on a line of its own, so that the name never breaks inside a word.
            when = format_month(str(row["period"]), lang)
            text += "\n" + in_parens(when, lang)
        labels.append(text)
    values = [float(r["value"]) / scale for r in rows]
    value_labels = [Fact.from_row(r).format(lang) for r in rows]
    kit.hbar(
        top,
        labels,
        values,
        xlabel=kit.chart_text("amoled_amounts.xlabel", lang),
        value_labels=value_labels,
        colors=[kit.palette(0), kit.palette(0), kit.palette(1), kit.palette(1)],
    )
    top.xaxis.set_major_locator(kit.integer_locator())
    top.set_title(kit.chart_text("amoled_amounts.title", lang))
    top.tick_params(axis="y", labelsize=8)
    # Production lines: one stacked bar, built then under construction.
    b, u = int(built["value"]), int(building["value"])
    bottom.barh([0], [b], color=kit.palette(1), height=0.5, zorder=2)
    bottom.barh([0], [u], left=[b], color=kit.palette(4), height=0.5, zorder=2)
    words = lang.words["charts"]["amoled_lines"]
    for x, w, word in ((b / 2, b, words["built"]), (b + u / 2, u, words["building"])):
        bottom.text(
            x, 0.42, f"{word} {format_number(w, lang)}", ha="center", va="bottom", fontsize=8
        )
    bottom.set_ylim(-0.4, 1.0)
    bottom.set_yticks([])
    bottom.set_xlim(0, (b + u) * 1.3)
    bottom.xaxis.set_major_locator(kit.integer_locator())
    bottom.set_xlabel(kit.chart_text("amoled_lines.xlabel", lang))
    bottom.set_title(
        kit.chart_text("amoled_lines.title", lang, period=format_month(str(built["period"]), lang)),
        fontsize=10,
    )
    bottom.grid(axis="y", visible=False)
    return kit.finish(fig, "amoled_indicators", lang, [*rows, built, building], save)


def localisation_gap(indicators: pd.DataFrame, lang: str, save: bool = True) -> Figure:
    """The localisation rate of organic light-emitting materials on a 0–100% scale (its row of
    `indicators`, the amoled_indicators table)."""
    lang = check_lang(lang)
    plt = kit.setup()
    (row,) = v.indicator_rows(indicators, ["organic_material_localisation_rate"])
    fact = Fact.from_row(row)
    fig, ax = plt.subplots(figsize=(kit.WIDTH_IN, 1.9))
    value = float(fact.value)
    ax.barh([0], [100], color=kit.LIGHT_GREY, height=0.5, zorder=1)
    ax.barh([0], [value], color=kit.palette(5), height=0.5, zorder=2)
    if fact.qualifier in ("less_than", "at_most"):
        # An upper bound: an arrow pointing left from the stated figure.
        ax.annotate(
            "",
            xy=(value * 0.35, 0.38),
            xytext=(value, 0.38),
            arrowprops=dict(arrowstyle="-|>", color=kit.palette(5), linewidth=1.0),
        )
    ax.annotate(
        kit.chart_text("localisation.note", lang, value=fact.format(lang)),
        (value, 0),
        xytext=(6, 0),
        textcoords="offset points",
        va="center",
        fontsize=9,
    )
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.5, 0.7)
    ax.set_yticks([0], [kit.wrap(kit.chart_text("localisation.bar", lang), lang, 18, 8)])
    ax.set_xlabel(kit.chart_text("localisation.xlabel", lang))
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.set_title(kit.chart_text("localisation.title", lang, period=row["period"]))
    return kit.finish(fig, "amoled_localisation_gap", lang, [row], save)


def equipment_concentration(
    equipment: list[dict[str, Any]], lang: str, save: bool = True
) -> Figure:
    """Combined market share of the top suppliers per kind of AMOLED equipment (`equipment`,
    the rows of `views.equipment()`)."""
    lang = check_lang(lang)
    plt = kit.setup()
    rows = equipment
    labels, values, texts, hatches = [], [], [], []
    for row in rows:
        labels.append(kit.wrap(capitalised(row_label(row, "equipment", lang), lang), lang, 18, 8))
        if row.get("share_pct") is None:
            firms = lang.pick(row["firms"], row["firms_en_list"])
            values.append(100.0)
            texts.append(kit.chart_text("equipment.exclusive", lang, firms=join_items(firms, lang)))
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
