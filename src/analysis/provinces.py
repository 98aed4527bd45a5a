"""The 34 province-level units of China and every name a text may use for them.

The reviewed reference table is `data/raw/provinces.csv` (one row per unit, ordered by adcode).
Columns: `adcode` (six-digit division code), `name_zh` (江苏省), `short_zh` (江苏), `name_en`
(Jiangsu), `kind` (province | autonomous_region | municipality | sar), `region_zh`/`region_en`
(the four economic regions of the National Bureau of Statistics: 东部/East, 中部/Central,
西部/West, 东北/Northeast; empty for Hong Kong, Macao and Taiwan, which the NBS scheme does not
cover) and `aliases` (|-separated other forms: one-character abbreviations such as 沪 or 粤,
traditional characters, English long forms, older romanisations).

English names follow the NBS yearbooks' pinyin (Shanxi 山西 vs Shaanxi 陕西, Inner Mongolia,
Hong Kong, Macao), with one deliberate choice: 西藏 is `Xizang`, the pinyin form that official
English usage has adopted since 2023 and that matches every other pinyin name in the table;
`Tibet` is kept as an alias, so texts using either form resolve to the same unit.

Only the standard library is used here (the table is read with `csv`), so resolving a name is
cheap; `provinces_frame()` imports pandas on demand.
"""

from __future__ import annotations

import csv
import difflib
import functools
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, UnknownProvinceError
from .paths import PROVINCES, relative

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

COLUMNS = (
    "adcode",
    "name_zh",
    "short_zh",
    "name_en",
    "kind",
    "region_zh",
    "region_en",
    "aliases",
)
KINDS = ("province", "autonomous_region", "municipality", "sar")
# The NBS economic regions, Chinese name -> English name.
REGIONS = {"东部": "East", "中部": "Central", "西部": "West", "东北": "Northeast"}
EXPECTED_UNITS = 34
EXPECTED_MAINLAND = 31
ALIAS_SEPARATOR = "|"


@dataclass(frozen=True)
class Province:
    """One province-level unit as listed in data/raw/provinces.csv."""

    adcode: int
    name_zh: str
    short_zh: str
    name_en: str
    kind: str
    region_zh: str | None
    region_en: str | None
    aliases: tuple[str, ...]

    @property
    def is_mainland(self) -> bool:
        """True for the 31 units that the NBS regional scheme covers."""
        return self.region_zh is not None

    def names(self) -> tuple[str, ...]:
        """Every string that `resolve` maps to this unit (adcode excluded)."""
        return (self.name_zh, self.short_zh, self.name_en, *self.aliases)


def _key(text: str) -> str:
    """Normalise a name for lookup: trim, collapse inner whitespace, ignore case."""
    return " ".join(text.split()).casefold()


def _row_error(path: Path, line: int, problem: str) -> InputError:
    return InputError(
        f"{relative(path)} line {line}: {problem}. The file is the reviewed table of the 34 "
        f"province-level units with the columns {', '.join(COLUMNS)}; fix that row (or restore "
        "the file from git) and run again."
    )


def _parse_row(path: Path, line: int, row: list[str]) -> Province:
    if len(row) != len(COLUMNS):
        raise _row_error(path, line, f"expected {len(COLUMNS)} fields, found {len(row)}")
    fields = dict(zip(COLUMNS, (value.strip() for value in row), strict=True))
    adcode = fields["adcode"]
    if not (len(adcode) == 6 and adcode.isascii() and adcode.isdigit() and adcode[0] != "0"):
        raise _row_error(path, line, f"adcode {adcode!r} is not a six-digit division code")
    if not adcode.endswith("0000"):
        raise _row_error(path, line, f"adcode {adcode} is not province-level (must end in 0000)")
    for column in ("name_zh", "short_zh", "name_en"):
        if not fields[column]:
            raise _row_error(path, line, f"column {column} is empty")
    if fields["kind"] not in KINDS:
        raise _row_error(path, line, f"kind {fields['kind']!r} is not one of {', '.join(KINDS)}")
    region_zh, region_en = fields["region_zh"], fields["region_en"]
    if region_zh or region_en:
        if REGIONS.get(region_zh) != region_en:
            known = ", ".join(f"{zh}/{en}" for zh, en in REGIONS.items())
            raise _row_error(
                path,
                line,
                f"region {region_zh!r}/{region_en!r} is not one of the NBS regions ({known})",
            )
    aliases = tuple(a.strip() for a in fields["aliases"].split(ALIAS_SEPARATOR) if a.strip())
    if fields["aliases"] and len(aliases) != len(fields["aliases"].split(ALIAS_SEPARATOR)):
        raise _row_error(path, line, "the aliases column has an empty entry (a stray '|')")
    return Province(
        adcode=int(adcode),
        name_zh=fields["name_zh"],
        short_zh=fields["short_zh"],
        name_en=fields["name_en"],
        kind=fields["kind"],
        region_zh=region_zh or None,
        region_en=region_en or None,
        aliases=aliases,
    )


def load_provinces(path: Path = PROVINCES) -> tuple[Province, ...]:
    """Read and validate a province table; raise InputError naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(
            f"{relative(path)} is missing: it is the reviewed table of the 34 province-level "
            "units. Restore it from git."
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{relative(path)} is not valid UTF-8 (byte {exc.start}); save it as UTF-8."
        ) from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise _row_error(path, 1, f"the header must be {','.join(COLUMNS)}, found {header}")
    units: list[Province] = []
    seen_adcode: dict[int, int] = {}
    seen_name: dict[str, tuple[int, str]] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line, e.g. at the end of the file
        unit = _parse_row(path, line, row)
        if unit.adcode in seen_adcode:
            raise _row_error(
                path, line, f"adcode {unit.adcode} repeats line {seen_adcode[unit.adcode]}"
            )
        seen_adcode[unit.adcode] = line
        for name in unit.names():
            key = _key(name)
            if key.isdigit():
                raise _row_error(path, line, f"name {name!r} is all digits (reads as an adcode)")
            if key in seen_name:
                first_line, first_name = seen_name[key]
                raise _row_error(
                    path,
                    line,
                    f"the name {name!r} is already used on line {first_line} ({first_name!r}); "
                    "every name and alias must point to exactly one unit",
                )
            seen_name[key] = (line, name)
        units.append(unit)
    if len(units) != EXPECTED_UNITS:
        raise _row_error(
            path, reader.line_num, f"expected {EXPECTED_UNITS} units, found {len(units)}"
        )
    mainland_count = sum(unit.is_mainland for unit in units)
    if mainland_count != EXPECTED_MAINLAND:
        raise _row_error(
            path,
            reader.line_num,
            f"expected {EXPECTED_MAINLAND} units with an NBS region, found {mainland_count}",
        )
    return tuple(sorted(units, key=lambda unit: unit.adcode))


@functools.cache
def all_provinces() -> tuple[Province, ...]:
    """The 34 province-level units from data/raw/provinces.csv, ordered by adcode (cached)."""
    return load_provinces(PROVINCES)


def mainland() -> tuple[Province, ...]:
    """The 31 mainland units (those in the NBS regional scheme), ordered by adcode."""
    return tuple(unit for unit in all_provinces() if unit.is_mainland)


@functools.cache
def _index() -> dict[str, Province]:
    index: dict[str, Province] = {}
    for unit in all_provinces():
        index[str(unit.adcode)] = unit
        for name in unit.names():
            index[_key(name)] = unit
    return index


def _display_names() -> list[str]:
    return [name for unit in all_provinces() for name in unit.names()]


def _nearest(text: str, n: int = 3) -> list[str]:
    """The valid names most like `text`: difflib ratio, ties broken by a shared start."""
    key = _key(text)
    scored = []
    for name in dict.fromkeys(_display_names()):
        matcher = difflib.SequenceMatcher(None, key, _key(name))
        ratio = matcher.ratio()
        if ratio >= 0.4:
            prefix = len(os.path.commonprefix([key, _key(name)]))
            scored.append((-ratio, -prefix, name))
    return [name for *_, name in sorted(scored)[:n]]


def _unknown(name: object) -> UnknownProvinceError:
    if isinstance(name, str | numbers.Integral):
        text = str(name).strip()
        nearest = _nearest(text)
        hint = (
            "Nearest valid names: " + ", ".join(nearest) + "."
            if nearest
            else "No valid name is close to it."
        )
        shown = repr(text)
    else:
        shown = f"{name!r} (of type {type(name).__name__})"
        hint = "Pass a name as a string or an adcode as an integer."
    return UnknownProvinceError(
        f"Unknown province-level unit {shown}: it is not an adcode, Chinese name, short name, "
        f"English name or alias of any of the {EXPECTED_UNITS} units. {hint} The units and "
        f"their accepted names are listed in {relative(PROVINCES)}; if it is a legitimate "
        "form of a unit's name, add it to that row's aliases column."
    )


def resolve(name: object) -> Province:
    """Return the unit that `name` denotes: an adcode (int or str), a name, or an alias.

    Matching trims surrounding whitespace and ignores case; anything else raises
    UnknownProvinceError with the nearest valid names.
    """
    if isinstance(name, Province):
        return name
    if isinstance(name, numbers.Integral) and not isinstance(name, bool):
        key = str(int(name))
    elif isinstance(name, str):
        key = _key(name)
    else:
        raise _unknown(name)
    unit = _index().get(key)
    if unit is None:
        raise _unknown(name)
    return unit


def provinces_frame() -> pd.DataFrame:
    """The table as a pandas DataFrame (aliases joined by '|', no region -> None)."""
    import pandas as pd

    rows = [
        {
            "adcode": unit.adcode,
            "name_zh": unit.name_zh,
            "short_zh": unit.short_zh,
            "name_en": unit.name_en,
            "kind": unit.kind,
            "region_zh": unit.region_zh,
            "region_en": unit.region_en,
            "aliases": ALIAS_SEPARATOR.join(unit.aliases),
        }
        for unit in all_provinces()
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({"adcode": "int64"})
