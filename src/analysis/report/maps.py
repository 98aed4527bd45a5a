"""China map: a choropleth of the 34 province-level units with a South China Sea inset.

`province_map` draws every unit in an Albers equal-area conic projection suited to China, with
the South China Sea islands and the maritime boundary line in a framed inset at the lower right
(the form that maps published in China take), a distinct hatched "no data" style, and labels in
Chinese or English that stay legible on dark fills. Units too small for their own name (Beijing,
Tianjin, Shanghai, Hong Kong, Macao) get an offset label with a leader line (`map_labels`, with
the offsets in `map_layout.toml`); the words the map prints are in the `[map]` table of the
language's words file. Projection and layout are in `map_geometry`.

matplotlib, shapely and geopandas are imported inside the functions, so importing this module
costs no more than importing `analysis.provinces`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..provinces import resolve
from .lang import check_lang
from .map_geometry import MapData, geometry_to_path, line_to_path, map_views, parts
from .map_labels import (
    DARK_TEXT,
    LABEL_ZORDER,
    OUTLINE_COLOR,
    callouts,
    draw_labels,
    separate_labels,
)
from .values import is_missing

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.publish.zygote.warm_up`), while `import analysis.report.maps` stays cheap.
WARM_IMPORTS = (
    "numpy",
    "shapely",
    "shapely.ops",
    "pyproj",
    "matplotlib.patches",
    "matplotlib.patheffects",
    "analysis.geometry",
    "analysis.report.style",
    "analysis.report.map_geometry",  # its WARM_CALLS compute the base map once per process
)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

FIGURE_WIDTH_IN = 6.4  # A4 text width; the height follows from the map's aspect
BORDER_COLOR = "#FFFFFF"  # between provinces
NO_DATA_FACE = "#EFEFEF"
NO_DATA_HATCH = "#BDBDBD"
NO_DATA_BORDER = "#C4C4C4"
NO_DATA_HATCH_PATTERN = "/////"
REFERENCE_FACE = "#E4E4E4"  # fill of every unit when no values are given (locator map)
HIGHLIGHT_COLOR = "#111111"
HIGHLIGHT_MIN_AREA_M2 = 500e6  # parts smaller than 500 km² get a thin highlight outline
SMALL_UNIT_AREA_M2 = 20_000e6  # units under 20,000 km² (Beijing, Tianjin, Shanghai): thin outline
HIGHLIGHT_ZORDER = LABEL_ZORDER - 1.0  # above the fills and the outline (2.5), below the labels
DISCRETE_MAX_CLASSES = 12  # integer data with at most this many classes get a stepped colorbar
MAX_COUNT_CLASSES = 6  # counts (integers from 0): at most six classes above the zero class
ZERO_CLASS_FACE = "#F1EFE8"  # the "0" class: pale and warm, unlike the ramp and the no-data grey
CLASS_RAMP = (0.3, 1.0)  # the part of the sequential ramp the classes above 0 are spread over

Kind = Literal["numeric", "categorical"]
Class = tuple[int, int]  # a class of counts, lo and hi inclusive


def map_text(lang: str) -> dict[str, str]:
    """Return the words the map prints ("无数据"/"No data", the inset name) in `lang`."""
    return dict(check_lang(lang).words["map"])


def _resolve_values(values: Any) -> dict[int, Any]:
    """Map each key of `values` to its unit's adcode; NaN/None values count as missing."""
    if values is None:
        return {}
    items = values.items() if hasattr(values, "items") else None
    if items is None:
        raise TypeError(
            "province_map: values must be a mapping or a pandas Series keyed by province "
            f"(adcode or any name), not {type(values).__name__}."
        )
    resolved: dict[int, Any] = {}
    given: dict[int, Any] = {}
    for key, value in items:
        unit = resolve(key)  # UnknownProvinceError names the nearest valid names
        if unit.adcode in given:
            raise ValueError(
                f"province_map: {unit.name_en} ({unit.name_zh}) is given twice in values, as "
                f"{given[unit.adcode]!r} and {key!r}; keep one entry per unit."
            )
        given[unit.adcode] = key
        if not is_missing(value):
            resolved[unit.adcode] = value
    return resolved


def count_classes(values: list[float], max_classes: int = MAX_COUNT_CLASSES) -> list[Class]:
    """The classes of a map of counts: 0 alone, then one class per value present when at most
    `max_classes` values are, else `max_classes` ranges holding equally many distinct values
    (give or take one).

    A class is `(lo, hi)`, both inclusive. Classes by the values present (not equal steps of
    the range) keep each class visibly different from the next one whatever the spread.
    """
    present = sorted({int(v) for v in values})
    classes: list[Class] = [(0, 0)] if present and present[0] == 0 else []
    positive = [v for v in present if v > 0]
    if len(positive) <= max_classes:
        return classes + [(v, v) for v in positive]
    # As even as possible: the first len % max_classes classes hold one value more.
    size, extra = divmod(len(positive), max_classes)
    start = 0
    for i in range(max_classes):
        group = positive[start : start + size + (1 if i < extra else 0)]
        start += len(group)
        classes.append((group[0], group[-1]))
    return classes


def class_colors(classes: list[Class], colormap: Colormap) -> dict[Class, str]:
    """Fill per class: 0 in a pale neutral of its own, the others evenly spread over the
    darker part of the ramp (its lightest tints are too close to the "0" fill and to white)."""
    from matplotlib.colors import to_hex

    positive = [c for c in classes if c[1] > 0]
    steps = len(positive)
    out: dict[Class, str] = {}
    for c in classes:
        if c[1] == 0:
            out[c] = ZERO_CLASS_FACE
        else:
            i = positive.index(c)
            where = (
                1.0
                if steps == 1
                else CLASS_RAMP[0] + (CLASS_RAMP[1] - CLASS_RAMP[0]) * i / (steps - 1)
            )
            out[c] = to_hex(colormap(where))
    return out


def class_label(c: Class, zero_label: str | None) -> str:
    """The legend text of a class: "3", "5–6", or the name of the zero class."""
    if c[1] == 0:
        return zero_label or "0"
    return str(c[0]) if c[0] == c[1] else f"{c[0]}–{c[1]}"


def _unit_colors(
    values: dict[int, Any],
    kind: Kind,
    cmap: str | Colormap | None,
    vmin: float | None,
    vmax: float | None,
    colors: Mapping[Any, str] | None,
) -> tuple[dict[int, Any], dict[str, Any]]:
    """Return fill colour per adcode and what the legend needs (norm/cmap or category colours)."""
    import matplotlib
    import numpy as np
    from matplotlib.colors import BoundaryNorm, Normalize

    from .style import PALETTE, sequential_cmap

    if kind == "numeric":
        numbers_ = {}
        for code, value in values.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(
                    f"province_map(kind='numeric'): the value for adcode {code} is {value!r}, "
                    "not a number; pass kind='categorical' for labels."
                )
            numbers_[code] = float(value)
        colormap = (
            sequential_cmap()
            if cmap is None
            else (matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap)
        )
        data = np.array(list(numbers_.values())) if numbers_ else np.array([0.0, 1.0])
        lo = vmin if vmin is not None else (0.0 if data.min() >= 0 else float(data.min()))
        hi = vmax if vmax is not None else float(data.max())
        if hi <= lo:
            hi = lo + 1.0
        integral = all(v.is_integer() for v in numbers_.values()) and float(lo).is_integer()
        if integral and lo >= 0 and numbers_ and vmin is None and vmax is None:
            # Counts: discrete classes with a swatch each, so that 0 and 1 (or 7 and 8) never
            # read as shades of one colour, and 0 ("no winner") is a class of its own.
            classes = count_classes(sorted(set(numbers_.values())))
            class_fills = class_colors(classes, colormap)
            of_value = {v: c for c in classes for v in range(c[0], c[1] + 1)}
            fills = {code: class_fills[of_value[int(v)]] for code, v in numbers_.items()}
            return fills, {"classes": class_fills}
        if integral and hi - lo + 1 <= DISCRETE_MAX_CLASSES:
            # Counts: one colour step per integer, ticks in the middle of each step.
            boundaries = np.arange(lo - 0.5, math.floor(hi) + 1.0, 1.0)
            norm: Any = BoundaryNorm(boundaries, colormap.N)
            ticks = np.arange(lo, math.floor(hi) + 1.0)
        else:
            norm = Normalize(lo, hi)
            ticks = None
        fills = {code: colormap(norm(v)) for code, v in numbers_.items()}
        return fills, {"cmap": colormap, "norm": norm, "ticks": ticks}
    if kind == "categorical":
        categories = list(dict.fromkeys(values.values()))
        if hasattr(values, "cat"):  # pragma: no cover - a plain dict never has .cat
            categories = list(values.cat.categories)
        if colors is not None:
            absent = [c for c in categories if c not in colors]
            if absent:
                raise ValueError(f"province_map: no colour given for categories {absent!r}.")
            palette = {c: colors[c] for c in categories}
        else:
            if len(categories) > len(PALETTE):
                raise ValueError(
                    f"province_map: {len(categories)} categories, but the colour-blind-safe "
                    f"palette has {len(PALETTE)} colours; group the rarer ones (e.g. as "
                    "'Other') or pass colors={category: colour}."
                )
            palette = dict(zip(categories, PALETTE, strict=False))
        fills = {code: palette[value] for code, value in values.items()}
        return fills, {"categories": palette}
    raise ValueError(f"province_map: kind must be 'numeric' or 'categorical', not {kind!r}.")


def _draw_units(
    ax: Axes,
    data: MapData,
    fills: dict[int, Any],
    *,
    reference: bool,
    scale: float,
    gid_prefix: str,
) -> None:
    from matplotlib.patches import PathPatch

    # No-data units first, so that the white borders of the filled units are drawn over their
    # grey ones; on a hatched grey, white borders would vanish.
    order = sorted(data.units, key=lambda code: (code in fills or reference, code))
    for code in order:
        path = geometry_to_path(data.units[code])
        if code in fills or reference:
            patch = PathPatch(
                path,
                facecolor=fills.get(code, REFERENCE_FACE),
                edgecolor=BORDER_COLOR,
                linewidth=0.4 * scale,
            )
        else:
            patch = PathPatch(
                path,
                facecolor=NO_DATA_FACE,
                edgecolor=NO_DATA_BORDER,
                linewidth=0.4 * scale,
                hatch=NO_DATA_HATCH_PATTERN,
                hatchcolor=NO_DATA_HATCH,
            )
            patch.set_hatch_linewidth(0.35)
        patch.set_gid(f"{gid_prefix}unit-{code}")
        ax.add_artist(patch)
    outline = PathPatch(
        geometry_to_path(data.outline),
        facecolor="none",
        edgecolor=OUTLINE_COLOR,
        linewidth=0.5 * scale,
        zorder=2.5,
    )
    outline.set_gid(f"{gid_prefix}outline")
    ax.add_artist(outline)
    for i, line in enumerate(data.lines):
        maritime = PathPatch(
            line_to_path(line),
            facecolor="none",
            edgecolor=OUTLINE_COLOR,
            linewidth=1.0 * scale,
            capstyle="butt",
            zorder=2.5,
        )
        maritime.set_gid(f"{gid_prefix}maritime-{i}")
        ax.add_artist(maritime)


def _draw_highlight(ax: Axes, data: MapData, code: int, scale: float, gid: str) -> None:
    """An outline round the unit, on a white halo so that it shows on the darkest fills too,
    always under the labels (`HIGHLIGHT_ZORDER`), so that it never hides a name.

    A unit too small for a thick outline (Shanghai, Beijing; `SMALL_UNIT_AREA_M2`) gets a thin
    one: a thick line round a few square millimetres of map is a blob that covers its
    neighbours' names; its framed label (`map_labels.draw_labels`) says which unit it is.
    Islets get a thin outline, or they would become blobs too.
    """
    import shapely
    from matplotlib.patches import PathPatch

    geometry = data.units[code]
    small_unit = geometry.area < SMALL_UNIT_AREA_M2
    pieces = parts(geometry, "Polygon")
    large = [p for p in pieces if p.area >= HIGHLIGHT_MIN_AREA_M2]
    small = [p for p in pieces if p.area < HIGHLIGHT_MIN_AREA_M2]
    main_width = 0.8 if small_unit else 1.6
    for suffix, group, width in (("", large, main_width), ("-islets", small, 0.6)):
        if not group:
            continue
        patch = PathPatch(
            geometry_to_path(shapely.MultiPolygon(group)),
            facecolor="none",
            edgecolor=HIGHLIGHT_COLOR,
            linewidth=width * scale,
            joinstyle="round",
            zorder=HIGHLIGHT_ZORDER,
        )
        patch.set_path_effects(_halo(width * scale))
        patch.set_gid(gid + suffix)
        ax.add_artist(patch)


def _halo(width: float) -> list[Any]:
    """A white stroke under a line of `width` points, one point wider on each side."""
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=width + 2.0, foreground="white"), patheffects.Normal()]


def _draw_legend(
    ax: Axes,
    legend: dict[str, Any],
    *,
    kind: Kind,
    words: dict[str, str],
    legend_title: str | None,
    show_no_data: bool,
    zero_label: str | None = None,
) -> None:
    from matplotlib.cm import ScalarMappable
    from matplotlib.patches import Patch

    no_data = Patch(
        facecolor=NO_DATA_FACE,
        edgecolor=NO_DATA_HATCH,
        hatch=NO_DATA_HATCH_PATTERN,
        linewidth=0.4,
        label=words["no_data"],
    )
    fig = ax.get_figure()
    if "classes" in legend:
        swatches = [
            Patch(
                facecolor=color,
                edgecolor=NO_DATA_BORDER if c[1] == 0 else "none",
                linewidth=0.4,
                label=class_label(c, zero_label),
            )
            for c, color in legend["classes"].items()
        ]
        if show_no_data:
            swatches.append(no_data)
        _swatch_legend(ax, swatches, legend_title, two_columns_over=4, columnspacing=1.2)
        return
    if kind == "numeric":
        cax = ax.inset_axes([0.02, 0.05, 0.26, 0.028])
        cax.set_gid("colorbar")
        mappable = ScalarMappable(norm=legend["norm"], cmap=legend["cmap"])
        bar = fig.colorbar(mappable, cax=cax, orientation="horizontal", ticks=legend["ticks"])
        bar.outline.set_linewidth(0.4)
        bar.outline.set_edgecolor(OUTLINE_COLOR)
        cax.tick_params(labelsize=7, length=2, width=0.4, pad=1.5)
        cax.grid(False)
        if legend_title:
            cax.set_title(legend_title, fontsize=8, loc="left", pad=3)
        if show_no_data:
            handles = ax.legend(
                handles=[no_data],
                loc="lower left",
                bbox_to_anchor=(0.015, 0.135 if legend_title else 0.11),
                fontsize=7,
                handlelength=1.6,
                handleheight=1.1,
                borderaxespad=0.0,
                frameon=False,
            )
            handles.set_gid("legend")
        return
    patches = [
        Patch(facecolor=color, edgecolor="none", label=str(category))
        for category, color in legend["categories"].items()
    ]
    if show_no_data:
        patches.append(no_data)
    _swatch_legend(ax, patches, legend_title, two_columns_over=5)


def _swatch_legend(
    ax: Any,
    handles: list[Any],
    title: str | None,
    *,
    two_columns_over: int,
    columnspacing: float | None = None,
) -> None:
    """The map's key of colour swatches in its lower left corner (classes or categories), in
    two columns when there are more than `two_columns_over` of them."""
    extra = {} if columnspacing is None else {"columnspacing": columnspacing}
    box = ax.legend(
        handles=handles,
        title=title,
        loc="lower left",
        bbox_to_anchor=(0.01, 0.02),
        fontsize=7.5,
        title_fontsize=8,
        handlelength=1.6,
        handleheight=1.1,
        ncols=2 if len(handles) > two_columns_over else 1,
        alignment="left",
        borderaxespad=0.0,
        frameon=False,
        **extra,
    )
    box.set_gid("legend")


def _draw_inset(
    ax: Axes,
    views: Any,
    fills: dict[int, Any],
    reference: bool,
    highlight_code: int | None,
    words: Mapping[str, Any],
) -> None:
    """The framed South China Sea inset at the lower right of the main map, with its name."""
    layout = views.layout
    inset = ax.inset_axes(layout.inset, transform=ax.transData)
    inset.set_gid("scs-inset")
    vx0, vy0, vx1, vy1 = layout.inset_view
    south = views.south
    _draw_units(inset, south, fills, reference=reference, scale=0.7, gid_prefix="inset-")
    if highlight_code is not None and highlight_code in south.units:
        _draw_highlight(inset, south, highlight_code, 0.7, "inset-highlight")
    inset.set_xlim(vx0, vx1)
    inset.set_ylim(vy0, vy1)
    inset.set_aspect("equal", adjustable="datalim")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.xaxis.set_visible(False)  # no ticks; not measured either (see `province_map`)
    inset.yaxis.set_visible(False)
    inset.grid(False)
    inset.set_facecolor("white")
    for spine in inset.spines.values():
        spine.set_visible(True)
        spine.set_edgecolor(OUTLINE_COLOR)
        spine.set_linewidth(0.7)
    inset.text(
        0.95,
        0.03,
        words["scs_inset"],
        transform=inset.transAxes,
        ha="right",
        va="bottom",
        multialignment="right",
        linespacing=1.0,
        fontsize=words["inset_name_size"],
        color=DARK_TEXT,
        gid="inset-name",
    )


# A map figure's resolution from the start: the one it is saved and shown at (`style`'s
# `DISPLAY_DPI`), so that the labels are pushed apart (`separate_labels`) with the extents of
# the text as drawn, and the layout, its measurements and the renderer are those of the save
# (at the rcParams' 100 dpi, every label was measured once for the separation and again at
# 200 dpi for the file: 6 to 12 ms of a map's 0.16 to 0.23 s).
MAP_DPI = 200


def _figure(
    ax: Axes | None, box: tuple[float, float, float, float], title: bool, caption: bool
) -> tuple[Figure, Axes]:
    """The figure and axes of a map: `ax`'s, or a new figure as high as the map's aspect needs,
    plus room for the title and the caption lines."""
    if ax is not None:
        return ax.get_figure(), ax
    import matplotlib.pyplot as plt

    xmin, ymin, xmax, ymax = box
    height = (FIGURE_WIDTH_IN - 0.1) * (ymax - ymin) / (xmax - xmin)
    height += (0.4 if title else 0.1) + (0.35 if caption else 0.0)
    fig = plt.figure(figsize=(FIGURE_WIDTH_IN, round(height, 2)), layout="constrained", dpi=MAP_DPI)
    return fig, fig.add_subplot()


def province_map(
    values: Mapping[Any, Any] | Any = None,
    *,
    lang: str = "zh",
    kind: Kind = "numeric",
    title: str | None = None,
    legend_title: str | None = None,
    highlight: Any = None,
    cmap: str | Colormap | None = None,
    ax: Axes | None = None,
    caption: str | None = None,
    show_values: bool = False,
    value_format: str = "{:g}",
    vmin: float | None = None,
    vmax: float | None = None,
    colors: Mapping[Any, str] | None = None,
    geometry: gpd.GeoDataFrame | None = None,
    zero_label: str | None = None,
) -> Figure:
    """Draw a choropleth of China's 34 province-level units and return its Figure.

    `values` maps units (adcode or any name `analysis.provinces.resolve` accepts) to numbers
    (`kind="numeric"`: sequential colours and a colorbar titled `legend_title`, e.g. the unit;
    counts, whole numbers from 0 with no `vmin`/`vmax`, get discrete classes with a swatch each
    and 0 as a class of its own named `zero_label`) or
    to category labels (`kind="categorical"`: the house palette or `colors`, and a legend).
    Units absent from `values` (or missing: None, NaN, pd.NA) are hatched grey "no data";
    `values=None` gives every unit a neutral fill (a locator map for `highlight`). `lang` picks
    the names; `show_values` prints values under names; `caption` adds the source line
    (`style.add_caption`); `geometry` overrides the committed geometry (with `adcode`).
    """
    words = map_text(lang)  # validates lang before anything is drawn
    if kind not in ("numeric", "categorical"):
        raise ValueError(f"province_map: kind must be 'numeric' or 'categorical', not {kind!r}.")
    reference = values is None
    resolved = _resolve_values(values)
    highlight_code = resolve(highlight).adcode if highlight is not None else None
    from .style import PALETTE, add_caption, use_style

    use_style(lang)
    fills, legend = _unit_colors(resolved, kind, cmap, vmin, vmax, colors)
    if reference and highlight_code is not None:
        fills = {highlight_code: PALETTE[0]}  # a locator map: the unit in the accent colour
    views = map_views(geometry)
    data, main, layout = views.data, views.main, views.layout

    fig, ax = _figure(ax, layout.main, bool(title), bool(caption))
    ax.set_gid("main-map")
    _draw_units(ax, main, fills, reference=reference, scale=1.0, gid_prefix="")
    if highlight_code is not None:
        _draw_highlight(ax, main, highlight_code, 1.0, "highlight")
    ax.set_xlim(layout.main[0], layout.main[2])
    ax.set_ylim(layout.main[1], layout.main[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    # Hidden as well as off: an axis that is off is still measured. matplotlib placed the title
    # above the y axis's offset text ("1e6", never drawn), 4% of the figure over the map, and
    # measured its tick labels 30 times per map (about a tenth of a map's time).
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)

    _draw_inset(ax, views, fills, reference, highlight_code, words)

    labels = draw_labels(
        ax,
        views.label_points,
        fills,
        resolved,
        lang=lang,
        show_values=show_values,
        value_format=value_format,
        highlight=highlight_code,
    )
    if not reference:
        _draw_legend(
            ax,
            legend,
            kind=kind,
            words=words,
            legend_title=legend_title,
            show_no_data=len(fills) < len(data.units),
            zero_label=zero_label,
        )
    if title:
        ax.set_title(title, loc="left")
    if caption:
        add_caption(fig, caption)
    _out_of_layout(ax)
    separate_labels(fig, ax, labels, main, movable=set(labels) - set(callouts()))
    return fig


def _out_of_layout(ax: Axes) -> None:
    """Leave what is drawn inside the map's axes out of the constrained layout.

    The layout reserves the axes' box and its title; everything else of the map lies inside
    that box (the units and lines are clipped to it, the inset and the key are placed in it),
    so measuring it changes nothing, and measuring it was costly: the extents of every unit's
    path (thousands of vertices) and of the key and the inset, in each layout pass.
    """
    for artist in ax.get_children():
        if artist not in (ax.title, ax._left_title, ax._right_title):
            artist.set_in_layout(False)
