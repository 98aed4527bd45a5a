"""Origin records of the raw sources (data/raw/sources.toml) and checked ingestion of each file.

Every `[[source]]` record (in sources.toml, or in the `<stem>.source.toml` that `analysis
add-source` writes beside a new file) names one file in data/raw/ with its sha256, size and
encoding, and lists its articles (`[[source.article]]`: id, title, institute, authors, venue
and date where known). Ingestion reads every listed source, and refuses a file that is not what
its record says: wrong encoding, a byte-order mark, empty, truncated, or changed (hash mismatch).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..paths import relative

ORIGIN_FILE = "sources.toml"
# The origin record of a source onboarded with `analysis add-source`: `<file stem>.source.toml`
# beside it, one [[source]] record in the format of sources.toml (no existing file is edited).
SOURCE_RECORD_GLOB = "*.source.toml"
SOURCE_RECORD_SUFFIX = ".source.toml"
_ARTICLE_ID_RE = re.compile(r"[A-Za-z0-9_]{1,32}")
_SUPPORTED_ENCODINGS = ("utf-8",)


@dataclass(frozen=True)
class ArticleOrigin:
    """What is known of one article in a source file."""

    id: str
    title: str
    institute: str
    authors: tuple[str, ...]
    publisher: str = ""
    venue: str = ""
    date: str = ""
    provenance_note: str = ""


@dataclass(frozen=True)
class SourceOrigin:
    """The origin record of one raw source file."""

    file: str
    sha256: str
    size_bytes: int
    encoding: str
    licence: str
    articles: tuple[ArticleOrigin, ...]
    received_as: str = ""
    note: str = ""


def _one_line(value: object) -> str:
    """Collapse the line breaks of a multi-line TOML string, so CSV cells stay on one line."""
    return " ".join(str(value).split())


def _need(record: dict, key: str, where: str, kind: type = str):
    value = record.get(key)
    if value is None:
        raise InputError(f"{where}: the key `{key}` is missing; add it (see the other records).")
    if not isinstance(value, kind):
        raise InputError(f"{where}: `{key}` must be a {kind.__name__}, not {value!r}.")
    if kind is str and not value.strip() and key not in ("venue", "date"):
        raise InputError(f"{where}: `{key}` is empty; fill it in.")
    return value


def load_origins(raw_dir: Path) -> list[SourceOrigin]:
    """Read the origin records of `raw_dir`: `sources.toml`, then each `*.source.toml` (one
    record per onboarded source, written by `analysis add-source`) in name order.

    Files and article ids are unique across all of them.
    """
    path = Path(raw_dir) / ORIGIN_FILE
    name = relative(path)
    if not path.is_file():
        raise InputError(
            f"{name}: the origin records are missing. Create it with one [[source]] record per "
            "raw file (file, sha256, size_bytes, encoding, licence, [[source.article]] records)."
        )
    sources: list[SourceOrigin] = []
    seen_files: set[str] = set()
    seen_articles: set[str] = set()
    for record_path in [path, *sorted(Path(raw_dir).glob(SOURCE_RECORD_GLOB))]:
        sources.extend(_load_records(record_path, seen_files, seen_articles))
    return sources


def _load_records(path: Path, seen_files: set[str], seen_articles: set[str]) -> list[SourceOrigin]:
    name = relative(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: not valid UTF-8 TOML ({exc}); fix the file.") from exc
    records = doc.get("source")
    if not isinstance(records, list) or not records:
        raise InputError(f"{name}: no [[source]] record; list every raw source file there.")
    sources: list[SourceOrigin] = []
    for n, rec in enumerate(records, start=1):
        where = f"{name}: [[source]] #{n}"
        file = _need(rec, "file", where)
        where = f"{name}: [[source]] #{n} (file = {file!r})"
        if file in seen_files:
            raise InputError(f"{where}: the file is listed twice; keep one record.")
        seen_files.add(file)
        if "/" in file or "\\" in file:
            raise InputError(f"{where}: give a file name inside data/raw/, not a path.")
        sha = _need(rec, "sha256", where).lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise InputError(f"{where}: `sha256` must be 64 hex digits.")
        encoding = _need(rec, "encoding", where).lower()
        if encoding not in _SUPPORTED_ENCODINGS:
            raise InputError(
                f"{where}: encoding {encoding!r} is not supported; convert the file to UTF-8 "
                '(keep the original elsewhere) and record encoding = "utf-8".'
            )
        articles_raw = rec.get("article")
        if not isinstance(articles_raw, list) or not articles_raw:
            raise InputError(f"{where}: no [[source.article]] record; list its articles in order.")
        articles = []
        for k, art in enumerate(articles_raw, start=1):
            awhere = f"{where}, article #{k}"
            art_id = _need(art, "id", awhere)
            if art_id in seen_articles:
                raise InputError(f"{awhere}: article id {art_id!r} is used twice; ids are unique.")
            if not is_article_id(art_id):
                raise InputError(
                    f"{awhere}: article id {art_id!r} must be ASCII letters, digits and _ "
                    "(at most 32), e.g. a1 or oled_2022."
                )
            seen_articles.add(art_id)
            authors = _need(art, "authors", awhere, list)
            articles.append(
                ArticleOrigin(
                    id=art_id,
                    title=_need(art, "title", awhere),
                    institute=_need(art, "institute", awhere),
                    authors=tuple(str(a) for a in authors),
                    publisher=_one_line(art.get("publisher", "")),
                    venue=_one_line(art.get("venue", "")),
                    date=str(art.get("date", "")),
                    provenance_note=_one_line(art.get("provenance_note", "")),
                )
            )
        sources.append(
            SourceOrigin(
                file=file,
                sha256=sha,
                size_bytes=_need(rec, "size_bytes", where, int),
                encoding=encoding,
                licence=_one_line(_need(rec, "licence", where)),
                articles=tuple(articles),
                received_as=str(rec.get("received_as", "")),
                note=_one_line(rec.get("note", "")),
            )
        )
    return sources


_PUBLISHER_PAIR = re.compile(r"\s*([^(),]+?)\s*\(([^()]+)\)")


def publisher_names(publisher: str, lang: str) -> list[str]:
    """The bodies an origin record's `publisher` names, in a language, the publisher first.

    The records name each body in English with the Chinese in brackets ("CCID Think Tank
    (赛迪智库), China Center … (中国电子信息产业发展研究院)"): the first is the publisher, the
    rest its parent body. A record written otherwise (or empty) is one name as given.
    """
    pairs = _PUBLISHER_PAIR.findall(publisher)
    if not pairs:
        return [publisher.strip()] if publisher.strip() else []
    return [zh if lang == "zh" else en for en, zh in pairs]


def is_article_id(text: str) -> bool:
    """An article id: 1-32 ASCII letters, digits and underscores (no "-": it separates the
    parts of paragraph and sentence ids, `<article>-p017-s02`)."""
    return _ARTICLE_ID_RE.fullmatch(text) is not None


def _toml_string(value: str) -> str:
    # A JSON string is a TOML basic string (same escapes; non-ASCII kept as is).
    return json.dumps(value, ensure_ascii=False)


def origin_record_toml(origin: SourceOrigin, header: str) -> str:
    """The TOML text of one origin record, in the format of sources.toml's records."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines += [
        "",
        "[[source]]",
        f"file = {_toml_string(origin.file)}",
        f'sha256 = "{origin.sha256}"',
        f"size_bytes = {origin.size_bytes}",
        f"encoding = {_toml_string(origin.encoding)}",
        f"received_as = {_toml_string(origin.received_as)}",
        f"note = {_toml_string(origin.note)}",
        f"licence = {_toml_string(origin.licence)}",
    ]
    for a in origin.articles:
        lines += [
            "",
            "[[source.article]]",
            f"id = {_toml_string(a.id)}",
            f"title = {_toml_string(a.title)}",
            f"institute = {_toml_string(a.institute)}",
            f"authors = [{', '.join(_toml_string(x) for x in a.authors)}]",
            f"publisher = {_toml_string(a.publisher)}",
            f"venue = {_toml_string(a.venue)}",
            f"date = {_toml_string(a.date)}",
            f"provenance_note = {_toml_string(a.provenance_note)}",
        ]
    return "\n".join(lines) + "\n"


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return line, col


def decode_source(data: bytes, origin: SourceOrigin, name: str) -> str:
    """Check `data` against its origin record and return the decoded text.

    `name` is how messages name the file. Raises InputError for an empty file, a byte-order
    mark, UTF-16/32, bytes that are not UTF-8 (with line and column), a truncated file, or a
    sha256 that differs from the record.
    """
    fix = (
        "The raw snapshot is immutable: restore the file received (see `received_as` in "
        "sources.toml); a new version of the source needs a new record."
    )
    if not data:
        raise InputError(
            f"{name}:1: the file is empty (0 bytes; sources.toml records "
            f"{origin.size_bytes} bytes). {fix}"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        raise InputError(
            f"{name}:1: the file starts with a UTF-8 byte-order mark; the raw "
            f"sources are UTF-8 without BOM. {fix}"
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4096]:
        offset = max(data.find(b"\x00"), 0)
        line, _ = _line_col(data, offset)
        raise InputError(
            f"{name}:{line}: the file looks like UTF-16/32 (byte-order mark or NUL "
            f"bytes); the raw sources are UTF-8. {fix}"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data, exc.start)
        if exc.end >= len(data) and exc.reason == "unexpected end of data":
            raise InputError(
                f"{name}:{line}:{col}: the file ends in the middle of a UTF-8 "
                f"character, so it is truncated ({len(data)} of "
                f"{origin.size_bytes} bytes). {fix}"
            ) from exc
        hint = ""
        try:
            data.decode("gb18030")
            hint = (
                " It decodes as GBK/GB18030: it was probably saved in a legacy Chinese code page."
            )
        except UnicodeDecodeError:
            pass
        raise InputError(
            f"{name}:{line}:{col}: byte 0x{data[exc.start]:02X} is not valid UTF-8.{hint} {fix}"
        ) from exc
    if len(data) != origin.size_bytes:
        line, _ = _line_col(data, len(data))
        what = "truncated" if len(data) < origin.size_bytes else "longer than recorded"
        raise InputError(
            f"{name}:{line}: the file is {what}: {len(data)} bytes, but sources.toml "
            f"records {origin.size_bytes} bytes. {fix}"
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != origin.sha256:
        raise InputError(
            f"{name}: the file has changed: its sha256 is {digest}, but sources.toml "
            f"records {origin.sha256}. {fix}"
        )
    return text


def read_source(origin: SourceOrigin, raw_dir: Path) -> str:
    """Read, check and decode the raw file of `origin` from `raw_dir`."""
    path = Path(raw_dir) / origin.file
    name = relative(path)
    if not path.is_file():
        raise InputError(
            f"{name}: listed in sources.toml but not found; copy the source there "
            "byte for byte, or remove its record."
        )
    return decode_source(path.read_bytes(), origin, name)
