"""The corpus pipeline on a made-up source in tmp_path: decisions, strict mode, bad input."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from analysis import cli
from analysis.corpus import load_corpus, pipeline
from analysis.corpus.model import ARTICLES_FILE, AUDIT_FILE, PARAGRAPHS_FILE, SENTENCES_FILE
from analysis.errors import InputError

DOC = """# 集群文章

示范研究所<br>
张三 李四

导语,介绍集群政策的总体情况。

## 地方实践

按照工作安排,工业和信息化部部分别于2019年启动了初赛。

江苏以培育集群为抓手,推动产业发展。2018年,江苏出台了指导意见,对接融入长三角一体化

推动集群跨区域协同发展。

各地在实践中,积极推进集群产学研用合作。

等活动。要注重产业布局与城市发展相匹配。

## 显示文章 副标题

另一研究所 王五

显示产业的导语,内容完整。

## 工具箱

强化集群协同创新。地方在实践中,积极推进集群产学研用合作,加强企业与高校对接合作。

深化集群跨区域协作。协同开展技术攻关(人才交流)和市场推广
""".replace("<br>", "  ")  # a Markdown hard break: two trailing spaces

ERRATA = (
    "source,raw_text,replacement,reason\n"
    "doc.txt,工业和信息化部部分别,工业和信息化部分别,doubled 部\n"
)
OUTPUTS = (ARTICLES_FILE, PARAGRAPHS_FILE, SENTENCES_FILE, AUDIT_FILE)


def write_raw(raw: Path, text: str = DOC, errata: str | None = ERRATA) -> Path:
    """A raw dir with one made-up source, its origin record and (optionally) errata."""
    raw.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    (raw / "doc.txt").write_bytes(data)
    (raw / "sources.toml").write_text(
        f"""[[source]]
file = "doc.txt"
sha256 = "{hashlib.sha256(data).hexdigest()}"
size_bytes = {len(data)}
encoding = "utf-8"
licence = "made up for a test"

[[source.article]]
id = "a1"
title = "集群文章"
institute = "示范研究所"
authors = ["张三", "李四"]

[[source.article]]
id = "a2"
title = "显示文章 副标题"
institute = "另一研究所"
authors = ["王五"]
""",
        encoding="utf-8",
    )
    if errata is not None:
        (raw / "errata.csv").write_text(errata, encoding="utf-8")
    return raw


def decide_all(raw: Path, out: Path, reject: str = "") -> None:
    """Review like a person: accept every undecided proposal (reject kind `reject`), re-run.

    Accepting a repair can reveal proposals that depend on it (a join after a move, a pull
    quote beside a moved section), so this repeats until nothing is undecided.
    """
    path = raw / "corpus_decisions.csv"
    for _ in range(4):
        summary = pipeline.run(raw_dir=raw, out_dir=out)
        if not summary.undecided:
            return
        lines = [] if path.exists() else ["proposal_id,kind,decision,note"]
        for p in summary.undecided:
            decision = "reject" if p.kind == reject else "accept"
            lines.append(f"{p.id},{p.kind},{decision},reviewed in a test")
        with path.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    raise AssertionError("proposals keep appearing")


@pytest.fixture
def raw(tmp_path):
    return write_raw(tmp_path / "raw")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_strict_mode_fails_on_undecided_proposals_and_writes_nothing(raw, tmp_path):
    out = tmp_path / "out"
    summary = pipeline.run(strict=True, raw_dir=raw, out_dir=out)
    assert summary.exit_code == 1
    kinds = {p.kind for p in summary.undecided}
    assert kinds == {"reading_order", "page_break_join", "punctuation"}
    text = summary.render()
    assert f"proposals awaiting review: {len(summary.undecided)}" in text
    assert all(p.id in text for p in summary.undecided)
    assert "strict mode: failing" in text
    assert not out.exists()


def test_without_strict_undecided_proposals_are_listed_but_not_applied(raw, tmp_path):
    out = tmp_path / "out"
    summary = pipeline.run(raw_dir=raw, out_dir=out)
    assert summary.exit_code == 0
    paragraphs = read_csv(out / PARAGRAPHS_FILE)
    texts = [p["text"] for p in paragraphs]
    assert "推动集群跨区域协同发展。" in texts  # the page-break join is not applied
    assert any("," in t for t in texts)  # nor the punctuation
    # The erratum is reviewed by being in errata.csv, so it applies.
    assert any("工业和信息化部分别于" in t for t in texts)
    audit = read_csv(out / AUDIT_FILE)
    assert {r["decision"] for r in audit if r["kind"] != "erratum"} == {"undecided"}


def test_accepted_decisions_apply_every_repair(raw, tmp_path):
    out = tmp_path / "out"
    decide_all(raw, out)
    summary = pipeline.run(strict=True, raw_dir=raw, out_dir=out)
    assert summary.exit_code == 0, summary.render()
    # The pull quote and the last join appear only once the displaced section is back.
    assert summary.counts["pull_quote"] == {"accept": 1}
    assert summary.counts["page_break_join"] == {"accept": 2}

    corpus = load_corpus(out)
    by_text = {p.text: p for p in corpus.paragraphs}
    # Reading order: the toolbox section belongs to the first article, before 等活动。
    a1 = [p for p in corpus.paragraphs if p.article_id == "a1"]
    assert [p.text for p in a1 if p.role == "heading"] == ["地方实践", "工具箱"]
    tail = by_text[
        "深化集群跨区域协作。协同开展技术攻关（人才交流）和市场推广等活动。要注重产业布局与城市发展相匹配。"
    ]
    assert tail.article_id == "a1" and tail.section_path == ("工具箱",)
    assert len(tail.raw_spans) == 2 and tail.raw_spans[0][0] > tail.raw_spans[1][0]
    # Page-break join, punctuation, erratum.
    assert (
        "江苏以培育集群为抓手，推动产业发展。2018年，江苏出台了指导意见，对接融入长三角一体化推动集群跨区域协同发展。"
        in by_text
    )
    assert "按照工作安排，工业和信息化部分别于2019年启动了初赛。" in by_text
    # Roles: lede, pull quote (restates the toolbox section it now stands before).
    assert by_text["导语，介绍集群政策的总体情况。"].role == "lede"
    assert by_text["各地在实践中，积极推进集群产学研用合作。"].role == "pull_quote"
    assert not by_text["各地在实践中，积极推进集群产学研用合作。"].for_facts
    assert [a.id for a in corpus.articles] == ["a1", "a2"]
    assert corpus.articles[0].authors == ("张三", "李四")


def test_a_rejected_proposal_is_audited_and_not_applied(raw, tmp_path):
    out = tmp_path / "out"
    decide_all(raw, out, reject="page_break_join")
    summary = pipeline.run(raw_dir=raw, out_dir=out)
    assert summary.counts["page_break_join"]["reject"] == 2
    texts = [p["text"] for p in read_csv(out / PARAGRAPHS_FILE)]
    assert "推动集群跨区域协同发展。" in texts
    audit = read_csv(out / AUDIT_FILE)
    joins = [r for r in audit if r["kind"] == "page_break_join"]
    assert {r["decision"] for r in joins} == {"reject"}


def test_ids_do_not_shift_when_a_repair_is_accepted(raw, tmp_path):
    out = tmp_path / "out"
    pipeline.run(raw_dir=raw, out_dir=out)
    before = {p.id: p.text for p in load_corpus(out).paragraphs}
    decide_all(raw, out)
    after = {p.id: p.text for p in load_corpus(out).paragraphs}

    def number(pid: str) -> str:
        return pid.split("-", 1)[1]  # the block part; the article part follows the move

    assert {number(p) for p in after} <= {number(p) for p in before}
    # Only the two blocks absorbed by the accepted joins are gone.
    assert len({number(p) for p in before} - {number(p) for p in after}) == 2
    assert after["a1-p003"] == before["a1-p003"].replace(",", "，")  # the lede
    assert before["a2-p014"].startswith("强化集群协同创新")  # moved into the first article
    assert after["a1-p014"].startswith("强化集群协同创新")


def test_a_stale_decision_fails_strict_mode(raw, tmp_path):
    out = tmp_path / "out"
    decide_all(raw, out)
    assert pipeline.run(strict=True, raw_dir=raw, out_dir=out).exit_code == 0
    with (raw / "corpus_decisions.csv").open("a", encoding="utf-8") as fh:
        fh.write("join-0000000000,page_break_join,accept,no such proposal\n")
    summary = pipeline.run(strict=True, raw_dir=raw, out_dir=out)
    assert summary.exit_code == 1
    assert [d.proposal_id for d in summary.stale] == ["join-0000000000"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "proposal_id,kind,decision,note\njoin-abc,page_break_join,maybe,x\n",
            r":2: decision 'maybe'",
        ),
        (
            "proposal_id,kind,decision,note\njoin-abc,pull_quote,accept,x\n",
            r":2: proposal join-abc is of kind",
        ),
        (
            "proposal_id,kind,decision,note\nfoo-abc,pull_quote,accept,x\n",
            r":2: 'foo-abc' is not a proposal id",
        ),
        (
            "proposal_id,kind,decision,note\njoin-abc,page_break_join,accept,\n",
            r":2: join-abc has no reviewer note",
        ),
        (
            "proposal_id,kind,decision,note\njoin-a,page_break_join,accept,x\njoin-a,page_break_join,reject,y\n",
            r":3: join-a was already decided on line 2",
        ),
        ("id,decision\n", r"corpus_decisions.csv:1: the header is id,decision"),
    ],
)
def test_malformed_decisions_are_errors_naming_the_line(raw, tmp_path, content, message):
    (raw / "corpus_decisions.csv").write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        pipeline.run(raw_dir=raw, out_dir=tmp_path / "out")


@pytest.mark.parametrize(
    ("errata", "message"),
    [
        (
            "source,raw_text,replacement,reason\ndoc.txt,信息化部部部分别,信息化部分别,typo\n",
            r"errata.csv:2: the raw text '信息化部部部分别' no longer occurs in",
        ),
        (
            "source,raw_text,replacement,reason\ndoc.txt,集群,群集,too short\n",
            r"errata.csv:2: the raw text '集群' occurs \d+ times",
        ),
        (
            'source,raw_text,replacement,reason\ndoc.txt,"一体化\n\n推动",一体化推动,two blocks\n',
            r"errata.csv:2: the raw text .* crosses a paragraph",
        ),
        (
            "source,raw_text,replacement,reason\nother.txt,部部,部,typo\n",
            r"errata.csv:2: source 'other.txt' is not listed",
        ),
        (
            "source,raw_text,replacement,reason\ndoc.txt,部部分别,部分别,\n",
            r"errata.csv:2: the entry has no reason",
        ),
    ],
)
def test_errata_that_do_not_match_are_errors_naming_the_line(tmp_path, errata, message):
    raw = write_raw(tmp_path / "raw", errata=errata)
    with pytest.raises(InputError, match=message):
        pipeline.run(raw_dir=raw, out_dir=tmp_path / "out")


def _prepare_outputs(raw: Path, out: Path) -> dict[str, bytes]:
    pipeline.run(raw_dir=raw, out_dir=out)
    return {name: (out / name).read_bytes() for name in OUTPUTS}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda data: data.decode("utf-8").encode("gbk"),
            r"doc.txt:1:3: byte 0x.. is not valid UTF-8",
        ),
        (lambda data: data.decode("utf-8").encode("utf-16"), r"doc.txt:1: .*UTF-16"),
        (lambda data: b"\xef\xbb\xbf" + data, r"doc.txt:1: .*byte-order mark"),
        (lambda data: b"", r"doc.txt:1: the file is empty"),
        (
            lambda data: data[:-10],
            r"doc.txt:\d+(:\d+)?: the file (ends in the middle|is truncated)",
        ),
        (
            lambda data: data.replace("张三".encode(), "李三".encode()),
            r"doc.txt: the file has changed",
        ),
    ],
)
def test_bad_input_is_refused_and_previous_outputs_are_untouched(raw, tmp_path, damage, message):
    out = tmp_path / "out"
    before = _prepare_outputs(raw, out)
    path = raw / "doc.txt"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(InputError, match=message):
        pipeline.run(raw_dir=raw, out_dir=out)
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == before
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)  # no temporary files left


def test_a_file_without_headings_is_refused(tmp_path):
    raw = write_raw(tmp_path / "raw", text="导语,没有标题。\n\n正文。\n", errata=None)
    with pytest.raises(InputError, match=r"doc.txt:1: no Markdown heading found"):
        pipeline.run(raw_dir=raw, out_dir=tmp_path / "out")


def test_the_command_exits_2_with_the_message_on_bad_input(raw, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    (raw / "doc.txt").write_bytes(b"\xef\xbb\xbf" + (raw / "doc.txt").read_bytes())
    real_run = pipeline.run
    monkeypatch.setattr(
        pipeline, "run", lambda strict, out_dir, raw_dir=None: real_run(strict, raw, out_dir)
    )
    assert cli.main(["corpus", "--strict", "--out", str(out)]) == 2
    assert "byte-order mark" in capsys.readouterr().err
    assert not out.exists()


def test_the_command_exits_1_in_strict_mode_with_undecided_proposals(
    raw, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out"
    real_run = pipeline.run
    monkeypatch.setattr(
        pipeline, "run", lambda strict, out_dir, raw_dir=None: real_run(strict, raw, out_dir)
    )
    assert cli.main(["corpus", "--strict", "--out", str(out)]) == 1
    assert "proposals awaiting review" in capsys.readouterr().out
    assert not out.exists()
    assert cli.main(["corpus", "--out", str(out)]) == 0
    assert (out / "corpus_sentences.csv").is_file()


def test_two_runs_give_byte_identical_outputs(raw, tmp_path):
    decide_all(raw, tmp_path / "x")
    first = _prepare_outputs(raw, tmp_path / "one")
    second = _prepare_outputs(raw, tmp_path / "two")
    assert first == second
    for data in first.values():
        assert b"\r" not in data and data.endswith(b"\n")
        assert str(tmp_path).encode() not in data  # no machine paths in outputs
