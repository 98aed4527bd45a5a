"""The province reference table: its content, name resolution, and errors for bad names and rows."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from analysis import provinces
from analysis.errors import InputError, UnknownProvinceError
from analysis.paths import PROVINCES
from analysis.provinces import Province, all_provinces, mainland, resolve

UNITS = all_provinces()


def test_table_has_the_34_units_in_adcode_order():
    adcodes = [unit.adcode for unit in UNITS]
    assert len(adcodes) == 34
    assert adcodes == sorted(set(adcodes))
    assert adcodes[0] == 110000 and adcodes[-1] == 820000


def test_kinds_match_the_administrative_divisions():
    kinds = collections.Counter(unit.kind for unit in UNITS)
    # 23 provinces (Taiwan included), 5 autonomous regions, 4 municipalities, 2 SARs
    assert kinds == {"province": 23, "autonomous_region": 5, "municipality": 4, "sar": 2}
    assert {u.short_zh for u in UNITS if u.kind == "municipality"} == {
        "北京",
        "天津",
        "上海",
        "重庆",
    }


def test_nbs_regions_count_10_6_12_3_and_leave_out_hk_macao_taiwan():
    regions = collections.Counter(unit.region_en for unit in mainland())
    assert regions == {"East": 10, "Central": 6, "West": 12, "Northeast": 3}
    assert {u.short_zh for u in UNITS if u.region_zh is None} == {"香港", "澳门", "台湾"}
    assert len(mainland()) == 31
    by_short = {u.short_zh: u.region_zh for u in UNITS}
    # the units most often misplaced: Inner Mongolia and Guangxi are West, Hainan East
    assert by_short["内蒙古"] == by_short["广西"] == "西部"
    assert by_short["海南"] == by_short["河北"] == "东部"
    assert by_short["山西"] == "中部"
    assert {s for s, r in by_short.items() if r == "东北"} == {"辽宁", "吉林", "黑龙江"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: str(u.adcode))
def test_every_form_of_every_unit_resolves_to_it(unit: Province):
    forms = [
        unit.adcode,
        str(unit.adcode),
        unit.name_zh,
        unit.short_zh,
        unit.name_en,
        unit.name_en.upper(),
        unit.name_en.lower(),
        f"  {unit.short_zh}\u3000",  # surrounding (also full-width) spaces are trimmed
        *unit.aliases,
    ]
    for form in forms:
        assert resolve(form) is unit, form


@pytest.mark.parametrize(
    ("name", "adcode"),
    [
        ("沪", 310000),
        ("粤", 440000),
        ("冀", 130000),
        ("晋", 140000),
        ("陕", 610000),
        ("Shanxi", 140000),
        ("Shaanxi", 610000),
        ("皖", 340000),
        ("闽", 350000),
        ("赣", 360000),
        ("鲁", 370000),
        ("豫", 410000),
        ("鄂", 420000),
        ("湘", 430000),
        ("桂", 450000),
        ("琼", 460000),
        ("渝", 500000),
        ("黔", 520000),
        ("滇", 530000),
        ("陇", 620000),
        ("内蒙", 150000),
        ("Inner Mongolia", 150000),
        ("nei mongol", 150000),
        ("Tibet", 540000),
        ("Xizang", 540000),
        ("广西壮族自治区", 450000),
        ("Macau", 820000),
        ("Hong Kong SAR", 810000),
        ("臺灣", 710000),
    ],
)
def test_well_known_abbreviations_point_to_the_right_unit(name, adcode):
    assert resolve(name).adcode == adcode


def test_names_are_unique_across_units():
    seen: dict[str, int] = {}
    for unit in UNITS:
        for name in unit.names():
            key = name.casefold()
            assert seen.setdefault(key, unit.adcode) == unit.adcode, name


def test_unknown_name_error_names_input_nearest_names_and_file():
    with pytest.raises(UnknownProvinceError) as info:
        resolve("江酥")
    message = str(info.value)
    assert "'江酥'" in message
    assert "Nearest valid names: 江苏" in message
    assert "data/raw/provinces.csv" in message
    assert isinstance(info.value, KeyError)  # callers may catch it as a failed lookup
    assert "\n" not in message

    with pytest.raises(UnknownProvinceError, match="Nearest valid names: Shanxi, Shaanxi"):
        resolve("Shanxii")


@pytest.mark.parametrize("bad", ["", "   ", "江苏省省", "110001", 11, None, 3.5, True])
def test_anything_else_is_rejected(bad):
    with pytest.raises(UnknownProvinceError, match="Unknown province-level unit"):
        resolve(bad)


def test_provinces_frame_mirrors_the_table():
    frame = provinces.provinces_frame()
    assert list(frame.columns) == list(provinces.COLUMNS)
    assert frame["adcode"].dtype == "int64"
    assert frame["adcode"].tolist() == [u.adcode for u in UNITS]
    assert frame.loc[frame["adcode"] == 310000, "aliases"].item() == "沪|申"
    assert frame["region_zh"].isna().sum() == 3


def test_committed_file_is_utf8_with_lf_endings():
    data = PROVINCES.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    data.decode("utf-8")


# --- broken copies of the table ---------------------------------------------------------------


def _broken_copy(tmp_path: Path, edit) -> Path:
    lines = PROVINCES.read_text(encoding="utf-8").splitlines(keepends=True)
    edit(lines)
    path = tmp_path / "provinces.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _set_field(lines: list[str], line_no: int, column: str, value: str) -> None:
    cells = lines[line_no - 1].rstrip("\n").split(",")
    cells[provinces.COLUMNS.index(column)] = value
    lines[line_no - 1] = ",".join(cells) + "\n"


def test_the_committed_table_loads_from_a_copy(tmp_path):
    assert provinces.load_provinces(_broken_copy(tmp_path, lambda lines: None)) == UNITS


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda ls: _set_field(ls, 5, "kind", "state"), r"line 5: kind 'state' is not one of"),
        (lambda ls: _set_field(ls, 7, "region_en", "North"), r"line 7: region '东北'/'North'"),
        (lambda ls: _set_field(ls, 11, "adcode", "32000"), r"line 11: adcode '32000'"),
        (lambda ls: _set_field(ls, 11, "adcode", "320100"), r"line 11: adcode 320100 is not"),
        (lambda ls: _set_field(ls, 4, "adcode", "120000"), r"line 4: adcode 120000 repeats line 3"),
        (lambda ls: _set_field(ls, 11, "aliases", "苏|沪"), r"line 11: the name '沪'.*line 10"),
        (lambda ls: _set_field(ls, 11, "aliases", "苏||吴"), r"line 11: .*stray '\|'"),
        (lambda ls: _set_field(ls, 9, "name_en", "beijing"), r"line 9: the name 'beijing'"),
        (lambda ls: ls.__setitem__(20, ls[20].rstrip("\n") + ",extra\n"), r"line 21: expected 8"),
        (lambda ls: ls.pop(34), r"expected 34 units, found 33"),
        (lambda ls: _set_field(ls, 33, "region_zh", "东部"), r"line 33: region '东部'/''"),
        (lambda ls: ls.__setitem__(0, ls[0].replace("name_en", "english")), r"line 1: the header"),
    ],
)
def test_broken_row_raises_input_error_naming_file_and_line(tmp_path, edit, expected):
    path = _broken_copy(tmp_path, edit)
    with pytest.raises(InputError, match=expected) as info:
        provinces.load_provinces(path)
    assert str(info.value).startswith(path.as_posix())  # the file comes first, then the line


def test_missing_table_says_to_restore_it(tmp_path):
    with pytest.raises(InputError, match="missing.*Restore it from git"):
        provinces.load_provinces(tmp_path / "provinces.csv")
