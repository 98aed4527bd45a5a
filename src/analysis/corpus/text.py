"""Clean text that remembers where each character came from in the raw source.

A `MappedText` is a sequence of segments. Each segment holds clean text, the raw character range
it was made from and the raw block (paragraph) it belongs to. A segment is `exact` when its
characters correspond one to one with the raw range (unchanged text, or a same-length
punctuation change); an erratum replacement or an inserted line-join space is not exact and maps
as a whole to its raw range. From this any clean character range maps back to raw spans.
"""

from __future__ import annotations

from typing import NamedTuple


class Segment(NamedTuple):
    """A run of clean text made from `raw[raw_start:raw_end]` of raw block `block`."""

    text: str
    raw_start: int
    raw_end: int
    block: int
    exact: bool = True


class MappedText:
    """Immutable clean text with a map back to raw character offsets."""

    __slots__ = ("segments", "text")

    def __init__(self, segments: list[Segment]) -> None:
        self.segments: tuple[Segment, ...] = tuple([s for s in segments if s.text])
        self.text: str = "".join([s.text for s in self.segments])

    def __len__(self) -> int:
        return len(self.text)

    def __add__(self, other: MappedText) -> MappedText:
        return MappedText([*self.segments, *other.segments])

    def _locate(self, index: int) -> tuple[int, int]:
        """Return (segment number, offset in segment) of clean character `index`."""
        pos = 0
        for k, seg in enumerate(self.segments):
            if index < pos + len(seg.text):
                return k, index - pos
            pos += len(seg.text)
        raise IndexError(index)

    def raw_offset(self, index: int) -> int:
        """Raw offset of clean character `index` (start of its segment's range if not exact)."""
        k, off = self._locate(index)
        seg = self.segments[k]
        return seg.raw_start + off if seg.exact else seg.raw_start

    def clean_range(self, raw_start: int, raw_end: int) -> tuple[int, int] | None:
        """Clean (start, end) of the exact characters made from `raw[raw_start:raw_end]`.

        Returns None unless every raw character in the range is an exact clean character of
        this text, in order and without gaps (so a replacement can be applied safely).
        """
        pos = 0
        start = end = None
        expected = raw_start
        for seg in self.segments:
            n = len(seg.text)
            lo = max(raw_start, seg.raw_start)
            hi = min(raw_end, seg.raw_end)
            if lo < hi:
                if not seg.exact or lo != expected:
                    return None
                if start is None:
                    start = pos + lo - seg.raw_start
                end = pos + hi - seg.raw_start
                expected = hi
            pos += n
        if start is None or expected != raw_end:
            return None
        return start, end

    def replace(self, start: int, end: int, new: str) -> MappedText:
        """Replace clean characters [start, end) by `new`, mapped to their whole raw range."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"cannot replace the empty or out-of-range span {start}-{end}")
        before: list[Segment] = []
        after: list[Segment] = []
        covered: list[tuple[int, int, int]] = []
        pos = 0
        for seg in self.segments:
            n = len(seg.text)
            if pos + n <= start:
                before.append(seg)
            elif pos >= end:
                after.append(seg)
            else:
                a, b = max(start, pos) - pos, min(end, pos + n) - pos
                if a > 0:
                    before.append(_slice(seg, 0, a))
                covered.append((*_raw_bounds(seg, a, b), seg.block))
                if b < n:
                    after.append(_slice(seg, b, n))
            pos += n
        raw_lo = min(c[0] for c in covered)
        raw_hi = max(c[1] for c in covered)
        middle = Segment(new, raw_lo, raw_hi, covered[0][2], exact=False)
        return MappedText([*before, middle, *after])

    def with_text(self, new_text: str) -> MappedText:
        """Return a copy whose text is `new_text`, which must have the same length.

        Used for character-for-character changes such as punctuation width: the raw map stays.
        """
        if len(new_text) != len(self.text):
            raise ValueError("with_text needs a text of the same length")
        out = []
        pos = 0
        for seg in self.segments:
            n = len(seg.text)
            out.append(
                Segment(new_text[pos : pos + n], seg.raw_start, seg.raw_end, seg.block, seg.exact)
            )
            pos += n
        return MappedText(out)

    def raw_char_spans(self, positions: list[int] | tuple[int, ...]) -> list[tuple[int, int]]:
        """Raw (start, end) of each clean character at `positions` (ascending), in one pass."""
        out: list[tuple[int, int]] = []
        segs = self.segments
        k = 0
        seg_start = 0
        last = -1
        for pos in positions:
            if pos < last:
                raise ValueError("positions must be ascending")
            last = pos
            while pos >= seg_start + len(segs[k].text):
                seg_start += len(segs[k].text)
                k += 1
            seg = segs[k]
            if seg.exact:
                off = seg.raw_start + pos - seg_start
                out.append((off, off + 1))
            else:
                out.append((seg.raw_start, seg.raw_end))
        return out

    def blocks_at(self, positions: list[int]) -> list[int]:
        """Raw block number of each clean character at `positions` (ascending), in one pass."""
        out: list[int] = []
        segs = self.segments
        k = 0
        seg_start = 0
        for pos in positions:
            while pos >= seg_start + len(segs[k].text):
                seg_start += len(segs[k].text)
                k += 1
            out.append(segs[k].block)
        return out

    def block_of(self, index: int) -> int:
        """Raw block number of clean character `index`."""
        return self.segments[self._locate(index)[0]].block

    def raw_spans(self, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
        """Raw (start, end) spans of clean characters [start, end), merged within each block."""
        if end is None:
            end = len(self.text)
        if len(self.segments) == 1 and start < end:  # the common case: one unchanged run
            seg = self.segments[0]
            if seg.exact:
                return [(seg.raw_start + start, seg.raw_start + end)]
            return [(seg.raw_start, seg.raw_end)]
        spans: list[tuple[int, int, int]] = []
        pos = 0
        for seg in self.segments:
            n = len(seg.text)
            lo, hi = max(start, pos), min(end, pos + n)
            if lo < hi:
                r_lo, r_hi = _raw_bounds(seg, lo - pos, hi - pos)
                if spans and spans[-1][2] == seg.block and r_lo >= spans[-1][1]:
                    spans[-1] = (spans[-1][0], r_hi, seg.block)
                else:
                    spans.append((r_lo, r_hi, seg.block))
            pos += n
            if pos >= end:
                break
        return [(a, b) for a, b, _ in spans]


def _slice(seg: Segment, a: int, b: int) -> Segment:
    if seg.exact:
        return Segment(seg.text[a:b], seg.raw_start + a, seg.raw_start + b, seg.block, True)
    return Segment(seg.text[a:b], seg.raw_start, seg.raw_end, seg.block, False)


def _raw_bounds(seg: Segment, a: int, b: int) -> tuple[int, int]:
    if seg.exact:
        return seg.raw_start + a, seg.raw_start + b
    return seg.raw_start, seg.raw_end


def format_spans(spans: list[tuple[int, int]]) -> str:
    """Render raw spans as "start-end;start-end"."""
    if len(spans) == 1:
        return f"{spans[0][0]}-{spans[0][1]}"
    return ";".join([f"{a}-{b}" for a, b in spans])


def parse_spans(value: str) -> tuple[tuple[int, int], ...]:
    """Parse "start-end;start-end" back into a tuple of (start, end) pairs."""
    out = []
    for part in value.split(";"):
        a, b = part.split("-")
        out.append((int(a), int(b)))
    return tuple(out)
