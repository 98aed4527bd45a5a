"""The researcher API: load, list_tables and cite, and the cost of `import analysis`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import analysis
from analysis.corpus.pipeline import run as build_corpus
from analysis.facts import pipeline
from analysis.facts.api import Citation, UnknownTableError
from analysis.facts.tables import ALL_TABLES


@pytest.fixture(scope="module")
def facts_dir(tmp_path_factory) -> Path:
    """Corpus and fact base of the source, built into one temporary folder."""
    out = tmp_path_factory.mktemp("processed")
    build_corpus(strict=True, out_dir=out)
    pipeline.run(strict=True, processed_dir=out)
    return out


def test_list_tables_names_and_describes_every_table():
    tables = analysis.list_tables()
    assert [t.name for t in tables] == [t.name for t in ALL_TABLES]
    assert all(t.title and t.description for t in tables)


def test_load_returns_a_typed_frame(facts_dir):
    df = analysis.load("national_clusters_by_province", processed_dir=facts_dir)
    assert list(df.columns) == [
        "province_zh",
        "adcode",
        "province_en",
        "clusters",
        "sentence_id",
        "quote",
    ]
    assert str(df["clusters"].dtype) == "Int64" and str(df["province_zh"].dtype) == "string"
    assert int(df["clusters"].sum()) == 44
    assert df.attrs["table"] == "national_clusters_by_province"


def test_every_table_loads_and_validates(facts_dir):
    for table in ALL_TABLES:
        df = analysis.load(table.name, processed_dir=facts_dir)
        assert len(df) > 0, table.name


def test_missing_values_load_as_na(facts_dir):
    df = analysis.load("amoled_equipment_concentration", processed_dir=facts_dir)
    exposure = df.set_index("equipment_zh").loc["曝光机"]
    assert exposure["share_pct"] is __import__("pandas").NA
    assert str(df["share_pct"].dtype) == "Float64"


def test_an_unknown_table_lists_the_tables():
    with pytest.raises(UnknownTableError) as info:
        analysis.load("clusters_by_province")
    message = str(info.value)
    assert "clusters_by_province" in message and "national_clusters_by_province" in message


def test_a_hand_edited_csv_fails_validation_on_load(facts_dir, tmp_path):
    from analysis.facts.schemas import SchemaValidationError

    path = tmp_path / "policy_events.csv"
    text = (facts_dir / "policy_events.csv").read_text(encoding="utf-8")
    path.write_text(text.replace("2019-08,national", "2019-08,city", 1), encoding="utf-8")
    with pytest.raises(SchemaValidationError, match="level"):
        analysis.load("policy_events", processed_dir=tmp_path)


def test_cite_a_loaded_row(facts_dir):
    df = analysis.load("national_clusters_by_province", processed_dir=facts_dir)
    citation = analysis.cite(df.iloc[1], processed_dir=facts_dir)
    assert isinstance(citation, Citation)
    assert citation.quote == "广东、浙江各7个"
    assert citation.article_title == "央地协同培育发展先进制造业集群"
    assert "全国先进制造业集群竞赛" in citation.section
    assert citation.quote in citation.sentence
    assert "广东、浙江各7个" in str(citation) and citation.sentence_id in str(citation)


def test_cite_by_table_and_key(facts_dir):
    citation = analysis.cite("amoled_indicators", "amoled_output_value", processed_dir=facts_dir)
    assert "210亿元" in citation.quote
    assert citation.article_title.startswith("打造本土AMOLED")
    by_position = analysis.cite("amoled_indicators", 0, processed_dir=facts_dir)
    assert "渗透率" in by_position.quote


def test_a_row_with_two_sources_cites_both(facts_dir):
    citation = analysis.cite("cluster_competition_rounds", 0, processed_dir=facts_dir)
    assert "2019年8月" in citation.quote
    assert [c.quote for c in citation.also] == ["2019年24家胜出"]


def test_cite_refuses_rows_without_provenance(facts_dir):
    with pytest.raises(KeyError):
        analysis.cite({"province_zh": "江苏"}, processed_dir=facts_dir)
    with pytest.raises(KeyError):
        analysis.cite("national_clusters_by_province", "西藏", processed_dir=facts_dir)


def test_import_analysis_stays_cheap():
    code = (
        "import sys, analysis, analysis.facts.api, analysis.facts.tables; "
        "print(sorted({'pandas', 'pandera', 'openpyxl', 'cn2an'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cite_a_check_gives_both_sentences(facts_dir):
    citation = analysis.cite("consistency_checks", "province_share", processed_dir=facts_dir)
    assert citation.sentence_id == "a1-p019-s01" and "93.5%" in citation.quote
    assert citation.quote == citation.sentence  # a check cites whole sentences
