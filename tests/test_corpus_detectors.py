"""Each detector on small made-up texts: where it must fire and where it must not."""

from __future__ import annotations

import re

import pytest

from analysis.corpus.detectors import (
    detect_doubled_chars,
    detect_page_break_joins,
    detect_page_furniture,
    detect_pull_quotes,
    detect_punctuation,
    detect_reading_order,
    starts_mid_sentence,
)
from analysis.corpus.origin import ArticleOrigin, SourceOrigin
from analysis.corpus.parse import parse_units

SOURCE = "doc.txt"


def units_of(md: str):
    """Parse a made-up document whose `#`/`##`+byline titles are taken as its articles."""
    titles = re.findall(r"^#{1,6} (.+)$", md, flags=re.M)
    articles = []
    for k, title in enumerate(titles, start=1):
        after = md.split(title, 1)[1].strip().split("\n\n", 1)[0]
        if k == 1 or (" " in after and "，" not in after and "。" not in after):
            parts = after.split()
            institute, authors = (parts[0], parts[1:]) if len(parts) > 1 else ("某所", [])
            articles.append(ArticleOrigin(f"a{k}", title, institute, tuple(authors)))
    origin = SourceOrigin("doc.txt", SOURCE, 0, "utf-8", "test", tuple(articles))
    return parse_units(md, origin, "doc.txt")


def texts(units):
    return [u.text.text for u in units]


# --- page-break joins -------------------------------------------------------------------


def test_join_fires_on_a_sentence_split_across_a_page_break():
    units = units_of(
        "# 题\n\n某所 甲\n\n培育发展先进制造业集群，需\n\n要通过健全体制机制，增强竞争力。\n"
    )
    (p,) = detect_page_break_joins(units, SOURCE)
    assert p.kind == "page_break_join"
    assert p.blocks == (3, 4)
    assert "需¶要通过" in p.before and "需要通过" in p.after
    assert p.id.startswith("join-") and len(p.id) == len("join-") + 10


@pytest.mark.parametrize(
    "md",
    [
        # Both paragraphs end their sentences.
        "# 题\n\n某所 甲\n\n第一段，句子完整。\n\n第二段，句子完整。\n",
        # The unterminated line is a heading, not running text.
        "# 题\n\n某所 甲\n\n## 国内OLED产业进入快速上升期\n\n正文，句子完整。\n",
        # A short label without punctuation (a caption) is not a split sentence.
        "# 题\n\n某所 甲\n\n图1 产业规模\n\n正文，句子完整。\n",
        # A paragraph that introduces a list ends with a colon.
        "# 题\n\n某所 甲\n\n主要措施如下：\n\n一是加强协同创新。\n",
        # The next block is a heading: no body paragraph to continue into.
        "# 题\n\n某所 甲\n\n这一段没有结束，\n\n## 下一节\n\n正文。\n",
    ],
)
def test_join_does_not_fire(md):
    assert detect_page_break_joins(units_of(md), SOURCE) == []


def test_join_ids_are_stable_and_content_based():
    md = "# 题\n\n某所 甲\n\n前文，需\n\n要继续。\n"
    first = detect_page_break_joins(units_of(md), SOURCE)[0].id
    # Another paragraph before it shifts every block number but not the id.
    shifted = "# 题\n\n某所 甲\n\n新增的一段，完整。\n\n前文，需\n\n要继续。\n"
    assert detect_page_break_joins(units_of(shifted), SOURCE)[0].id == first
    # A change elsewhere in the source keeps the id; a change to a joined block does not.
    edited = "# 题\n\n某所 乙\n\n前文，需\n\n要继续。\n"
    assert detect_page_break_joins(units_of(edited), SOURCE)[0].id == first
    changed = "# 题\n\n某所 甲\n\n前文，需\n\n要继续下去。\n"
    assert detect_page_break_joins(units_of(changed), SOURCE)[0].id != first
    # Another source (another file) gives another id.
    assert detect_page_break_joins(units_of(md), "other.txt")[0].id != first


# --- reading order ------------------------------------------------------------------------

DISPLACED = """# 集群文章

某所 甲 乙

导语，完整的一句。

## 地方实践

各地积极推进合作，成效显著。

等活动。要注重产业布局与城市发展相匹配。

完善治理机制。这一段完整。

## 显示产业文章

另一所 丙

显示产业的导语，完整。

## 工具箱

强化协同创新。这一段完整。

深化跨区域协作。协同开展技术攻关和市场推广
"""


def test_reading_order_moves_the_displaced_section_before_its_continuation():
    units = units_of(DISPLACED)
    (p,) = detect_reading_order(units, SOURCE)
    assert p.kind == "reading_order"
    by_number = {u.first.number: u.text.text for u in units}
    moved = [by_number[n] for n in p.blocks[:-1]]
    assert moved == [
        "工具箱",
        "强化协同创新。这一段完整。",
        "深化跨区域协作。协同开展技术攻关和市场推广",
    ]
    assert by_number[p.blocks[-1]].startswith("等活动。")


def test_reading_order_needs_an_unfinished_paragraph_to_pair_with():
    # Same orphan, but the last paragraph ends its sentence: nothing was displaced.
    md = DISPLACED.replace("和市场推广\n", "和市场推广。\n")
    assert detect_reading_order(units_of(md), SOURCE) == []


def test_reading_order_needs_a_paragraph_that_starts_mid_sentence():
    md = DISPLACED.replace("等活动。要注重", "各地要注重")
    assert detect_reading_order(units_of(md), SOURCE) == []


def test_a_plain_page_break_is_not_a_reading_order_problem():
    md = "# 题\n\n某所 甲\n\n前文，需\n\n要继续。\n"
    assert detect_reading_order(units_of(md), SOURCE) == []


@pytest.mark.parametrize(
    ("text", "mid"),
    [
        ("等活动。要注重产业布局。", True),
        ("，以及更多内容。", True),
        ("”之后的内容。", True),
        ("新模式。要推动深度融合。", True),  # a three-character "sentence" is a fragment
        ("加强协同创新。要推动深度融合。", False),
        ("要通过健全体制机制，着力增强。", False),
        ("完善集群治理机制。集群作为一种组织。", False),
        ("好。", False),  # a short sentence with nothing after it
    ],
)
def test_starts_mid_sentence(text, mid):
    assert starts_mid_sentence(text) is mid


# --- pull quotes ----------------------------------------------------------------------------

DECKS = """# 显示文章

某所 甲

导语，介绍新型显示产业的发展形势。

## 产业进入快速上升期

2020年，我国新型显示产业规模全球第一，产业进入快速上升期。

2020年，我国新型显示产业整体产值超过4000亿元，产业规模全球第一，多种显示技术竞相发展，产业进入快速上升期。

我国AMOLED产业化进程稍晚于韩国，技术水平稳步提升。
"""


def test_pull_quote_fires_on_a_deck_that_restates_the_next_paragraph():
    units = units_of(DECKS)
    (p,) = detect_pull_quotes(units, SOURCE)
    assert p.kind == "pull_quote"
    quoted = {u.first.number: u.text.text for u in units}[p.blocks[0]]
    assert quoted.startswith("2020年，我国新型显示产业规模全球第一")
    assert p.score is not None and p.score >= 0.8


def test_pull_quote_does_not_fire_on_short_paragraphs_with_new_content():
    md = DECKS.replace(
        "2020年，我国新型显示产业规模全球第一，产业进入快速上升期。",
        "2020年，全球AMOLED面板的渗透率已超过25%。",
    )
    assert detect_pull_quotes(units_of(md), SOURCE) == []


def test_pull_quote_keeps_the_restated_longer_paragraph_as_body():
    # Only the shorter copy is a pull quote, never the paragraph it restates.
    units = units_of(DECKS)
    proposals = detect_pull_quotes(units, SOURCE)
    longer = next(u for u in units if "整体产值" in u.text.text)
    assert all(p.blocks != (longer.first.number,) for p in proposals)


def test_a_deck_before_a_heading_is_compared_with_the_section_it_previews():
    md = """# 集群文章

某所 甲

导语，介绍集群政策。

国家高度重视先进制造业集群发展，工信部开展全国先进制造业集群竞赛。

## 国家大力支持

（一）国家高度重视先进制造业集群发展

近年来，党中央高度重视先进制造业集群发展。

2017年，党的十九大报告明确提出，培育若干世界级先进制造业集群。

2019年，中央经济工作会议提出，打造一批先进制造业集群。

2020年，五中全会提出，推动先进制造业集群发展。

（二）工信部开展全国先进制造业集群竞赛

为深入贯彻落实战略部署，组织开展了全国先进制造业集群竞赛。
"""
    units = units_of(md)
    (p,) = detect_pull_quotes(units, SOURCE)
    assert {u.first.number: u.text.text for u in units}[p.blocks[0]].startswith("国家高度重视")


# --- punctuation ----------------------------------------------------------------------------


def test_punctuation_proposes_one_change_per_raw_block():
    units = units_of("# 题\n\n某所 甲\n\n我国,先进(制造)业;\n\n中文，已是全角。\n\nTFT-LCD, OLED\n")
    (p,) = detect_punctuation(units, SOURCE)
    assert p.kind == "punctuation"
    text = {u.first.number: u.text.text for u in units}[p.blocks[0]]
    assert [text[i] for i in p.positions] == [",", "(", ")", ";"]
    assert p.id.startswith("punct-")


# --- reading order from the text's evidence (issue 12) -------------------------------------

BEFORE_ITS_PLACE = """# 集群文章

某所 甲 乙

导语，完整的一句。

## 工具箱

强化协同创新。这一段完整。

深化跨区域协作。协同开展技术攻关和市场推广

## 地方实践

各地积极推进合作，成效显著。

等活动。要注重产业布局与城市发展相匹配。

完善治理机制。这一段完整。
"""


def test_reading_order_finds_a_fragment_printed_before_its_place():
    units = units_of(BEFORE_ITS_PLACE)
    (p,) = detect_reading_order(units, SOURCE)
    by_number = {u.first.number: u.text.text for u in units}
    assert [by_number[n] for n in p.blocks[:-1]][0] == "工具箱"
    assert by_number[p.blocks[-1]].startswith("等活动。")


def test_reading_order_pairs_two_fragments_by_the_text_not_by_their_order():
    # Two sections printed at the end of the file, in the opposite order of their places.
    md = """# 文章

某所 甲

导语，完整的一句。

## 地方实践

各地积极推进合作，成效显著。

、人才交流和市场推广等活动。要注重产业布局。

完善治理机制。这一段完整。

## 显示产业

面板企业加快布局。

，2020年有机发光材料本土化率不足10%。

## 材料与设备

首先，国内材料和设备以中低端为主。以有机发光材料为例

## 工具箱

强化协同创新。这一段完整。

深化跨区域协作。协同开展技术攻关
"""
    units = units_of(md)
    by_number = {u.first.number: u.text.text for u in units}
    pairs = {
        by_number[p.blocks[-2]][-4:]: by_number[p.blocks[-1]][:3]
        for p in detect_reading_order(units, SOURCE)
    }
    assert pairs == {"材料为例": "，20", "技术攻关": "、人才"}


def test_reading_order_leaves_an_orphan_without_evidence_alone():
    # The dangling paragraph has no continuation that reads as one: nothing is proposed.
    md = DISPLACED.replace("等活动。要注重", "城市发展方面，要注重")
    assert detect_reading_order(units_of(md), SOURCE) == []


# --- page furniture and doubled characters --------------------------------------------------


@pytest.mark.parametrize("line", ["— 12 —", "第3版", "7", "中国某报 2021年6月8日 第5版"])
def test_page_furniture_between_the_halves_of_a_sentence(line):
    md = (
        f"# 题\n\n某所 甲\n\n培育发展先进制造业集群，需\n\n{line}\n\n"
        "要通过健全体制机制，增强竞争力。\n"
    )
    units = units_of(md)
    (f,) = detect_page_furniture(units, SOURCE)
    assert f.kind == "page_furniture" and f.blocks == (4,)
    for u in units:
        if u.first.number == 4:
            u.role = "furniture"
    (j,) = detect_page_break_joins(units, SOURCE)
    assert j.blocks == (3, 5)


@pytest.mark.parametrize(
    "md",
    [
        # A short line without punctuation between two complete paragraphs: a caption.
        "# 题\n\n某所 甲\n\n第一段，完整。\n\n图1 产业规模\n\n第二段，完整。\n",
        # A label between complete paragraphs.
        "# 题\n\n某所 甲\n\n第一段，完整。\n\n附表\n\n第二段，完整。\n",
    ],
)
def test_page_furniture_needs_a_page_number_or_a_broken_sentence(md):
    assert detect_page_furniture(units_of(md), SOURCE) == []


def test_doubled_character_is_proposed_and_reduplication_is_not():
    md = "# 题\n\n某所 甲\n\n推动产产业集群发展，产业规模常常扩大，大大提高竞争力。\n\n产业集群。\n"
    units = units_of(md)
    (p,) = detect_doubled_chars(units, SOURCE)
    assert p.kind == "doubled_char" and p.before == "产产" and p.after == "产"
    text = {u.first.number: u.text.text for u in units}[p.blocks[0]]
    assert text[p.positions[0] : p.positions[0] + 2] == "产产"


def test_a_doubling_the_text_has_elsewhere_is_not_proposed():
    md = "# 题\n\n某所 甲\n\n企业业务不断拓展。\n\n企业业务也在增长。\n"
    assert detect_doubled_chars(units_of(md), SOURCE) == []
