"""The fact base built from the source: provenance, values, coverage, exports, bad input."""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.corpus.pipeline import run as build_corpus
from analysis.facts import pipeline
from analysis.facts.mentions import extract
from analysis.facts.tables import ALL_TABLES, BY_NAME, TABLES


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    """The clean corpus of the source, built into a temporary folder."""
    out = tmp_path_factory.mktemp("corpus")
    build_corpus(strict=True, out_dir=out)
    return out


@pytest.fixture(scope="module")
def facts_dir(corpus_dir, tmp_path_factory) -> Path:
    """The fact base of the source, exported into a temporary folder (strict mode)."""
    out = tmp_path_factory.mktemp("facts")
    summary = pipeline.run(strict=True, processed_dir=corpus_dir, out_dir=out)
    assert summary.exit_code == 0, summary.render()
    return out


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def sentences(corpus_dir: Path) -> dict[str, dict[str, str]]:
    with (corpus_dir / "corpus_sentences.csv").open(encoding="utf-8", newline="") as fh:
        return {r["sentence_id"]: r for r in csv.DictReader(fh)}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- provenance and values --------------------------------------------------------------------


def test_every_quote_is_verbatim_in_its_clean_sentence(facts_dir, corpus_dir):
    text = {sid: r["text"] for sid, r in sentences(corpus_dir).items()}
    checked = 0
    for table in TABLES:
        for row in read(facts_dir, table.name):
            for column in table.column_names:
                if column.endswith("sentence_id") and row[column]:
                    quote = row[column.replace("sentence_id", "quote")]
                    assert quote and quote in text[row[column]], (table.name, row)
                    checked += 1
    assert checked >= 140  # every row of every topic table (148 with the source)


def _numbers_in(quote: str) -> set[float]:
    """Every number the quote states, read again by the extractor (a date states its year)."""
    found = extract(quote, "q")
    return {m.value for m in found if m.value is not None} | {
        float(m.value_text[:4]) for m in found if m.kind == "date"
    }


# Columns whose value is a number stated in the row's quote.
NUMERIC = {
    "national_clusters_by_industry": ["clusters"],
    "national_clusters_by_province": ["clusters"],
    "cluster_indicators": ["value"],
    "amoled_indicators": ["value"],
    "amoled_equipment_concentration": ["top_firms", "share_pct"],
    "provincial_strategies": ["count", "year"],
    "provincial_cluster_terms": ["example_clusters"],
    "amoled_line_materials": ["line_generation"],
    "amoled_requirements": ["number"],
    "amoled_supply_chain_events": ["year"],
    "cluster_competition_rounds": ["round", "year"],
}


@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_every_value_is_consistent_with_its_quote(facts_dir, name):
    rows = read(facts_dir, name)
    assert rows
    for row in rows:
        stated = _numbers_in(row["quote"])
        for column in NUMERIC[name]:
            if row[column]:
                assert float(row[column]) in stated, (name, column, row)


def test_dates_and_winners_are_consistent_with_their_quotes(facts_dir):
    for row in read(facts_dir, "cluster_competition_rounds"):
        dates = {m.value_text for m in extract(row["quote"], "q") if m.kind == "date"}
        assert row["launched"] in dates
        assert float(row["winners"]) in _numbers_in(row["winners_quote"])
    for row in read(facts_dir, "policy_events"):
        # A month (2019-08), or a year where the text gives no month (Jiangsu's 2018年).
        dates = {m.value_text for m in extract(row["quote"], "q") if m.kind in ("date", "year")}
        assert row["date"] in dates
        assert row["statement_zh"] in row["quote"]


def test_units_and_qualifiers_are_those_of_the_quote(facts_dir):
    for name in ("amoled_indicators", "cluster_indicators"):
        for row in read(facts_dir, name):
            found = [m for m in extract(row["quote"], "q") if m.value == float(row["value"])]
            assert any(m.qualifier == row["qualifier"] for m in found), row
            if row["unit"] in ("percent", "100m_yuan", "rank"):
                assert any(m.unit == row["unit"] for m in found), row


def test_text_columns_come_from_the_quote(facts_dir):
    for table, columns in {
        "national_clusters_by_industry": ["industry_zh"],
        "provincial_cluster_terms": ["term_zh", "province_zh"],
        "display_companies": ["company_zh"],
        "amoled_line_materials": ["material_zh"],
        "amoled_technology_breakthroughs": ["technology_zh"],
        "cluster_policy_toolbox": ["measure_zh"],
        "amoled_requirements": ["requirement_zh"],
    }.items():
        for row in read(facts_dir, table):
            for column in columns:
                assert row[column] in row["quote"], (table, column, row)


def test_the_contract_tables_and_columns(facts_dir):
    contract = {
        "national_clusters_by_industry": {"industry_zh", "industry_en", "clusters"},
        "national_clusters_by_province": {"province_zh", "adcode", "clusters"},
        "cluster_competition_rounds": {"round", "launched", "winners"},
        "policy_events": {"date", "level", "body", "event_zh", "statement_zh"},
        "provincial_cluster_terms": {"province_zh", "adcode", "term_zh", "term_en", "example_zh"},
        "amoled_indicators": {
            "indicator",
            "label_zh",
            "label_en",
            "value",
            "unit",
            "qualifier",
            "period",
            "scope",
        },
        "amoled_equipment_concentration": {
            "equipment_zh",
            "equipment_en",
            "top_firms",
            "share_pct",
            "firms_zh",
        },
    }
    for name, columns in contract.items():
        header = set(read(facts_dir, name)[0])
        assert columns | {"sentence_id", "quote"} <= header, name


def test_key_facts_of_the_source(facts_dir):
    by_province = {
        r["province_zh"]: int(r["clusters"])
        for r in read(facts_dir, "national_clusters_by_province")
    }
    assert by_province["广东"] == by_province["浙江"] == 7  # 广东、浙江各7个
    assert by_province["山东"] == by_province["上海"] == 3  # 山东和上海各3个
    assert sum(by_province.values()) == 44 and len(by_province) == 15
    rounds = read(facts_dir, "cluster_competition_rounds")
    assert [(r["launched"], r["winners"]) for r in rounds] == [("2019-08", "24"), ("2020-05", "20")]
    shares = {
        r["equipment_zh"]: r["share_pct"] for r in read(facts_dir, "amoled_equipment_concentration")
    }
    assert shares == {
        "曝光机": "",
        "沉积设备": "70",
        "退火设备": "85",
        "刻蚀设备": "75",
        "激光剥离设备": "90",
    }
    indicators = {r["indicator"]: r for r in read(facts_dir, "amoled_indicators")}
    assert indicators["new_display_investment"]["value"] == "12000"  # 1.2万亿元 in 亿元
    assert indicators["new_display_investment"]["qualifier"] == "more_than"
    assert indicators["organic_material_localisation_rate"]["qualifier"] == "less_than"
    terms = read(facts_dir, "provincial_cluster_terms")
    assert len(terms) == 29 and {"四川", "西藏"}.isdisjoint(r["province_zh"] for r in terms)
    examples = {r["province_zh"]: r["example_clusters"] for r in terms if r["example_zh"]}
    assert examples == {"湖南": "", "重庆": "2", "山东": "10", "贵州": "", "湖北": "", "吉林": ""}
    toolbox = [r["measure_zh"] for r in read(facts_dir, "cluster_policy_toolbox")]
    assert len(toolbox) == 5 and toolbox[-1] == "完善集群治理机制"


def test_provinces_resolve_through_the_reference_table(facts_dir):
    from analysis.provinces import resolve

    for name in (
        "national_clusters_by_province",
        "provincial_cluster_terms",
        "provincial_strategies",
    ):
        for row in read(facts_dir, name):
            unit = resolve(row["province_zh"])
            assert (unit.short_zh, str(unit.adcode), unit.name_en) == (
                row["province_zh"],
                row["adcode"],
                row["province_en"],
            )


def test_every_mention_is_used_or_classified(facts_dir):
    mentions = read(facts_dir, "numeric_mentions")
    assert mentions and {m["status"] for m in mentions} <= {"used", "not_a_fact"}
    for m in mentions:
        if m["status"] == "not_a_fact":
            assert m["rule"] and m["reason"]
        else:
            assert m["used_by"]
    pull = [m for m in mentions if m["role"] == "pull_quote"]
    assert pull and {m["rule"] for m in pull} == {"pull_quote"}


def test_mention_spans_are_exact(facts_dir, corpus_dir):
    text = {sid: r["text"] for sid, r in sentences(corpus_dir).items()}
    for m in read(facts_dir, "numeric_mentions"):
        assert text[m["sentence_id"]][int(m["start"]) : int(m["end"])] == m["text"], m


def test_all_checks_pass_on_the_source(facts_dir):
    checks = read(facts_dir, "consistency_checks")
    assert {c["check"] for c in checks} >= {
        "winners_by_round",
        "winners_by_industry",
        "winners_by_province",
        "province_share",
        "provinces_by_term",
    }
    assert {c["result"] for c in checks} == {"pass"}


# --- exports ----------------------------------------------------------------------------------


def test_two_runs_give_the_same_bytes(facts_dir, corpus_dir, tmp_path):
    pipeline.run(processed_dir=corpus_dir, out_dir=tmp_path)
    assert snapshot(tmp_path) == snapshot(facts_dir)


def test_csv_files_are_utf8_lf_with_the_table_columns(facts_dir):
    for table in ALL_TABLES:
        data = (facts_dir / f"{table.name}.csv").read_bytes()
        assert b"\r" not in data and data.endswith(b"\n")
        assert data.decode("utf-8").split("\n", 1)[0] == ",".join(table.column_names)


def test_the_datapackage_validates_with_frictionless(facts_dir):
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(facts_dir / "datapackage.json")
    assert report.valid, report.flatten(["type", "message"])[:5]
    package = json.loads((facts_dir / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in package["resources"]] == [t.name for t in ALL_TABLES]
    fields = {f["name"]: f for f in package["resources"][1]["schema"]["fields"]}
    assert fields["clusters"]["unit"] == "clusters" and fields["clusters"]["description"]
    assert package["sources"][0]["path"] == "data/raw/ccid_cluster_amoled_2021.txt"


def test_the_datapackage_records_the_sha256_of_every_file(facts_dir):
    import hashlib

    package = json.loads((facts_dir / "datapackage.json").read_text(encoding="utf-8"))
    entries = package["resources"] + package["files"]
    for entry in entries:
        data = (facts_dir / entry["path"]).read_bytes()
        assert entry["hash"] == f"sha256:{hashlib.sha256(data).hexdigest()}", entry["path"]
        assert entry["bytes"] == len(data)
    files = {p.name for p in facts_dir.iterdir()} - {"datapackage.json"}
    assert {e["path"] for e in entries} == files and "ccid_facts.xlsx" in files


def test_the_datapackage_catches_a_bad_value(facts_dir, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    for p in facts_dir.iterdir():
        shutil.copy(p, tmp_path / p.name)
    path = tmp_path / "policy_events.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace(",national,", ",city,", 1), encoding="utf-8"
    )
    assert not frictionless.validate(tmp_path / "datapackage.json").valid


def test_the_workbook_has_a_readme_and_one_sheet_per_table(facts_dir):
    from openpyxl import load_workbook

    book = load_workbook(facts_dir / "ccid_facts.xlsx", read_only=True)
    assert book.sheetnames == ["README"] + [t.name[:31] for t in ALL_TABLES]
    rows = list(book["national_clusters_by_province"].iter_rows(values_only=True))
    assert rows[0] == BY_NAME["national_clusters_by_province"].column_names
    assert rows[1][:4] == ("江苏", 320000, "Jiangsu", 8)
    with zipfile.ZipFile(facts_dir / "ccid_facts.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# --- strict mode and bad input ----------------------------------------------------------------


def test_an_unclassified_mention_fails_strict_mode(corpus_dir, tmp_path, modified_corpus):
    src, _ = modified_corpus(corpus_dir, tmp_path / "in", "国务院高度重视", "国务院7次强调")
    out = tmp_path / "out"
    summary = pipeline.run(strict=True, processed_dir=src, out_dir=out)
    assert summary.exit_code == 1 and not out.exists()
    assert "unclassified" in summary.render() and "7次" in summary.render()
    assert pipeline.run(strict=False, processed_dir=src, out_dir=out).exit_code == 0


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "从地区分布看，",
            "从地域分布看，",
            ["clusters_by_province", "no sentence", "全国先进制造业集群竞赛"],
        ),
        ("江苏8个", "江山8个", ["clusters_by_province", "unknown province name “江山”"]),
        ("达到210亿元", "达到210亿美元", ["amoled_output_value", "unknown unit", "210亿美元"]),
        (
            "电子信息（7个）",
            "电子信息（七十十个）",
            ["clusters_by_industry", "does not parse", "七十十"],
        ),
        ("电子信息（7个）", "电子芯片（7个）", ["glossary.csv", "电子芯片"]),
    ],
)
def test_bad_input_names_the_rule_and_text_and_leaves_outputs(
    corpus_dir, facts_dir, tmp_path, modified_corpus, old, new, expected
):
    src, _ = modified_corpus(corpus_dir, tmp_path / "in", old, new)
    out = tmp_path / "out"
    shutil.copytree(facts_dir, out)
    before = snapshot(out)
    with pytest.raises(Exception) as info:
        pipeline.run(processed_dir=src, out_dir=out)
    message = str(info.value)
    for part in expected:
        assert part in message, message
    assert snapshot(out) == before


def test_the_command_exits_2_on_bad_input(
    corpus_dir, tmp_path, monkeypatch, capsys, modified_corpus
):
    src, _ = modified_corpus(corpus_dir, tmp_path / "in", "从地区分布看，", "从地域分布看，")
    real_run = pipeline.run
    monkeypatch.setattr(
        pipeline,
        "run",
        lambda strict=False, validator=None, **_: real_run(
            strict=strict, processed_dir=src, out_dir=tmp_path / "out", validator=validator
        ),
    )
    assert main(["facts"]) == 2
    err = capsys.readouterr().err
    assert "clusters_by_province" in err and "从地域分布看" in err
    assert not (tmp_path / "out").exists()


def test_no_figure_is_typed_into_descriptions(facts_dir):
    """Titles and descriptions that go into the exports carry no number of the source."""
    package = json.loads((facts_dir / "datapackage.json").read_text(encoding="utf-8"))
    texts = [package["title"], package["description"]]
    for resource in package["resources"]:
        texts += [resource["title"], resource["description"]]
        texts += [f["description"] for f in resource["schema"]["fields"]]
    texts += [c["description"] for c in read(facts_dir, "consistency_checks")]
    texts += [m["reason"] for m in read(facts_dir, "numeric_mentions") if m["reason"]]
    for text in texts:
        # the row count is computed, and 100m_yuan is the name of a unit
        stripped = re.sub(r"Rows: \d+\.", "", text).replace("100m_yuan", "")
        assert not re.search(r"\d", stripped), text
