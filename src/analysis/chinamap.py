"""China map: a choropleth of the 34 province-level units with a South China Sea inset.

`province_map` draws every unit in an Albers equal-area conic projection suited to China, with
the South China Sea islands and the maritime boundary line in a framed inset at the lower right
(the form that maps published in China take), a distinct hatched "no data" style, and labels in
Chinese or English that stay legible on dark fills. Units too small for their own name (Beijing,
Tianjin, Shanghai, Hong Kong, Macao) get an offset label with a leader line; the offsets and the
words the map prints live in `chinamap_labels.toml` next to this module.

matplotlib, shapely and geopandas are imported inside the functions, so importing this module
costs no more than importing `analysis.provinces`.
"""

from __future__ import annotations

import functools
import math
import numbers
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Literal

from .errors import InputError
from .provinces import Province, all_provinces, resolve

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.build.zygote.warm_up`), while `import analysis.chinamap` itself stays cheap.
WARM_IMPORTS = (
    "numpy",
    "shapely",
    "shapely.ops",
    "pyproj",
    "matplotlib.patches",
    "matplotlib.patheffects",
    "analysis.geometry",
    "analysis.style",
)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

# Albers equal-area conic with standard parallels 25°N and 47°N and central meridian 105°E: the
# usual projection for a map of the whole of China (areas, and so choropleth fills, are true).
ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +datum=WGS84 +units=m +no_defs"
# The main map is cut a little south of Hainan Island (18.15°N at its southern tip), as maps of
# China with a South China Sea inset are; everything further south appears in the inset.
MAIN_SOUTH_LAT = 17.8
# The inset shows the sea from the Gulf of Tonkin to Taiwan and down to Zengmu Ansha (~3.9°N),
# with room below it for the inset's name.
SCS_BOX = (106.5, 2.0, 123.0, 24.8)  # lon_min, lat_min, lon_max, lat_max
INSET_SCALE = 0.5  # the inset's map scale relative to the main map
MARGIN_M = 60_000.0  # white space around the drawn units and between map and inset, metres

FIGURE_WIDTH_IN = 6.4  # A4 text width; the height follows from the map's aspect
LABEL_SIZE = {"zh": 7.0, "en": 6.0}
DARK_TEXT = "#1A1A1A"
LIGHT_TEXT = "#FFFFFF"
BORDER_COLOR = "#FFFFFF"  # between provinces
OUTLINE_COLOR = "#4D4D4D"  # national outline, coast, maritime line, inset frame
NO_DATA_FACE = "#EFEFEF"
NO_DATA_HATCH = "#BDBDBD"
NO_DATA_BORDER = "#C4C4C4"
NO_DATA_HATCH_PATTERN = "/////"
REFERENCE_FACE = "#E4E4E4"  # fill of every unit when no values are given (locator map)
HIGHLIGHT_COLOR = "#111111"
HIGHLIGHT_MIN_AREA_M2 = 500e6  # parts smaller than 500 km² get a thin highlight outline
# Fills darker than this relative luminance get white labels with a dark halo.
DARK_FILL_LUMINANCE = 0.30
MAX_LABEL_ROUNDS = 12  # rounds of pushing overlapping labels apart
DISCRETE_MAX_CLASSES = 12  # integer data with at most this many classes get a stepped colorbar

Kind = Literal["numeric", "categorical"]
Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class _Callout:
    dx: float  # offset of the label from the unit's interior point, points, +x east
    dy: float  # points, +y north
    ha: str  # which side of the label the offset point is on
    va: str


@functools.cache
def _label_config() -> dict[str, Any]:
    text = files(__package__).joinpath("chinamap_labels.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def map_text(lang: Lang) -> dict[str, str]:
    """Return the words the map prints ("无数据"/"No data", the inset name) in `lang`."""
    texts = _label_config()["text"]
    if lang not in texts:
        raise ValueError(f"lang must be one of {', '.join(sorted(texts))}, not {lang!r}.")
    return dict(texts[lang])


def _callouts() -> dict[int, _Callout]:
    callouts = {}
    for code, spec in _label_config()["callout"].items():
        dx, dy = float(spec["dx"]), float(spec["dy"])
        ha = spec.get("ha", "left" if dx > 0 else "right")
        callouts[int(code)] = _Callout(dx, dy, ha, spec.get("va", "center"))
    return callouts


def unit_label(unit: Province, lang: Lang) -> str:
    """Return the name printed on the map for `unit`: short Chinese name or English name."""
    return unit.short_zh if lang == "zh" else unit.name_en


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
        if not _is_missing(value):
            resolved[unit.adcode] = value
    return resolved


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pandas NA
    except (TypeError, ValueError):
        return False


def _luminance(color: Any) -> float:
    """WCAG relative luminance of a matplotlib colour."""
    from matplotlib.colors import to_rgb

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _parts(geom: Any, geom_type: str) -> list[Any]:
    """The simple parts of `geom` of one type (a cut can leave points and lines in a collection)."""
    if geom.geom_type == geom_type:
        return [geom]
    return [p for part in getattr(geom, "geoms", []) for p in _parts(part, geom_type)]


def _geometry_to_path(geom: Any) -> Any:
    """One matplotlib Path for a (multi)polygon, holes wound the other way so they stay empty."""
    import numpy as np
    from matplotlib.path import Path
    from shapely.geometry.polygon import orient

    vertices: list[Any] = []
    codes: list[Any] = []
    for polygon in _parts(geom, "Polygon"):
        polygon = orient(polygon, sign=1.0)
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            ring_codes = np.full(len(xy), Path.LINETO, dtype=Path.code_type)
            ring_codes[0] = Path.MOVETO
            ring_codes[-1] = Path.CLOSEPOLY
            vertices.append(xy)
            codes.append(ring_codes)
    return Path(np.concatenate(vertices), np.concatenate(codes))


def _line_to_path(geom: Any) -> Any:
    import numpy as np
    from matplotlib.path import Path

    vertices: list[Any] = []
    codes: list[Any] = []
    for line in _parts(geom, "LineString"):
        xy = np.asarray(line.coords)[:, :2]
        line_codes = np.full(len(xy), Path.LINETO, dtype=Path.code_type)
        line_codes[0] = Path.MOVETO
        vertices.append(xy)
        codes.append(line_codes)
    return Path(np.concatenate(vertices), np.concatenate(codes))


def _label_point(geom: Any) -> tuple[float, float]:
    """A good interior point for the label: the pole of inaccessibility of the largest part."""
    from shapely.ops import polylabel

    part = max(_parts(geom, "Polygon"), key=lambda p: p.area)
    # A tolerance of 1/200 of the part's size is far below a label's size and keeps it fast.
    minx, miny, maxx, maxy = part.bounds
    point = polylabel(part, tolerance=max(maxx - minx, maxy - miny) / 200)
    return point.x, point.y


@dataclass
class _MapData:
    units: dict[int, Any]  # adcode -> projected (multi)polygon
    lines: list[Any]  # projected maritime line geometries
    outline: Any  # projected union of all units (national outline and coast)

    def north_of(self, lat: float) -> _MapData:
        """The same map cut along the parallel `lat` (what the main map shows)."""
        import shapely

        lons = [70.0 + i * 0.5 for i in range(141)]  # 70°E-140°E, dense enough to follow the arc
        ring = [_project(lon, lat) for lon in lons] + [_project(lon, 60.0) for lon in lons[::-1]]
        keep = shapely.Polygon(ring)
        units = {code: geom.intersection(keep) for code, geom in self.units.items()}
        lines = [line.intersection(keep) for line in self.lines]
        return _MapData(
            units={code: geom for code, geom in units.items() if not geom.is_empty},
            lines=[line for line in lines if not line.is_empty],
            outline=self.outline.intersection(keep),
        )


def _within(data: _MapData, box: tuple[float, float, float, float]) -> _MapData:
    """The part of the map inside `box` (the inset would otherwise carry all of China)."""
    import shapely

    keep = shapely.box(*box)
    units = {code: geom.intersection(keep) for code, geom in data.units.items()}
    lines = [line.intersection(keep) for line in data.lines]
    return _MapData(
        units={code: geom for code, geom in units.items() if not geom.is_empty},
        lines=[line for line in lines if not line.is_empty],
        outline=data.outline.intersection(keep),
    )


def _load_map_data(geometry: gpd.GeoDataFrame | None) -> _MapData:
    import shapely

    if geometry is None:
        import pandas as pd

        from .geometry import load_geometry, load_maritime_line

        geometry = pd.concat([load_geometry(), load_maritime_line()], ignore_index=True)
    frame = geometry.to_crs(ALBERS)
    is_line = frame.geometry.geom_type.isin(["LineString", "MultiLineString"])
    polygons = frame[~is_line]
    units: dict[int, Any] = {}
    for code, geom in zip(polygons["adcode"], polygons.geometry, strict=True):
        code = int(code)
        units[code] = shapely.union(units[code], geom) if code in units else geom
    expected = {unit.adcode for unit in all_provinces()}
    missing = sorted(expected - set(units))
    unknown = sorted(set(units) - expected)
    if missing or unknown:
        raise InputError(
            "The map geometry does not match the province table: "
            + (f"no polygon for adcode(s) {', '.join(map(str, missing))}; " if missing else "")
            + (f"unknown adcode(s) {', '.join(map(str, unknown))}; " if unknown else "")
            + "rebuild it with `make geometry` or restore data/raw/china_provinces.geojson "
            "from git."
        )
    geoms = [units[code] for code in sorted(units)]
    try:
        outline = shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:  # pragma: no cover - not a clean coverage
        outline = shapely.union_all(geoms)
    return _MapData(units=units, lines=list(frame[is_line].geometry), outline=outline)


def _project(lon: float, lat: float) -> tuple[float, float]:
    from pyproj import Transformer

    x, y = _transformer(Transformer).transform(lon, lat)
    return float(x), float(y)


@functools.cache
def _transformer(transformer_cls: Any) -> Any:
    return transformer_cls.from_crs("EPSG:4326", ALBERS, always_xy=True)


def _scs_box() -> tuple[float, float, float, float]:
    """The inset's extent in projected metres: the bounding box of the lon/lat box's edges."""
    lon0, lat0, lon1, lat1 = SCS_BOX
    steps = 16
    xs: list[float] = []
    ys: list[float] = []
    for i in range(steps + 1):
        t = i / steps
        for lon, lat in (
            (lon0 + t * (lon1 - lon0), lat0),
            (lon0 + t * (lon1 - lon0), lat1),
            (lon0, lat0 + t * (lat1 - lat0)),
            (lon1, lat0 + t * (lat1 - lat0)),
        ):
            x, y = _project(lon, lat)
            xs.append(x)
            ys.append(y)
    return min(xs), min(ys), max(xs), max(ys)


@dataclass
class _Layout:
    main: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax of the main axes
    inset: tuple[float, float, float, float]  # where the inset sits, in main data coordinates
    inset_view: tuple[float, float, float, float]  # the extent the inset shows


@dataclass(frozen=True)
class _Views:
    """Everything about the geometry that does not depend on the values drawn."""

    data: _MapData  # the whole map
    main: _MapData  # the main map: cut at MAIN_SOUTH_LAT
    south: _MapData  # what the South China Sea inset shows
    layout: _Layout
    label_points: dict[int, tuple[float, float]]  # adcode -> label point in the main map


def _views(geometry: gpd.GeoDataFrame | None) -> _Views:
    return _default_views() if geometry is None else _make_views(_load_map_data(geometry))


@functools.cache
def _default_views() -> _Views:
    """The views of the committed geometry, computed once per process (a notebook that draws
    several maps reads, projects and cuts the geometry once)."""
    return _make_views(_load_map_data(None))


def _make_views(data: _MapData) -> _Views:
    main = data.north_of(MAIN_SOUTH_LAT)
    layout = _layout(main)
    vx0, vy0, vx1, vy1 = layout.inset_view
    # A margin around the view so that no cut edge of a unit shows inside the frame.
    pad = max(vx1 - vx0, vy1 - vy0) * 0.05
    south = _within(data, (vx0 - pad, vy0 - pad, vx1 + pad, vy1 + pad))
    points = {code: _label_point(geom) for code, geom in sorted(main.units.items())}
    return _Views(data=data, main=main, south=south, layout=layout, label_points=points)


def _layout(main: _MapData) -> _Layout:
    """Extents of the main map (already cut at MAIN_SOUTH_LAT) and of the inset."""
    import shapely

    xmin, y_cut, xmax, ymax = main.outline.bounds
    y_cut -= MARGIN_M / 4
    view = _scs_box()
    width = (view[2] - view[0]) * INSET_SCALE
    height = (view[3] - view[1]) * INSET_SCALE
    iy0 = y_cut + MARGIN_M / 4
    iy1 = iy0 + height
    # The inset goes right of every unit that reaches into its height band (Taiwan, Fujian).
    band = shapely.box(xmin - 1, iy0, xmax + 1, iy1)
    ix0 = main.outline.intersection(band).bounds[2] + MARGIN_M
    ix1 = ix0 + width
    main = (xmin - MARGIN_M, y_cut, max(xmax, ix1) + MARGIN_M / 4, ymax + MARGIN_M)
    return _Layout(main=main, inset=(ix0, iy0, width, height), inset_view=view)


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
    data: _MapData,
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
        path = _geometry_to_path(data.units[code])
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
        _geometry_to_path(data.outline),
        facecolor="none",
        edgecolor=OUTLINE_COLOR,
        linewidth=0.5 * scale,
        zorder=2.5,
    )
    outline.set_gid(f"{gid_prefix}outline")
    ax.add_artist(outline)
    for i, line in enumerate(data.lines):
        maritime = PathPatch(
            _line_to_path(line),
            facecolor="none",
            edgecolor=OUTLINE_COLOR,
            linewidth=1.0 * scale,
            capstyle="butt",
            zorder=2.5,
        )
        maritime.set_gid(f"{gid_prefix}maritime-{i}")
        ax.add_artist(maritime)


def _draw_highlight(ax: Axes, data: _MapData, code: int, scale: float, gid: str) -> None:
    """A thick outline round the unit; islets get a thin one, or they would become blobs."""
    import shapely
    from matplotlib.patches import PathPatch

    parts = _parts(data.units[code], "Polygon")
    large = [p for p in parts if p.area >= HIGHLIGHT_MIN_AREA_M2]
    small = [p for p in parts if p.area < HIGHLIGHT_MIN_AREA_M2]
    for suffix, group, width in (("", large, 1.6), ("-islets", small, 0.6)):
        if not group:
            continue
        patch = PathPatch(
            _geometry_to_path(shapely.MultiPolygon(group)),
            facecolor="none",
            edgecolor=HIGHLIGHT_COLOR,
            linewidth=width * scale,
            joinstyle="round",
            zorder=3,
        )
        patch.set_gid(gid + suffix)
        ax.add_artist(patch)


def _format_value(value: Any, value_format: str) -> str:
    try:
        return value_format.format(value)
    except (ValueError, TypeError):
        return str(value)


def _draw_labels(
    ax: Axes,
    label_points: Mapping[int, tuple[float, float]],
    fills: dict[int, Any],
    values: dict[int, Any],
    *,
    lang: Lang,
    show_values: bool,
    value_format: str,
) -> dict[int, Any]:
    """Draw every unit's label; return them by adcode."""
    from matplotlib import patheffects

    callouts = _callouts()
    labels: dict[int, Any] = {}
    size = LABEL_SIZE[lang]
    for unit in all_provinces():
        code = unit.adcode
        text = unit_label(unit, lang)
        if show_values and code in values:
            text = f"{text}\n{_format_value(values[code], value_format)}"
        x, y = label_points[code]
        callout = callouts.get(code)
        dark_fill = code in fills and _luminance(fills[code]) < DARK_FILL_LUMINANCE
        if dark_fill and callout is None:
            color, halo = LIGHT_TEXT, "#1A1A1A"
        else:
            color, halo = DARK_TEXT, "#FFFFFF"
        effects = [patheffects.withStroke(linewidth=1.8, foreground=halo, alpha=0.85)]
        common = dict(
            fontsize=size,
            color=color,
            linespacing=1.0,
            zorder=4,
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
    return labels


def _separate_labels(
    fig: Figure, ax: Axes, labels: dict[int, Any], data: _MapData, movable: set[int]
) -> None:
    """Push apart labels whose boxes overlap (e.g. long English names with values).

    Runs after the layout is final (the map's scale in points depends on it). Each round moves
    the two labels of every overlapping pair apart along the axis where they overlap least, half
    the overlap each (all of it when one is a curated callout), preferring moves that keep the
    label's centre inside its own unit. Deterministic: pairs are visited in adcode order.
    """
    from matplotlib.text import Text
    from shapely import Point

    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    to_data = ax.transData.inverted()
    pad = fig.dpi / 72  # one point of air between labels
    for _ in range(MAX_LABEL_ROUNDS):
        boxes = {code: Text.get_window_extent(t, renderer) for code, t in labels.items()}
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


def _shares(a_movable: bool, b_movable: bool) -> tuple[float, float]:
    """How much of a separation each of two labels takes."""
    if a_movable and b_movable:
        return 0.5, 0.5
    if a_movable:
        return 1.0, 0.0
    if b_movable:
        return 0.0, 1.0
    return 0.0, 0.0


def _draw_legend(
    ax: Axes,
    legend: dict[str, Any],
    *,
    kind: Kind,
    words: dict[str, str],
    legend_title: str | None,
    show_no_data: bool,
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
    box = ax.legend(
        handles=patches,
        title=legend_title,
        loc="lower left",
        bbox_to_anchor=(0.01, 0.02),
        fontsize=7.5,
        title_fontsize=8,
        handlelength=1.6,
        handleheight=1.1,
        ncols=2 if len(patches) > 5 else 1,
        alignment="left",
        borderaxespad=0.0,
        frameon=False,
    )
    box.set_gid("legend")


def province_map(
    values: Mapping[Any, Any] | Any = None,
    *,
    lang: Lang = "zh",
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
) -> Figure:
    """Draw a choropleth of China's 34 province-level units and return its Figure.

    `values` maps units (adcode or any name `analysis.provinces.resolve` accepts) to numbers
    (`kind="numeric"`: sequential colours and a colorbar titled `legend_title`, e.g. the unit) or
    to category labels (`kind="categorical"`: the house palette or `colors`, and a legend).
    Units absent from `values` (or with NaN) are drawn hatched grey as "no data"; with
    `values=None` every unit gets a plain neutral fill (a locator map for `highlight`).
    `highlight` outlines one unit; `lang` picks Chinese short names or English names for labels
    and legend; `show_values` prints each value under its unit's name; `caption` adds the
    source line (see `analysis.style.add_caption`). `geometry` overrides the committed map
    geometry (a GeoDataFrame with an `adcode` column and the maritime line as a line feature).
    """
    words = map_text(lang)  # validates lang before anything is drawn
    if lang not in LABEL_SIZE:  # pragma: no cover - the toml and this dict agree
        raise ValueError(f"province_map: no label size for lang {lang!r}.")
    if kind not in ("numeric", "categorical"):
        raise ValueError(f"province_map: kind must be 'numeric' or 'categorical', not {kind!r}.")
    reference = values is None
    resolved = _resolve_values(values)
    highlight_code = resolve(highlight).adcode if highlight is not None else None

    import matplotlib.pyplot as plt

    from .style import PALETTE, add_caption, use_style

    use_style()
    fills, legend = _unit_colors(resolved, kind, cmap, vmin, vmax, colors)
    if reference and highlight_code is not None:
        fills = {highlight_code: PALETTE[0]}  # a locator map: the unit in the accent colour
    views = _views(geometry)
    data, main, layout = views.data, views.main, views.layout

    if ax is None:
        # Height from the map's own aspect, plus room for the title and the caption lines.
        xmin, ymin, xmax, ymax = layout.main
        height = (FIGURE_WIDTH_IN - 0.1) * (ymax - ymin) / (xmax - xmin)
        height += (0.4 if title else 0.1) + (0.35 if caption else 0.0)
        fig = plt.figure(figsize=(FIGURE_WIDTH_IN, round(height, 2)), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()
    ax.set_gid("main-map")

    _draw_units(ax, main, fills, reference=reference, scale=1.0, gid_prefix="")
    if highlight_code is not None:
        _draw_highlight(ax, main, highlight_code, 1.0, "highlight")
    xmin, ymin, xmax, ymax = layout.main
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()

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
        fontsize=6 if lang == "zh" else 5.5,
        color=DARK_TEXT,
        gid="inset-name",
    )

    labels = _draw_labels(
        ax,
        views.label_points,
        fills,
        resolved,
        lang=lang,
        show_values=show_values,
        value_format=value_format,
    )
    if not reference:
        _draw_legend(
            ax,
            legend,
            kind=kind,
            words=words,
            legend_title=legend_title,
            show_no_data=len(fills) < len(data.units),
        )
    if title:
        ax.set_title(title, loc="left")
    if caption:
        add_caption(fig, caption)
    _separate_labels(fig, ax, labels, main, movable=set(labels) - set(_callouts()))
    return fig
