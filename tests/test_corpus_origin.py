"""Origin records and checked ingestion: bad encodings, empty, truncated and changed files."""

from __future__ import annotations

import hashlib

import pytest

from analysis.corpus.origin import ArticleOrigin, SourceOrigin, decode_source, load_origins
from analysis.errors import InputError
from analysis.paths import RAW

TEXT = "# 测试标题\n\n某所 甲\n\n正文，第一行。\n第二行，有中文。\n"


def origin_for(data: bytes) -> SourceOrigin:
    return SourceOrigin(
        file="doc.txt",
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        encoding="utf-8",
        licence="made up for a test",
        articles=(ArticleOrigin("a1", "测试标题", "某所", ("甲",)),),
    )


GOOD = TEXT.encode("utf-8")
GOOD_ORIGIN = origin_for(GOOD)


def test_a_file_that_matches_its_record_is_decoded():
    assert decode_source(GOOD, GOOD_ORIGIN, "doc.txt") == TEXT


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"doc.txt:1: the file is empty"),
        (b"\xef\xbb\xbf" + GOOD, r"doc.txt:1: .*UTF-8 byte-order mark"),
        (TEXT.encode("utf-16"), r"doc.txt:1: .*UTF-16"),
        (TEXT.encode("utf-16-le"), r"doc.txt:1: .*UTF-16"),
        (TEXT.encode("gbk"), r"doc.txt:1:3: byte 0x.. is not valid UTF-8\. It decodes as GBK"),
        (GOOD[:-8], r"doc.txt:6:\d+: the file ends in the middle of a UTF-8 character"),
        (GOOD[:-7], r"doc.txt:6: the file is truncated: \d+ bytes, but sources.toml records"),
        (
            GOOD.replace("第一".encode(), "第二".encode()),
            r"doc.txt: the file has changed: its sha256",
        ),
    ],
)
def test_bad_bytes_are_refused_with_file_and_line(data, message):
    with pytest.raises(InputError, match=message):
        decode_source(data, GOOD_ORIGIN, "doc.txt")


def test_the_hash_message_names_both_hashes():
    changed = GOOD.replace("第一".encode(), "第二".encode())
    with pytest.raises(InputError) as err:
        decode_source(changed, GOOD_ORIGIN, "doc.txt")
    assert hashlib.sha256(changed).hexdigest() in str(err.value)
    assert GOOD_ORIGIN.sha256 in str(err.value)


def test_the_real_origin_record_lists_the_source_and_its_articles():
    (source,) = load_origins(RAW)
    assert source.file == "ccid_cluster_amoled_2021.txt"
    assert hashlib.sha256((RAW / source.file).read_bytes()).hexdigest() == source.sha256
    assert [a.id for a in source.articles] == ["a1", "a2"]
    assert source.articles[0].institute == "赛迪智库规划研究所"
    assert source.articles[1].authors == ("耿怡",)
    # Venue and date are not known from the extraction: empty, with the reason in the note.
    assert all(a.venue == "" and a.date == "" for a in source.articles)
    assert all("unknown" in a.provenance_note for a in source.articles)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("", r"no \[\[source\]\] record"),
        ("[[source]\n", r"not valid UTF-8 TOML"),
        ('[[source]]\nfile = "a.txt"\n', r"`sha256` is missing"),
        (
            '[[source]]\nfile = "a.txt"\nsha256 = "' + "0" * 64 + '"\nsize_bytes = 1\n'
            'encoding = "gbk"\nlicence = "x"\n',
            r"encoding 'gbk' is not supported",
        ),
        (
            '[[source]]\nfile = "a.txt"\nsha256 = "' + "0" * 64 + '"\nsize_bytes = 1\n'
            'encoding = "utf-8"\nlicence = "x"\n',
            r"no \[\[source.article\]\] record",
        ),
    ],
)
def test_malformed_origin_records_are_refused(tmp_path, toml, message):
    (tmp_path / "sources.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_origins(tmp_path)


def test_missing_origin_records_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"sources.toml: the origin records are missing"):
        load_origins(tmp_path)
