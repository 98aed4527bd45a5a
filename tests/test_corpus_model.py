"""The corpus files as the next layer reads them: CSV writing and `load_corpus()`."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.corpus import load_corpus
from analysis.corpus.model import PARAGRAPHS_FILE
from analysis.corpus.pipeline import csv_text
from analysis.errors import InputError

field = st.text(alphabet=st.sampled_from(list('ab,"\n\r 中，。“”；')), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(field, min_size=3, max_size=3), max_size=6))
def test_csv_writer_matches_the_csv_module_and_reads_back(rows):
    columns = ("a", "b", "c")
    text = csv_text(columns, rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    if not any("\r" in v for row in rows for v in row):
        # The csv module leaves a lone \r unquoted with an LF terminator; ours quotes it.
        assert text == buf.getvalue()
    assert list(csv.reader(io.StringIO(text, newline=""))) == [list(columns), *rows]


def test_load_corpus_gives_articles_sections_paragraphs_and_sentences(tmp_path):
    from analysis.corpus import pipeline

    pipeline.run(strict=True, out_dir=tmp_path)
    corpus = load_corpus(tmp_path)
    p = corpus.paragraph("a1-p016")
    assert p.article_id == "a1" and p.role == "body"
    assert p.section_path == (
        "国家大力支持先进制造业集群发展",
        "（二）工业和信息化部开展全国先进制造业集群竞赛",
    )
    assert p.raw_spans == ((1161, 1519),)
    assert corpus.sentences_of(p.id)[0].id == "a1-p016-s01"
    assert corpus.article("a2").institute == "赛迪智库集成电路研究所"
    sections = corpus.sections("a2")
    assert sections[0].path == () and sections[0].paragraph_ids[0] == "a2-p030"
    assert {s.role for s in corpus.fact_sentences()} == {"lede", "body"}
    with pytest.raises(KeyError):
        corpus.paragraph("a9-p001")


def test_load_corpus_explains_missing_or_foreign_files(tmp_path):
    with pytest.raises(InputError, match="run `analysis corpus`"):
        load_corpus(tmp_path)
    from analysis.corpus import pipeline

    pipeline.run(strict=True, out_dir=tmp_path)
    (tmp_path / PARAGRAPHS_FILE).write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="unexpected columns"):
        load_corpus(tmp_path)
