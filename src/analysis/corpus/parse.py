"""Parse a raw page extraction into blocks, then into article-structured paragraphs.

A *block* is a maximal run of non-blank lines, except that a Markdown heading line (`#`..`######`)
is always a block of its own. Blocks are numbered 1, 2, ... in raw order; the number is the
stable part of a paragraph id (`a1-p017` is made from block 17), so accepting or rejecting a
repair never renumbers other paragraphs. Each block keeps its raw span: the first to the last
non-blank character, heading markers included, so the spans of all blocks cover every non-blank
character of the file.

Roles found by the parser: `title` (an article heading: level 1, or any heading followed by a
byline, or a heading whose text is a title listed in sources.toml), `byline` (the short line of
institute and authors after a title), `heading` (other Markdown headings), `subheading`
(numbered heads such as (一)/（一）/一、 on their own line) and `body`. The detectors later mark
`pull_quote` and `furniture`, and the pipeline marks the `lede`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import InputError
from .origin import SourceOrigin
from .punctuation import STOPS, is_chinese
from .text import MappedText, Segment

_HEADING_RE = re.compile(r"(#{1,6})[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t\r]*$")
_SUBHEADING_RE = re.compile(
    r"(?:[(（][一二三四五六七八九十百零〇\d]{1,4}[)）]|[一二三四五六七八九十]{1,3}、)\s*\S"
)
_CLAUSE_MARKS = frozenset("，,、；;：:")
_STOP_SET = frozenset(STOPS + "!?")
SUBHEADING_MAX_CHARS = 60
BYLINE_MAX_CHARS = 80


class RawBlock(NamedTuple):
    """One block of the raw text: its number, first line, raw span, heading level and text."""

    number: int
    line: int
    start: int
    end: int
    level: int
    text: MappedText
    raw: str
    occurrence: int = 1

    @property
    def key(self) -> str:
        """Content key for proposal ids: the raw text, plus its occurrence if it repeats."""
        return self.raw if self.occurrence == 1 else f"{self.raw}\x1f{self.occurrence}"


@dataclass
class Unit:
    """A paragraph under repair: the raw blocks it is made of (first one names it) and its role."""

    blocks: list[RawBlock]
    role: str
    text: MappedText
    level: int = 0

    @property
    def first(self) -> RawBlock:
        """The raw block that gives this paragraph its id."""
        return self.blocks[0]


def split_blocks(raw: str) -> list[RawBlock]:
    """Split raw text into numbered blocks with raw spans and clean, line-joined text."""
    blocks: list[RawBlock] = []
    seen: dict[str, int] = {}
    pending: list[tuple[int, int, int, bool]] = []  # (line no, content start, content end, hard)

    def flush() -> None:
        if not pending:
            return
        number = len(blocks) + 1
        segments: list[Segment] = []
        for k, (_, s, e, _hard) in enumerate(pending):
            if k:
                prev_end = pending[k - 1][2]
                left, right = raw[prev_end - 1], raw[s]
                # Chinese lines wrap without a space; Latin words and Markdown hard breaks
                # (two trailing spaces) keep one.
                if pending[k - 1][3] or not (is_chinese(left) or is_chinese(right)):
                    segments.append(Segment(" ", prev_end, s, number, exact=False))
            segments.append(Segment(raw[s:e], s, e, number))
        start, end = pending[0][1], pending[-1][2]
        text = raw[start:end]
        seen[text] = seen.get(text, 0) + 1
        blocks.append(
            RawBlock(number, pending[0][0], start, end, 0, MappedText(segments), text, seen[text])
        )
        pending.clear()

    line_start = 0
    for line_no, line in enumerate(raw.split("\n"), start=1):
        offset = line_start
        line_start += len(line) + 1
        content = line.strip()
        if not content:
            flush()
            continue
        content_start = offset + len(line) - len(line.lstrip())
        content_end = content_start + len(content)
        heading = _HEADING_RE.match(raw, content_start, content_end) if content[0] == "#" else None
        if heading:
            flush()
            number = len(blocks) + 1
            h_start, h_end = heading.span(2)
            text = MappedText([Segment(raw[h_start:h_end], h_start, h_end, number)])
            seen[content] = seen.get(content, 0) + 1
            level = len(heading.group(1))
            blocks.append(
                RawBlock(
                    number, line_no, content_start, content_end, level, text, content, seen[content]
                )
            )
            continue
        pending.append((line_no, content_start, content_end, line.endswith("  ")))
    flush()
    return blocks


def is_subheading_text(text: str) -> bool:
    """A numbered head such as (一)/（一）/一、 standing alone: short and without a stop."""
    return (
        _SUBHEADING_RE.match(text) is not None
        and len(text) <= SUBHEADING_MAX_CHARS
        and not any(c in _STOP_SET for c in text)
    )


def is_byline_text(text: str) -> bool:
    """A short line of names separated by spaces, without sentence or clause punctuation."""
    return (
        len(text) <= BYLINE_MAX_CHARS
        and len(text.split()) >= 2
        and not any(c in _STOP_SET or c in _CLAUSE_MARKS for c in text)
        and not is_subheading_text(text)
    )


def _norm(text: str) -> str:
    return "".join(text.split())


def parse_units(raw: str, origin: SourceOrigin, name: str) -> list[Unit]:
    """Parse `raw` into paragraph units with roles; check the articles against `origin`.

    Raises InputError when the file has no heading, has text before its first article title,
    or when the article titles or bylines differ from the origin record.
    """
    blocks = split_blocks(raw)
    if not blocks:
        raise InputError(f"{name}:1: the file holds no text (only blank lines).")
    if not any(b.level for b in blocks):
        raise InputError(
            f"{name}:{blocks[0].line}: no Markdown heading found. The parser needs the article "
            "titles as `# title` lines; check that this is the page extraction listed in "
            "sources.toml."
        )
    listed_titles = {_norm(a.title) for a in origin.articles}
    units: list[Unit] = []
    for i, block in enumerate(blocks):
        text = block.text.text
        if block.level:
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            followed_by_byline = nxt is not None and not nxt.level and is_byline_text(nxt.text.text)
            is_title = block.level == 1 or followed_by_byline or _norm(text) in listed_titles
            units.append(
                Unit([block], "title" if is_title else "heading", block.text, level=block.level)
            )
        elif units and units[-1].role == "title" and is_byline_text(text):
            units.append(Unit([block], "byline", block.text))
        elif is_subheading_text(text):
            units.append(Unit([block], "subheading", block.text))
        else:
            units.append(Unit([block], "body", block.text))
    if units[0].role != "title":
        first_title = next((u for u in units if u.role == "title"), None)
        where = units[0].first.line
        raise InputError(
            f"{name}:{where}: text before the first article title"
            + (f" (line {first_title.first.line})" if first_title else "")
            + ". Every paragraph must belong to an article under a `# title` heading."
        )
    _check_articles(units, origin, name)
    return units


def _check_articles(units: list[Unit], origin: SourceOrigin, name: str) -> None:
    titles = [u for u in units if u.role == "title"]
    found = [u.text.text for u in titles]
    listed = [a.title for a in origin.articles]
    if [_norm(t) for t in found] != [_norm(t) for t in listed]:
        found_desc = "; ".join(f"line {u.first.line}: {u.text.text}" for u in titles)
        raise InputError(
            f"{name}: the article titles in the text ({found_desc}) differ from the "
            f"[[source.article]] titles in sources.toml ({'; '.join(listed)}). Fix the "
            "origin record (the raw text is never edited)."
        )
    by_title = {u.first.number: a for u, a in zip(titles, origin.articles, strict=True)}
    for k, unit in enumerate(units):
        if unit.role != "byline":
            continue
        article = by_title[units[k - 1].first.number]
        tokens = unit.text.text.split()
        expected = [article.institute, *article.authors]
        if _norm(" ".join(tokens)) != _norm(" ".join(expected)):
            raise InputError(
                f"{name}:{unit.first.line}: the byline {unit.text.text!r} differs from "
                f"sources.toml (institute {article.institute!r}, authors "
                f"{' '.join(article.authors)!r}). Fix the origin record."
            )
