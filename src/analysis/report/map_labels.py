"""The names on the province maps: one label per unit, legible on dark fills, small units with
an offset label and a leader line (`map_layout.toml`), overlapping labels pushed apart.

matplotlib and shapely are imported inside the functions.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from ..provinces import Province, all_provinces
from .lang import check_lang
from .map_geometry import MapData

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DARK_TEXT = "#1A1A1A"
LIGHT_TEXT = "#FFFFFF"
OUTLINE_COLOR = "#4D4D4D"  # national outline, coast, maritime line, inset frame, leader lines
# Fills darker than this relative luminance get white labels with a dark halo.
DARK_FILL_LUMINANCE = 0.30
HIGHLIGHT_TEXT_FRAME = "#111111"  # the frame of the highlighted unit's label
LABEL_ZORDER = 4.0  # above every fill, outline and highlight of the map
MAX_LABEL_ROUNDS = 12  # rounds of pushing overlapping labels apart


@dataclass(frozen=True)
class _Callout:
    dx: float  # offset of the label from the unit's interior point, points, +x east
    dy: float  # points, +y north
    ha: str  # which side of the label the offset point is on
    va: str


@functools.cache
def _label_config() -> dict[str, Any]:
    text = files(__package__).joinpath("map_layout.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def callouts() -> dict[int, _Callout]:
    callouts = {}
    for code, spec in _label_config()["callout"].items():
        dx, dy = float(spec["dx"]), float(spec["dy"])
        ha = spec.get("ha", "left" if dx > 0 else "right")
        callouts[int(code)] = _Callout(dx, dy, ha, spec.get("va", "center"))
    return callouts


def nudges() -> dict[int, tuple[float, float]]:
    """Curated moves of a unit's label point, in map metres (`[nudge]` of map_layout.toml)."""
    return {
        int(code): (1000.0 * float(spec["dx_km"]), 1000.0 * float(spec["dy_km"]))
        for code, spec in _label_config().get("nudge", {}).items()
    }


def unit_label(unit: Province, lang: str) -> str:
    """Return the name printed on the map for `unit`: short Chinese name or English name."""
    return check_lang(lang).pick(unit.short_zh, unit.name_en)


def luminance(color: Any) -> float:
    """WCAG relative luminance of a matplotlib colour."""
    from matplotlib.colors import to_rgb

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _format_value(value: Any, value_format: str) -> str:
    try:
        return value_format.format(value)
    except (ValueError, TypeError):
        return str(value)


def draw_labels(
    ax: Axes,
    label_points: Mapping[int, tuple[float, float]],
    fills: dict[int, Any],
    values: dict[int, Any],
    *,
    lang: str,
    show_values: bool,
    value_format: str,
    highlight: int | None = None,
) -> dict[int, Any]:
    """Draw every unit's label; return them by adcode.

    The label of the `highlight` unit is framed (dark text on white in a dark box), above the
    highlight outline: on a small unit the outline alone is hard to find, and the frame marks
    the name without covering any other.
    """
    from matplotlib import patheffects

    callouts_ = callouts()
    moved = nudges()
    labels: dict[int, Any] = {}
    size = check_lang(lang).words["map"]["label_size"]
    for unit in all_provinces():
        code = unit.adcode
        text = unit_label(unit, lang)
        if show_values and code in values:
            text = f"{text}\n{_format_value(values[code], value_format)}"
        x, y = label_points[code]
        dx, dy = moved.get(code, (0.0, 0.0))
        x, y = x + dx, y + dy
        callout = callouts_.get(code)
        dark_fill = code in fills and luminance(fills[code]) < DARK_FILL_LUMINANCE
        if dark_fill and callout is None:
            color, halo = LIGHT_TEXT, "#1A1A1A"
        else:
            color, halo = DARK_TEXT, "#FFFFFF"
        effects = [patheffects.withStroke(linewidth=1.8, foreground=halo, alpha=0.85)]
        framed = code == highlight
        if framed:
            color, effects = DARK_TEXT, []
        common = dict(
            fontsize=size,
            color=color,
            linespacing=1.0,
            zorder=LABEL_ZORDER,
            path_effects=effects,
            gid=f"label-{code}",
        )
        if callout is None:
            labels[code] = ax.text(x, y, text, ha="center", va="center", **common)
        else:
            labels[code] = ax.annotate(
                text,
                xy=(x, y),
                xytext=(callout.dx, callout.dy),
                textcoords="offset points",
                ha=callout.ha,
                va=callout.va,
                arrowprops=dict(
                    arrowstyle="-",
                    color=OUTLINE_COLOR,
                    linewidth=0.5,
                    shrinkA=1.5,
                    shrinkB=0.0,
                ),
                **common,
            )
        # Out of the constrained layout: every label lies inside the map's axes, whose box
        # the layout reserves (tested), and measuring 34 names in each layout pass was about
        # a tenth of a map's time (0.38 -> 0.34 s of CPU per profile map; the same bytes).
        labels[code].set_in_layout(False)
        if framed:
            labels[code].set_bbox(
                dict(
                    boxstyle="round,pad=0.25",
                    facecolor="white",
                    edgecolor=HIGHLIGHT_TEXT_FRAME,
                    linewidth=0.9,
                )
            )
    return labels


def separate_labels(
    fig: Figure, ax: Axes, labels: dict[int, Any], data: MapData, movable: set[int]
) -> None:
    """Push apart labels whose boxes overlap (e.g. long English names with values).

    Runs after the layout is final (the map's scale in points depends on it). Each round moves
    the two labels of every overlapping pair apart along the axis where they overlap least, half
    the overlap each (all of it when one is a curated callout), preferring moves that keep the
    label's centre inside its own unit. Deterministic: pairs are visited in adcode order.
    """
    from matplotlib.text import Text
    from shapely import Point

    # The layout alone, not a whole draw (`draw_without_rendering` measured and "drew" every
    # artist): what the boxes below depend on is the position of the map's axes, and the labels
    # are out of the layout (`draw_labels`), so moving them changes no position. The same
    # bytes in every map of a build; 0.30 -> 0.26 s of CPU per profile map (en).
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
    ax.apply_aspect()
    renderer = fig.canvas.get_renderer()
    to_data = ax.transData.inverted()
    pad = fig.dpi / 72  # one point of air between labels
    # Each label's box, measured again only once it has moved (a box depends on the label's
    # position alone here: the layout is done and the text does not change).
    boxes = {code: Text.get_window_extent(t, renderer) for code, t in labels.items()}
    for _ in range(MAX_LABEL_ROUNDS):
        moves: dict[int, list[float]] = {}
        codes = sorted(boxes)
        for i, a in enumerate(codes):
            for b in codes[i + 1 :]:
                ba, bb = boxes[a], boxes[b]
                ox = min(ba.x1, bb.x1) - max(ba.x0, bb.x0) + pad
                oy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0) + pad
                if ox <= 0 or oy <= 0:
                    continue
                if oy <= ox:  # separate vertically: a goes the way its centre already lies
                    sign = 1.0 if (ba.y0 + ba.y1) >= (bb.y0 + bb.y1) else -1.0
                    step = (0.0, sign * oy)
                else:
                    sign = 1.0 if (ba.x0 + ba.x1) >= (bb.x0 + bb.x1) else -1.0
                    step = (sign * ox, 0.0)
                share = _shares(a in movable, b in movable)
                for code, factor in ((a, share[0]), (b, -share[1])):
                    if factor:
                        move = moves.setdefault(code, [0.0, 0.0])
                        move[0] += step[0] * factor
                        move[1] += step[1] * factor
        if not moves:
            return
        for code, (dx, dy) in moves.items():
            text = labels[code]
            x, y = ax.transData.transform(text.get_position())
            new = to_data.transform((x + dx, y + dy))
            # Inside its own unit if possible; otherwise still move, overlap is worse.
            if not data.units[code].contains(Point(*new)):
                inside = to_data.transform((x + dx / 2, y + dy / 2))
                if data.units[code].contains(Point(*inside)):
                    new = inside
            text.set_position((float(new[0]), float(new[1])))
            boxes[code] = Text.get_window_extent(text, renderer)


def _shares(a_movable: bool, b_movable: bool) -> tuple[float, float]:
    """How much of a separation each of two labels takes."""
    if a_movable and b_movable:
        return 0.5, 0.5
    if a_movable:
        return 1.0, 0.0
    if b_movable:
        return 0.0, 1.0
    return 0.0, 0.0
