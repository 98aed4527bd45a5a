"""Report tables: one header per column, numbers formatted for the language, captions cited."""

from __future__ import annotations

import re

import pytest

from analysis import load
from analysis.report import audit, views
from analysis.report import formatting as fm
from analysis.report import tables as rt

# Each table from the frames a notebook derives from the views.
VIEWS = {
    "terms": lambda lang: rt.terms(views.terms_summary(), views.cluster_terms(), lang),
    "strategies": lambda lang: rt.strategies(views.strategies(), lang),
    "amoled_indicators": lambda lang: rt.amoled_indicators(
        views.indicators("amoled_indicators"), lang
    ),
    "materials": lambda lang: rt.materials(views.records("amoled_line_materials"), lang),
    "companies": lambda lang: rt.companies(views.records("display_companies"), lang),
    "technologies": lambda lang: rt.technologies(
        views.records("amoled_technology_breakthroughs"), lang
    ),
    "structure": lambda lang: rt.structure(audit.document_structure(), lang),
    "repairs": lambda lang: rt.repairs(audit.cleaning_audit(), lang),
    "punctuation": lambda lang: rt.punctuation(audit.cleaning_audit(), lang),
    "coverage": lambda lang: rt.coverage(audit.mention_coverage(), lang),
    "not_a_fact": lambda lang: rt.not_a_fact(views.table("numeric_mentions"), lang),
    "checks": lambda lang: rt.checks(views.table("consistency_checks"), lang),
    "fact_tables": rt.fact_tables,
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", VIEWS)
def test_tables_have_distinct_headers_and_a_caption(name, lang):
    view = VIEWS[name](lang)
    headers = list(view["frame"].columns)
    assert len(headers) == len(set(headers)), f"{name} ({lang}): repeated header in {headers}"
    assert view["caption"]
    assert set(view["number_columns"]) <= set(headers)
    assert not view["frame"].empty


def test_terms_table_counts_every_mainland_province_once():
    frame = VIEWS["terms"]("en")["frame"]
    counts = frame["Number of provinces"].astype(int)
    assert counts.sum() == 31
    named = load("provincial_cluster_terms")
    assert counts.iloc[:-1].sum() == len(named)  # the last row: provinces the text omits


def test_amounts_in_the_indicator_table_follow_the_language():
    rows = load("amoled_indicators")
    investment = rows.loc[rows["indicator"] == "new_display_investment"].iloc[0]
    zh = VIEWS["amoled_indicators"]("zh")["frame"]
    en = VIEWS["amoled_indicators"]("en")["frame"]
    assert "超过" + fm.format_amount(investment["value"], "zh") in set(zh["数值"])
    assert "more than " + fm.format_amount(investment["value"], "en") in set(en["Value"])


def test_province_tables_accept_aliases_and_stay_honest_for_unmentioned_provinces():
    jiangsu = views.province_profile("Jiangsu")
    assert rt.province_strategy(jiangsu, "en")["frame"].shape[0] == len(
        load("provincial_strategies").query("province_zh == '江苏'")
    )
    empty = rt.province_sentences(views.province_profile("Tibet"), "zh")
    assert empty["frame"].empty and empty["source"] is None


_CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("province", ["江苏", "Shanghai", "西藏", "北京"])
def test_comparison_places_the_province_among_all_31_and_marks_it(province, lang):
    from analysis.provinces import mainland, resolve
    from analysis.report.markup import table_html

    comparison = views.province_comparison()
    view = rt.province_comparison(comparison, lang, highlight=province)
    frame = view["frame"]
    assert len(frame) == len(mainland()) == 31
    unit = resolve(province)
    name = unit.short_zh if lang == "zh" else unit.name_en
    province_column = frame.columns[1]
    assert sorted(frame[province_column]) == sorted(
        p.short_zh if lang == "zh" else p.name_en for p in mainland()
    )
    (row,) = view["highlight_rows"]
    assert frame[province_column].iloc[row] == name
    html = table_html(**view)
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    rows = body.split("</tr>")[:-1]
    assert len(rows) == 31
    marked = [r for r in rows if 'aria-current="true"' in r]
    # Exactly one row marked, by class and ARIA, its cells in <strong>: not by colour alone.
    assert len(marked) == 1 and 'class="an-highlight"' in marked[0]
    assert f"<strong>{name}</strong>" in marked[0]
    assert marked[0].count("<strong>") == len(frame.columns)
    assert html.count("<strong>") == len(frame.columns)
    # The labels are in the report's language: English names and terms in English.
    cells = [str(c) for c in [*frame.columns, *frame.to_numpy().ravel()]]
    if lang == "en":
        assert not [c for c in cells if _CJK.search(c)]
    else:
        assert not [c for c in cells if re.search(r"[A-Za-z]", c)]
    # The facts agree with the views they come from.
    winners = views.province_rank(province)
    clusters = frame[frame.columns[3]].iloc[row]
    assert clusters == fm.format_number(winners["clusters"], lang)
    has_strategy = unit.adcode in {s["adcode"] for s in views.strategies()}
    assert (frame[frame.columns[5]].iloc[row] in ("yes", "是")) is has_strategy


def test_the_index_shows_the_comparison_of_all_31_in_each_language():
    from analysis.paths import ROOT
    from analysis.publish import index
    from analysis.publish.jobs import make_jobs
    from analysis.publish.spec import load_spec, select

    assert rt.index_tables("cluster_policy", ["zh", "en"]) == ""
    spec = load_spec(ROOT / "reports.toml")
    jobs = make_jobs(select(spec, only=["province_profile"]))
    page = index.render_index(spec, jobs, {}, ROOT / "reports")
    section = page.split('<section id="province_profile">')[1].split("</section>")[0]
    tables = section.split('<div class="index-table"')[1:]
    assert len(tables) == 2 and tables[1].startswith(' lang="en"')
    for table in tables:
        body = table.split("<tbody>")[1].split("</tbody>")[0]
        assert body.count("<tr") == 31
        assert "aria-current" not in body  # no province is the index's own
