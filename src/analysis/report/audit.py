"""Data views of the corpus step for the source audit: repairs, document structure, coverage.

Read from the corpus files of data/processed/ and the `numeric_mentions` table; like `views`,
they return DataFrames and import nothing of the prose. pandas is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from .views import table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def processed_csv(file_name: str) -> pd.DataFrame:
    """A CSV of data/processed/ written by the corpus step (InputError if it is missing)."""
    import pandas as pd

    from .. import paths

    path = paths.PROCESSED / file_name
    if not path.is_file():
        raise InputError(
            f"{paths.relative(path)} is missing: run `make data` (analysis data) to build the "
            "corpus and the fact tables, then build the reports again."
        )
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def cleaning_audit() -> pd.DataFrame:
    """The cleaning audit of the corpus step: one row per repair or considered repair."""
    from ..corpus.model import AUDIT_FILE

    return processed_csv(AUDIT_FILE)


def repairs_by_kind() -> pd.DataFrame:
    """Per repair kind (in stage order): proposals accepted, rejected, undecided."""
    import pandas as pd

    from ..corpus.audit import KIND_ORDER

    audit = cleaning_audit()
    rows = []
    for kind in KIND_ORDER:
        part = audit[audit["kind"] == kind]
        rows.append(
            {
                "kind": kind,
                "accepted": int((part["decision"] == "accept").sum()),
                "rejected": int((part["decision"] == "reject").sum()),
                "undecided": int((~part["decision"].isin(["accept", "reject"])).sum()),
            }
        )
    return pd.DataFrame(rows)


def document_structure() -> pd.DataFrame:
    """Per article and section: paragraphs by role and sentences, in reading order."""
    import pandas as pd

    from ..corpus import load_corpus

    corpus = load_corpus()
    rows: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for p in corpus.paragraphs:
        key = (p.article_id, p.section_path)
        entry = rows.setdefault(
            key,
            {
                "article_id": p.article_id,
                "section": " > ".join(p.section_path),
                "paragraphs": 0,
                "fact_paragraphs": 0,
                "pull_quotes": 0,
                "sentences": 0,
            },
        )
        entry["paragraphs"] += 1
        entry["fact_paragraphs"] += int(p.for_facts)
        entry["pull_quotes"] += int(p.role == "pull_quote")
        entry["sentences"] += len(corpus.sentences_of(p.id))
    return pd.DataFrame(list(rows.values()))


def mention_coverage() -> pd.DataFrame:
    """Numeric mentions by status (used, not_a_fact, unclassified) and kind."""
    mentions = table("numeric_mentions")
    counts = mentions.groupby(["status", "kind"], sort=True).size().rename("mentions")
    return counts.reset_index()


def status_counts(frame: pd.DataFrame, column: str = "status") -> Mapping[str, int]:
    """Counts of each value of `column`, as a plain dict ordered by value."""
    counts = frame[column].value_counts().sort_index()
    return {str(k): int(v) for k, v in counts.items()}
