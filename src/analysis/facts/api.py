"""The researcher API: load a fact table in one call, list the tables, cite any row.

    from analysis import load, list_tables, cite

    list_tables()                                   # names, titles and descriptions
    df = load("national_clusters_by_province")      # typed DataFrame, validated by its schema
    cite(df.iloc[0])                                # article, section, quote, sentence id
    cite("national_clusters_by_province", "江苏")    # the same, by table and key

pandas (and pandera) are imported only when a table is loaded.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import AnalysisError, InputError
from ..missing import is_missing
from ..paths import PROCESSED, relative
from .tables import ALL_TABLES, BY_NAME, PANDAS_DTYPES, SENTENCES_TABLE

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class UnknownTableError(AnalysisError, KeyError):
    """A table name that the fact base does not have."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class TableInfo(NamedTuple):
    """Name, title and description of one table of the fact base."""

    name: str
    title: str
    description: str


@dataclass(frozen=True)
class Citation:
    """Where a fact comes from: the article, its section, the sentence and the exact quote."""

    article_title: str
    institute: str
    authors: tuple[str, ...]
    section: str
    sentence_id: str
    quote: str
    sentence: str
    table: str | None = None
    also: tuple[Citation, ...] = ()

    def __str__(self) -> str:
        authors = " ".join(self.authors)
        section = f", section “{self.section}”" if self.section else ""
        text = (
            f"“{self.quote}” — {self.institute} {authors}, 《{self.article_title}》{section} "
            f"(sentence {self.sentence_id})"
        )
        return "; ".join([text, *(str(c) for c in self.also)])


def list_tables() -> list[TableInfo]:
    """Every table of the fact base with its title and description, in export order."""
    return [TableInfo(t.name, t.title, t.description) for t in ALL_TABLES]


def _table(name: str):
    table = BY_NAME.get(name)
    if table is None:
        names = ", ".join(t.name for t in ALL_TABLES)
        raise UnknownTableError(f"no fact table is called {name!r}. The tables are: {names}.")
    return table


def _csv_path(name: str, processed_dir: Path, verify: bool = True) -> Path:
    """The CSV of table `name`, checked against the sha256 that datapackage.json records."""
    path = Path(processed_dir) / f"{name}.csv"
    if not path.is_file():
        raise InputError(f"{relative(path)} is missing: run `analysis data` (or make data).")
    if verify:
        from .integrity import verify_file

        verify_file(path)
    return path


def load(
    name: str, *, validate: bool = True, verify: bool = True, processed_dir: Path = PROCESSED
) -> pd.DataFrame:
    """The fact table `name` as a typed DataFrame (nullable dtypes), checked by its schema.

    With `verify` (the default) the CSV must match the sha256 recorded in datapackage.json
    (IntegrityError otherwise: the folder was changed after `analysis data` wrote it).
    """
    import pandas as pd

    table = _table(name)
    path = _csv_path(name, processed_dir, verify)
    dtypes = {c.name: PANDAS_DTYPES[c.type] for c in table.columns}
    df = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""], encoding="utf-8")
    if tuple(df.columns) != table.column_names:
        raise InputError(
            f"{relative(path)}: the columns {list(df.columns)} are not those of the table "
            f"({list(table.column_names)}); rebuild it with `analysis data`."
        )
    if validate:
        from .schemas import validate as check

        df = check(name, df)
    df.attrs["table"] = name
    df.attrs["title"] = table.title
    df.attrs["description"] = table.description
    return df


def _sentences(processed_dir: Path) -> dict[str, dict[str, str]]:
    path = _csv_path(SENTENCES_TABLE.name, processed_dir)
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["sentence_id"]: row for row in csv.DictReader(fh)}


def _record(row: Any) -> dict[str, Any]:
    if isinstance(row, Mapping):
        return dict(row)
    if hasattr(row, "to_dict"):  # a pandas Series (one row of a loaded table)
        return dict(row.to_dict())
    raise TypeError(f"cite() takes a row (a Series or a mapping), not {type(row).__name__}")


def _pick(name: str, index: Any, processed_dir: Path) -> dict[str, Any]:
    table = _table(name)
    with _csv_path(name, processed_dir).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if isinstance(index, int) and not isinstance(index, bool):
        if not 0 <= index < len(rows):
            raise IndexError(f"{name} has {len(rows)} rows; row {index} does not exist")
        return rows[index]
    key = index if isinstance(index, tuple) else (index,)
    if len(key) != len(table.key):
        raise KeyError(f"{name} is keyed by {table.key}; give one value per key column")
    for row in rows:
        if tuple(row[k] for k in table.key) == tuple(str(v) for v in key):
            return row
    raise KeyError(f"{name} has no row with {dict(zip(table.key, key, strict=True))}")


def _provenance(record: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(sentence id, quote) pairs of a row: sentence_id/quote first, then winners_sentence_id/
    winners_quote and the like; a check's sentence_id_a/quote_a and sentence_id_b/quote_b
    (several ids joined by ';') cite each sentence in full."""
    pairs: list[tuple[str, str | None]] = []
    keys = [str(k) for k in record]
    prefixed = sorted(k for k in keys if k.endswith("sentence_id"))
    for key in sorted(prefixed, key=lambda k: k != "sentence_id"):
        if not is_missing(record[key]):
            quote = record.get(key[: -len("sentence_id")] + "quote")
            pairs.append((str(record[key]), None if is_missing(quote) else str(quote)))
    for key in sorted(k for k in keys if k.startswith("sentence_id_")):
        if not is_missing(record[key]):
            pairs.extend((sid, None) for sid in str(record[key]).split(";"))
    return pairs


def cite(row_or_table: Any, index: Any = None, *, processed_dir: Path = PROCESSED) -> Citation:
    """A citation for one fact: `cite(row)` for a row of a loaded table, or `cite(name, index)`
    with a row number (int) or the row's key value(s) (e.g. "江苏", or a tuple)."""
    if isinstance(row_or_table, str):
        record = _pick(row_or_table, index, processed_dir)
        table_name: str | None = row_or_table
    else:
        record = _record(row_or_table)
        table_name = None
    sentences = _sentences(processed_dir)
    citations = []
    for sid, quote in _provenance(record):
        sentence = sentences.get(sid)
        if sentence is None:
            raise KeyError(
                f"sentence {sid} is not in cited_sentences.csv; rebuild with `analysis data`"
            )
        citations.append(
            Citation(
                article_title=sentence["article_title"],
                institute=sentence["institute"],
                authors=tuple(a for a in sentence["authors"].split(";") if a),
                section=sentence["section"],
                sentence_id=sid,
                quote=quote if quote is not None else sentence["text"],
                sentence=sentence["text"],
                table=table_name,
            )
        )
    if not citations:
        raise KeyError(
            "the row has no sentence_id: only rows of the fact tables (and checks) can be cited"
        )
    first, *rest = citations
    return Citation(**{**first.__dict__, "also": tuple(rest)})
