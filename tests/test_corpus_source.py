"""The corpus built from the real source: nothing lost, spans map back, the editorial repairs."""

from __future__ import annotations

import pytest

from analysis.corpus import load_corpus, pipeline
from analysis.corpus.model import ARTICLES_FILE, AUDIT_FILE, PARAGRAPHS_FILE, SENTENCES_FILE
from analysis.corpus.origin import load_origins
from analysis.corpus.punctuation import FULL_TO_HALF
from analysis.paths import PROCESSED, RAW

OUTPUTS = (ARTICLES_FILE, PARAGRAPHS_FILE, SENTENCES_FILE, AUDIT_FILE)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    summary = pipeline.run(strict=True, out_dir=out)
    return summary, out, load_corpus(out)


@pytest.fixture(scope="module")
def raw_text():
    (source,) = load_origins(RAW)
    return (RAW / source.file).read_text(encoding="utf-8")


def test_every_proposal_on_the_real_source_is_decided(built):
    summary, _, _ = built
    assert summary.exit_code == 0, summary.render()
    assert summary.undecided == [] and summary.stale == []
    for kind in ("reading_order", "page_break_join", "pull_quote", "punctuation", "erratum"):
        assert summary.changes.get(kind, 0) > 0, kind


def test_nothing_is_lost_the_paragraph_spans_cover_every_non_blank_character(built, raw_text):
    _, _, corpus = built
    covered = [0] * len(raw_text)
    for p in corpus.paragraphs:  # pull quotes, headings and bylines included
        for start, end in p.raw_spans:
            for i in range(start, end):
                covered[i] += 1
    assert all(covered[i] == 1 for i, c in enumerate(raw_text) if not c.isspace())
    assert all(n <= 1 for n in covered)  # and no raw character is used twice


def test_every_sentence_maps_back_to_the_raw_text_it_came_from(built, raw_text):
    _, out, corpus = built
    errata_spans = {
        tuple(int(x) for x in row.split(",")[3].split("-"))
        for row in (out / AUDIT_FILE).read_text(encoding="utf-8").splitlines()
        if ",erratum," in row
    }
    checked = 0
    for s in corpus.sentences:
        raw = "".join(raw_text[a:b] for a, b in s.raw_spans)
        if any(a <= e0 and e1 <= b for a, b in s.raw_spans for e0, e1 in errata_spans):
            continue  # a corrected typo: the audit holds the raw text
        clean = "".join(FULL_TO_HALF.get(c, c) for c in s.text)
        assert "".join(raw.split()) == "".join(clean.split()), s.id
        checked += 1
    assert checked == len(corpus.sentences) - 2


def test_the_displaced_toolbox_section_belongs_to_the_cluster_article(built):
    _, _, corpus = built
    toolbox = "在探索实践中不断丰富先进制造业集群工具箱"
    sections = corpus.sections("a1")
    assert sections[-1].path == (toolbox,)
    assert [s.path for s in corpus.sections("a2") if toolbox in s.path] == []
    # The unfinished last paragraph of the file and 等活动。 are one paragraph again.
    joined = [p for p in corpus.paragraphs if "市场推广等活动。" in p.text]
    assert len(joined) == 1 and joined[0].article_id == "a1"
    assert len(joined[0].raw_spans) == 2
    # 完善集群治理机制 follows it in the same section.
    a1 = [p for p in corpus.paragraphs if p.article_id == "a1"]
    assert a1[-1].text.startswith("完善集群治理机制。")


def test_page_breaks_are_joined(built):
    _, _, corpus = built
    text = "\n".join(p.text for p in corpus.paragraphs)
    for joined in (
        "需要通过健全体制机制",
        "长江经济带要强化",
        "河北、上海、云南",
        "以中低端为主",
        "各地积极发挥",
    ):
        assert joined in text
    assert not any(p.text.startswith(("要通过", "带要", "端为主")) for p in corpus.paragraphs)


def test_pull_quotes_are_kept_but_not_for_facts(built):
    _, _, corpus = built
    quotes = [p for p in corpus.paragraphs if p.role == "pull_quote"]
    assert any(q.text.startswith("2020年，全国有29个省份") for q in quotes)
    assert all(not q.for_facts for q in quotes)
    fact_ids = {p.id for p in corpus.fact_paragraphs()}
    assert not fact_ids & {q.id for q in quotes}
    # The sentence the deck restates stays in the body.
    assert any("有29个省份明确提出产业集群式发展" in p.text for p in corpus.fact_paragraphs())


def test_errata_and_punctuation_in_the_clean_text(built):
    _, _, corpus = built
    text = "\n".join(p.text for p in corpus.paragraphs)
    assert "工业和信息化部分别于2019年8月" in text and "部部分别" not in text
    assert "《关于培育发展战略性支柱产业集群和战略性新兴产业集群的意见》" in text
    assert "," not in text and "(" not in text and ";" not in text
    for term in ("TFT-LCD", "93.5%", "Mini/Micro LED", "“1+N”", "LT-PO、POL-Less"):
        assert term in text


def test_roles_titles_and_bylines(built):
    _, _, corpus = built
    assert [a.title for a in corpus.articles] == [
        "央地协同培育发展先进制造业集群",
        "打造本土AMOLED产业生态体系 提升双链现代化水平",
    ]
    for article in corpus.articles:
        paragraphs = [p for p in corpus.paragraphs if p.article_id == article.id]
        assert [p.role for p in paragraphs[:3]] == ["title", "byline", "lede"]
        assert [p.order for p in paragraphs] == list(range(1, len(paragraphs) + 1))
    sub = [p for p in corpus.paragraphs if p.role == "subheading"]
    assert [p.text[:3] for p in sub] == ["（一）", "（二）"]
    assert sub[0].section_path == ("国家大力支持先进制造业集群发展", sub[0].text)


def test_sentence_ids_follow_paragraph_ids(built):
    _, _, corpus = built
    for p in corpus.paragraphs:
        sentences = corpus.sentences_of(p.id)
        assert [s.id for s in sentences] == [
            f"{p.id}-s{k:02d}" for k in range(1, len(sentences) + 1)
        ]
        # The sentences of a paragraph are its text, cut at sentence stops (spaces between aside).
        assert "".join("".join(s.text for s in sentences).split()) == "".join(p.text.split())


def test_two_runs_are_byte_identical_and_match_the_committed_outputs(built, tmp_path):
    _, out, _ = built
    again = tmp_path / "again"
    pipeline.run(strict=True, out_dir=again)
    for name in OUTPUTS:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
        assert (PROCESSED / name).read_bytes() == (out / name).read_bytes(), (
            f"data/processed/{name} is stale: run `analysis corpus --strict`"
        )
