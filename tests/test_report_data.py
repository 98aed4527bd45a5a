"""Derived views of the fact tables: ranks, regions, terms, timeline, province profiles."""

from __future__ import annotations

import pytest

from analysis import load
from analysis.errors import InputError
from analysis.provinces import mainland
from analysis.report import views as rd


def _total():
    frame = load("cluster_indicators")
    return int(frame.loc[frame["indicator"] == "competition_winners", "value"].iloc[0])


def test_winners_by_province_covers_the_mainland_and_adds_up():
    frame = rd.winners_by_province()
    assert len(frame) == len(mainland())
    assert frame["clusters"].sum() == _total()
    assert frame["clusters"].is_monotonic_decreasing
    stated = load("national_clusters_by_province")
    assert frame["stated"].sum() == len(stated)


def test_ties_share_a_rank():
    frame = rd.winners_by_province()
    for clusters, part in frame.groupby("clusters"):
        assert part["rank"].nunique() == 1
        assert part["rank"].iloc[0] == (frame["clusters"] > clusters).sum() + 1
    second = rd.province_rank("广东")
    assert second["tied_with"] and all(
        frame.loc[frame["adcode"] == c, "clusters"].iloc[0] == second["clusters"]
        for c in second["tied_with"]
    )


def test_regions_split_the_winners_and_the_provinces():
    frame = rd.winners_by_region()
    assert list(frame["region_zh"]) == list(rd.REGION_ORDER)
    assert frame["clusters"].sum() == _total()
    assert frame["provinces"].sum() == len(mainland())
    assert frame["provinces_naming_clusters"].sum() == len(load("provincial_cluster_terms"))
    assert frame["share_pct"].sum() == pytest.approx(100.0)


def test_terms_summary_and_the_provinces_the_text_omits():
    summary = rd.terms_summary()
    assert summary["provinces"].is_monotonic_decreasing
    omitted = rd.provinces_not_naming()
    assert summary["provinces"].sum() + len(omitted) == len(mainland())
    named = set(load("provincial_cluster_terms")["adcode"].astype(int))
    assert not named & {p.adcode for p in omitted}


def test_timeline_is_in_date_order_with_the_rounds_marked():
    events = rd.timeline()
    assert list(events["date"]) == sorted(events["date"])
    rounds = load("cluster_competition_rounds")
    competition = events[events["kind"] == "competition"]
    assert sorted(competition["date"]) == sorted(rounds["launched"])
    assert [f.value for f in competition["winners_fact"]] == list(rounds["winners"])


@pytest.mark.parametrize(
    ("province", "depth"),
    [("湖南", "full"), ("Sichuan", "listed"), ("藏", "absent")],
)
def test_profile_depth_follows_what_the_text_says(province, depth):
    profile = rd.province_profile(province)
    assert profile.depth == depth
    if depth == "absent":
        assert not profile.sentences and profile.winners is None and profile.term is None
    else:
        assert profile.sentences


def test_profile_sentences_include_those_the_tables_cite():
    profile = rd.province_profile("湖南")
    cited = set(load("provincial_strategies").query("province_zh == '湖南'")["sentence_id"])
    assert cited <= {s["sentence_id"] for s in profile.sentences}


def test_profile_outside_the_mainland_is_rejected_with_the_valid_values():
    with pytest.raises(InputError) as exc:
        rd.province_profile("香港")
    assert "江苏" in str(exc.value) and "西藏" in str(exc.value)
