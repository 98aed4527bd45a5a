"""The cleaning audit: one row per change the pipeline made or was asked to consider.

Each row names the kind of repair, where it is (source file, paragraph id, raw character spans),
the text before and after, the reason, the detector (or errata line) and the decision. Rejected
and undecided proposals are listed too, so the audit shows what was not changed and why.
"""

from __future__ import annotations

from typing import NamedTuple

AUDIT_COLUMNS = (
    "source",
    "kind",
    "paragraph_id",
    "raw_spans",
    "before",
    "after",
    "context",
    "reason",
    "detector",
    "proposal_id",
    "decision",
)
# The repair kinds the source audit report tabulates (report/audit.py), in stage order.
KIND_ORDER = ("erratum", "reading_order", "page_break_join", "pull_quote", "punctuation")
# Stage order: the order in which the pipeline applies the repairs, every kind. Page furniture
# and doubled characters do not occur in the committed source; their rows appear in the audit
# of a source that has them (the source audit lists every kind of STAGE_ORDER, with its words).
STAGE_ORDER = (
    "erratum",
    "page_furniture",
    "reading_order",
    "page_break_join",
    "doubled_char",
    "pull_quote",
    "punctuation",
)


class AuditRow(NamedTuple):
    """One change (or a considered change) in the cleaning audit; fields in AUDIT_COLUMNS order."""

    source: str
    kind: str
    paragraph_id: str
    raw_spans: str
    before: str
    after: str
    context: str
    reason: str
    detector: str
    proposal_id: str
    decision: str


def context_of(text: str, start: int, end: int, width: int = 6) -> str:
    """A short excerpt of `text` around [start, end) with the change in 【】 brackets."""
    left = text[max(0, start - width) : start]
    right = text[end : end + width]
    return f"{left}【{text[start:end]}】{right}"
