"""The grammar of Chinese quantities, checked against a table of sentences written for it.

tests/data/quantities.csv (described in tests/data/README.md) holds sentences in the register
of Chinese policy and industry writing, written for this project (not taken from the source),
each with every quantity that `analysis.facts.quantities.read` must find, in order:

    expected = item ; item ; ...          (empty: nothing may be found)
    item     = text|value|unit[|qualifier]
    value    = 12000000 | 3~5 (a range, low~high) | 2/3 (a fraction) | @2021-H1 (value text)

`text` is the mention as written (without an outer qualifier such as 超过), `unit` the
quantity's unit (the measure word of a count: 台, 家; yuan; percent; percentage_point...), and
the qualifier defaults to equal, or range when the value is a range.
"""

from __future__ import annotations

import csv
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.facts.mentions import load_lexicon
from analysis.facts.quantities import quantities_table, read

TABLE = Path(__file__).parent / "data" / "quantities.csv"
FORMS = (
    "magnitude chinese liang zero fullwidth decimal thousands range fraction cheng multiple "
    "percent points bound approx indefinite date period name place none count mixed"
).split()


def _rows() -> list[dict[str, str]]:
    with TABLE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


ROWS = _rows()


def _number(text: str) -> float:
    return float(Fraction(text)) if "/" in text else float(text)


def _expected(spec: str) -> list[tuple]:
    items = []
    for item in filter(None, (s.strip() for s in spec.split(";"))):
        fields = item.split("|")
        assert len(fields) in (3, 4), f"malformed item {item!r}"
        text, value, unit = fields[:3]
        if value.startswith("@"):
            low, high, value_text = None, None, value[1:]
        elif "~" in value:
            a, b = value.split("~")
            low, high, value_text = _number(a), _number(b), None
        else:
            low, high, value_text = _number(value), None, None
        qualifier = fields[3] if len(fields) == 4 else ("range" if high is not None else "equal")
        items.append((text, low, high, value_text, unit, qualifier))
    return items


def _found(sentence: str) -> list[tuple]:
    out = []
    for q in read(sentence):
        out.append((q.text, q.value, q.value_high, q.value_text, q.unit, q.qualifier))
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def _same(found: tuple, expected: tuple) -> bool:
    text, low, high, value_text, unit, qualifier = expected
    if (found[0], found[4], found[5]) != (text, unit, qualifier):
        return False
    if value_text is not None:
        return found[3] == value_text
    return _close(found[1], low) and _close(found[2], high)


def test_the_table_is_large_and_covers_every_form():
    counts = Counter(r["form"] for r in ROWS)
    assert len(ROWS) >= 300
    assert set(counts) == set(FORMS), set(counts) ^ set(FORMS)
    assert all(n >= 8 for n in counts.values()), counts
    assert len({r["sentence"] for r in ROWS}) == len(ROWS), "a sentence is listed twice"
    assert sum(not r["expected"] for r in ROWS) >= 60  # places where nothing must be found


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_sentence(row):
    found, expected = _found(row["sentence"]), _expected(row["expected"])
    assert len(found) == len(expected) and all(
        _same(f, e) for f, e in zip(found, expected, strict=True)
    ), f"{row['sentence']}\n  found    {found}\n  expected {expected}"


# --- the failures of the issue, one test each ------------------------------------------------


def one(text: str):
    found = read(text)
    assert len(found) == 1, [q.text for q in found]
    return found[0]


def test_magnitude_and_measure_word_are_one_quantity():
    q = one("连接设备超过1200万台")
    assert (q.value, q.unit, q.magnitude, q.qualifier, q.qualifier_word) == (
        12_000_000,
        "台",
        "万",
        "more_than",
        "超过",
    )
    assert (q.number_words, q.unit_word, q.phrase) == ("1200", "台", "连接设备")


def test_breaking_through_is_a_bound():
    q = one("用户突破35万家")
    assert (q.value, q.unit, q.qualifier, q.qualifier_word, q.phrase) == (
        350_000,
        "家",
        "more_than",
        "突破",
        "用户",
    )


def test_a_slash_fraction_is_one_quantity():
    q = one("占2/3")
    assert (q.kind, q.unit, q.value_text) == ("fraction", "fraction", "2/3")
    assert q.value == pytest.approx(2 / 3)


def test_percentage_points_are_their_own_unit():
    q = one("较上年提高3.2个百分点")
    assert (q.kind, q.value, q.unit, q.unit_word) == (
        "percentage_point",
        3.2,
        "percentage_point",
        "个百分点",
    )


def test_tenths_with_a_bound():
    q = one("达到三成以上")
    assert (q.value, q.unit, q.qualifier, q.qualifier_word) == (30, "percent", "at_least", "以上")


def test_a_range_with_magnitudes_on_both_ends():
    q = one("投资规模在500亿—800亿元之间")
    assert (q.value, q.value_high, q.unit, q.magnitude, q.qualifier) == (
        5e10,
        8e10,
        "yuan",
        "亿",
        "range",
    )
    assert (q.number_words, q.phrase) == ("500;800", "投资规模")


def test_no_number_inside_a_place_name():
    q = one("京津冀、长三角、珠三角等四个区域")
    assert (q.text, q.value, q.unit, q.phrase) == ("四个", 4, "个", "区域")


# --- property tests: generate quantities, render them, parse them back -----------------------

_CN_DIGITS = "零一二三四五六七八九"


def _chinese(n: int) -> str:
    """A positive integer below 10^8 in Chinese numerals (our own renderer, not cn2an's)."""

    def below_10000(k: int, leading: bool) -> str:
        out, zero = "", False
        for value, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d, k = divmod(k, value)
            if d:
                if zero:
                    out += "零"
                out += "" if (value == 10 and d == 1 and not out and leading) else _CN_DIGITS[d]
                out += name
                zero = False
            elif out:
                zero = True
        return out

    high, low = divmod(n, 10_000)
    if not high:
        return below_10000(low, True)
    text = below_10000(high, True) + "万"
    if low:
        text += ("零" if low < 1000 else "") + below_10000(low, False)
    return text


_MEASURES = st.sampled_from(["家", "个", "台", "项", "条", "辆", "人"])
_MAGNITUDES = st.sampled_from([("", 1), ("万", 10**4), ("亿", 10**8)])
_BOUNDS = st.sampled_from(
    [("", "", "equal"), ("超过", "", "more_than"), ("突破", "", "more_than"),
     ("约", "", "approximately"), ("近", "", "approximately"), ("不足", "", "less_than"),
     ("", "以上", "at_least"), ("", "左右", "approximately"), ("", "以下", "at_most")]
)  # fmt: skip


_FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
_RENDER = st.sampled_from(["plain", "thousands", "full_width"])


def _arabic(n: int, how: str) -> str:
    """n in Arabic digits: plain (1200), with thousands separators (1,200) or full-width."""
    if how == "thousands":
        return f"{n:,}"
    return str(n).translate(_FULL_WIDTH) if how == "full_width" else str(n)


@given(st.integers(1, 99_999), _RENDER, _MAGNITUDES, _MEASURES, _BOUNDS)
def test_arabic_counts_round_trip(n, how, magnitude, measure, bound):
    word, factor = magnitude
    before, after, qualifier = bound
    q = one(f"全省{before}{_arabic(n, how)}{word}{measure}{after}企业参与，")
    assert (q.value, q.unit, q.qualifier, q.magnitude) == (n * factor, measure, qualifier, word)


@given(st.integers(1, 99_999_999), _MEASURES)
def test_chinese_counts_round_trip(n, measure):
    q = one(f"共有{_chinese(n)}{measure}")
    assert (q.value, q.unit) == (n, measure)


@given(st.integers(1, 9999), st.integers(1, 9999), _MAGNITUDES, st.sampled_from("—–~至到"))
def test_amount_ranges_round_trip(a, b, magnitude, sep):
    low, high = sorted((a, b))
    word, factor = magnitude
    q = one(f"投资{low}{word}{sep}{high}{word}元")
    assert (q.value, q.value_high, q.unit) == (low * factor, high * factor, "yuan")


@given(st.integers(0, 999), st.integers(0, 9), st.booleans())
def test_percentages_and_points_round_trip(whole, tenth, points):
    number = f"{whole}.{tenth}"
    q = one(f"增长{number}{'个百分点' if points else '%'}，")
    assert q.value == pytest.approx(whole + tenth / 10)
    assert q.unit == ("percentage_point" if points else "percent")


@given(st.integers(1, 9), st.integers(2, 12))
def test_fractions_round_trip(n, d):
    q_slash = one(f"占{n}/{d}")
    q_words = one(f"占{_chinese(d)}分之{_chinese(n)}")
    assert q_slash.value == pytest.approx(n / d) == q_words.value


@given(st.integers(1, 9), st.sampled_from(["", "以上", "左右"]))
def test_tenths_round_trip(n, after):
    q = one(f"达到{_CN_DIGITS[n] if n != 2 else '两'}成{after}")
    assert (q.value, q.unit) == (n * 10, "percent")


@given(st.integers(1990, 2035), st.sampled_from(sorted(load_lexicon().grammar.periods)))
def test_periods_round_trip(year, period):
    q = one(f"{year}年{period}，")
    assert q.value_text == f"{year}-{load_lexicon().grammar.periods[period]}"


def test_the_quantities_table_keeps_only_body_sentences_and_no_names():
    class S:  # the fields of FactSentence that the table reads
        def __init__(self, sid, role, text):
            self.id, self.article_id, self.role, self.text = sid, "a1", role, text

    from analysis.facts.mentions import extract

    sentences = [
        S("a1-p001-s01", "heading", "二、培育10个集群"),
        S("a1-p002-s01", "body", "“十四五”时期，连接设备超过1200万台。"),
    ]
    mentions = {s.id: extract(s.text, s.id) for s in sentences}
    rows = quantities_table(sentences, mentions, load_lexicon(), {"body", "lede"})
    assert [(r["quantity_id"], r["value"], r["unit"], r["quote"]) for r in rows] == [
        ("a1-p002-s01-m02", 12_000_000.0, "台", "连接设备超过1200万台")
    ]


def test_the_source_quantities_table_loads_with_its_schema():
    """data/processed/quantities.csv, through analysis.load: typed, validated, in its units."""
    from analysis import load

    df = load("quantities")
    assert len(df) >= 80 and df["quantity_id"].is_unique
    row = df[df["text"] == "1.2万亿元"].iloc[0]
    assert (row["value"], row["unit"], row["magnitude"], row["qualifier"], row["phrase"]) == (
        1.2e12,
        "yuan",
        "万亿",
        "more_than",
        "整体投资规模",
    )
    assert not df["kind"].isin(["label", "congress", "plenum", "plan_period"]).any()
    as_of = df[df["qualifier"] == "as_of"].iloc[0]
    assert (as_of["text"], as_of["qualifier_word"], as_of["value_text"]) == (
        "2021年5月",
        "截至",
        "2021-05",
    )


@pytest.mark.parametrize(
    ("sentence", "phrases"),
    [
        ("培育了30家龙头企业，带动50家上下游企业协同发展。", ["龙头企业", "上下游企业"]),
        ("全省规上工业增加值增长9.8%，增速较上年提高3.2个百分点。", ["全省规上工业增加值", "增速"]),
        ("2019年24家胜出。", ["", ""]),
        ("30%的企业完成了改造。", ["企业"]),
        ("项目建设周期为18个月。", ["项目建设周期"]),
        (
            "中国大陆地区已建成生产线13条、在建生产线4条。",
            ["中国大陆地区已建成生产线", "在建生产线"],
        ),
        # Found onboarding tests/data/onboarding_article.txt; written anew here. Old code:
        # 规模 (以上 ended the noun), 受访企业仍面临融资难题, 园区已实现全覆盖, 企业表示将扩大投资,
        # 力争全省工业增加值, 带动就业人数.
        ("全省四成以上的规模以上工业企业实现了数字化改造。", ["规模以上工业企业"]),
        ("约六成的受访企业仍面临融资难题。", ["受访企业"]),
        ("三个园区已实现全覆盖。", ["园区"]),
        ("八成的企业表示将扩大投资。", ["企业"]),
        ("力争全省工业增加值达到5万亿元。", ["全省工业增加值"]),
        ("带动就业人数超过30万人。", ["就业人数"]),
        ("20%的限额以上零售企业开展了网上销售。", ["限额以上零售企业"]),
    ],
)
def test_the_phrase_a_quantity_measures(sentence, phrases):
    assert [q.phrase for q in read(sentence)] == phrases
