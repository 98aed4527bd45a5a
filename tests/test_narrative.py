"""Narrative: number formatting per language, names, templates rendered from the fact tables."""

from __future__ import annotations

import re

import pytest

from analysis import load
from analysis.errors import UnknownProvinceError
from analysis.report import citations as ct
from analysis.report import contexts
from analysis.report import display as dp
from analysis.report import formatting as fm
from analysis.report import labels as lb
from analysis.report import lang as lg
from analysis.report import markup as mk
from analysis.report import render as rn

# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (4000, "4000亿元", "RMB 400 billion"),
        (12000, "1.2万亿元", "RMB 1.2 trillion"),
        (210, "210亿元", "RMB 21 billion"),
        (10000, "1万亿元", "RMB 1 trillion"),
        (5, "5亿元", "RMB 500 million"),
    ],
)
def test_amounts_in_100m_yuan_read_naturally_in_each_language(value, zh, en):
    assert fm.format_amount(value, "zh") == zh
    assert fm.format_amount(value, "en") == en


def test_numbers_percent_counts_ranks_and_months():
    assert fm.format_percent(93.5, "zh") == "93.5%"
    assert fm.format_percent(70.0, "en") == "70%"
    assert fm.format_count(44, "zh", "个") == "44个"
    assert fm.format_count(44, "en", "个") == "44"
    assert fm.format_number(12000, "en") == "12,000"
    assert fm.format_number(12000, "zh") == "12000"
    assert fm.format_number(0.1 + 0.2, "en") == "0.3"  # no float noise
    assert fm.format_rank(2, "zh") == "第二"
    assert fm.format_rank(2, "en") == "second"
    assert fm.format_rank(13, "en") == "13th"
    assert fm.format_month("2019-08", "zh") == "2019年8月"
    assert fm.format_month("2019-08", "en") == "August 2019"
    assert fm.format_month("2020", "en") == "2020"
    with pytest.raises(ValueError, match="2019-13"):
        fm.format_month("2019-13", "zh")


def test_qualifiers_are_written_as_the_text_means_them():
    assert fm.format_value(4000, "100m_yuan", "zh", "more_than") == "超过4000亿元"
    assert fm.format_value(4000, "100m_yuan", "en", "more_than") == "more than RMB 400 billion"
    assert fm.format_value(10, "percent", "zh", "less_than") == "不足10%"
    assert fm.format_value(10, "percent", "en", "less_than") == "less than 10%"
    assert fm.format_value(10, "category", "zh", "order_of_magnitude", "个") == "数十个"
    # 上百种 means over a hundred (issue 11), not "about a hundred".
    assert fm.format_value(100, "item", "en", "order_of_magnitude") == "more than a hundred"
    with pytest.raises(ValueError, match="more_than"):
        fm.qualify("4", "bigger_than", "en")


def test_lists_in_running_text():
    assert fm.join_items(["江苏", "广东", "浙江"], "zh") == "江苏、广东和浙江"
    assert fm.join_items(["Jiangsu", "Guangdong", "Zhejiang"], "en") == (
        "Jiangsu, Guangdong and Zhejiang"
    )
    assert fm.join_items(["Jiangsu", "Guangdong"], "en") == "Jiangsu and Guangdong"


# --------------------------------------------------------------------------- bad input


def test_unknown_language_is_rejected_with_the_valid_values():
    with pytest.raises(lg.UnknownLanguageError) as exc:
        lg.check_lang("fr")
    message = str(exc.value)
    assert "'fr'" in message and "zh" in message and "en" in message
    with pytest.raises(lg.UnknownLanguageError):
        fm.format_amount(1, "ZH")


def test_unknown_province_is_rejected_with_the_nearest_names():
    assert lb.province_name("苏", "en") == "Jiangsu"
    assert lb.province_name("Tibet", "zh") == "西藏"
    with pytest.raises(UnknownProvinceError) as exc:
        lb.province_name("江素", "zh")
    assert "江苏" in str(exc.value)


# --------------------------------------------------------------------------- templates


def _keys(node, prefix=""):
    if isinstance(node, dict):
        out = set()
        for key, value in node.items():
            out |= _keys(value, f"{prefix}.{key}" if prefix else key)
        return out
    return {prefix}


def test_both_languages_have_the_same_templates():
    # [format] says how each language writes numbers: its keys differ by design (ordinals and
    # month names in English only, 上万 in Chinese only).
    def templates(lang):
        return {k for k in _keys(lg.load_words(lang)) if not k.startswith("format.")}

    assert templates("zh") == templates("en")


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
# Names that contain digits but are not figures of the source.
_ALLOWED = ("SHA-256",)
_CHINESE_COUNT = re.compile(r"[两二三四五六七八九十百千万]+[个家条项省批类种句处篇年月]")


def _literal_text(lang):
    text = (lg.WORDS_DIR / f"{lang}.toml").read_text(encoding="utf-8")
    # The [format] and [map] tables say how numbers are written and how large the map's names
    # are (scales, sizes): they hold no figure of the source, and come last in the file.
    text = text.split("\n[format]", 1)[0]
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    literal = _JINJA.sub("", "\n".join(lines))
    for name in _ALLOWED:
        literal = literal.replace(name, "")
    return literal


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_number_is_typed_into_a_template(lang):
    literal = _literal_text(lang)
    assert re.findall(r"\d", literal) == []
    assert _CHINESE_COUNT.findall(literal) == []


def test_a_missing_template_value_names_the_template():
    with pytest.raises(KeyError, match="cluster_policy.summary.text"):
        rn.render("cluster_policy.summary.text", "zh")


# --------------------------------------------------------------------------- rendered from data


def _without_refs(text):
    """The plain text without the note markers ([1]) that follow key numbers."""
    return re.sub(r"\[\d+\]", "", text)


def _indicator(table, name):
    frame = load(table)
    return frame.loc[frame["indicator"] == name].iloc[0]


def test_cluster_summary_renders_the_numbers_of_the_tables_in_both_languages():
    context = contexts.cluster_context()
    total = int(_indicator("cluster_indicators", "competition_winners")["value"])
    share = float(_indicator("cluster_indicators", "provinces_naming_clusters_share")["value"])
    by_province = load("national_clusters_by_province")
    leader = by_province.loc[by_province["clusters"].idxmax()]
    zh = rn.render("cluster_policy.summary.text", "zh", **context)
    en = rn.render("cluster_policy.summary.text", "en", **context)
    zh_text, en_text = _without_refs(zh.text), _without_refs(en.text)
    assert f"{total}家" in zh_text
    assert f"{total} winning clusters" in en_text
    assert fm.format_percent(share, "zh") in zh_text
    assert leader["province_zh"] in zh_text and leader["province_en"] in en_text
    # Every key number carries a note that quotes its sentence.
    assert zh.notes and all(n.citation.sentence for n in zh.notes)
    quoted = [n.citation.sentence for n in zh.notes]
    assert any(str(total) in s for s in quoted)
    # The note is the sentence alone, its id kept as a data attribute: the title block cites
    # the article once (issue 11, editorial pass 2).
    assert "央地协同培育发展先进制造业集群" not in zh.html
    assert all(f'data-sentence="{n.citation.sentence_id}"' in zh.html for n in zh.notes)


def test_amoled_amounts_follow_the_language_conventions():
    context = contexts.amoled_context()
    investment = _indicator("amoled_indicators", "new_display_investment")
    output = _indicator("amoled_indicators", "amoled_output_value")
    zh = _without_refs(rn.render("amoled_industry.summary.text", "zh", **context).text)
    en = _without_refs(rn.render("amoled_industry.summary.text", "en", **context).text)
    assert fm.format_amount(investment["value"], "zh") in zh  # 1.2万亿元
    assert fm.format_amount(investment["value"], "en") in en  # RMB 1.2 trillion
    assert fm.format_amount(output["value"], "en") in en
    assert "超过" + fm.format_amount(investment["value"], "zh") in zh
    assert "more than " + fm.format_amount(investment["value"], "en") in en


def test_key_notes_link_to_numbered_notes_in_the_html():
    rendered = rn.render("cluster_policy.summary.text", "en", **contexts.cluster_context())
    anchors = re.findall(r'href="#([^"]+)"', rendered.html)
    ids = re.findall(r'<li id="([^"]+)"', rendered.html)
    assert anchors and set(anchors) == set(ids)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_note_markers_are_bracketed_so_they_cannot_read_as_exponents(lang):
    # Old code: <sup>1</sup> right after a key number read as "44¹"; pdftotext gave "441".
    rendered = rn.render("cluster_policy.summary.text", lang, **contexts.cluster_context())
    markers = re.findall(r'<sup class="an-ref"><a href="#[^"]+">([^<]*)</a></sup>', rendered.html)
    assert markers and all(re.fullmatch(r"\[\d+\]", m) for m in markers), markers
    assert re.search(r"\[\d+\]", rendered.text)  # the plain text keeps one pair of brackets
    assert "[[" not in rendered.text
    # The list of notes numbers its items the same way ("[1] ..."), in the page's CSS.
    assert re.search(r'@counter-style an-note \{[^}]*prefix: "\["; suffix: "\] "', dp.REPORT_CSS)
    assert ".an-notes { list-style-type: an-note; }" in dp.REPORT_CSS


def test_source_caption_names_article_and_section():
    rows = load("national_clusters_by_industry")
    zh = ct.source_caption(rows, "zh")
    en = ct.source_caption(rows, "en")
    assert zh.startswith("来源：") and "《央地协同培育发展先进制造业集群》" in zh
    assert "全国先进制造业集群竞赛" in zh
    assert en.startswith("Source: ") and "section" in en


def test_values_are_escaped_in_html():
    rendered = rn.render_inline("charts.province_locator.title", "en", name="<b>x</b>")
    assert "<b>" in rendered  # plain text output keeps the characters...
    section = dp.section_html("province_profile.sentences", "en", variant="empty", name="<b>")
    assert "<b>" not in section.html and "&lt;b&gt;" in section.html  # ...HTML escapes them


def test_table_html_has_caption_source_and_aligned_numbers():
    import pandas as pd

    frame = pd.DataFrame({"省份": ["江苏"], "数量": ["8"]})
    markup = mk.table_html(frame, caption="表", source="来源：x", number_columns=("数量",))
    assert "<caption>表</caption>" in markup and 'class="num">8<' in markup
    assert "来源：x" in markup


def test_templates_are_compiled_once_and_an_edited_one_afresh(monkeypatch):
    """`render._compiled`: after the template process's warm-up (`warm_templates`) a report
    renders without compiling a template; a source edited in between is compiled, and
    renders what it now says."""
    compiled: list[str] = []
    env = rn._environment()
    own = env.from_string

    def counted(source, *args, **kwargs):
        compiled.append(source)
        return own(source, *args, **kwargs)

    monkeypatch.setattr(rn, "_COMPILED", {})
    monkeypatch.setattr(env, "from_string", counted)
    rn.warm_templates()
    warmed = len(compiled)
    assert warmed >= 40  # every template of both words files
    context = contexts.cluster_context()
    before = rn.render("cluster_policy.summary.text", "en", **context).text
    assert rn.render_inline("province_profile.title", "zh", name="江苏").startswith("江苏：")
    assert len(compiled) == warmed, compiled[warmed:]
    summary = lg.check_lang("en").words["cluster_policy"]["summary"]
    edited = summary["text"] + "\n\nEdited: {{ labels | length > 0 }}."
    monkeypatch.setitem(summary, "text", edited)
    after = rn.render("cluster_policy.summary.text", "en", **context).text
    assert compiled[warmed:] == [edited]
    assert "Edited: True." in after and "Edited" not in before
