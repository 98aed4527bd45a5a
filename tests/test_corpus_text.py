"""Clean text that maps back to raw offsets: replacement, joins, same-length changes."""

from __future__ import annotations

import pytest

from analysis.corpus.text import MappedText, Segment, format_spans, parse_spans

RAW = "工业和信息化部部分别于2019年\n\n启动了初赛"


def _text(start: int, end: int, block: int = 1) -> MappedText:
    return MappedText([Segment(RAW[start:end], start, end, block)])


def test_exact_text_maps_characters_one_to_one():
    t = _text(0, 16)
    assert t.raw_spans(3, 7) == [(3, 7)]
    assert t.raw_offset(10) == 10
    assert t.clean_range(7, 10) == (7, 10)


def test_replacement_maps_to_the_whole_raw_range():
    t = _text(0, 16)
    start, end = t.clean_range(0, 10)  # 工业和信息化部部分别
    fixed = t.replace(start, end, "工业和信息化部分别")
    assert fixed.text == "工业和信息化部分别于2019年"
    assert fixed.raw_spans(0, 3) == [(0, 10)]  # inside the replacement: its whole raw range
    assert fixed.raw_spans(9, 10) == [(10, 11)]  # 于 keeps its raw offset
    assert fixed.clean_range(0, 10) is None  # a replaced range can not be replaced again


def test_joined_paragraph_keeps_a_span_per_block_and_merges_within_a_block():
    joined = _text(0, 16, block=1) + _text(18, 23, block=2)
    assert joined.text == "工业和信息化部部分别于2019年启动了初赛"
    assert joined.raw_spans() == [(0, 16), (18, 23)]
    assert joined.raw_spans(14, 18) == [(14, 16), (18, 20)]
    assert joined.blocks_at([0, 15, 16]) == [1, 1, 2]
    assert joined.raw_char_spans([2, 17]) == [(2, 3), (19, 20)]


def test_with_text_needs_the_same_length_and_keeps_the_map():
    t = _text(0, 16)
    same = t.with_text(t.text.replace("于", "於"))
    assert same.raw_spans(10, 11) == [(10, 11)]
    with pytest.raises(ValueError):
        t.with_text("短")


def test_spans_round_trip_through_their_text_form():
    spans = [(6046, 6222), (2863, 2920)]
    assert format_spans(spans) == "6046-6222;2863-2920"
    assert parse_spans(format_spans(spans)) == tuple(spans)
