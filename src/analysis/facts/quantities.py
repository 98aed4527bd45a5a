"""Quantities: every number of a document read as one quantity, before any topic rule exists.

The numeric-mention extractor (`mentions.py`, grammar in data/raw/mention_rules.toml) finds
each mention; this module gives it the reading a researcher wants for *any* source: the value in
its own unit (1200万台 is 12,000,000 of 台, 500亿元 is 50,000,000,000 yuan), the magnitude word
that scaled it, the qualifier (超过, 以上, 约...), the words that gave each part, and the phrase
it measures. Names that look numeric (“十四五”, 十九届五中全会, “1+N”, 一是, 30周年) and the
indefinite article 一批 are not quantities.

API (kept stable; the onboarding article uses it):

    from analysis.facts.quantities import read, quantities_table
    read("连接设备超过1200万台")      # -> [Quantity(value=12000000, unit="台", ...)]
    load("quantities")                 # the exported table (analysis.load), one row per quantity

`read(text)` returns `Quantity` objects with: text, kind, value, value_high, value_text, unit,
magnitude, qualifier, qualifier_word, number_words, unit_word, phrase, start, end and `parts`
((role, start, end) of each word: number, number_high, magnitude, unit, qualifier).

The table `quantities` (data/processed/quantities.csv; columns in `tables.QUANTITIES_TABLE`):
quantity_id, article_id, sentence_id, start, end, text, kind, value, value_high, value_text,
unit, magnitude, qualifier, qualifier_word, number_words, unit_word, phrase, quote,
not_a_fact (the reviewed rule, if any, that says the mention is not a figure) — one row per
mention in a body or lede sentence that is not a name or an indefinite article.

Units: amounts in the currency itself (yuan, usd, eur; not 亿), counts in their measure word
(家, 台, 个...), percent (0-100; 三成 = 30), percentage_point (个百分点), fraction (0-1; 2/3),
times (倍; 翻两番 = 4), year / month / day (durations), year, year_month, period (2021-H1,
2021-Q1, 2021-end), rank, ordinal, number.

The phrase it measures is a heuristic (the sentence shows no parse tree), in this order:
1. a counted noun right after the quantity (and its qualifier): 四个|区域, 30家|龙头企业 — up
   to a clause mark, the next number or a word of [phrase].stop_after (mention_rules.toml)
   that is not inside one of its [phrase].nouns (规模以上工业企业);
   a percent or fraction takes the noun after 的 (30%的企业); an amount, a multiple, a
   duration or percentage points never take the noun after them (超10亿元的企业: revenue);
2. otherwise the words before it in its clause, after the last number there, without the
   qualifier, the predicate words of [phrase].predicates at the end (达到, 提高, 较上年, 占...),
   a year it changes from (由2018年的) and frame words at the start (其中, 2019年):
   用户|突破35万家, 工业增加值增速|较上年提高3.2个百分点;
3. if that leaves nothing (or one character), what the quantity before it in the sentence
   measures (营业收入2860亿元，同比增长11.3%), else the words of the clause before.
Items of a respectively-list (分别为85%、75%和90%) measure what the first item measures.
Dates, years, periods, ranks and ordinals measure nothing: their phrase is empty. The quote is
the clause of the sentence that holds the quantity (between clause marks), so it shows both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from .mentions import Lexicon, Mention, extract, format_value, load_lexicon

# Mentions that are names, not quantities: they are not rows of the quantities table.
# (An anniversary, 浦东开发开放30周年, is part of an event's name.)
NAME_KINDS = frozenset({"label", "congress", "plenum", "plan_period", "enumerator", "anniversary"})
# Kinds that measure nothing (time and order): no phrase.
_NO_PHRASE = frozenset({"year", "date", "period", "rank", "ordinal"})
# Kinds whose noun, when it follows, comes after 的 (30%的企业), not right after the number.
_RATIO_KINDS = frozenset(
    {"percent", "percentage_point", "fraction", "multiple", "amount", "duration"}
)
# Kinds that measure what comes before them even when 的 follows (超10亿元的企业: the amount is
# the firms' revenue; 30%的企业 is a share of the firms).
_BEFORE_ONLY = frozenset({"amount", "multiple", "duration", "percentage_point"})
_PHRASE_MAX = 16  # characters: a phrase longer than this is cut (the quote shows the rest)


@dataclass(frozen=True)
class Quantity:
    """One quantity read from a sentence, in its own unit, with the words that gave it."""

    start: int
    end: int
    text: str
    kind: str
    value: float | None
    value_high: float | None
    value_text: str
    unit: str
    magnitude: str
    qualifier: str
    qualifier_word: str
    number_words: str
    unit_word: str
    phrase: str
    quote: str
    parts: tuple[tuple[str, int, int], ...]
    mention_id: str = ""


def _factor(mention: Mention) -> Decimal:
    """What converts the mention's value to the quantity's unit (amounts are kept in 亿)."""
    return Decimal(10**8) if mention.kind == "amount" else Decimal(1)


def _unit(mention: Mention) -> str:
    if mention.kind == "amount":
        return mention.unit.removeprefix("100m_")
    if mention.kind in ("count", "measure", "top_n") and mention.measure_word:
        return mention.measure_word
    return mention.unit or mention.kind


def _scaled(value: float | None, factor: Decimal) -> float | None:
    if value is None:
        return None
    return float(Decimal(repr(value)) * factor)


def _words(text: str, parts: Sequence[tuple[str, int, int]], *roles: str) -> str:
    """The words of the given roles, ';' between them (500;800 for 500亿—800亿元)."""
    return ";".join(text[s:e] for role, s, e in parts if role in roles)


def _clause(text: str, start: int, end: int, marks: str) -> tuple[int, int]:
    """The span of the clause around [start, end): between the nearest clause marks."""
    left = max((text.rfind(ch, 0, start) for ch in marks), default=-1) + 1
    rights = [i for ch in marks if (i := text.find(ch, end)) >= 0]
    return left, min(rights, default=len(text))


def _strip_end(text: str, words: Sequence[str]) -> str:
    changed = True
    while changed and text:
        changed = False
        for word in words:
            if word and text.endswith(word):
                text, changed = text[: -len(word)], True
                break
    return text


def _strip_start(text: str, words: Sequence[str]) -> str:
    changed = True
    while changed and text:
        changed = False
        for word in words:
            if word and text.startswith(word):
                text, changed = text[len(word) :], True
                break
    return text


# A year or month at the start of the words before a quantity frames it (2019年24家胜出).
_LEADING_TIME = re.compile(r"^(?:(?:19|20)\d{2}年(?:\d{1,2}月)?(?:底|末|以来)?)+")
# ... and one at their end is where a change starts from (配套率由2018年的不足20%).
_TRAILING_TIME = re.compile(r"(?:由|从|在|于)?(?:19|20)\d{2}年(?:\d{1,2}月)?(?:底|末)?的?$")
# Mentions of time frame a sentence; they are not what the words after them measure.
_TIME_KINDS = frozenset({"year", "date", "period"})


def _phrase(
    text: str,
    span: tuple[int, int],
    kind: str,
    lex: Lexicon,
    floor: int = 0,
    previous: str = "",
) -> str:
    """The noun phrase the quantity at `span` measures (see the module docstring).

    `floor` is where the mention before it ends (the words before a quantity start after the
    last number), `previous` the phrase of the quantity before it in the sentence, which a
    quantity with no words of its own measures too (营业收入2860亿元，同比增长11.3%).
    """
    if kind in _NO_PHRASE:
        return ""
    ph = lex.phrase
    q_start, q_end = span
    after = text[q_end:]
    if after.startswith("的") and kind not in _BEFORE_ONLY:
        after = after[1:]
    elif kind in _RATIO_KINDS:
        after = ""
    # A stop word inside a noun of [phrase].nouns (规模以上工业企业) does not end the noun.
    unstoppable = after
    for word in ph.nouns:
        unstoppable = unstoppable.replace(word, "\0" * len(word))
    stop = min(
        [i for ch in ph.boundaries if (i := after.find(ch)) >= 0]
        + [i for w in ph.stop_after if (i := unstoppable.find(w)) >= 0]
        + [m.start() for m in [re.search(r"\d", after)] if m]  # the next number
        + [len(after)]
    )
    noun = after[:stop][:_PHRASE_MAX]
    if noun:
        return noun
    words = sorted(ph.predicates, key=len, reverse=True)
    lead = sorted(ph.leading, key=len, reverse=True)

    def trimmed(words_before: str) -> str:
        out = _strip_end(_TRAILING_TIME.sub("", _strip_end(words_before, words)), words)
        out = _strip_start(_LEADING_TIME.sub("", _strip_start(out, lead)), lead)
        return out if len(out) >= 2 else ""  # one character left over (末, 的) names nothing

    left, _ = _clause(text, q_start, q_end, ph.boundaries)
    before = trimmed(text[max(left, floor) : q_start])
    if not before and floor > left:  # 由不足20%提升至近四成: what the number before measures
        return previous
    if not before and left > 1:  # the subject is in the clause before (…，同比增长3%)
        prev_left, _ = _clause(text, left - 1, left - 1, ph.boundaries)
        if floor > prev_left:
            return previous
        before = trimmed(text[prev_left : left - 1])
    return before[-_PHRASE_MAX:]


def quantity(
    mention: Mention, text: str, lex: Lexicon, floor: int = 0, previous: str = ""
) -> Quantity | None:
    """The quantity a mention states in sentence `text`, or None if it states none.

    Names (NAME_KINDS) and indefinite articles ([lexicon.forms] indefinite_articles: 一批)
    state no quantity.
    """
    if mention.kind in NAME_KINDS or mention.text in lex.grammar.indefinite_articles:
        return None
    factor = _factor(mention)
    spans = [(s, e) for _, s, e in mention.parts] or [(mention.start, mention.end)]
    q_start = min(mention.start, *(s for s, _ in spans))
    q_end = max(mention.end, *(e for _, e in spans))
    c_start, c_end = _clause(text, mention.start, mention.end, lex.phrase.quote_marks)
    value_text = mention.value_text
    if mention.kind == "amount" and mention.value is not None:
        value_text = format_value(_scaled(mention.value, factor))
    return Quantity(
        start=mention.start,
        end=mention.end,
        text=mention.text,
        kind=mention.kind,
        value=_scaled(mention.value, factor),
        value_high=_scaled(mention.value_high, factor),
        value_text=value_text,
        unit=_unit(mention),
        magnitude=mention.magnitude,
        qualifier=mention.qualifier,
        qualifier_word=mention.qualifier_word,
        number_words=_words(text, mention.parts, "number", "number_high"),
        unit_word=_words(text, mention.parts, "unit"),
        phrase=_phrase(text, (q_start, q_end), mention.kind, lex, floor, previous),
        quote=text[c_start:c_end].strip() or text[q_start:q_end],
        parts=mention.parts,
        mention_id=mention.id if mention.sentence_id else "",
    )


def of_sentence(text: str, mentions: Sequence[Mention], lex: Lexicon) -> list[Quantity]:
    """The quantities of one sentence from its mentions (names and 一批 left out).

    Items of a respectively-list (市占率总和分别为85%、75%和90%) measure what the first does.
    """
    out: list[Quantity] = []
    heads: dict[str, str] = {}  # list id -> the phrase of the list's first item
    floor, previous = 0, ""
    for mention in mentions:
        q = quantity(mention, text, lex, floor, previous)
        if mention.kind not in _TIME_KINDS:
            floor = max(
                [floor, mention.end, *(e for _, s, e in mention.parts if s >= mention.start)]
            )
        if q is None:
            continue
        if mention.list_id and mention.distributive == "respectively":
            q = replace(q, phrase=heads.setdefault(mention.list_id, q.phrase))
        if q.phrase:
            previous = q.phrase
        out.append(q)
    return out


def read(text: str, lexicon: Lexicon | None = None) -> list[Quantity]:
    """Every quantity of `text`, in order (names such as “十四五” are left out)."""
    lex = lexicon or load_lexicon()
    return of_sentence(text, extract(text, "", lex), lex)


def quantities_table(
    sentences: Sequence,
    mentions: Mapping[str, Sequence[Mention]],
    lexicon: Lexicon,
    roles,
    reviewed: Mapping[str, str] | None = None,
) -> list[dict[str, object]]:
    """The rows of the `quantities` table: every quantity of a sentence whose role is in `roles`.

    `sentences` are FactSentence objects (id, article_id, role, text) in reading order;
    `reviewed` gives, by mention id, the reviewed rule of mention_rules.toml ([[not_a_fact]])
    that says why a mention is not a figure (a slogan, a time horizon), if one does.
    """
    reviewed = reviewed or {}
    rows: list[dict[str, object]] = []
    for sentence in sentences:
        if sentence.role not in roles:
            continue
        for q in of_sentence(sentence.text, mentions.get(sentence.id, ()), lexicon):
            rows.append(
                {
                    "quantity_id": q.mention_id,
                    "article_id": sentence.article_id,
                    "sentence_id": sentence.id,
                    "start": q.start,
                    "end": q.end,
                    "text": q.text,
                    "kind": q.kind,
                    "value": q.value,
                    "value_high": q.value_high,
                    "value_text": q.value_text,
                    "unit": q.unit,
                    "magnitude": q.magnitude or None,
                    "qualifier": q.qualifier,
                    "qualifier_word": q.qualifier_word or None,
                    "number_words": q.number_words or None,
                    "unit_word": q.unit_word or None,
                    "phrase": q.phrase or None,
                    "quote": q.quote,
                    "not_a_fact": reviewed.get(q.mention_id) or None,
                }
            )
    return rows
