"""Detectors: find the damage of a page extraction from the text and propose repairs.

Each detector looks at the paragraph units in their current reading order and returns
`Proposal`s; it never edits. A proposal id is built from the kind, the source's file name and
the raw text of the blocks involved, so it stays the same from run to run, does not depend on
which other proposals were accepted, and survives a change elsewhere in the source. The
pipeline applies a proposal only when the reviewed decisions file accepts it.

Detectors (run in this order, each on the result of the accepted proposals before it). None
knows a string of any source: the evidence is punctuation, the text's own character n-grams
(`TextEvidence`) and its layout.

- `detect_page_furniture`: a page number ("— 12 —", "第3版") or running head printed in the
  text flow: a short line without punctuation that is a page number, or stands inside a
  sentence broken across a page. Kept with role `furniture`, skipped by the joins.
- `detect_reading_order`: a fragment printed away from its section. An unterminated paragraph
  followed by a heading, a title or the end of the file (a dangling end) is paired with the
  body paragraph, anywhere in the file, that continues it best (an orphan: it follows a
  complete paragraph and visibly begins mid-sentence, or the text's n-grams run across the
  junction); several are paired together. The section that ends in the dangling paragraph
  (from its nearest heading) is moved to just before the orphan, and the join detector then
  joins them. Measured by bench/bench_detectors.py on generated damage (analysis.corpus.damage).
- `detect_page_break_joins`: a sentence split across a page break. A sentence-like paragraph
  that does not end a sentence, followed by a body paragraph (across page furniture), is
  joined with it.
- `detect_doubled_chars`: a Han character printed twice that the text never doubles elsewhere
  and Chinese does not double as a word.
- `detect_pull_quotes`: a pull quote or deck. A short paragraph whose characters are almost all
  covered by character 4-grams of nearby longer paragraphs and headings (and of the section it
  previews when it stands just before a heading) restates them; it is kept with role
  `pull_quote` and left out of fact extraction.
- `detect_punctuation`: half-width , ; : ( ) ? ! in Chinese text, one proposal per raw block.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

from .parse import Unit
from .punctuation import (
    CJK_PUNCTUATION,
    CLOSERS,
    HALF_TO_FULL,
    STOPS,
    fullwidth_positions,
    is_han,
    is_terminated,
    split_sentences,
)

HEADING_ROLES = frozenset({"title", "heading", "subheading"})
TEXT_ROLES = frozenset({"body", "lede"})

# Characters that cannot begin a Chinese sentence: clause and closing punctuation, and the
# bound particles 等 ("etc.") and 们 (plural suffix), which only ever follow a word.
_CLAUSE_AND_CLOSING = frozenset("，,、；;：:" + STOPS + CLOSERS)
NON_INITIAL_CHARS = frozenset("等们")
# A paragraph whose first "sentence" is this short ("等活动。") starts with the tail of a
# sentence printed elsewhere.
FRAGMENT_MAX_CHARS = 4
SENTENCE_LIKE_MIN_CHARS = 20
_CLAUSE_MARKS = frozenset("，,、；;：:" + STOPS)

PULL_QUOTE_MAX_CHARS = 120
PULL_QUOTE_MAX_SENTENCES = 2
PULL_QUOTE_NGRAM = 4
PULL_QUOTE_WINDOW = 3
PULL_QUOTE_THRESHOLD = 0.8
# An explicit class (zhon's CJK marks, ASCII punctuation, spaces) is faster than \W here.
_NON_CONTENT_RE = re.compile(
    "[" + re.escape(CJK_PUNCTUATION + string.punctuation + string.whitespace + "\u3000") + "]+"
)
_STOP_RE = re.compile(f"[{re.escape(STOPS)}]+")


@dataclass(slots=True)
class Proposal:
    """A repair a detector proposes; the decisions file accepts or rejects it by `id`.

    Read-only by convention (not frozen: a frozen dataclass is slow to build, and the
    punctuation detector builds dozens per document).
    """

    id: str
    kind: str
    detector: str
    blocks: tuple[int, ...]
    summary: str
    reason: str
    before: str
    after: str
    positions: tuple[int, ...] = ()
    score: float | None = None


def proposal_id(prefix: str, source: str, units_or_keys: Sequence[str]) -> str:
    """Stable, content-based proposal id: prefix plus 10 hex digits of a SHA-1 of the source's
    file name and the keys (raw text) of the blocks the proposal touches.

    Not of the whole file: a decision is about a piece of text, so a change elsewhere in the
    source leaves it valid, while a change to the blocks it touches makes it stale (the
    origin record's sha256 still pins the whole file).
    """
    h = hashlib.sha1(prefix.encode())
    h.update(source.encode("utf-8"))
    for key in units_or_keys:
        h.update(b"\x1e")
        h.update(key.encode("utf-8"))
    return f"{prefix}-{h.hexdigest()[:10]}"


def _excerpt(text: str, n: int = 12, tail: bool = False) -> str:
    if len(text) <= n:
        return text
    return ("…" + text[-n:]) if tail else (text[:n] + "…")


def is_sentence_like(text: str) -> bool:
    """Running text rather than a label: has clause/sentence punctuation or some length."""
    return len(text) >= SENTENCE_LIKE_MIN_CHARS or any(c in _CLAUSE_MARKS for c in text)


def is_open(unit: Unit) -> bool:
    """A body paragraph of running text that stops in the middle of a sentence."""
    text = unit.text.text
    return unit.role in TEXT_ROLES and is_sentence_like(text) and not is_terminated(text)


def starts_mid_sentence(text: str) -> bool:
    """True when `text` visibly begins inside a sentence (without looking at its neighbours)."""
    text = text.lstrip()
    if not text:
        return False
    if text[0] in _CLAUSE_AND_CLOSING or text[0] in NON_INITIAL_CHARS:
        return True
    # A first "sentence" of at most FRAGMENT_MAX_CHARS characters with more text after it.
    stop = _STOP_RE.search(text, 0, FRAGMENT_MAX_CHARS + 3)
    if stop is None or len(text[: stop.start()].rstrip(CLOSERS)) > FRAGMENT_MAX_CHARS:
        return False
    return bool(text[stop.end() :].lstrip(STOPS + CLOSERS).strip())


def _section_start(units: Sequence[Unit], end: int) -> int | None:
    """Index of the heading that opens the section ending at `end` (None: article preamble)."""
    for i in range(end, -1, -1):
        role = units[i].role
        if role in ("heading", "subheading"):
            return i
        if role in ("title", "byline"):
            return None
    return None


def _next_index(units: Sequence[Unit], i: int, step: int = 1) -> int | None:
    """Index of the nearest unit before (step -1) or after (step 1) `i` that is not page
    furniture (a running head or page number printed inside the text flow), or None."""
    j = i + step
    while 0 <= j < len(units):
        if units[j].role != FURNITURE_ROLE:
            return j
        j += step
    return None


class TextEvidence:
    """What the document itself says about how its sentences begin and its words run on.

    Character bigrams and trigrams counted inside each paragraph (never across one, so a
    junction proposed between two paragraphs is not counted as its own evidence), and the
    first two characters of every sentence. This is the only "language model" the detectors
    use: the text under repair, nothing of any particular source.
    """

    def __init__(self, units: Sequence[Unit]) -> None:
        texts = [u.text.text for u in units if u.role not in ("byline", FURNITURE_ROLE)]
        # One haystack, paragraphs kept apart by a character no text holds; counting a gram
        # is then one substring count in C (cheaper than building every n-gram up front).
        self._haystack = "\x00".join(texts)
        self._texts = texts
        self._starts: dict[str, int] | None = None

    def count(self, gram: str) -> int:
        """How often `gram` occurs inside the paragraphs of the text (non-overlapping)."""
        return self._haystack.count(gram) if gram else 0

    @property
    def starts(self) -> dict[str, int]:
        """How many sentences of the text begin with each pair of characters."""
        if self._starts is None:
            starts: dict[str, int] = {}
            for t in self._texts:
                for s, _e in split_sentences(t):
                    g = t[s : s + 2]
                    starts[g] = starts.get(g, 0) + 1
            self._starts = starts
        return self._starts

    def continuation_score(self, end: str, start: str) -> int:
        """How strongly the paragraph beginning `start` reads as the rest of the sentence that
        the paragraph ending `end` leaves open.

        +4 when `start` visibly begins inside a sentence (`starts_mid_sentence`); +1 for each
        of the junction's bigram and two trigrams that occur elsewhere inside the text (a word
        or phrase of the text runs across the break); -1 when `start` begins the way at least
        two of the text's sentences begin (it reads as a sentence start).
        """
        end, start = end.rstrip(), start.lstrip()
        if not end or not start:
            return 0
        score = 4 if starts_mid_sentence(start) else 0
        score += self.count(end[-1] + start[0]) > 0
        score += len(end) > 1 and self.count(end[-2:] + start[0]) > 0
        score += len(start) > 1 and self.count(end[-1] + start[:2]) > 0
        if self.starts.get(start[:2], 0) >= 2:
            score -= 1
        return score


# A displaced fragment is paired with its continuation only on this much evidence: a visible
# mid-sentence start, or two of the three junction n-grams occurring elsewhere in the text.
CONTINUATION_MIN_SCORE = 2


def detect_reading_order(units: Sequence[Unit], source: str) -> list[Proposal]:
    """Propose moving a displaced section back before the paragraph that continues it.

    A *dangling* paragraph stops mid-sentence and is followed by a heading, a title or the end
    of the file, so nothing printed after it continues it. An *orphan* is a body paragraph that
    follows a complete paragraph (or a heading) and reads as the rest of a sentence. Each
    dangling paragraph, in reading order, is paired with the orphan anywhere in the file —
    before or after it, in its article or another — that continues it best
    (`TextEvidence.continuation_score`, at least CONTINUATION_MIN_SCORE; on a tie the nearer
    one; two or more dangling paragraphs are paired together, `_best_pairing`). The section
    that ends in the dangling paragraph (from its nearest heading; the
    paragraph alone when it is in an article's preamble) is proposed to move to just before
    the orphan; the join detector then joins the two.
    """
    dangling = []
    for i, u in enumerate(units):
        if not is_open(u):
            continue
        nxt = _next_index(units, i)
        if nxt is None or units[nxt].role in HEADING_ROLES:
            dangling.append(i)
    if not dangling:
        return []
    orphans = []
    for i, u in enumerate(units):
        if u.role != "body":
            continue
        prev = _next_index(units, i, -1)
        if prev is not None and is_open(units[prev]):
            continue
        orphans.append(i)
    evidence = TextEvidence(units)
    options: list[
        list[tuple[int, float, int, int]]
    ] = []  # per dangling: (score, cohesion, -distance, orphan)
    starts: list[int] = []
    for d in dangling:
        start = _section_start(units, d)
        start = d if start is None else start
        starts.append(start)
        end_text = units[d].text.text
        fragment = "".join(u.text.text for u in units[start : d + 1])
        found = []
        for o in orphans:
            if start <= o <= d:
                continue
            score = evidence.continuation_score(end_text, units[o].text.text)
            if score >= CONTINUATION_MIN_SCORE:
                cohesion = _cohesion(fragment, _run_text(units, o))
                found.append((score, cohesion, -abs(o - d), o))
        found.sort(reverse=True)
        options.append(found[:PAIRING_CANDIDATES])
    pairs = _best_pairing(options)
    return [
        _move_proposal(units, source, starts[k], d, o, score)
        for k, (d, choice) in enumerate(zip(dangling, pairs, strict=True))
        if choice is not None
        for score, _c, _dist, o in [choice]
    ]


# Each dangling paragraph is paired among its best few candidates; the pairing of all of them
# together is chosen (two displaced fragments whose continuations both begin with "，" are
# told apart by what the paragraphs share, not by which comes first).
PAIRING_CANDIDATES = 4
# How much the shared vocabulary of a section's head and its rest weighs against the junction
# evidence (one point per n-gram) when fragments are paired; chosen on bench_detectors' stress
# set of two fragments per document (seeds 0-2: pairing right 0.86-0.92 of the time).
COHESION_WEIGHT = 8.0


def _run_text(units: Sequence[Unit], o: int) -> str:
    """The text from paragraph `o` to the next heading: the rest of the section it continues."""
    out = [units[o].text.text]
    j = o + 1
    while j < len(units) and units[j].role not in HEADING_ROLES:
        out.append(units[j].text.text)
        j += 1
    return "".join(out)


def _cohesion(a: str, b: str) -> float:
    """Share of character bigrams (punctuation left out) two texts have in common: a
    section's head (heading to the cut) and the rest of it speak of the same things."""
    ca, cb = _content(a), _content(b)
    ga = {ca[k : k + 2] for k in range(len(ca) - 1)}
    gb = {cb[k : k + 2] for k in range(len(cb) - 1)}
    return len(ga & gb) / (min(len(ga), len(gb)) or 1)


def _best_pairing(
    options: list[list[tuple[int, float, int, int]]],
) -> list[tuple[int, float, int, int] | None]:
    """The choice of one candidate (or none) per dangling paragraph, each orphan used once,
    that pairs the most paragraphs with the highest total of score + COHESION_WEIGHT ×
    cohesion, then nearness. Exhaustive over at most PAIRING_CANDIDATES candidates each (a
    document has a handful of dangling paragraphs at most)."""
    best: tuple[tuple[int, float, float, int], list] | None = None

    def search(
        k: int, used: frozenset[int], chosen: list, total: tuple[int, float, float, int]
    ) -> None:
        nonlocal best
        if k == len(options):
            if best is None or total > best[0]:
                best = (total, list(chosen))
            return
        for opt in options[k]:
            if opt[3] in used:
                continue
            chosen.append(opt)
            search(
                k + 1,
                used | {opt[3]},
                chosen,
                (
                    total[0] + 1,
                    total[1] + opt[0] + COHESION_WEIGHT * opt[1],
                    0.0,
                    total[3] + opt[2],
                ),
            )
            chosen.pop()
        chosen.append(None)
        search(k + 1, used, chosen, total)
        chosen.pop()

    if len(options) > 8:  # never seen; keep the search bounded: greedy in reading order
        used: set[int] = set()
        out = []
        for opts in options:
            pick = next((o for o in opts if o[3] not in used), None)
            if pick is not None:
                used.add(pick[3])
            out.append(pick)
        return out
    search(0, frozenset(), [], (0, 0.0, 0.0, 0))
    assert best is not None
    return best[1]


def _move_proposal(
    units: Sequence[Unit], source: str, start: int, d: int, o: int, score: int
) -> Proposal:
    moved = units[start : d + 1]
    dangling_text = units[d].text.text
    orphan_text = units[o].text.text
    before_o = units[o - 1].first.number if o > 0 else None
    nxt = _next_index(units, d)
    return Proposal(
        id=proposal_id("move", source, [units[d].first.key, units[o].first.key]),
        kind="reading_order",
        detector="detect_reading_order",
        blocks=tuple(u.first.number for u in moved) + (units[o].first.number,),
        summary=(
            f"move blocks {moved[0].first.number}-{moved[-1].first.number} "
            f"(“{_excerpt(moved[0].text.text)}” … “{_excerpt(dangling_text, tail=True)}”) "
            f"to before block {units[o].first.number} (“{_excerpt(orphan_text)}”)"
        ),
        reason=(
            f"block {units[d].first.number} stops mid-sentence and is followed by "
            f"{'the end of the file' if nxt is None else 'a heading'}; block "
            f"{units[o].first.number} begins mid-sentence after a complete paragraph; "
            f"the section holding the unfinished sentence was printed away from where "
            f"it continues"
        ),
        before=(
            f"{len(moved)} blocks printed after block {units[start - 1].first.number}"
            if start > 0
            else f"{len(moved)} blocks at the start"
        ),
        after=(
            f"placed after block {before_o} and before block {units[o].first.number}"
            if before_o is not None
            else f"placed before block {units[o].first.number}"
        ),
        score=float(score),
    )


def detect_page_break_joins(units: Sequence[Unit], source: str) -> list[Proposal]:
    """Propose joining each paragraph that stops mid-sentence with the body paragraph after it
    (across page furniture printed between them)."""
    proposals = []
    for i in range(len(units) - 1):
        a = units[i]
        if not is_open(a):
            continue
        j = _next_index(units, i)
        if j is None or units[j].role != "body":
            continue
        b = units[j]
        a_text, b_text = a.text.text, b.text.text
        across = [units[k].first.number for k in range(i + 1, j)]
        proposals.append(
            Proposal(
                id=proposal_id("join", source, [a.blocks[-1].key, b.first.key]),
                kind="page_break_join",
                detector="detect_page_break_joins",
                blocks=(a.first.number, b.first.number),
                summary=(
                    f"join block {a.blocks[-1].number} “{_excerpt(a_text, tail=True)}” with "
                    f"block {b.first.number} “{_excerpt(b_text)}”"
                    + (
                        f" across page furniture (block {', '.join(map(str, across))})"
                        if across
                        else ""
                    )
                ),
                reason=(
                    "the paragraph ends without a sentence stop and the next paragraph "
                    "continues the sentence (page break)"
                ),
                before=f"{_excerpt(a_text, tail=True)}¶{_excerpt(b_text)}",
                after=f"{_excerpt(a_text, tail=True)}{_excerpt(b_text)}",
            )
        )
    return proposals


# Page furniture: a running head, a page number or a date line printed where a page breaks.
FURNITURE_ROLE = "furniture"
FURNITURE_MAX_CHARS = 40
_PAGE_NUMBER_RE = re.compile(r"[\s\-—–·|]*(?:第\s*)?\d{1,4}\s*[版页]?[\s\-—–·|]*")
_SENTENCE_MARKS = frozenset("，,、；;。！？!?：:“”")


def is_furniture_text(text: str) -> bool:
    """A short line without sentence or clause punctuation (what page furniture looks like)."""
    return (
        0 < len(text) <= FURNITURE_MAX_CHARS
        and not any(c in _SENTENCE_MARKS for c in text)
        and not is_sentence_like(text)
    )


def detect_page_furniture(units: Sequence[Unit], source: str) -> list[Proposal]:
    """Propose role `furniture` for page numbers and running heads printed in the text flow.

    A body line is page furniture when it is only a page number ("— 12 —", "第3版"), or when
    it looks like furniture (short, no sentence or clause punctuation) and stands where a
    page breaks inside a sentence: after a paragraph that stops mid-sentence and before a
    body paragraph. Furniture is kept (with its role) but skipped by the joins and left out
    of fact extraction.
    """
    proposals = []
    for i, u in enumerate(units):
        text = u.text.text
        if u.role != "body" or not is_furniture_text(text):
            continue
        page_number = _PAGE_NUMBER_RE.fullmatch(text) is not None
        between = 0 < i < len(units) - 1 and is_open(units[i - 1]) and units[i + 1].role == "body"
        if not (page_number or between):
            continue
        proposals.append(
            Proposal(
                id=proposal_id("furn", source, [u.first.key]),
                kind="page_furniture",
                detector="detect_page_furniture",
                blocks=(u.first.number,),
                summary=f"block {u.first.number} “{text}” is page furniture, not text",
                reason=(
                    "a page number"
                    if page_number
                    else "a short line without punctuation printed inside a sentence that "
                    "runs on from the paragraph before it to the one after it"
                ),
                before="body",
                after=FURNITURE_ROLE,
            )
        )
    return proposals


def _content(text: str) -> str:
    """The characters that carry content: no punctuation (CJK or ASCII), no spaces."""
    return _NON_CONTENT_RE.sub("", text)


def _coverage(grams: list[str], haystack: str, n: int, threshold: float = 0.0) -> float:
    """Share of the characters covered by those n-grams of a text (`grams`, in order) that occur
    in `haystack`. Substring search in C over the short window beats building n-gram sets.

    With a `threshold`, gives up (returning 0.0) as soon as too many characters are left
    uncovered to reach it: most paragraphs are not pull quotes and fail early.
    """
    if not grams:
        return 0.0
    length = len(grams) + n - 1
    allowed = (1.0 - threshold) * length
    covered_until = covered = 0
    for i, g in enumerate(grams):
        if g in haystack:
            covered += n if i >= covered_until else i + n - covered_until
            covered_until = i + n
        elif threshold and i + 1 - min(covered, i + 1) > allowed:
            return 0.0
    return covered / length


def _article_bounds(units: Sequence[Unit]) -> list[tuple[int, int]]:
    """(start, end) unit indices of the article each unit belongs to."""
    starts = [i for i, u in enumerate(units) if u.role == "title"] or [0]
    bounds: list[tuple[int, int]] = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(units)
        bounds.extend([(start, end)] * (end - start if k else end))
    return bounds


def detect_pull_quotes(units: Sequence[Unit], source: str) -> list[Proposal]:
    """Propose role pull_quote for short paragraphs that restate nearby text."""
    n = PULL_QUOTE_NGRAM
    contents: list[str | None] = [None] * len(units)

    def content_of(j: int) -> str:
        c = contents[j]
        if c is None:
            c = contents[j] = _content(units[j].text.text)
        return c

    bounds = _article_bounds(units)
    proposals = []
    for i, unit in enumerate(units):
        text = unit.text.text
        if (
            unit.role != "body"
            or len(text) > PULL_QUOTE_MAX_CHARS
            or len(split_sentences(text)) > PULL_QUOTE_MAX_SENTENCES
        ):
            continue
        content = content_of(i)
        if len(content) < n:
            continue
        lo_a, hi_a = bounds[i]
        window = set(range(max(lo_a, i - PULL_QUOTE_WINDOW), min(hi_a, i + PULL_QUOTE_WINDOW + 1)))
        # A deck right before a heading previews the section that heading opens.
        if i + 1 < hi_a and units[i + 1].role in ("heading", "subheading"):
            level = _rank(units[i + 1])
            j = i + 2
            while j < hi_a and not (
                units[j].role in ("heading", "subheading") and _rank(units[j]) <= level
            ):
                window.add(j)
                j += 1
        window.discard(i)
        # Restated text is longer than the restatement; headings count whatever their length.
        sources = [
            j
            for j in sorted(window)
            if units[j].role in HEADING_ROLES
            or (units[j].role != "byline" and len(content_of(j)) > len(content))
        ]
        if not sources:
            continue
        grams = [content[k : k + n] for k in range(len(content) - n + 1)]
        haystack = "\x00".join([content_of(j) for j in sources])
        coverage = _coverage(grams, haystack, n, PULL_QUOTE_THRESHOLD)
        if coverage < PULL_QUOTE_THRESHOLD:
            continue
        # The closest single source: the one sharing the most n-grams (first on a tie).
        best = max(sources, key=lambda j: sum(map(content_of(j).__contains__, grams)))
        best_score = _coverage(grams, content_of(best), n)
        proposals.append(
            Proposal(
                id=proposal_id("pullq", source, [unit.first.key]),
                kind="pull_quote",
                detector="detect_pull_quotes",
                blocks=(unit.first.number,),
                summary=(
                    f"block {unit.first.number} “{_excerpt(text, 16)}” restates block "
                    f"{units[best].first.number} “{_excerpt(units[best].text.text, 16)}”"
                ),
                reason=(
                    f"{coverage:.0%} of its characters lie in {n}-character runs shared with "
                    f"nearby text (threshold {PULL_QUOTE_THRESHOLD:.0%}); closest: block "
                    f"{units[best].first.number} ({best_score:.0%})"
                ),
                before="body",
                after="pull_quote",
                score=round(coverage, 4),
            )
        )
    return proposals


def _rank(unit: Unit) -> int:
    """Nesting rank of a heading: Markdown level, numbered sub-headings one level deeper."""
    return unit.level if unit.role != "subheading" else 7


def detect_punctuation(units: Sequence[Unit], source: str) -> list[Proposal]:
    """Propose full-width punctuation in Chinese text, one proposal per raw block."""
    proposals = []
    for unit in units:
        positions = fullwidth_positions(unit.text.text)
        if not positions:
            continue
        by_block: dict[int, list[int]] = {}
        if len(unit.blocks) == 1:
            by_block[unit.first.number] = positions
        else:
            for p, number in zip(positions, unit.text.blocks_at(positions), strict=True):
                by_block.setdefault(number, []).append(p)
        blocks = {b.number: b for b in unit.blocks}
        for number, clean_positions in by_block.items():
            block = blocks[number]
            chars = "".join(sorted({unit.text.text[p] for p in clean_positions}))
            proposals.append(
                Proposal(
                    id=proposal_id("punct", source, [block.key]),
                    kind="punctuation",
                    detector="detect_punctuation",
                    blocks=(number,),
                    summary=(
                        f"block {number}: {len(clean_positions)} half-width marks ({chars}) "
                        f"to full width in “{_excerpt(block.text.text, 16)}”"
                    ),
                    reason="half-width punctuation in Chinese text (zhon character classes)",
                    before=chars,
                    after="".join(HALF_TO_FULL[c] for c in chars),
                    positions=tuple(clean_positions),
                )
            )
    return proposals


# Characters that Chinese doubles as a word of its own (常常, 渐渐, 层层, 一一 ...): a doubled
# one of these is language, not damage. Any other doubled character the text never doubles
# elsewhere is proposed, unless the two halves read as two words of the text meeting.
REDUPLICATING = frozenset(
    "常渐纷频屡往仅刚稍人个年日月天层步处事时家户种样条件一多大深高默悄紧牢稳久明好点"
    "滴方面片串星形色兢业岁代世辈"
)


# A character followed by itself (found in C; most paragraphs have none).
_DOUBLED_RE = re.compile(r"(\w)\1")


def detect_doubled_chars(units: Sequence[Unit], source: str) -> list[Proposal]:
    """Propose removing a character printed twice ("产产业"), one proposal per occurrence.

    Evidence from the text: the doubled pair occurs nowhere else in it, and the character is
    not one Chinese doubles as a word (REDUPLICATING). Two words that meet on one character
    ("企业" + "业务") are proposed too, and left to the reviewer to reject: counting the
    text's bigrams does not tell them from a misprint inside a word ("过程中中的" reads
    "过程中的", yet "程中" and "中的" both recur), and such meetings are rare in this register.
    """
    evidence: TextEvidence | None = None
    proposals = []
    for unit in units:
        text = unit.text.text
        for match in _DOUBLED_RE.finditer(text):
            i, x = match.start(), match.group(1)
            if x in REDUPLICATING or not is_han(x):
                continue
            if evidence is None:
                evidence = TextEvidence(units)
            if evidence.count(x + x) > 1:
                continue
            a = text[i - 1] if i else ""
            b = text[i + 2] if i + 2 < len(text) else ""
            (block,) = unit.text.blocks_at([i + 1])
            raw_block = next(bl for bl in unit.blocks if bl.number == block)
            (raw_start, _), (_, raw_end) = unit.text.raw_char_spans([i, i + 1])
            proposals.append(
                Proposal(
                    id=proposal_id(
                        "dup", source, [raw_block.key, str(raw_start - raw_block.start)]
                    ),
                    kind="doubled_char",
                    detector="detect_doubled_chars",
                    blocks=(block,),
                    summary=(
                        f"block {block}: “{x}{x}” printed twice in “{text[max(0, i - 8) : i + 10]}”"
                    ),
                    reason=(
                        f"“{x}{x}” occurs nowhere else in the text and {x} is not doubled as "
                        f"a word; “{a}{x}{b}” reads without the repeat"
                    ),
                    before=x + x,
                    after=x,
                    positions=(i,),
                )
            )
    return proposals
