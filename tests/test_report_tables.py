"""Report tables: one header per column, numbers formatted for the language, captions cited."""

from __future__ import annotations

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
