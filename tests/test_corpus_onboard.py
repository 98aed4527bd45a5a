"""`analysis add-source`: a new article onboarded into a copy of data/raw/ without a code change.

The article (tests/data/onboarding_article.txt, written for the test; its damage is listed in
tests/data/onboarding_article.md) must come out with every damaged place proposed, its origin
record in the format of sources.toml, and the corpus must build in strict mode once the
proposals are decided. Bad input writes nothing and exits 2.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.corpus.origin import load_origins
from analysis.corpus.pipeline import render
from analysis.paths import RAW

DATA = Path(__file__).parent / "data"
ARTICLE = DATA / "onboarding_article.txt"
QUANTITIES = DATA / "onboarding_article_quantities.csv"
ART = "onboarding_article"  # the article id add-source gives it (from the file name)
TITLE = "加快工业互联网平台建设 赋能制造业数字化转型"
OPTIONS = ["--title", TITLE, "--institute", "示例智库产业研究所", "--authors", "陈思远", "刘佳"]
# Every damaged place of the article: kind and a piece of the proposal's summary.
EXPECTED = [
    ("page_furniture", "block 9 “— 3 —”"),
    ("reading_order", "move blocks 19-21 (“融合应用向纵深拓展”"),
    ("page_break_join", "join block 8 “…提高0.3个百分点，带动” with block 10"),
    ("page_break_join", "join block 21 “…、个性化定制、服务化延伸” with block 11"),
    ("page_break_join", "join block 16 “…要引导资金投向关键技术攻” with block 17"),
    ("doubled_char", "“的的” printed twice"),
    ("pull_quote", "block 4 “连接工业设备超过8000万台"),
    ("punctuation", "block 7: 3 half-width marks"),
]


@pytest.fixture()
def raw(tmp_path):
    """A copy of the project's data/raw/ (without the map geometry, which the corpus and the
    facts do not read)."""
    target = tmp_path / "raw"
    shutil.copytree(RAW, target, ignore=shutil.ignore_patterns("china_provinces.*"))
    return target


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def _add(raw: Path, *extra: str, file: Path = ARTICLE) -> int:
    return main(["add-source", str(file), *OPTIONS, "--raw-dir", str(raw), *extra])


def test_onboarding_proposes_every_damaged_place(raw, capsys):
    before = _files(raw)
    assert _add(raw, "--id", "iip_2021") == 0
    out = capsys.readouterr().out
    after = _files(raw)
    assert set(after) - set(before) == {"onboarding_article.txt", "onboarding_article.source.toml"}
    assert {n: after[n] for n in before} == before  # no existing file is touched
    assert after["onboarding_article.txt"] == ARTICLE.read_bytes()  # byte for byte

    lines = out.splitlines()
    proposals = [line for line in lines if line.startswith("  ") and "-" in line.split()[0]]
    for kind, piece in EXPECTED:
        assert any(f"{kind}: " in line and piece in line for line in proposals), (kind, piece)
    assert f"repair proposals: {len(EXPECTED)}, to review: {len(EXPECTED)}" in out
    # The quantities of the repaired body, not of the pull quote (block 4) or furniture (9).
    assert "iip_2021-p004-" not in out
    assert "iip_2021-p009-" not in out  # old code listed the page number “3” as unclassified
    assert "numeric mentions:" in out and "make data" in out


def test_the_origin_record_is_a_sources_toml_record(raw):
    assert _add(raw) == 0
    origins = {o.file: o for o in load_origins(raw)}
    new = origins["onboarding_article.txt"]
    data = ARTICLE.read_bytes()
    assert new.sha256 == hashlib.sha256(data).hexdigest() and new.size_bytes == len(data)
    (article,) = new.articles
    # An id from the file name: not the a1, a2 ... of sources.toml, and not a third "a3".
    assert article.id == "onboarding_article"
    assert (article.title, article.institute, article.authors) == (
        TITLE,
        "示例智库产业研究所",
        ("陈思远", "刘佳"),
    )
    assert list(origins) == ["ccid_cluster_amoled_2021.txt", "onboarding_article.txt"]


# The proposal kinds of add-source's list, by the prefix of their ids.
KINDS = {
    "furn": "page_furniture",
    "move": "reading_order",
    "join": "page_break_join",
    "dup": "doubled_char",
    "pullq": "pull_quote",
    "punct": "punctuation",
}


def _accept_every_proposal(raw: Path, out: str) -> list[str]:
    """Review as the README's "Add an article" says: a row per proposal add-source printed,
    appended to data/raw/corpus_decisions.csv (every proposal of this article is right)."""
    ids = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    proposal_ids = [i for i in ids if i.split("-", 1)[0] in KINDS]
    with (raw / "corpus_decisions.csv").open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        for pid in proposal_ids:
            writer.writerow([pid, KINDS[pid.split("-", 1)[0]], "accept", "reviewed in the test"])
    return proposal_ids


def test_after_review_the_corpus_builds_strictly_with_three_articles(raw, capsys):
    assert _add(raw, "--id", "iip_2021") == 0
    assert len(_accept_every_proposal(raw, capsys.readouterr().out)) == len(EXPECTED)
    summary, files = render(strict=True, raw_dir=raw)
    assert summary.exit_code == 0, summary.render()
    articles = list(csv.DictReader(files["corpus_articles.csv"].decode().splitlines()))
    assert [a["article_id"] for a in articles] == ["a1", "a2", "iip_2021"]
    paragraphs = list(csv.DictReader(files["corpus_paragraphs.csv"].decode().splitlines()))
    mine = [p for p in paragraphs if p["article_id"] == "iip_2021"]
    roles = {p["role"] for p in mine}
    assert {"pull_quote", "furniture", "lede", "body"} <= roles
    joined = next(p["text"] for p in mine if p["text"].startswith("在重点行业"))
    assert joined.endswith(
        "服务化延伸等新模式应用。有调查显示，三分之一的受访企业表示平台应用显著降低了运营成本。"
    )
    assert not any("的的" in p["text"] or "," in p["text"] for p in mine)


def test_missing_options_without_a_terminal_exit_2_naming_them(raw, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    before = _files(raw)
    code = main(["add-source", str(ARTICLE), "--title", TITLE, "--raw-dir", str(raw)])
    assert code == 2
    err = capsys.readouterr().err
    assert "--institute" in err and "--authors" in err and "--title" not in err
    assert _files(raw) == before


def test_missing_options_are_asked_at_a_terminal(raw, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["示例智库产业研究所", "陈思远 刘佳"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    code = main(["add-source", str(ARTICLE), "--title", TITLE, "--raw-dir", str(raw)])
    assert code == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not_utf8", "byte offset 4 (line 1, column 5)"),
        ("bom", "byte-order mark"),
        ("wrong_title", "differ from the [[source.article]] titles"),
        ("wrong_byline", "differs from sources.toml"),
        ("different_file_same_name", "exists and differs"),
        ("taken_id", "already used"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(raw, tmp_path, capsys, case, message):
    src = tmp_path / "in" / "onboarding_article.txt"
    src.parent.mkdir()
    data = ARTICLE.read_bytes()
    options: list[str] = []
    if case == "not_utf8":
        data = b"# ab\xff\n"
    elif case == "bom":
        data = b"\xef\xbb\xbf" + data
    elif case == "wrong_title":
        data = data.replace("赋能制造业".encode(), "推动制造业".encode(), 1)
    elif case == "wrong_byline":
        data = data.replace("陈思远".encode(), "陈思源".encode(), 1)
    elif case == "different_file_same_name":
        (raw / "onboarding_article.txt").write_bytes(data + b"\n")
    elif case == "taken_id":
        options = ["--id", "a2"]
    src.write_bytes(data)
    before = _files(raw)
    assert _add(raw, *options, file=src) == 2
    assert message in capsys.readouterr().err
    assert _files(raw) == before


def test_a_second_add_of_the_same_file_is_refused(raw, capsys):
    assert _add(raw) == 0
    before = _files(raw)
    assert _add(raw) == 2
    assert "already listed" in capsys.readouterr().err
    assert _files(raw) == before


def test_a_failure_after_writing_removes_what_was_written(raw, capsys, monkeypatch):
    from analysis.corpus import onboard
    from analysis.errors import InputError

    def broken(origin, raw_dir):
        raise InputError("the fact base failed")

    monkeypatch.setattr(onboard, "_review", broken)
    before = _files(raw)
    assert _add(raw) == 2
    assert _files(raw) == before


def _table(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _number(text: str) -> float | None:
    return float(text) if text else None


def test_the_onboarded_article_has_every_quantity_right_and_its_own_source_record(
    raw, tmp_path, capsys
):
    """The done-when of issue 12, end to end with the commands a person runs: add-source,
    a decision per proposal, `analysis data` on the copy; then the article's rows of the
    quantities table are exactly tests/data/onboarding_article_quantities.csv (value, unit,
    qualifier, in order), the page number of its furniture is neither a fact nor unclassified,
    and the datapackage and the workbook name the article as its origin record does."""
    from openpyxl import load_workbook
    from test_facts_quantities import _expected, _same

    from analysis.paths import PROCESSED

    assert _add(raw) == 0
    _accept_every_proposal(raw, capsys.readouterr().out)
    out = tmp_path / "processed"
    assert main(["data", "--raw-dir", str(raw), "--out", str(out)]) == 0, capsys.readouterr()
    printed = capsys.readouterr().out

    sentences = {s["sentence_id"]: s for s in _table(out, "corpus_sentences.csv")}
    by_text = {s["text"]: i for i, s in sentences.items() if s["article_id"] == ART}
    rows: dict[str, list[tuple]] = {}
    for q in _table(out, "quantities.csv"):
        if q["article_id"] == ART:
            rows.setdefault(q["sentence_id"], []).append(
                (q["text"], _number(q["value"]), _number(q["value_high"]), q["value_text"])
                + (q["unit"], q["qualifier"])
            )
    with QUANTITIES.open(encoding="utf-8", newline="") as fh:
        wanted = list(csv.DictReader(fh))
    assert sum(len(_expected(w["expected"])) for w in wanted) == 22
    for w in wanted:
        sid = by_text.get(w["sentence"])
        assert sid is not None, f"{w['id']}: no sentence of the repaired corpus reads so"
        found, expected = rows.pop(sid, []), _expected(w["expected"])
        # value_text is compared only for dates and periods (as in quantities.csv)
        assert len(found) == len(expected) and all(
            _same(f, e) for f, e in zip(found, expected, strict=True)
        ), f"{w['id']}\n  found    {found}\n  expected {expected}"
    assert rows == {}, "quantities of sentences the expected table does not list"

    mentions = [m for m in _table(out, "numeric_mentions.csv") if m["sentence_id"] in sentences]
    furniture = [m for m in mentions if m["role"] == "furniture"]
    assert [(m["text"], m["status"], m["rule"]) for m in furniture] == [
        ("3", "not_a_fact", "page_furniture")
    ]
    unclassified = {m["role"] for m in mentions if m["status"] == "unclassified"}
    assert unclassified <= {"lede", "body"}  # what is left to review is the article's figures
    assert f"{ART}-p009-" not in printed

    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    committed = json.loads((PROCESSED / "datapackage.json").read_text(encoding="utf-8"))
    record = {
        "title": f"《{TITLE}》 (示例智库产业研究所, 陈思远 刘佳)",
        "path": "data/raw/onboarding_article.txt",
    }
    assert package["sources"] == [*committed["sources"], record]
    readme = dict(load_workbook(out / "ccid_facts.xlsx", read_only=True)["README"].values)
    assert f"{record['title']} ({record['path']})" in readme["Source"]
    assert readme["Source"].startswith(committed["sources"][0]["title"])
