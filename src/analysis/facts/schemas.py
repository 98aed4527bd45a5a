"""Pandera schemas of the fact tables, derived from their descriptions in `tables.py`.

Types, nullability, allowed values, ranges, patterns, column order and the table key are all
checked; a violation is an InputError that names the table, the column and the failing values.
pandas and pandera are imported here, never by `analysis/__init__.py`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from ..errors import SchemaValidationError
from .tables import BY_NAME, PANDAS_DTYPES, Column, Table

__all__ = ["PANDAS_DTYPES", "SchemaValidationError", "frame", "schema", "validate"]

YEARMONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


def _checks(column: Column) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if column.enum is not None:
        checks.append(pa.Check.isin(list(column.enum)))
    if column.minimum is not None:
        checks.append(pa.Check.ge(column.minimum))
    if column.maximum is not None:
        checks.append(pa.Check.le(column.maximum))
    if column.pattern is not None:
        checks.append(pa.Check.str_matches(column.pattern))
    if column.type == "yearmonth":
        checks.append(pa.Check.str_matches(YEARMONTH))
    if column.type == "year":
        checks.append(pa.Check.in_range(1900, 2100))
    return checks


def _no_empty_text(table: Table) -> pa.Check | None:
    """One table-level check that required text columns hold no empty string.

    One check per table rather than one per column: pandera's cost is per check, and the
    build validates every table on every run.
    """
    required = [c.name for c in table.columns if c.type == "string" and not c.nullable]
    if not required:
        return None
    return pa.Check(
        lambda df: (df[required].apply(lambda s: s.str.len()) > 0).all(axis=1),
        name=f"no_empty_text({', '.join(required)})",
        error="a required text column holds an empty string",
    )


@functools.cache
def schema(name: str) -> pa.DataFrameSchema:
    """The pandera schema of the table called `name`."""
    table = BY_NAME[name]
    columns = {
        c.name: pa.Column(
            PANDAS_DTYPES[c.type],
            checks=_checks(c),
            nullable=c.nullable,
            description=c.description,
            title=c.name,
        )
        for c in table.columns
    }
    check = _no_empty_text(table)
    return pa.DataFrameSchema(
        columns,
        checks=[check] if check is not None else [],
        name=name,
        strict=True,
        ordered=True,
        unique=list(table.key),
        coerce=False,
    )


def frame(table: Table, rows: Sequence[dict[str, object]]) -> pd.DataFrame:
    """The rows as a DataFrame with the table's columns, in order, and its nullable dtypes."""
    data = {
        c.name: pd.array([r.get(c.name) for r in rows], dtype=PANDAS_DTYPES[c.type])
        for c in table.columns
    }
    return pd.DataFrame(data, columns=list(table.column_names))


def validate(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Validate `df` against the schema of `name`; SchemaValidationError lists every failure."""
    try:
        return schema(name).validate(df, lazy=True, inplace=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        lines = []
        for _, case in cases.head(20).iterrows():
            where = f"column {case['column']}" if pd.notna(case["column"]) else "table"
            row = f" row {int(case['index']) + 1}" if pd.notna(case["index"]) else ""
            lines.append(f"  {where}{row}: {case['check']} failed for {case['failure_case']!r}")
        more = f"\n  ... and {len(cases) - 20} more" if len(cases) > 20 else ""
        raise SchemaValidationError(
            f"table {name} does not match its schema (src/analysis/facts/tables.py):\n"
            + "\n".join(lines)
            + more
            + "\nFix the extraction rule or the input that produced these values."
        ) from None
    except SchemaError as exc:  # pragma: no cover - lazy=True collects errors instead
        raise SchemaValidationError(f"table {name} does not match its schema: {exc}") from None
