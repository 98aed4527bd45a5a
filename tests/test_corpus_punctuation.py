"""Half-width → full-width punctuation in Chinese text, sentence splitting, sentence ends."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.corpus.punctuation import (
    FULL_TO_HALF,
    HALF_TO_FULL,
    fullwidth_positions,
    is_chinese,
    is_han,
    is_terminated,
    split_sentences,
    to_fullwidth,
)

HAN = "先进制造业集群产业链我国新型显示中文"
LATIN = "ABCDEFTLMNOPabcxyz0123456789.%-+/"
MARKS = "".join(HALF_TO_FULL)

# Text that mixes Han, Latin, digits, spaces, CJK punctuation and the marks in both widths.
mixed_text = st.text(
    alphabet=st.sampled_from(list(HAN + LATIN + MARKS + "".join(FULL_TO_HALF) + " 、。“”《》")),
    max_size=60,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("党的十九大以来,我国", "党的十九大以来，我国"),
        ("2019年24家胜出;2020年20家胜出", "2019年24家胜出；2020年20家胜出"),
        ("电子信息(7个)、软件", "电子信息（7个）、软件"),
        ("已超过25%,产品主要用于", "已超过25%，产品主要用于"),
        ("与TFT-LCD相比,AMOLED量产", "与TFT-LCD相比，AMOLED量产"),
        ("时间:2020年", "时间：2020年"),
        ("是否可行?是的!", "是否可行？是的！"),
        ("(一)国家高度重视", "（一）国家高度重视"),
        ("面板(AMOLED)产线", "面板（AMOLED）产线"),
    ],
)
def test_marks_in_chinese_text_become_full_width(raw, clean):
    assert to_fullwidth(raw) == clean


@pytest.mark.parametrize(
    "text",
    [
        "TFT-LCD",
        "93.5%",
        "Mini/Micro LED",
        "“1+N”",
        "1,000 units",
        "ratio 3:2",
        "LED(2)",
        "Hello, world! Is it (really) so?",
        "“3+3+2”",
    ],
)
def test_latin_terms_and_numbers_keep_their_marks(text):
    assert to_fullwidth(text) == text


def test_numbers_inside_chinese_text_keep_their_marks():
    # The comma and colon between digits belong to the number, not to the Chinese sentence.
    assert to_fullwidth("产量达1,000台,比例为3:2。") == "产量达1,000台，比例为3:2。"


def test_a_matched_pair_is_converted_as_a_pair():
    # The closing parenthesis sits between Latin letters, its partner opens after Han.
    assert to_fullwidth("产品(Mini LED)") == "产品（Mini LED）"
    assert to_fullwidth("x (中文) y") == "x （中文） y"


def test_zhon_classes():
    assert is_han("集") and not is_han("A") and not is_han("，")
    assert is_chinese("，") and is_chinese("《") and is_chinese("集")
    assert not is_chinese(",") and not is_chinese("A") and not is_chinese("7")


@settings(max_examples=300, deadline=None)
@given(mixed_text)
def test_conversion_is_idempotent(text):
    once = to_fullwidth(text)
    assert to_fullwidth(once) == once


@settings(max_examples=300, deadline=None)
@given(mixed_text)
def test_length_kept_and_only_listed_marks_change(text):
    out = to_fullwidth(text)
    assert len(out) == len(text)
    for before, after in zip(text, out, strict=True):
        if before != after:
            assert before in HALF_TO_FULL
            assert after == HALF_TO_FULL[before]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(LATIN + MARKS + " ")), max_size=40))
def test_text_without_chinese_is_unchanged(text):
    assert to_fullwidth(text) == text


latin_run = st.text(alphabet=st.sampled_from(list(LATIN + ",:;?! ")), min_size=3, max_size=20)
han_run = st.text(alphabet=st.sampled_from(list(HAN)), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(han_run, latin_run, han_run)
def test_marks_inside_a_latin_run_are_unchanged(left, run, right):
    text = left + run + right
    out = to_fullwidth(text)
    start = len(left)
    for k in range(1, len(run) - 1):
        i = start + k
        if text[i] not in HALF_TO_FULL:
            continue
        inner_left = run[:k].rstrip(MARKS + " ")
        inner_right = run[k + 1 :].lstrip(MARKS + " ")
        if inner_left and inner_right:  # both nearest neighbours are Latin: not Chinese text
            assert out[i] == text[i], (text, i)


@settings(max_examples=300, deadline=None)
@given(han_run, st.sampled_from(list(MARKS)), han_run)
def test_a_mark_between_han_characters_is_converted(left, mark, right):
    if mark in "()":
        return  # a lone parenthesis is covered by the pair tests
    assert to_fullwidth(left + mark + right) == left + HALF_TO_FULL[mark] + right


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(HAN + LATIN + "() ")), max_size=40))
def test_no_pair_is_left_half_converted(text):
    out = to_fullwidth(text)
    stack = []
    for i, c in enumerate(out):
        if c in "(（":
            stack.append(i)
        elif c in ")）" and stack:
            j = stack.pop()
            assert (out[j] == "(") == (c == ")"), out


def test_positions_are_sorted_indices_of_half_width_marks():
    text = "我国,先进(制造)业; OK, fine"
    positions = fullwidth_positions(text)
    assert positions == sorted(positions)
    assert all(text[p] in HALF_TO_FULL for p in positions)
    assert [text[p] for p in positions] == [",", "(", ")", ";"]


def test_split_sentences_uses_stops_and_keeps_closing_quotes():
    text = "第一句。第二句“引语。”第三句！没有句号"
    parts = [text[a:b] for a, b in split_sentences(text)]
    assert parts == ["第一句。", "第二句“引语。”", "第三句！", "没有句号"]
    assert "".join(parts) == text


def test_split_sentences_does_not_split_on_decimal_points():
    text = "占比达93.5%。整体投资规模超过1.2万亿元。"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "占比达93.5%。",
        "整体投资规模超过1.2万亿元。",
    ]


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("满足三个“要求”。", True),
        ("提出“要求”。”", True),
        ("主要包括:", True),
        ("一是加强协同;", True),
        ("以中低", False),
        ("广东、河北、", False),
        ("需", False),
        ("是什么?", True),
        ("", False),
    ],
)
def test_is_terminated(text, ends):
    assert is_terminated(text) is ends
