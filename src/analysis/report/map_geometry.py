"""The geometry of the province maps: projection, the South China Sea inset, map layout.

The committed province geometry (`analysis.geometry`) is projected once (Albers equal-area
conic), cut into the main map and the inset, and laid out on the page; `map_views` caches the
result, so each map only draws. shapely, pyproj and geopandas are imported inside the functions.

A report kernel does all of that before it exists: the template process it is forked from
(`analysis.publish.zygote`) calls `prepare_base_map` (listed in `WARM_CALLS`), which computes
the views of the committed geometry and the matplotlib paths of its units, outline and maritime
line, so that every province profile forked from it draws the base map from those, without
reading, projecting, cutting or converting anything (about 0.15 s a map on this machine). Each
cached path is read-only: a map that tried to change one would fail rather than alter the next.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..provinces import all_provinces

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd


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


def parts(geom: Any, geom_type: str) -> list[Any]:
    """The simple parts of `geom` of one type (a cut can leave points and lines in a collection)."""
    if geom.geom_type == geom_type:
        return [geom]
    return [p for part in getattr(geom, "geoms", []) for p in parts(part, geom_type)]


# Module functions the kernel template process calls once, after importing this module.
WARM_CALLS = ("prepare_base_map",)

# id(geometry) -> (geometry, its Path): the committed geometry's paths, made by
# `prepare_base_map`. The geometry is kept with its path, so that its id cannot be reused.
_PATHS: dict[int, tuple[Any, Any]] = {}


def _cached_path(geom: Any) -> Any:
    entry = _PATHS.get(id(geom))
    return entry[1] if entry is not None and entry[0] is geom else None


def prepare_base_map() -> None:
    """Compute the views of the committed geometry and the paths of everything the base map
    draws of it, once per process (a kernel forked afterwards inherits them)."""
    views = _default_views()
    for data in (views.main, views.south):
        for geom in (*data.units.values(), data.outline):
            if _cached_path(geom) is None:
                _PATHS[id(geom)] = (geom, _readonly(geometry_to_path(geom)))
        for line in data.lines:
            if _cached_path(line) is None:
                _PATHS[id(line)] = (line, _readonly(line_to_path(line)))


def _readonly(path: Any) -> Any:
    from matplotlib.path import Path

    return Path(path.vertices, path.codes, readonly=True)


def geometry_to_path(geom: Any) -> Any:
    """One matplotlib Path for a (multi)polygon, holes wound the other way so they stay empty."""
    cached = _cached_path(geom)
    if cached is not None:
        return cached
    import numpy as np
    from matplotlib.path import Path
    from shapely.geometry.polygon import orient

    vertices: list[Any] = []
    codes: list[Any] = []
    for polygon in parts(geom, "Polygon"):
        polygon = orient(polygon, sign=1.0)
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            ring_codes = np.full(len(xy), Path.LINETO, dtype=Path.code_type)
            ring_codes[0] = Path.MOVETO
            ring_codes[-1] = Path.CLOSEPOLY
            vertices.append(xy)
            codes.append(ring_codes)
    return Path(np.concatenate(vertices), np.concatenate(codes))


def line_to_path(geom: Any) -> Any:
    cached = _cached_path(geom)
    if cached is not None:
        return cached
    import numpy as np
    from matplotlib.path import Path

    vertices: list[Any] = []
    codes: list[Any] = []
    for line in parts(geom, "LineString"):
        xy = np.asarray(line.coords)[:, :2]
        line_codes = np.full(len(xy), Path.LINETO, dtype=Path.code_type)
        line_codes[0] = Path.MOVETO
        vertices.append(xy)
        codes.append(line_codes)
    return Path(np.concatenate(vertices), np.concatenate(codes))


def _label_point(geom: Any) -> tuple[float, float]:
    """A good interior point for the label: the pole of inaccessibility of the largest part."""
    from shapely.ops import polylabel

    part = max(parts(geom, "Polygon"), key=lambda p: p.area)
    # A tolerance of 1/200 of the part's size is far below a label's size and keeps it fast.
    minx, miny, maxx, maxy = part.bounds
    point = polylabel(part, tolerance=max(maxx - minx, maxy - miny) / 200)
    return point.x, point.y


@dataclass
class MapData:
    units: dict[int, Any]  # adcode -> projected (multi)polygon
    lines: list[Any]  # projected maritime line geometries
    outline: Any  # projected union of all units (national outline and coast)

    def north_of(self, lat: float) -> MapData:
        """The same map cut along the parallel `lat` (what the main map shows)."""
        import shapely

        lons = [70.0 + i * 0.5 for i in range(141)]  # 70°E-140°E, dense enough to follow the arc
        ring = [_project(lon, lat) for lon in lons] + [_project(lon, 60.0) for lon in lons[::-1]]
        return self.clipped(shapely.Polygon(ring))

    def clipped(self, keep: Any) -> MapData:
        """The part of the map inside the polygon `keep` (empty parts dropped)."""
        units = {code: geom.intersection(keep) for code, geom in self.units.items()}
        lines = [line.intersection(keep) for line in self.lines]
        return MapData(
            units={code: geom for code, geom in units.items() if not geom.is_empty},
            lines=[line for line in lines if not line.is_empty],
            outline=self.outline.intersection(keep),
        )


def _within(data: MapData, box: tuple[float, float, float, float]) -> MapData:
    """The part of the map inside `box` (the inset would otherwise carry all of China)."""
    import shapely

    return data.clipped(shapely.box(*box))


def _load_map_data(geometry: gpd.GeoDataFrame | None) -> MapData:
    import shapely

    if geometry is None:
        import pandas as pd

        from ..geometry import load_geometry, load_maritime_line

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
    return MapData(units=units, lines=list(frame[is_line].geometry), outline=outline)


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
class MapLayout:
    main: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax of the main axes
    inset: tuple[float, float, float, float]  # where the inset sits, in main data coordinates
    inset_view: tuple[float, float, float, float]  # the extent the inset shows


@dataclass(frozen=True)
class MapViews:
    """Everything about the geometry that does not depend on the values drawn."""

    data: MapData  # the whole map
    main: MapData  # the main map: cut at MAIN_SOUTH_LAT
    south: MapData  # what the South China Sea inset shows
    layout: MapLayout
    label_points: dict[int, tuple[float, float]]  # adcode -> label point in the main map


def map_views(geometry: gpd.GeoDataFrame | None) -> MapViews:
    return _default_views() if geometry is None else _make_views(_load_map_data(geometry))


@functools.cache
def _default_views() -> MapViews:
    """The views of the committed geometry, computed once per process (a notebook that draws
    several maps reads, projects and cuts the geometry once)."""
    return _make_views(_load_map_data(None))


def _make_views(data: MapData) -> MapViews:
    main = data.north_of(MAIN_SOUTH_LAT)
    layout = _layout(main)
    vx0, vy0, vx1, vy1 = layout.inset_view
    # A margin around the view so that no cut edge of a unit shows inside the frame.
    pad = max(vx1 - vx0, vy1 - vy0) * 0.05
    south = _within(data, (vx0 - pad, vy0 - pad, vx1 + pad, vy1 + pad))
    points = {code: _label_point(geom) for code, geom in sorted(main.units.items())}
    return MapViews(data=data, main=main, south=south, layout=layout, label_points=points)


def _layout(main: MapData) -> MapLayout:
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
    return MapLayout(main=main, inset=(ix0, iy0, width, height), inset_view=view)
