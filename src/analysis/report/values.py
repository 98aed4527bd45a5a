"""`Fact`: a value of the fact tables with its unit, qualifier and the words that state it.

The data views (`views`) return Facts for the single figures the reports quote; the templates
format them (`formatting.format_value`) and the `key` filter cites their sentence. Nothing of
the prose is imported here: a Fact formats itself only when asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..missing import is_missing

__all__ = ["DatedFact", "Fact", "as_number", "is_missing"]


def as_number(raw: Any) -> float | int:
    """A table value as int when it is integral (44.0 → 44), else as float."""
    value = float(raw)
    return int(value) if value.is_integer() else value


@dataclass(frozen=True)
class Fact:
    """A value as the source states it, with its unit, qualifier and the words that state it."""

    value: float | int
    unit: str = ""
    qualifier: str = "equal"
    measure: str = ""
    sentence_id: str | None = None
    quote: str | None = None

    @classmethod
    def from_row(
        cls,
        row: Mapping[str, Any],
        value: str = "value",
        unit: str | None = None,
        measure: str = "",
        qualifier: str | None = None,
    ) -> Fact:
        """A Fact from a table row: `value` names the column; unit/qualifier from the row."""
        raw = row[value]
        if is_missing(raw):
            raise ValueError(f"the row has no value in column {value!r}: {dict(row)}")
        unit_ = unit if unit is not None else str(row.get("unit") or "")
        qual = qualifier if qualifier is not None else row.get("qualifier")
        return cls(
            value=as_number(raw),
            unit=unit_,
            qualifier="equal" if is_missing(qual) or not qual else str(qual),
            measure=measure,
            sentence_id=None if is_missing(row.get("sentence_id")) else str(row["sentence_id"]),
            quote=None if is_missing(row.get("quote")) else str(row["quote"]),
        )

    def format(self, lang: str, bare: bool = False) -> str:
        """The value in `lang` with its unit; `bare` leaves out the qualifier words."""
        from .formatting import format_value

        qualifier = "equal" if bare else self.qualifier
        return format_value(self.value, self.unit, lang, qualifier, self.measure)


@dataclass(frozen=True)
class DatedFact(Fact):
    """A Fact that also carries the period (year or month) its row states."""

    period: str = ""
