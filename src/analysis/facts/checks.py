"""Cross-checks: re-derive figures the document states from other figures it states.

Each check compares a stated figure (`expected`, from sentence A) with the same figure
computed from other statements (`computed`, from sentences B): the winners of the rounds add
up to the stated total, 29 of 31 provinces is the stated 93.5%, the counts the text announces
(两批, 两轮, 六大工程…) match the items it lists. A failing check fails the build with both
sentences quoted.

Which rows a check reads is the document's business, so the checks are reviewed data in
data/raw/consistency_checks.toml (its header documents the keys); this module only loads them,
strictly (an unknown key, a wrong type, a missing key, an unknown table or column is an
InputError naming the file, the check and the key), and evaluates them on the extracted rows.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..paths import RAW, relative
from .mentions import format_value
from .rules import Row, split_items
from .source import FactSentence
from .tables import BY_NAME, TABLES

CONSISTENCY_CHECKS = RAW / "consistency_checks.toml"

_CHECK_KEYS = {"name", "description", "stated", "computed", "per_cent_of", "each", "note"}
_EACH_KEYS = {"table", "having"}
_AGGREGATES = ("value", "sum", "rows", "distinct", "items")
_SIDE_KEYS = {"table", "where", "split", "sentence", "note", *_AGGREGATES}


@dataclass(frozen=True)
class Side:
    """One figure of a check, read from the fact tables (see consistency_checks.toml)."""

    table: str | None  # None: the row of `each`
    where: Mapping[str, object]
    aggregate: str  # one of _AGGREGATES
    column: str  # the column it reads ("" for rows = true)
    split: str = ""
    sentence: str = ""  # the column holding the sentence id ("": the row's sentence_id)


@dataclass(frozen=True)
class CheckSpec:
    """One [[check]] of consistency_checks.toml."""

    name: str
    description: str
    stated: tuple[Side, ...]
    computed: tuple[Side, ...]
    per_cent_of: tuple[Side, ...] = ()
    each_table: str | None = None
    each_having: str = ""


class CheckSpecError(InputError):
    """A malformed entry of data/raw/consistency_checks.toml."""


def _columns(table: str, where: str) -> set[str]:
    if table not in BY_NAME:
        names = ", ".join(t.name for t in TABLES)
        raise CheckSpecError(f"{where}: unknown table {table!r} (tables: {names}).")
    return set(BY_NAME[table].column_names)


def _keys(raw: Mapping[str, Any], allowed: set[str], required: Sequence[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        valid = ", ".join(sorted(allowed))
        raise CheckSpecError(f"{where}: unknown key(s) {unknown} (valid: {valid}).")
    for key in required:
        if key not in raw:
            raise CheckSpecError(f"{where}: the key {key!r} is missing.")


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise CheckSpecError(f"{where}: {key!r} must be a non-empty string, not {value!r}.")
    return value


def _side(raw: object, where: str, each_table: str | None) -> Side:
    if not isinstance(raw, dict):
        raise CheckSpecError(
            f"{where}: a side must be a table ({{table = ..., ...}}), not {raw!r}."
        )
    _keys(raw, _SIDE_KEYS, (), where)
    if "table" in raw:
        table = _text(raw, "table", where)
    elif each_table is None:
        raise CheckSpecError(f"{where}: the key 'table' is missing (only `each` checks omit it).")
    else:
        table = None
    columns = _columns(table or each_table or "", where)
    aggregates = [key for key in _AGGREGATES if key in raw]
    if len(aggregates) != 1:
        raise CheckSpecError(
            f"{where}: give exactly one of {', '.join(_AGGREGATES)} (found {aggregates or 'none'})."
        )
    (aggregate,) = aggregates
    if aggregate == "rows":
        if raw["rows"] is not True:
            raise CheckSpecError(f"{where}: 'rows' must be true, not {raw['rows']!r}.")
        column = ""
    else:
        column = _text(raw, aggregate, where)
    where_ = raw.get("where", {})
    if not isinstance(where_, dict) or not all(
        isinstance(v, str | int | float | bool) for v in where_.values()
    ):
        raise CheckSpecError(f"{where}: 'where' must be a table of column = value, not {where_!r}.")
    if table is None and where_:
        raise CheckSpecError(f"{where}: a side that reads the row of `each` takes no 'where'.")
    sentence = _text(raw, "sentence", where) if "sentence" in raw else ""
    named = {column, sentence, *where_} - {""}
    if named - columns:
        raise CheckSpecError(
            f"{where}: table {table or each_table} has no column(s) {sorted(named - columns)}."
        )
    if (aggregate == "items") != ("split" in raw):
        raise CheckSpecError(f"{where}: 'split' goes with 'items', and 'items' needs a 'split'.")
    split = _text(raw, "split", where) if "split" in raw else ""
    return Side(table, dict(where_), aggregate, column, split, sentence)


def _sides(raw: Mapping[str, Any], key: str, where: str, each: str | None) -> tuple[Side, ...]:
    value = raw[key]
    if not isinstance(value, list) or not value:
        raise CheckSpecError(f"{where}: {key!r} must be a non-empty list of sides, not {value!r}.")
    return tuple(_side(side, f"{where}, {key}[{i}]", each) for i, side in enumerate(value))


def _placeholders(spec: CheckSpec, where: str) -> None:
    """The {column}s of a name or description are columns of the `each` table (if any)."""
    allowed = _columns(spec.each_table, where) if spec.each_table else set()
    for key in ("name", "description"):
        text = getattr(spec, key)
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError as exc:
            raise CheckSpecError(f"{where}: {key!r} is not a valid template ({exc}).") from None
        if fields - allowed:
            raise CheckSpecError(
                f"{where}: {key!r} refers to {sorted(fields - allowed)}, which "
                + (
                    f"table {spec.each_table} has no column of"
                    if spec.each_table
                    else "only an `each` check may"
                )
                + "."
            )


def load_checks(path: Path = CONSISTENCY_CHECKS) -> list[CheckSpec]:
    """Read and check data/raw/consistency_checks.toml: keys, types, tables and columns."""
    path = Path(path)
    name = relative(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckSpecError(f"{name} is missing; restore it from git.") from None
    except tomllib.TOMLDecodeError as exc:
        raise CheckSpecError(f"{name} is not valid TOML ({exc}).") from None
    _keys(data, {"check"}, ("check",), f"{name}, the top level")
    if not isinstance(data["check"], list):
        raise CheckSpecError(f"{name}: 'check' must be [[check]] tables.")
    specs: list[CheckSpec] = []
    for n, raw in enumerate(data["check"], start=1):
        if not isinstance(raw, dict):
            raise CheckSpecError(f"{name}: check #{n} is not a [[check]] table.")
        where = f"{name}: check {raw.get('name', f'#{n}')!r}"
        _keys(raw, _CHECK_KEYS, ("name", "description", "stated", "computed"), where)
        each_table, having = None, ""
        if "each" in raw:
            each = raw["each"]
            if not isinstance(each, dict):
                raise CheckSpecError(f"{where}: 'each' must be {{table = ..., having = ...}}.")
            _keys(each, _EACH_KEYS, ("table", "having"), f"{where}, each")
            each_table = _text(each, "table", f"{where}, each")
            having = _text(each, "having", f"{where}, each")
            if having not in _columns(each_table, f"{where}, each"):
                raise CheckSpecError(f"{where}, each: table {each_table} has no column {having!r}.")
        spec = CheckSpec(
            name=_text(raw, "name", where),
            description=_text(raw, "description", where),
            stated=_sides(raw, "stated", where, each_table),
            computed=_sides(raw, "computed", where, each_table),
            per_cent_of=_sides(raw, "per_cent_of", where, each_table)
            if "per_cent_of" in raw
            else (),
            each_table=each_table,
            each_having=having,
        )
        _placeholders(spec, where)
        if spec.name in {s.name for s in specs}:
            raise CheckSpecError(f"{where}: the name is used twice.")
        specs.append(spec)
    return specs


class ConsistencyError(InputError):
    """The document's own arithmetic does not add up (a changed or mistyped number)."""


@dataclass(frozen=True)
class Check:
    """The result of one cross-check."""

    check: str
    description: str
    expected: float
    computed: float
    result: str
    sentence_id_a: str
    quote_a: str
    sentence_id_b: str
    quote_b: str

    def as_row(self) -> dict[str, object]:
        """The check as a row of the consistency_checks table."""
        return dict(self.__dict__)


class _Facts:
    """Look-ups into the extracted rows for the checks, with errors that name what is missing."""

    def __init__(self, rows: dict[str, list[Row]], sentences: dict[str, FactSentence]) -> None:
        self.rows = rows
        self.sentences = sentences

    def all(self, table: str, **where: object) -> list[Row]:
        return [r for r in self.rows.get(table, []) if _has(r, where)]

    def one(self, table: str, check: str, **where: object) -> Row:
        found = self.all(table, **where)
        if len(found) != 1:
            shown = ", ".join(f"{k}={v}" for k, v in where.items())
            raise InputError(
                f"consistency check {check!r} needs one row of {table} with {shown}, found "
                f"{len(found)}; an extraction rule in data/raw/extraction_rules.toml that "
                "should produce it is missing or changed, or the check in "
                "data/raw/consistency_checks.toml names it wrongly."
            )
        return found[0]

    def quote(self, ids: Sequence[str]) -> tuple[str, str]:
        """Sentence ids joined by ';' and their full texts joined by ' … '."""
        unique = list(dict.fromkeys(ids))
        return ";".join(unique), " … ".join(self.sentences[i].text for i in unique)


def _has(row: Row, where: dict[str, object]) -> bool:
    return all(row.values.get(k) == v for k, v in where.items())


def _decimals(value: float) -> int:
    text = format_value(value)
    return len(text.split(".")[1]) if "." in text else 0


def _check(
    facts: _Facts,
    name: str,
    description: str,
    expected: float,
    ids_a: Sequence[str],
    computed: float,
    ids_b: Sequence[str],
) -> Check:
    sid_a, quote_a = facts.quote(ids_a)
    sid_b, quote_b = facts.quote(ids_b)
    result = "pass" if float(expected) == float(computed) else "fail"
    return Check(
        name, description, float(expected), float(computed), result, sid_a, quote_a, sid_b, quote_b
    )


def _side_value(facts: _Facts, check: str, side: Side, row: Row | None) -> tuple[float, list[str]]:
    """One side's number and the ids of the sentences it was read from."""
    if side.table is None:
        assert row is not None, "a side without a table is only allowed under `each`"
        rows = [row]
    elif side.aggregate in ("value", "items"):
        rows = [facts.one(side.table, check, **side.where)]
    else:
        rows = facts.all(side.table, **side.where)
    ids = [str(r.values.get(side.sentence)) if side.sentence else r.sentence_id for r in rows]
    if side.aggregate in ("value", "items"):
        value = rows[0].values.get(side.column)
        if value is None or value == "":
            raise InputError(
                f"consistency check {check!r} reads {side.column} of a row of "
                f"{side.table or 'its table'}, which is empty (sentence {ids[0]})."
            )
        if side.aggregate == "value":
            return float(value), ids
        return float(len(split_items(str(value), 0, side.split))), ids
    if side.aggregate == "sum":
        return float(sum(int(r.values.get(side.column) or 0) for r in rows)), ids
    if side.aggregate == "distinct":
        return float(len({r.values.get(side.column) for r in rows})), ids
    return float(len(rows)), ids  # rows = true


def _total(
    facts: _Facts, check: str, sides: Sequence[Side], row: Row | None
) -> tuple[float, list[str]]:
    total, ids = 0.0, []
    for side in sides:
        value, read = _side_value(facts, check, side, row)
        total += value
        ids += read
    return total, ids


def _run(facts: _Facts, spec: CheckSpec, row: Row | None = None) -> Check:
    values = row.values if row is not None else {}
    name = spec.name.format_map(values).replace(" ", "_")
    stated, ids_a = _total(facts, name, spec.stated, row)
    computed, ids_b = _total(facts, name, spec.computed, row)
    if spec.per_cent_of:
        whole, ids_whole = _total(facts, name, spec.per_cent_of, row)
        computed = round(100 * computed / whole, _decimals(stated))
        ids_b += ids_whole
    return _check(facts, name, spec.description.format_map(values), stated, ids_a, computed, ids_b)


def run_checks(
    rows: dict[str, list[Row]],
    sentences: Sequence[FactSentence],
    specs: Sequence[CheckSpec] | None = None,
) -> list[Check]:
    """Run every cross-check (default: those of data/raw/consistency_checks.toml) on the
    extracted rows; return the results (pass or fail), in the order of the file."""
    facts = _Facts(rows, {s.id: s for s in sentences})
    results = []
    for spec in load_checks() if specs is None else specs:
        if spec.each_table is None:
            results.append(_run(facts, spec))
            continue
        for row in facts.all(spec.each_table):
            if row.values.get(spec.each_having):
                results.append(_run(facts, spec, row))
    return results


def failure_message(failed: Sequence[Check]) -> str:
    """One paragraph per failing check, quoting both sentences."""
    parts = []
    for c in failed:
        parts.append(
            f"consistency check {c.check!r} failed: {c.description}. The text states "
            f"{format_value(c.expected)} in {c.sentence_id_a}: “{c.quote_a}” — but "
            f"{format_value(c.computed)} follows from {c.sentence_id_b}: “{c.quote_b}”."
        )
    parts.append(
        "A number in the source or the corpus changed or is mistyped. Check both sentences "
        "against the raw text; correct a typo through data/raw/errata.csv (reviewed), never by "
        "editing outputs. Nothing was written."
    )
    return "\n".join(parts)
