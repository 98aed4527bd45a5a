"""Parsing a page extraction into blocks and roles, checked against the origin record."""

from __future__ import annotations

import pytest

from analysis.corpus.origin import ArticleOrigin, SourceOrigin
from analysis.corpus.parse import is_byline_text, is_subheading_text, parse_units, split_blocks
from analysis.errors import InputError

DOC = """

# 第一篇文章

示范研究所<br>
张三 李四

导语，概括全文。

## 第一部分

(一)第一个小标题

正文，一个完整的句子。

## 第二篇文章 副标题

另一研究所 王五

第二篇的导语。

### 小节

第二篇的正文。
""".replace("<br>", "  ")  # a Markdown hard break: two trailing spaces


def origin(*articles: tuple[str, str, list[str]]) -> SourceOrigin:
    """An origin record for a made-up document (hash and size are not checked by the parser)."""
    return SourceOrigin(
        file="doc.txt",
        sha256="0" * 64,
        size_bytes=0,
        encoding="utf-8",
        licence="made up for a test",
        articles=tuple(
            ArticleOrigin(id=f"a{k}", title=t, institute=i, authors=tuple(a))
            for k, (t, i, a) in enumerate(articles, start=1)
        ),
    )


DOC_ORIGIN = origin(
    ("第一篇文章", "示范研究所", ["张三", "李四"]), ("第二篇文章 副标题", "另一研究所", ["王五"])
)


def test_blocks_keep_raw_spans_that_cover_every_non_blank_character():
    blocks = split_blocks(DOC)
    covered = set()
    for b in blocks:
        assert DOC[b.start : b.end] == b.raw
        assert not DOC[b.start].isspace() and not DOC[b.end - 1].isspace()
        covered.update(range(b.start, b.end))
    assert all(i in covered for i, c in enumerate(DOC) if not c.isspace())
    assert [b.number for b in blocks] == list(range(1, len(blocks) + 1))
    assert blocks[0].level == 1 and blocks[0].text.text == "第一篇文章"
    assert blocks[0].raw == "# 第一篇文章"  # the span includes the heading marker
    assert blocks[0].line == 3


def test_byline_lines_join_with_a_space_at_a_markdown_hard_break():
    byline = split_blocks(DOC)[1]
    assert byline.text.text == "示范研究所 张三 李四"
    assert byline.text.raw_spans() == [(byline.start, byline.end)]


def test_wrapped_chinese_lines_join_without_a_space():
    blocks = split_blocks("# 题\n\n第一行文字\n第二行文字\n")
    assert blocks[1].text.text == "第一行文字第二行文字"


def test_roles_and_articles():
    units = parse_units(DOC, DOC_ORIGIN, "doc.txt")
    roles = [(u.role, u.text.text) for u in units]
    assert roles == [
        ("title", "第一篇文章"),
        ("byline", "示范研究所 张三 李四"),
        ("body", "导语，概括全文。"),
        ("heading", "第一部分"),
        ("subheading", "(一)第一个小标题"),
        ("body", "正文，一个完整的句子。"),
        # A level-2 heading followed by a byline starts the second article.
        ("title", "第二篇文章 副标题"),
        ("byline", "另一研究所 王五"),
        ("body", "第二篇的导语。"),
        ("heading", "小节"),
        ("body", "第二篇的正文。"),
    ]


def test_titles_must_match_the_origin_record():
    wrong = origin(
        ("别的标题", "示范研究所", ["张三", "李四"]), ("第二篇文章 副标题", "另一研究所", ["王五"])
    )
    with pytest.raises(InputError, match="differ from the"):
        parse_units(DOC, wrong, "doc.txt")


def test_byline_must_match_the_origin_record():
    wrong = origin(
        ("第一篇文章", "示范研究所", ["张三"]), ("第二篇文章 副标题", "另一研究所", ["王五"])
    )
    with pytest.raises(InputError, match=r"doc.txt:5: the byline"):
        parse_units(DOC, wrong, "doc.txt")


def test_a_file_without_headings_is_refused_with_its_line():
    with pytest.raises(InputError, match=r"doc.txt:2: no Markdown heading"):
        parse_units("\n正文，没有标题。\n", DOC_ORIGIN, "doc.txt")


def test_text_before_the_first_title_is_refused():
    with pytest.raises(InputError, match=r"doc.txt:1: text before the first article title"):
        parse_units("前言。\n\n" + DOC, DOC_ORIGIN, "doc.txt")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(一)国家高度重视先进制造业集群发展", True),
        ("（二）工业和信息化部开展全国先进制造业集群竞赛", True),
        ("一、总体要求", True),
        ("(一)国家高度重视。随后是正文。", False),  # a run-in head with body text
        ("一是要满足新型显示产业激烈竞争的要求", False),
    ],
)
def test_subheading_text(text, expected):
    assert is_subheading_text(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("赛迪智库集成电路研究所 耿怡", True),
        ("赛迪智库规划研究所 程楠 侯彦全", True),
        ("国家高度重视先进制造业集群发展", False),  # no names separated by spaces
        ("构建产业生态 关键满足三个要求。", False),
        ("2020年，全国 有29个省份", False),
    ],
)
def test_byline_text(text, expected):
    assert is_byline_text(text) is expected
