"""Each cross-check fails when a number it depends on is changed in a copy of the document.

The change is made in a copy of the raw document (with its origin record updated), which is
then cleaned with the reviewed decisions and run through the fact base, as `analysis data`
would; the previous outputs are left untouched.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analysis.corpus.pipeline import run as build_corpus
from analysis.facts import pipeline
from analysis.facts.checks import ConsistencyError


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    """The clean corpus of the source, built into a temporary folder."""
    out = tmp_path_factory.mktemp("corpus")
    build_corpus(strict=True, out_dir=out)
    return out


# (check, text in the source, changed text): one change per check, each breaking that check.
CHANGES = [
    ("winners_by_round", "共有44家集群胜出", "共有45家集群胜出"),
    ("winners_by_industry", "电子信息(7个)", "电子信息(8个)"),  # raw punctuation
    ("winners_by_province", "江苏8个", "江苏9个"),
    ("province_share", "占比达93.5%", "占比达94.5%"),
    ("provinces_by_term", "有29个省份", "有28个省份"),
    ("provinces_by_term_distinct", "其中,北京、甘肃", "其中,北京、北京"),
    ("competition_rounds", "两批先进制造业集群初赛", "三批先进制造业集群初赛"),
    ("competition_stages", "两轮竞赛", "三轮竞赛"),
    ("regional_meetings", "这两次会议", "这三次会议"),
    ("guangdong_action_plans", "出台了20个", "出台了21个"),
    ("guangdong_projects", "等六大工程", "等七大工程"),
    ("ecosystem_requirements", "关键是满足三个“要求”。", "关键是满足四个“要求”。"),
    ("firms_named_exposure_machines", "两家独占", "三家独占"),
]


def test_every_check_has_a_change_that_breaks_it(corpus_dir, tmp_path):
    pipeline.run(processed_dir=corpus_dir, out_dir=tmp_path)
    with (tmp_path / "consistency_checks.csv").open(encoding="utf-8", newline="") as fh:
        checks = {row["check"] for row in csv.DictReader(fh)}
    assert checks == {name for name, _, _ in CHANGES}


@pytest.mark.parametrize(("check", "old", "new"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_changed_number_fails_its_check(tmp_path, modified_source, check, old, new):
    src, changed = modified_source(tmp_path / "in", old, new)
    out = tmp_path / "out"
    out.mkdir()
    (out / "national_clusters_by_province.csv").write_text("previous output\n", encoding="utf-8")
    with pytest.raises(ConsistencyError) as info:
        pipeline.run(processed_dir=src, out_dir=out)
    message = str(info.value)
    assert f"consistency check {check!r} failed" in message
    assert changed in message  # the changed sentence is quoted
    line = next(x for x in message.splitlines() if f"{check!r}" in x)
    assert line.count("“") >= 2  # both sentences are quoted on the check's line
    assert [p.name for p in out.iterdir()] == ["national_clusters_by_province.csv"]
    assert (out / "national_clusters_by_province.csv").read_text(encoding="utf-8") == (
        "previous output\n"
    )
