"""Data views of the corpus step for the source audit: repairs, document structure, coverage.

Read from the corpus files of data/processed/ and the `numeric_mentions` table; like `views`,
they return DataFrames and import nothing of the prose. pandas is imported inside the functions.
"""

from __future__ import annotations

import re
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
    """Per repair kind (in stage order, every kind the detectors have, found or not): proposals
    accepted, rejected, undecided."""
    import pandas as pd

    from ..corpus.audit import STAGE_ORDER

    audit = cleaning_audit()
    rows = []
    for kind in STAGE_ORDER:
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


# The detectors write their reasons in English with the figures in them; a report in another
# language rewrites each through these patterns and its words (`[labels.repair_reasons]`).
_REASONS = {
    "page_break_join": re.compile(
        r"the paragraph ends without a sentence stop and the next paragraph continues the "
        r"sentence \(page break\)$"
    ),
    "pull_quote": re.compile(
        r"(?P<share>\d+)% of its characters lie in (?P<run>\d+)-character runs shared with "
        r"nearby text \(threshold (?P<threshold>\d+)%\); closest: block (?P<block>\d+) "
        r"\((?P<closest>\d+)%\)$"
    ),
    "reading_order": re.compile(
        r"block (?P<last>\d+) stops mid-sentence and is followed by the end of the file; "
        r"block (?P<next>\d+) begins mid-sentence after a complete paragraph; the section "
        r"holding the unfinished sentence was printed away from where it continues$"
    ),
}
_READING_ORDER = (
    re.compile(r"(?P<n>\d+) blocks printed after block (?P<block>\d+)$"),
    re.compile(r"placed after block (?P<after>\d+) and before block (?P<before>\d+)$"),
)


def _words(lang: str, group: str) -> Mapping[str, Any]:
    from .lang import check_lang

    return check_lang(lang).words["labels"].get(group, {})


def repair_reason(row: Mapping[str, Any], lang: str) -> str:
    """Why a repair was made, whole (never cut short), in the report language: an erratum's
    reviewed reason (`[labels.erratum_reasons]`, by the text as printed), a detector's reason
    through its pattern; the recorded reason where the words have none."""
    kind, reason = str(row["kind"]), str(row["reason"])
    if kind == "erratum":
        return _words(lang, "erratum_reasons").get(str(row["before"]), reason)
    pattern = _REASONS.get(kind)
    template = _words(lang, "repair_reasons").get(kind)
    match = pattern.match(reason) if pattern else None
    return template.format(**match.groupdict()) if match and template else reason


def repair_sides(row: Mapping[str, Any], lang: str) -> tuple[str, str]:
    """A repair's before and after in the report language: a reading-order move in words, a
    pull quote's roles by name, the text itself otherwise."""
    kind, before, after = str(row["kind"]), str(row["before"]), str(row["after"])
    if kind == "reading_order":
        moved, placed = (p.match(x) for p, x in zip(_READING_ORDER, (before, after), strict=True))
        words = _words(lang, "reading_order")
        if moved and placed and words:
            return words["before"].format(**moved.groupdict()), words["after"].format(
                **placed.groupdict()
            )
    if kind == "pull_quote":
        roles = _words(lang, "paragraph_roles")
        return roles.get(before, before), roles.get(after, after)
    return before, after


def reading_order_moves() -> list[dict[str, Any]]:
    """Each accepted reading-order repair as a reader needs it: the section that was printed out
    of place (its paragraphs, heading first, as the clean corpus reads them), the article it was
    printed after, and the paragraph it now follows.

    From the cleaning audit's record ("7 blocks printed after block 52", "placed after block 27
    and before block 28"; a block n of the raw file is paragraph `<article>-p<n>` of the corpus
    where it survives as its own paragraph).
    """
    from ..corpus import load_corpus

    corpus = load_corpus()
    titles = {a.id: a.title for a in corpus.articles}
    numbers = {a.id: i for i, a in enumerate(corpus.articles, start=1)}
    by_block: dict[int, Any] = {}
    for p in corpus.paragraphs:
        number = re.search(r"-p(\d+)$", p.id)
        if number:
            by_block.setdefault(int(number.group(1)), p)
    audit = cleaning_audit()
    rows = audit[(audit["kind"] == "reading_order") & (audit["decision"] == "accept")]
    moves = []
    for row in rows.to_dict("records"):
        moved, placed = (
            p.match(str(x))
            for p, x in zip(_READING_ORDER, (row["before"], row["after"]), strict=True)
        )
        if not (moved and placed):
            continue
        first = int(row["paragraph_id"].rsplit("-p", 1)[1])
        blocks = range(first, first + int(moved["n"]))
        paragraphs = [by_block[b] for b in blocks if b in by_block]
        printed_after = by_block.get(int(moved["block"]))
        follows = by_block.get(int(placed["after"]))
        if not paragraphs or printed_after is None or follows is None:
            continue
        moves.append(
            {
                "heading": next((p for p in paragraphs if p.role == "heading"), None),
                "paragraphs": [
                    {
                        "id": p.id,
                        "text": p.text,
                        "lead": _sentence_row(corpus.sentences_of(p.id)[0]),
                    }
                    for p in paragraphs
                    if p.role != "heading"
                ],
                "article_id": paragraphs[0].article_id,
                # Place of the articles in the source (1: first), for "the first article".
                "article_no": numbers.get(paragraphs[0].article_id, 0),
                "printed_after_no": numbers.get(printed_after.article_id, 0),
                "printed_after_article": printed_after.article_id,
                "printed_after_title": titles.get(printed_after.article_id, ""),
                "follows": _sentence_row(corpus.sentences_of(follows.id)[0]),
                "tail": _sentence_row(_joined(corpus.sentences_of(paragraphs[-1].id), paragraphs)),
                "blocks": len(blocks),
            }
        )
    return moves


def _sentence_row(sentence: Any) -> dict[str, str]:
    """A sentence as the templates' `quote` filter takes it."""
    return {"sentence_id": sentence.id, "text": sentence.text}


def _joined(sentences: list[Any], paragraphs: list[Any]) -> Any:
    """The sentence that runs from the moved section into the text it was printed away from:
    the first of `sentences` with a raw span before the section's own (else the last)."""
    start = min(p.raw_spans[0][0] for p in paragraphs if p.raw_spans)
    for sentence in sentences:
        if any(span[0] < start for span in sentence.raw_spans):
            return sentence
    return sentences[-1]


def _lead(corpus: Any, paragraph_id: str) -> dict[str, str]:
    return _sentence_row(corpus.sentences_of(paragraph_id)[0])
