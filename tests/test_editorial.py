"""The editorial pass of issue 11, checked on the rendered report bodies of every report type
in both languages (all 31 profiles): framing the source supports, errata shown as errata, the
English reports wholly English and the Chinese wholly Chinese, no template slips, and the
curated translations and romanised names.

The bodies are what the report notebooks display, rendered in-process (the notebooks' code run
with their charts left out), so the whole set takes a few seconds. The purity checks scope to
that body; the same check (tests/purity.py) runs on whole built pages, footer, alt text, index
and methodology note included, in test_accessibility.py.
"""

from __future__ import annotations

import functools
import re

import nbformat
import pytest
from purity import CJK, purity_errors

from analysis import paths
from analysis.errors import InputError
from analysis.provinces import mainland
from analysis.report import display, labels

HAN = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------- rendered bodies


@functools.cache
def body(name: str, lang: str, province: str | None = None) -> str:
    """The report body a notebook displays, as HTML: its code run in-process, charts left out."""
    nb = nbformat.read(paths.NOTEBOOKS / f"{name}.ipynb", as_version=4)
    shown: list[str] = []
    original = display.show_html
    display.show_html = lambda markup, text=None: shown.append(str(markup))
    try:
        namespace: dict = {}
        for cell in nb.cells:
            if cell.cell_type != "code" or "charts." in cell.source:
                continue
            exec(compile(cell.source, f"{name}:{cell.id}", "exec"), namespace)
            if "parameters" in cell.metadata.get("tags", []):
                namespace["lang"] = lang
                if province is not None:
                    namespace["province"] = province
    finally:
        display.show_html = original
    html = "".join(shown)
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return f'<main lang="{"zh-CN" if lang == "zh" else "en"}">{html}</main>'


def text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&amp;", "&")


def test_nothing_is_escaped_twice():
    """Old code of this pass: the notes' section names printed "China&amp;#39;s"."""
    for lang in ("en", "zh"):
        for name, html in every_body(lang):
            assert not re.search(r"&amp;(#\d+|[a-z]+);", html), name


PROVINCES = [p.short_zh for p in mainland()]
REPORTS = ["cluster_policy", "amoled_industry", "source_audit"]


def every_body(lang: str):
    for name in REPORTS:
        yield name, body(name, lang)
    for p in PROVINCES:
        yield f"province_profile {p}", body("province_profile", lang, p)


# --------------------------------------------------------------------------- language purity


def test_the_purity_check_catches_what_it_should():
    assert purity_errors("<p>Jiangsu 江苏</p>", "en")
    assert purity_errors('<p><span lang="zh-CN">江苏</span></p>', "en")  # no English beside
    assert not purity_errors('<p>Jiangsu (<span lang="zh-CN">江苏</span>)</p>', "en")
    assert purity_errors("<p>江苏 alt text</p>", "zh")
    assert not purity_errors("<p>江苏AMOLED <code>cited_sentences</code></p>", "zh")
    assert not purity_errors('<p>江苏<span lang="en">Jiangsu</span></p>', "zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_report_body_is_wholly_in_its_language(lang):
    """Old code: every English quote, the "Listed in the text" column, the profiles' examples
    and sentence tables were Chinese; the Chinese source audit printed English reasons, kinds,
    checks and table descriptions."""
    errors = {name: purity_errors(html, lang)[:3] for name, html in every_body(lang)}
    assert {name: e for name, e in errors.items() if e} == {}


# --------------------------------------------------------------------------- framing


def test_the_44_are_preliminary_contest_winners_of_two_batches():
    en, zh = text(body("cluster_policy", "en")), text(body("cluster_policy", "zh"))
    assert "preliminary contests of its first two batches" in en
    assert "First batch of the preliminary contest" in en
    assert "cluster development organisations" in en and "集群发展促进机构" in zh
    assert "两批先进制造业集群初赛" in zh and "初赛和决赛两轮" in zh
    for slip in ("in 2 rounds", "Round 1", "Round 2", "rounds of its"):
        assert slip not in en


def test_no_claim_beyond_the_source_and_vague_numbers_as_meant():
    en, zh = text(body("amoled_industry", "en")), text(body("amoled_industry", "zh"))
    assert "fastest-growing" not in en and "增长最快" not in zh
    assert "about a hundred" not in en and "more than a hundred kinds of supplies" in en
    assert "Long supply chains" not in en


def test_the_amoled_report_carries_the_articles_argument_not_only_its_figures():
    en, zh = text(body("amoled_industry", "en")), text(body("amoled_industry", "zh"))
    assert "three weak links" in en and "talent and patents" in en
    assert "a large display country, not a strong one" in en
    assert "人才、专利等配套环境有待进一步完善" in zh and "不是显示强国" in zh


def test_partial_lists_are_said_to_be_partial():
    for html in (body("cluster_policy", "en"), body("province_profile", "en", "浙江")):
        assert "counts 8 areas of action but names only five of them" in text(html)
    assert "但只列出了其中五个" in text(body("province_profile", "zh", "浙江"))


def test_the_audit_says_what_its_checks_show_and_no_more():
    en, zh = text(body("source_audit", "en")), text(body("source_audit", "zh"))
    assert "can be relied on" not in en and "可以作为本系列报告的依据" not in zh
    assert "cannot show" in en and "不能说明" in zh
    # Reasons are whole (old: "…and the May 2…"), in the report's language.
    assert "《广东省人民政府关于培育发展战略性支柱产业集群和战略性新兴产业集群的意见》。" in zh
    assert "is 《广东省人民政府关于培育发展战略性支柱产业集群和战略性新兴产业集群的意见》." in en
    assert "Doubled" not in zh and "characters lie in" not in zh


# --------------------------------------------------------------------------- errata


@pytest.mark.parametrize(("lang", "mark"), [("zh", "〔原文如此〕"), ("en", "[sic]")])
def test_a_corrected_quote_shows_the_source_as_printed_and_the_correction(lang, mark):
    """Old code: Guangdong's corrected title was shown as the "original sentence", unmarked."""
    html = body("province_profile", lang, "广东")
    printed = "《关于培育发展战略性新兴产业集群和战略性新兴产业集群的意见》"
    assert f'<del class="an-printed">{printed}</del>' in html
    assert mark in html and '<ins class="an-corrected">' in html
    assert "战略性支柱产业集群和战略性新兴产业集群" in text(html.split("<ins", 1)[1])


# --------------------------------------------------------------------------- grammar and usage

SLIPS = {
    "en": [
        r"\b1 sentences?\b",
        r"\b0 other",
        r"of the article name\b",
        r"\b(Beijing|Tianjin|Shanghai|Chongqing)\b[^.]*names the province\b",
        r"\b1 (provinces|sentences|clusters)\b",
    ],
    "zh": [
        r"还有0个",
        r"和和辉",
        r"\d批",
        r"\d个“要求”",
        r"尼康\d家",
        r"前\d家",
        r"内地省份",
    ],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_rendered_reports_hold_none_of_the_template_slips(lang):
    found = {}
    for name, html in every_body(lang):
        plain = text(html)
        hits = [p for p in SLIPS[lang] if re.search(p, plain)]
        # A double quote opened inside a double quote (GB/T 15834 wants ‘’ inside), per piece
        # of text (an excerpt cut off with … may leave a quote open).
        pieces = [x for x in re.split(r"<[^>]+>", html) if "…" not in x]
        hits += [x[:40] for x in pieces if re.search(r"“[^”]*“", x)]
        if hits:
            found[name] = hits
    assert found == {}


def test_municipalities_and_autonomous_regions_are_called_what_they_are():
    assert "it names the municipality only in its list of the winners" in text(
        body("province_profile", "en", "北京")
    )
    assert "Xizang (Tibet)" in text(body("province_profile", "en", "西藏"))
    assert "The autonomous region is neither" in text(body("province_profile", "en", "西藏"))
    assert "省（区、市）" in text(body("province_profile", "zh", "北京"))


def test_the_four_strategies_reach_english_readers():
    jiangsu = text(body("province_profile", "en", "江苏"))
    assert "“enterprises + alliances”" in jiangsu.replace("‘", "“").replace("’", "”")
    assert "a hundred enterprises lead the way, a thousand enterprises upgrade" in jiangsu
    assert "integration of the Yangtze River Delta" in jiangsu


# --------------------------------------------------------------------------- curated data


def test_every_translation_matches_the_corpus_and_covers_every_quote():
    from analysis.report import contexts, views

    translated = labels.translations()  # raises on a row that drifted from the corpus
    needed = {r["sentence_id"] for r in views.records("cited_sentences")}
    for p in PROVINCES:
        profile = views.province_profile(p)
        needed |= {s["sentence_id"] for s in profile.sentences}
        needed |= {s["sentence_id"] for s in contexts.strategy_sentences(profile)}
    assert needed - set(translated) == set()


def test_a_translation_whose_chinese_drifted_is_refused_with_its_line(tmp_path, monkeypatch):
    source = (paths.RAW / labels.TRANSLATIONS_FILE).read_text(encoding="utf-8")
    changed = source.replace(
        "两批先进制造业集群初赛共有44家集群胜出。", "两批初赛共有44家集群胜出。"
    )
    (tmp_path / labels.TRANSLATIONS_FILE).write_text(changed, encoding="utf-8")
    monkeypatch.setattr(paths, "RAW", tmp_path)
    labels.translations.cache_clear()
    try:
        with pytest.raises(InputError, match=r"translations.csv line \d+: sentence a1-p016-s02"):
            labels.translations()
    finally:
        labels.translations.cache_clear()


def test_romanised_names_are_pypinyins_proposal_or_a_reviewed_override():
    from pypinyin import lazy_pinyin

    rows = labels._curated_rows(labels.AUTHOR_NAMES_FILE, ("name_zh", "name_en", "override"))
    for _, row in rows:
        syllables = lazy_pinyin(row["name_zh"])
        proposal = f"{syllables[0].capitalize()} {''.join(syllables[1:]).capitalize()}"
        assert row["name_en"] == proposal or row["override"], row
    from analysis.report.citations import report_citation

    cited = report_citation(["a1", "a2"], "en")  # the title block's citation (old: 程楠, …)
    assert "Cheng Nan, Hou Yanquan, Yue Weisong, Li Wenjuan and Zhang Zhaoze" in cited
    assert "Geng Yi" in cited and not CJK.search(cited)
    assert "Geng Yi" in labels.author_name("耿怡", "en")
