"""The second editorial pass of issue 11 (the reader review of 2026-12-01, what was still open):
lean source notes, key points that say what the findings mean, the source audit's repairs in
plain words, and the title block's date bound. Checked on the rendered report bodies (the
notebooks' code run in-process, charts left out: `test_editorial.body`), in both languages.
"""

from __future__ import annotations

import re

import pytest
from test_editorial import body, text

from analysis.report import formatting, tables
from analysis.report.audit import cleaning_audit, reading_order_moves, repairs_by_kind
from analysis.report.lang import load_words

TITLE_EN = "Building a domestic AMOLED industry ecosystem to modernise industrial and supply chains"


def _notes(html: str) -> list[str]:
    return re.findall(r'<ol class="an-notes">(.*?)</ol>', html, flags=re.S)


# --------------------------------------------------------------------------- notes


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_notes_carry_the_sentence_and_not_the_citation(lang):
    """Old code: every note repeated "Source:", the article's title and its section
    (“…” (in Chinese), section “…”): citation boilerplate was half of the AMOLED English text."""
    html = body("amoled_industry", lang)
    notes = "".join(_notes(html))
    assert notes, "the AMOLED report has notes"
    title = TITLE_EN if lang == "en" else "打造本土AMOLED产业生态体系 提升双链现代化水平"
    assert title not in text(notes)
    assert "Source: " not in text(notes) and "原文：" not in text(notes)
    assert "section “" not in text(notes) and "部分）" not in text(notes)
    # Each note still names its sentence (data attribute) and quotes it.
    ids = re.findall(r'<li id="[^"]+" value="\d+" data-sentence="(a2-p\d{3}-s\d{2})">', notes)
    assert len(ids) == notes.count("<li ")
    if lang == "en":
        assert notes.count('<span lang="zh-CN">') == len(ids)


def test_the_article_is_cited_once_not_under_every_table():
    """Old code: each table's caption cited institute and title again; the body of the English
    AMOLED report named its article 17 times. The title block cites it; a table's source line
    names its sections."""
    en = text(body("amoled_industry", "en"))
    assert en.count(TITLE_EN) == 0
    assert "Source: the article, section “The modernisation of industrial" in en
    zh = text(body("amoled_industry", "zh"))
    assert "《打造本土AMOLED产业生态体系 提升双链现代化水平》" not in zh
    assert "来源：原文“" in zh


def test_boilerplate_is_a_small_share_of_the_english_amoled_text():
    """The review measured citation boilerplate at 54% of the English AMOLED text (old code:
    14%, counting only the repeated title, institute and "Source:" / "(in Chinese)" marks)."""
    plain = text(body("amoled_industry", "en"))
    parts = (TITLE_EN, "CCID Think Tank, Institute of Integrated Circuits", " (in Chinese)")
    boiler = sum(plain.count(p) * len(p) for p in (*parts, "Source: "))
    assert boiler / len(plain) < 0.02


# --------------------------------------------------------------------------- key points


def test_cluster_key_points_say_how_concentrated_the_winners_are():
    """Old key points listed the leaders only ("led by Jiangsu (8)")."""
    en = text(body("cluster_policy", "en"))
    assert "The winners are concentrated." in en
    assert (
        "high-end equipment, electronic information, and software and information services "
        "alone hold 50% of them"
    ) in en
    assert "four of these (Jiangsu, Zhejiang, Guangdong and Hubei) hold 26, more than half" in en
    assert "three of them (Jiangsu, Guangdong and Zhejiang) are also among the provinces" in en
    zh = text(body("cluster_policy", "zh"))
    assert "高端装备、电子信息、软件和信息服务三个行业合计占50%" in zh
    assert "江苏、浙江、广东和湖北四省合计26个，超过半数" in zh
    assert "五项措施" in zh and "5项" not in zh


def test_the_amoled_key_points_give_the_articles_verdict():
    en = text(body("amoled_industry", "en"))
    points = en.split("Key points", 1)[1].split("Scale and capacity", 1)[0]
    assert "“still only a large display country, not a strong one”" in points
    assert re.search(r"industry is first\[\d\] in the world by production capacity", points)
    assert "core patents are held by foreign firms" in points
    zh = text(body("amoled_industry", "zh")).split("要点", 1)[1]
    assert "“但还只是显示大国，不是显示强国”" in zh.split("产业规模与产能建设", 1)[0]


@pytest.mark.parametrize("name", ["cluster_policy", "amoled_industry", "source_audit"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_subtitle_does_not_repeat_the_kicker(name, lang):
    """Old code: "What the article states, each figure traced to its sentence" under the site's
    "CCID Think Tank articles, read as data" and above the method line saying the same."""
    words = load_words(lang)
    subtitle = words[name]["subtitle"]
    assert "traced" not in subtitle and "追溯" not in subtitle
    assert subtitle != words[name]["title"]


def test_a_list_whose_item_holds_the_conjunction_stays_readable():
    """Old code: "电子信息和软件和信息服务", "electronic information and software and
    information services"."""
    assert formatting.join_items(["高端装备", "电子信息", "软件和信息服务"], "zh") == (
        "高端装备、电子信息、软件和信息服务"
    )
    assert formatting.join_items(["a", "b", "c and d"], "en") == "a, b, and c and d"
    assert formatting.join_items(["a", "b", "c"], "en") == "a, b and c"
    assert formatting.join_items(["江苏", "广东"], "zh") == "江苏和广东"


# --------------------------------------------------------------------------- source audit


def test_punctuation_is_counted_apart_from_the_repairs():
    """Old code: "257 repairs were accepted", 239 of them half-width commas."""
    kinds = repairs_by_kind().set_index("kind")["accepted"]
    substantive = int(kinds.drop("punctuation").sum())
    en, zh = text(body("source_audit", "en")), text(body("source_audit", "zh"))
    assert f"{substantive} repairs change the words of the text or their order" in en
    assert f"{int(kinds['punctuation'])} half-width punctuation marks" in en
    assert f"改动文字或语序的修复共{substantive}项" in zh
    assert f"{int(kinds.sum())} repairs were accepted" not in en


def test_every_repair_kind_of_the_detectors_has_words_in_both_languages():
    """Old code: the audit listed KIND_ORDER only; page_furniture and doubled_char, kinds of the
    onboarding detectors, had no words."""
    for lang in ("en", "zh"):
        labels_ = load_words(lang)["labels"]
        for kind in repairs_by_kind()["kind"]:
            assert kind in labels_["repair_kinds"] and kind in labels_["repair_kind_notes"]
    assert "Page furniture (running heads" in text(body("source_audit", "en"))
    assert "重复字符（删去" in text(body("source_audit", "zh"))


def test_the_reading_order_repair_is_told_in_plain_words_with_its_text():
    """Old code: only "7 blocks printed after block 52 → after block 27", and no text."""
    (move,) = reading_order_moves()
    assert move["heading"].text == "在探索实践中不断丰富先进制造业集群工具箱"
    assert move["printed_after_article"] == "a2" and move["article_id"] == "a1"
    assert move["tail"]["sentence_id"] == "a1-p059-s04"
    assert move["follows"]["text"].startswith("各地在实践中")
    en, zh = text(body("source_audit", "en")), text(body("source_audit", "zh"))
    assert (
        "the section “Enriching the cluster policy toolbox through practice” of the first "
        "article was printed after the end of the second article"
    ) in en
    assert "“Deepen cross-regional cooperation of clusters.”" in en
    assert "一节，被印在了第二篇文章《打造本土AMOLED产业生态体系 提升双链现代化水平》结束之后" in zh
    # The Chinese edition carries the whole moved text, every paragraph of it.
    for paragraph in move["paragraphs"]:
        assert paragraph["text"] in zh
    # The table's row says where, untruncated.
    rows = tables.repairs(cleaning_audit(), "en")["frame"].to_dict("records")
    row = next(r for r in rows if r["Repair"] == "Reading order")
    assert "…" not in str(row["Before"]) + str(row["After"])


def test_the_problems_left_unrepaired_are_listed():
    en, zh = text(body("source_audit", "en")), text(body("source_audit", "zh"))
    assert "Problems left as the source prints them" in en
    assert "Zhejiang: the text counts 8 areas of action but names only five of them." in en
    assert "Hunan: the text counts 17 selected clusters but names only three of them." in en
    assert "makes no recommendations of its own" in en
    assert "没有提出自己的对策建议" in zh and "浙江：原文称有8个“方面”，但只列出了其中五个。" in zh


# --------------------------------------------------------------------------- title block


@pytest.mark.parametrize(
    ("articles", "lang", "expected"),
    [
        (("a1",), "en", "undated; written in or after November 2020, the latest month"),
        (("a2",), "en", "undated; written in or after May 2021, the latest month"),
        (("a2",), "zh", "未注明；文中提及的最晚月份为2021年5月，成文当不早于此"),
        (("a1", "a2"), "en", "the latest months the texts mention are November 2020 and May 2021"),
    ],
)
def test_the_title_block_gives_the_date_bound_the_text_allows(articles, lang, expected):
    """Old code: "not stated in the source (see the methodology note)" although the AMOLED
    article cites lines as of May 2021. The month is read from the text, not typed."""
    from analysis.publish import site

    assert expected in site.imprint(articles, lang)["date"]


def test_an_article_that_names_no_month_is_simply_undated(monkeypatch):
    from analysis.publish import site

    monkeypatch.setattr(site, "latest_month", lambda article_id: "")
    assert site.imprint(("a1",), "en")["date"] == "undated"
    assert site.imprint(("a1",), "zh")["date"] == "未注明"


# --------------------------------------------------------------------------- reader's pass


def test_quoted_headings_in_a_chinese_series_take_no_enumeration_comma():
    """GB/T 15834: 标有引号的并列成分之间通常不用顿号. Old code: “（二）…”、“地方…”部分."""
    zh = text(body("province_profile", "zh", "江苏"))
    assert "”、“" not in zh
    assert "来源：原文“（二）工业和信息化部开展全国先进制造业集群竞赛”“地方多措并举" in zh


def test_a_profiles_sentence_table_does_not_repeat_its_heading():
    """Old code: the heading "Sentences of the source that mention Jiangsu" and, right under
    it, the table caption with the same words; and 共2句 for 共两句 (GB/T 15835)."""
    en = text(body("province_profile", "en", "江苏"))
    assert en.count("Sentences of the source that mention Jiangsu") == 1
    zh = text(body("province_profile", "zh", "北京"))
    assert zh.count("提到北京的") == 1 and "（共两句）" in zh
    assert "（共一句）" in text(body("province_profile", "zh", "青海"))


def test_cluster_report_slips_of_the_readers_pass():
    """Old code: "湖南的行动计划，原文称有17个“入选集群”" (Hunan's 17 are its provincial
    competition's, not an action plan's); "电子信息（7个）和软件和信息服务（6个）"; "Jiangsu
    names its approach …; Zhejiang names its approach …; Hunan names its approach …"."""
    zh = text(body("cluster_policy", "zh"))
    assert "湖南的行动计划" not in zh and "关于湖南，原文称有17个“入选集群”" in zh
    assert "和软件和信息服务" not in zh
    en = text(body("cluster_policy", "en"))
    assert "names its approach" not in en
    assert "Jiangsu's “1+N” policy system, Zhejiang's “415” system" in en


def test_the_source_audit_does_not_refer_the_reader_to_itself():
    """Old code: the audit's method line said "(see the Source audit report)"."""
    assert "see the Source audit report" not in text(body("source_audit", "en"))
    assert "见“数据来源审计”报告" not in text(body("source_audit", "zh"))
    assert "see the Source audit report" in text(body("amoled_industry", "en"))


def test_the_audit_says_none_rather_than_zero():
    """Old code: "0 are unclassified", "0处尚未分类", "13 checks: 13 passed"."""
    en, zh = text(body("source_audit", "en")), text(body("source_audit", "zh"))
    assert "0 are unclassified" not in en and "none is left unclassified" in en
    assert re.search(r"All \d+ checks passed\.", en) and not re.search(r"checks: \d+ passed", en)
    assert "0处尚未分类" not in zh and "没有尚未分类的数字表述" in zh and "全部通过" in zh
