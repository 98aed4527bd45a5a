"""Coverage of numeric mentions: each one is used by a fact table or classified as not a fact.

A mention that a table row read is `used`. Any other mention goes through the reviewed rules
of data/raw/mention_rules.toml ([[not_a_fact]]); the first rule that matches gives the reason.
What is left is `unclassified`: reported always, and a failure in strict mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .mentions import Lexicon, Mention, ReviewRule
from .source import FactSentence


@dataclass(frozen=True)
class MentionStatus:
    """A mention with its paragraph role and how it is accounted for."""

    mention: Mention
    role: str
    status: str  # used | not_a_fact | unclassified
    used_by: tuple[str, ...] = ()
    rule: str = ""
    reason: str = ""


def _inside(text: str, start: int, end: int, pair: str) -> bool:
    """Whether text[start:end] lies between the brackets `pair` (e.g. 《》 or “”)."""
    opening, closing = pair[0], pair[1]
    before = text[:start]
    if before.rfind(opening) <= before.rfind(closing):
        return False
    after = text[end:]
    close_at = after.find(closing)
    open_at = after.find(opening)
    return close_at >= 0 and (open_at < 0 or close_at < open_at)


def _matches(rule: ReviewRule, mention: Mention, sentence: FactSentence) -> bool:
    if rule.roles and sentence.role not in rule.roles:
        return False
    if rule.kinds and mention.kind not in rule.kinds:
        return False
    if rule.inside and not _inside(sentence.text, mention.start, mention.end, rule.inside):
        return False
    if rule.text is not None and not rule.text.search(mention.text):
        return False
    if rule.context is not None and not any(
        m.start() <= mention.start and m.end() >= mention.end
        for m in rule.context.finditer(sentence.text)
    ):
        return False
    return True


def classify(
    sentences: Sequence[FactSentence],
    mentions: dict[str, list[Mention]],
    usage: dict[str, set[str]],
    lexicon: Lexicon,
) -> list[MentionStatus]:
    """The status of every mention, in reading order."""
    out: list[MentionStatus] = []
    for sentence in sentences:
        for mention in mentions.get(sentence.id, []):
            tables = usage.get(mention.id)
            if tables:
                out.append(MentionStatus(mention, sentence.role, "used", tuple(sorted(tables))))
                continue
            for rule in lexicon.review_rules:
                if _matches(rule, mention, sentence):
                    out.append(
                        MentionStatus(
                            mention, sentence.role, "not_a_fact", (), rule.id, rule.reason
                        )
                    )
                    break
            else:
                out.append(MentionStatus(mention, sentence.role, "unclassified"))
    return out


def coverage_counts(statuses: Sequence[MentionStatus]) -> dict[str, int]:
    """How many mentions are used, not a fact, unclassified, and in total."""
    counts = {"used": 0, "not_a_fact": 0, "unclassified": 0}
    for s in statuses:
        counts[s.status] += 1
    counts["total"] = len(statuses)
    return counts
