"""The researcher API: load, list_tables and cite, and the cost of `import analysis`."""

from __future__ import annotations

import shutil
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
    from analysis.facts.integrity import IntegrityError
    from analysis.facts.schemas import SchemaValidationError

    shutil.copytree(facts_dir, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "policy_events.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("2019-08,national", "2019-08,city", 1), encoding="utf-8")
    with pytest.raises(IntegrityError, match="policy_events.csv") as info:
        analysis.load("policy_events", processed_dir=tmp_path)
    assert "analysis data --strict" in str(info.value) and "make data" in str(info.value)
    with pytest.raises(SchemaValidationError, match="level"):
        analysis.load("policy_events", processed_dir=tmp_path, verify=False)


# --- integrity: the recorded sha256 of every file ---------------------------------------------


def test_check_processed_accepts_the_built_folder(facts_dir):
    from analysis.facts.integrity import check_processed

    assert check_processed(facts_dir) == []


def test_the_committed_folder_matches_its_recorded_hashes():
    from analysis.facts.integrity import check_processed

    assert check_processed() == []


@pytest.mark.parametrize(
    "name", ["amoled_indicators.csv", "corpus_sentences.csv", "ccid_facts.xlsx"]
)
def test_check_processed_names_a_changed_file(facts_dir, tmp_path, name):
    from analysis.facts.integrity import check_processed

    shutil.copytree(facts_dir, tmp_path, dirs_exist_ok=True)
    (tmp_path / name).write_bytes((tmp_path / name).read_bytes() + b"x")
    problems = check_processed(tmp_path)
    assert len(problems) == 1 and name in problems[0] and "does not match" in problems[0]
    assert "analysis data --strict" in problems[0]


def test_check_processed_names_a_missing_file_and_a_bad_datapackage(facts_dir, tmp_path):
    from analysis.facts.integrity import check_processed

    shutil.copytree(facts_dir, tmp_path, dirs_exist_ok=True)
    (tmp_path / "policy_events.csv").unlink()
    (problem,) = check_processed(tmp_path)
    assert "policy_events.csv is missing" in problem
    (tmp_path / "datapackage.json").write_text("{not json", encoding="utf-8")
    (problem,) = check_processed(tmp_path)
    assert "datapackage.json is not valid JSON" in problem
    (tmp_path / "datapackage.json").unlink()
    (problem,) = check_processed(tmp_path)
    assert "datapackage.json is missing" in problem


def test_check_processed_names_a_file_with_no_recorded_hash(facts_dir, tmp_path):
    import json

    from analysis.facts.integrity import check_processed

    shutil.copytree(facts_dir, tmp_path, dirs_exist_ok=True)
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    package["files"] = [f for f in package["files"] if f["path"] != "ccid_facts.xlsx"]
    (tmp_path / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    (problem,) = check_processed(tmp_path)
    assert "ccid_facts.xlsx" in problem and "records no sha256" in problem


def test_load_refuses_a_tampered_copy_and_names_the_file(facts_dir, tmp_path):
    from analysis.facts.integrity import IntegrityError

    shutil.copytree(facts_dir, tmp_path, dirs_exist_ok=True)
    assert len(analysis.load("amoled_indicators", processed_dir=tmp_path)) > 0
    path = tmp_path / "amoled_indicators.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("210", "310", 1), encoding="utf-8")
    with pytest.raises(IntegrityError, match="amoled_indicators.csv does not match"):
        analysis.load("amoled_indicators", processed_dir=tmp_path)
    with pytest.raises(IntegrityError, match="amoled_indicators.csv"):
        analysis.cite("amoled_indicators", 0, processed_dir=tmp_path)
    assert len(analysis.load("policy_events", processed_dir=tmp_path)) > 0  # untouched file


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
