"""The reviewed files that keep a person in charge: proposal decisions and errata.

`data/raw/corpus_decisions.csv` has one row per detector proposal: `proposal_id`, `kind`,
`decision` (accept or reject) and the reviewer's `note`. A proposal without a row is
*undecided*: it is not applied, the command lists it, and strict mode fails on it.

`data/raw/errata.csv` has one row per typographical error: `source` (file name in data/raw/),
`raw_text` (the exact raw text, unique in that file), `replacement` and `reason`. An entry whose
raw text no longer occurs exactly once in the source is an error naming the entry's line.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..paths import relative

DECISIONS_FILE = "corpus_decisions.csv"
ERRATA_FILE = "errata.csv"
DECISION_COLUMNS = ("proposal_id", "kind", "decision", "note")
ERRATA_COLUMNS = ("source", "raw_text", "replacement", "reason")
DECISIONS = ("accept", "reject")
KIND_PREFIXES = {
    "furn": "page_furniture",
    "move": "reading_order",
    "join": "page_break_join",
    "pullq": "pull_quote",
    "dup": "doubled_char",
    "punct": "punctuation",
}


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision on one proposal."""

    proposal_id: str
    kind: str
    decision: str
    note: str
    line: int


@dataclass(frozen=True)
class Erratum:
    """A reviewed correction of a typographical error in one source."""

    source: str
    raw_text: str
    replacement: str
    reason: str
    line: int


def _read_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    name = relative(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 ({exc}); save it as UTF-8.") from exc
    if text.startswith("\ufeff"):
        raise InputError(f"{name}:1: starts with a byte-order mark; save it as UTF-8 without BOM.")
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = tuple(reader.fieldnames or ())
    if header != columns:
        raise InputError(
            f"{name}:1: the header is {','.join(header) or '(empty)'}; expected "
            f"{','.join(columns)}."
        )
    rows = []
    end_of_previous = reader.line_num
    for row in reader:
        # A quoted field may span lines: report the line where the record starts.
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise InputError(f"{name}:{line}: expected {len(columns)} fields; check the quoting.")
        rows.append((line, {k: v for k, v in row.items()}))
    return rows


def load_decisions(raw_dir: Path) -> dict[str, Decision]:
    """Read the decisions file of `raw_dir` (absent: no decisions) keyed by proposal id."""
    path = Path(raw_dir) / DECISIONS_FILE
    if not path.is_file():
        return {}
    name = relative(path)
    decisions: dict[str, Decision] = {}
    for line, row in _read_rows(path, DECISION_COLUMNS):
        pid = row["proposal_id"].strip()
        kind = row["kind"].strip()
        decision = row["decision"].strip().lower()
        prefix = pid.split("-", 1)[0]
        if KIND_PREFIXES.get(prefix) is None:
            raise InputError(
                f"{name}:{line}: {pid!r} is not a proposal id (they start with "
                f"{', '.join(p + '-' for p in KIND_PREFIXES)})."
            )
        if KIND_PREFIXES[prefix] != kind:
            raise InputError(
                f"{name}:{line}: proposal {pid} is of kind {KIND_PREFIXES[prefix]}, not {kind!r}."
            )
        if decision not in DECISIONS:
            raise InputError(
                f"{name}:{line}: decision {row['decision']!r} for {pid}; write accept or reject."
            )
        if not row["note"].strip():
            raise InputError(f"{name}:{line}: {pid} has no reviewer note; say why.")
        if pid in decisions:
            raise InputError(
                f"{name}:{line}: {pid} was already decided on line {decisions[pid].line}; "
                "keep one row."
            )
        decisions[pid] = Decision(pid, kind, decision, row["note"].strip(), line)
    return decisions


def load_errata(raw_dir: Path, sources: set[str]) -> list[Erratum]:
    """Read the errata file of `raw_dir` (absent: none); each entry must name a listed source."""
    path = Path(raw_dir) / ERRATA_FILE
    if not path.is_file():
        return []
    name = relative(path)
    errata = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in _read_rows(path, ERRATA_COLUMNS):
        entry = Erratum(
            row["source"].strip(), row["raw_text"], row["replacement"], row["reason"].strip(), line
        )
        if entry.source not in sources:
            raise InputError(
                f"{name}:{line}: source {entry.source!r} is not listed in sources.toml."
            )
        if not entry.raw_text or entry.raw_text != entry.raw_text.strip():
            raise InputError(
                f"{name}:{line}: raw_text is empty or has surrounding spaces; give the exact "
                "raw text."
            )
        if not entry.replacement.strip() or entry.replacement == entry.raw_text:
            raise InputError(f"{name}:{line}: the replacement is empty or equals the raw text.")
        if not entry.reason:
            raise InputError(f"{name}:{line}: the entry has no reason; say why it is an error.")
        key = (entry.source, entry.raw_text)
        if key in seen:
            raise InputError(f"{name}:{line}: the same raw text is corrected on line {seen[key]}.")
        seen[key] = line
        errata.append(entry)
    return errata
