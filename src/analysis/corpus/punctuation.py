"""Character classes of Chinese text and the half-width → full-width punctuation rule.

The classes come from `zhon` (Han characters, CJK punctuation, sentence stops), not from
hand-written ranges. The rule converts the half-width marks , ; : ( ) ? ! to their full-width
forms when they sit in Chinese text, and leaves them alone inside Latin terms and numbers
("1,000", "3:2", "LED(2)"). "Chinese text" means: the nearest non-space character on either side
that is not itself one of the converted marks is a Han character or CJK punctuation. The marks
themselves are transparent to that test, so the rule is idempotent (a converted mark never turns
a neighbour's context into a Chinese one on a second pass). A matched pair of parentheses is
converted as a pair, so the output never mixes "（...)".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import zhon.hanzi as _hanzi

HALF_TO_FULL: dict[str, str] = {
    ",": "，",
    ";": "；",
    ":": "：",
    "(": "（",
    ")": "）",
    "?": "？",
    "!": "！",
}
FULL_TO_HALF: dict[str, str] = {full: half for half, full in HALF_TO_FULL.items()}

# Sentence-final stops (。！？．｡) and the closing marks that may follow a stop inside the same
# sentence (”」』）》…): Unicode "close" and "final quote" punctuation among zhon's CJK marks.
STOPS: str = _hanzi.stops
CLOSERS: str = "".join(
    c for c in _hanzi.punctuation if unicodedata.category(c) in ("Pe", "Pf")
) + "".join(c for c in "'\")]}" if c not in _hanzi.punctuation)
CJK_PUNCTUATION: str = _hanzi.punctuation

_CHINESE_RE = re.compile(f"[{_hanzi.characters}{re.escape(_hanzi.punctuation)}]")
_HAN_RE = re.compile(f"[{_hanzi.characters}]")
_TARGETS = frozenset(HALF_TO_FULL) | frozenset(FULL_TO_HALF)
# Chinese context for the fast path: Han characters and CJK marks other than the converted ones
# (those are transparent to the rule). Parentheses are left to the pair logic.
_CONTEXT_CLASS = _hanzi.characters + re.escape(
    "".join(c for c in _hanzi.punctuation if c not in FULL_TO_HALF)
)
# The mark comes first in the pattern so the regex engine can skip ahead to candidates.
_NEXT_TO_CHINESE_RE = re.compile(f"[,;:?!](?:(?<=[{_CONTEXT_CLASS}].)|(?=[{_CONTEXT_CLASS}]))")
_HALF_RE = re.compile("[" + re.escape("".join(HALF_TO_FULL)) + "]")
_SENTENCE_RE = re.compile(
    f"[^{re.escape(STOPS)}]*[{re.escape(STOPS)}]+[{re.escape(CLOSERS)}]*|[^{re.escape(STOPS)}]+$"
)


def is_han(char: str) -> bool:
    """True for a Han (CJK ideograph) character as zhon defines it."""
    return _HAN_RE.match(char) is not None


_CHINESE_CACHE: dict[str, bool] = {}


def is_chinese(char: str) -> bool:
    """True for a Han character or a CJK punctuation mark (the context that converts a mark)."""
    # Memoised per character: the answer comes from zhon's classes, the cache only saves the
    # regex call on the hot path (every mark looks at its neighbours).
    hit = _CHINESE_CACHE.get(char)
    if hit is None:
        hit = _CHINESE_CACHE[char] = _CHINESE_RE.match(char) is not None
    return hit


def _neighbour_is_chinese(text: str, index: int, step: int) -> bool:
    """Whether the nearest relevant neighbour of `text[index]` in direction `step` is Chinese."""
    i = index + step
    n = len(text)
    while 0 <= i < n:
        c = text[i]
        if c in _TARGETS or c.isspace():
            i += step
            continue
        return is_chinese(c)
    return False


def _in_chinese_context(text: str, index: int) -> bool:
    # Fast path for the usual case: an immediate neighbour that decides (not a mark, not space).
    cache = _CHINESE_CACHE
    if index:
        c = text[index - 1]
        if c not in _TARGETS and not c.isspace():
            hit = cache.get(c)
            if hit is None:
                hit = is_chinese(c)
            if hit:
                return True
        elif _neighbour_is_chinese(text, index, -1):
            return True
    return _neighbour_is_chinese(text, index, 1)


def _paren_pairs(text: str) -> dict[int, int]:
    """Map the index of each parenthesis (half or full width) to its partner, both ways."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for m in re.finditer("[()（）]", text):
        i = m.start()
        if m.group() in "(（":
            stack.append(i)
        elif stack:
            j = stack.pop()
            pairs[i] = j
            pairs[j] = i
    return pairs


def fullwidth_positions(text: str) -> list[int]:
    """Indices of the half-width marks in `text` that the rule converts to full width."""
    if _HALF_RE.search(text) is None:
        return []
    pairs: dict[int, int] | None = None
    # The usual case in C: a mark right next to a Han character or CJK mark.
    chosen: set[int] = {m.start() for m in _NEXT_TO_CHINESE_RE.finditer(text)}
    for m in _HALF_RE.finditer(text):
        i = m.start()
        if i in chosen:
            continue
        c = m.group()
        if c in "()":
            if pairs is None:
                pairs = _paren_pairs(text)
            partner = pairs.get(i)
            if _in_chinese_context(text, i) or (
                partner is not None and _in_chinese_context(text, partner)
            ):
                chosen.add(i)
                # The partner may already be full width; only a half-width one is converted.
                if partner is not None and text[partner] in HALF_TO_FULL:
                    chosen.add(partner)
        elif _in_chinese_context(text, i):
            chosen.add(i)
    # A pair is also converted when the inside of the parentheses is Chinese: "(7个)" in "7 (7个)".
    if pairs:
        for i, j in pairs.items():
            if i < j and text[i] in "()" and i not in chosen:
                if _HAN_RE.search(text, i + 1, j) is not None:
                    chosen.add(i)
                    if text[j] in HALF_TO_FULL:
                        chosen.add(j)
    return sorted(chosen)


def to_fullwidth(text: str, positions: Iterable[int] | None = None) -> str:
    """Return `text` with the half-width marks in Chinese context (or at `positions`) converted."""
    if positions is None:
        positions = fullwidth_positions(text)
    chars = list(text)
    for i in positions:
        chars[i] = HALF_TO_FULL[chars[i]]
    return "".join(chars)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split `text` into sentences at zhon's stops (plus closing marks); return (start, end) pairs.

    Leading and trailing whitespace of each sentence is left out of its span; a text without a
    stop is one sentence.
    """
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE_RE.finditer(text):
        start, end = m.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def is_terminated(text: str) -> bool:
    """True when `text` ends a sentence: a stop, an ellipsis, a colon or semicolon (either width).

    Trailing closing marks (”》）) are skipped. A colon or semicolon ends a paragraph that
    introduces a list or is one list item; such a paragraph is not a page-break split.
    """
    end = len(text)
    while end > 0 and (text[end - 1].isspace() or text[end - 1] in CLOSERS):
        end -= 1
    if end == 0:
        return False
    return text[end - 1] in _TERMINATORS


_TERMINATORS = frozenset(STOPS + "!?.…:;：；")
