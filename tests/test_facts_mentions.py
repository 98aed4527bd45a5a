"""The numeric-mention extractor: numerals, units, qualifiers, ranges, lists and exact spans."""

from __future__ import annotations

import cn2an
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.facts.mentions import MentionError, extract, load_lexicon, parse_number


def one(text: str):
    """The single mention of `text` (the test fails if there is not exactly one)."""
    found = extract(text, "t")
    assert len(found) == 1, [m.text for m in found]
    return found[0]


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("十九", 19),
        ("两", 2),
        ("二〇三五", 2035),
        ("一百二十", 120),
        ("百", 100),
        ("1,200", 1200),
        ("93.5", 93.5),
    ],
)
def test_parse_number_reads_arabic_and_chinese_numerals(numeral, value):
    assert float(parse_number(numeral)) == value


def test_parse_number_rejects_what_cn2an_cannot_read():
    with pytest.raises(MentionError, match="七十十"):
        parse_number("七十十")


@pytest.mark.parametrize(
    ("text", "kind", "value", "unit", "measure"),
    [
        ("共有44家集群胜出", "count", 44, "count", "家"),
        ("重点培育汽车、摩托车两大支柱产业集群", "count", 2, "count", "大"),
        ("壮大十强现代优势产业集群", "count", 10, "count", "强"),
        ("一条6代柔性AMOLED产线使用", "generation", 6, "generation", "代"),
        ("浦东开发开放30周年庆祝大会", "anniversary", 30, "year", "周年"),
        ("位居全球第二", "rank", 2, "rank", ""),
        ("沉积设备全球前三家", "top_n", 3, "count", "家"),
        ("占比达93.5%", "percent", 93.5, "percent", ""),
        ("本土化率不足百分之十", "percent", 10, "percent", ""),
    ],
)
def test_kinds_values_and_units(text, kind, value, unit, measure):
    found = [m for m in extract(text, "t") if m.kind == kind]
    assert len(found) == 1
    m = found[0]
    assert (m.value, m.unit, m.measure_word) == (value, unit, measure)
    assert text[m.start : m.end] == m.text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("整体投资规模超过1.2万亿元", 12000),
        ("产值达到210亿元", 210),
        ("四千亿元", 4000),
        ("投资500万元", 0.05),
    ],
)
def test_amounts_are_normalised_to_100m_yuan(text, value):
    m = one(text)
    assert m.kind == "amount" and m.unit == "100m_yuan"
    assert m.value == pytest.approx(value)


def test_an_amount_in_another_currency_keeps_its_unit():
    assert one("产值210亿美元").unit == "100m_usd"


@pytest.mark.parametrize(
    ("text", "qualifier", "word"),
    [
        ("渗透率已超过25%", "more_than", "超过"),
        ("企业20家以上", "at_least", "以上"),
        ("本土化率不足10%", "less_than", "不足"),
        ("近30家企业", "approximately", "近"),
        ("约30家企业", "approximately", "约"),
        ("市场占有率达到70%", "equal", "达到"),
        ("4000多亿元", "more_than", "多"),
        ("30家企业", "equal", ""),
    ],
)
def test_qualifiers(text, qualifier, word):
    m = one(text)
    assert (m.qualifier, m.qualifier_word) == (qualifier, word)


@pytest.mark.parametrize(
    ("text", "low", "high", "kind"),
    [
        ("增长10%~20%", 10, 20, "percent"),
        ("增长10-20%", 10, 20, "percent"),
        ("三至五年", 3, 5, "duration"),
        ("2019-2020年", 2019, 2020, "year"),
    ],
)
def test_ranges(text, low, high, kind):
    m = one(text)
    assert (m.kind, m.value, m.value_high, m.qualifier) == (kind, low, high, "range")


def test_respectively_list_is_linked_and_each_item_is_a_mention():
    text = "退火、刻蚀、激光剥离等设备的前两家市占率总和分别为85%、75%和90%。"
    shares = [m for m in extract(text, "s") if m.kind == "percent"]
    assert [m.value for m in shares] == [85, 75, 90]
    assert {m.distributive for m in shares} == {"respectively"}
    assert {m.list_id for m in shares} == {shares[0].id}


def test_respectively_dates_are_year_months():
    text = "分别于2019年8月和2020年5月，启动了第一批和第二批先进制造业集群初赛"
    found = extract(text, "s")
    assert [m.value_text for m in found if m.kind == "date"] == ["2019-08", "2020-05"]
    assert [m.value for m in found if m.kind == "ordinal"] == [1, 2]


def test_each_applies_to_the_list_before_it():
    found = extract("江苏8个，广东、浙江各7个", "s")
    assert [(m.value, m.distributive) for m in found] == [(8, ""), (7, "each")]


def test_a_list_without_respectively_is_not_distributive():
    found = extract("增长了10%和20%", "s")
    assert [m.distributive for m in found] == ["", ""]
    assert found[1].list_id == found[0].id


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("党的十九大以来", "congress", 19),
        ("党的十九届五中全会审议", "plenum", 19),
        ("“十四五”规划", "plan_period", 14),
        ("一是要满足", "enumerator", 1),
    ],
)
def test_compound_names_are_one_mention(text, kind, value):
    m = one(text)
    assert (m.kind, m.value) == (kind, value)


def test_plenum_keeps_both_ordinals():
    assert one("十九届五中全会").value_text == "19-5"


@pytest.mark.parametrize("label", ["1+N", "3+3+2", "415"])
def test_quoted_system_labels(label):
    m = one(f"构建“{label}”政策体系")
    assert (m.kind, m.value_text, m.value) == ("label", label, None)


def test_a_bare_number_in_quotes_is_a_label_only_when_quoted():
    assert one("构建415体系").kind == "number"


@pytest.mark.parametrize(
    "text",
    [
        "推进长三角一体化",
        "发展十分迅速",
        "四川",
        "“第三方”机构",
        "新一代信息技术",
        "热点之一",
        "有待进一步完善",
    ],
)
def test_words_with_numeral_characters_are_not_mentions(text):
    assert extract(text, "s") == []


def test_indefinite_numbers_carry_their_order_of_magnitude():
    found = extract("包括特种气体等数十个大类，包含各类物资上百种", "s")
    assert [(m.value, m.qualifier, m.qualifier_word) for m in found] == [
        (10, "order_of_magnitude", "数十"),
        (100, "order_of_magnitude", "上百"),
    ]


def test_chinese_year_in_a_title():
    m = one("二〇三五年远景目标")
    assert (m.kind, m.value, m.script) == ("year", 2035, "chinese")


def test_script_of_mixed_numerals():
    assert one("超过1.2万亿元").script == "mixed"
    assert one("2019年8月").script == "arabic"


def test_an_unreadable_numeral_is_kept_as_unparsed():
    m = one("七十十个")
    assert (m.kind, m.value) == ("unparsed", None)


def test_ids_are_stable_and_numbered_in_order():
    found = extract("2019年24家胜出；2020年20家胜出。", "a1-p016-s03")
    assert [m.id for m in found] == [f"a1-p016-s03-m0{i}" for i in range(1, 5)]


def test_the_lexicon_file_is_complete():
    lex = load_lexicon()
    assert {"元", "美元"} <= set(lex.currencies)
    assert lex.qualifiers_before["超过"] == "more_than"
    assert lex.qualifiers_after["以上"] == "at_least"
    assert lex.qualifiers_before["不足"] == "less_than"
    assert {r.id for r in lex.review_rules} >= {"meeting_ordinal", "anniversary", "slogan"}


@given(st.integers(min_value=0, max_value=10**8), st.sampled_from(["个", "家", "条", "种"]))
def test_chinese_numerals_round_trip(n, measure):
    chinese = cn2an.an2cn(n)
    m = one(f"共有{chinese}{measure}企业")
    assert m.value == n and m.measure_word == measure
    assert m.text == f"{chinese}{measure}"


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_arabic_percentages_round_trip(whole, cents):
    text = f"占比{whole}.{cents:02d}%，"
    m = one(text)
    assert m.value == pytest.approx(whole + cents / 100)
    assert text[m.start : m.end] == m.text


def test_fractions():
    m = one("占三分之一")
    assert (m.kind, m.value_text) == ("fraction", "1/3")
    assert m.value == pytest.approx(1 / 3)
    assert one("百分之十").kind == "percent"


def test_a_non_numeric_word_inside_a_numeral_is_not_masked():
    assert one("三万一千家").value == 31000
    assert extract("万一出现风险", "s") == []


def test_a_magnitude_and_its_measure_word_are_one_mention():
    """Issue 12: 1200万台 was the number 1200 and the count 万台 (10,000)."""
    m = one("连接设备超过1200万台")
    assert (m.kind, m.value, m.measure_word, m.magnitude, m.qualifier_word) == (
        "count",
        12_000_000,
        "台",
        "万",
        "超过",
    )
    assert {role for role, *_ in m.parts} == {"number", "magnitude", "unit", "qualifier"}
    text = "连接设备超过1200万台"
    assert [text[s:e] for _, s, e in m.parts] == ["超过", "1200", "万", "台"]


def test_percentage_points_are_not_a_count_and_a_hundred():
    """Issue 12: 3.2个百分点 was the count 3.2个 and the number 百."""
    m = one("较上年提高3.2个百分点")
    assert (m.kind, m.value, m.unit) == ("percentage_point", 3.2, "percentage_point")


def test_cn2an_reads_a_pair_of_digits_as_one_number_the_grammar_as_a_range():
    assert cn2an.cn2an("三四", "normal") == 34  # why the grammar does not hand pairs to cn2an
    m = one("三四家企业")
    assert (m.value, m.value_high) == (3, 4)


def test_a_lexicon_with_an_unknown_qualifier_is_refused(tmp_path):
    from analysis.facts.mentions import MENTION_RULES

    text = MENTION_RULES.read_text(encoding="utf-8").replace(
        '"突破" = "more_than"', '"突破" = "beyond"'
    )
    path = tmp_path / "mention_rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MentionError, match="unknown qualifiers.*beyond"):
        load_lexicon(path)


def test_a_lexicon_with_a_bad_fraction_word_is_refused(tmp_path):
    from analysis.facts.mentions import MENTION_RULES

    text = MENTION_RULES.read_text(encoding="utf-8").replace('"半数" = "1/2"', '"半数" = "half"')
    path = tmp_path / "mention_rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MentionError, match="fraction word '半数'"):
        load_lexicon(path)
