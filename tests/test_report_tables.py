"""Report tables: one header per column, numbers formatted for the language, captions cited."""

from __future__ import annotations

import pytest

from analysis import load
from analysis import narrative as nv
from analysis import report_tables as rt

VIEWS = (
    "terms",
    "strategies",
    "amoled_indicators",
    "materials",
    "companies",
    "technologies",
    "structure",
    "repairs",
    "punctuation",
    "coverage",
    "not_a_fact",
    "checks",
    "fact_tables",
)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", VIEWS)
def test_tables_have_distinct_headers_and_a_caption(name, lang):
    view = getattr(rt, name)(lang)
    headers = list(view["frame"].columns)
    assert len(headers) == len(set(headers)), f"{name} ({lang}): repeated header in {headers}"
    assert view["caption"]
    assert set(view["number_columns"]) <= set(headers)
    assert not view["frame"].empty


def test_terms_table_counts_every_mainland_province_once():
    frame = rt.terms("en")["frame"]
    counts = frame["Number of provinces"].astype(int)
    assert counts.sum() == 31
    named = load("provincial_cluster_terms")
    assert counts.iloc[:-1].sum() == len(named)  # the last row: provinces the text omits


def test_amounts_in_the_indicator_table_follow_the_language():
    rows = load("amoled_indicators")
    investment = rows.loc[rows["indicator"] == "new_display_investment"].iloc[0]
    zh = rt.amoled_indicators("zh")["frame"]
    en = rt.amoled_indicators("en")["frame"]
    assert "超过" + nv.format_amount(investment["value"], "zh") in set(zh["数值"])
    assert "more than " + nv.format_amount(investment["value"], "en") in set(en["Value"])


def test_province_tables_accept_aliases_and_stay_honest_for_unmentioned_provinces():
    assert rt.province_strategy("Jiangsu", "en")["frame"].shape[0] == len(
        load("provincial_strategies").query("province_zh == '江苏'")
    )
    empty = rt.province_sentences("Tibet", "zh")
    assert empty["frame"].empty and empty["source"] is None
