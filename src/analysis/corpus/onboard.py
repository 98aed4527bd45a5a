"""`analysis add-source`: onboard a new article without a code change.

What it does, in this order, and nothing before every check has passed:

1. reads FILE and refuses it unless it is non-empty UTF-8 without a byte-order mark (a bad byte
   is named by its byte offset, line and column);
2. refuses to overwrite a different file of the same name in data/raw/, a file already listed
   in an origin record, an article id already used, and an origin record that exists;
3. parses and repairs the text in memory with the reviewed decisions, as `analysis data`
   will (a title that differs from `--title`, or a byline that differs from `--institute` and
   `--authors`, is an error);
4. copies FILE into data/raw/ byte for byte and writes its origin record
   `<stem>.source.toml` beside it (sha256, size, encoding, licence, the article: the format of
   sources.toml's records), each through a temporary file renamed into place;
5. builds the corpus and the fact base of all sources into a temporary folder (not
   data/processed/), the new source's undecided proposals accepted, and prints the repair
   proposals of the new source and its numeric mentions that no rule classifies: what a
   reviewer decides before `make data`.

If step 5 fails on bad input, the two files of step 4 are removed again. No existing file of
data/raw/ is edited: the decisions and rules the review leads to are written by a person.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..paths import RAW, relative
from .decisions import DECISIONS_FILE, load_decisions
from .origin import (
    ORIGIN_FILE,
    SOURCE_RECORD_SUFFIX,
    ArticleOrigin,
    SourceOrigin,
    is_article_id,
    load_origins,
    origin_record_toml,
)
from .pipeline import UNDECIDED, Decide, decide_from, process_source

if TYPE_CHECKING:
    from ..facts.coverage import MentionStatus
    from .detectors import Proposal

DEFAULT_LICENCE = (
    "Unknown: none was given to analysis add-source. The article is the work of its authors; "
    "the snapshot is kept for research and quotation with attribution only."
)
_RECORD_HEADER = (
    "Origin record of {file}, written by `analysis add-source`\n"
    "(the format of the records in sources.toml). The raw file beside it is kept byte for\n"
    "byte as received; corrections live in errata.csv and corpus_decisions.csv. Review and\n"
    "complete this record by hand (venue, date, provenance_note, licence)."
)


@dataclass
class Onboarded:
    """What `add_source` did and what is left to review."""

    origin: SourceOrigin
    copied: bool
    written: list[str]
    proposals: list[tuple[Proposal, str]] = field(default_factory=list)
    unclassified: list[MentionStatus] = field(default_factory=list)
    mentions: int = 0

    def render(self) -> str:
        """The report printed by `analysis add-source`."""
        o = self.origin
        art = o.articles[0]
        lines = [
            f"{'copied' if self.copied else 'found (identical)'} {o.file}: "
            f"{o.size_bytes} bytes, sha256 {o.sha256}",
            f"wrote {', '.join(self.written)}",
            f"article {art.id}: 《{art.title}》 ({art.institute}; {' '.join(art.authors)})",
        ]
        undecided = [p for p, d in self.proposals if d == UNDECIDED]
        lines.append(
            f"repair proposals: {len(self.proposals)}, to review: {len(undecided)} "
            f"(add a row per id to data/raw/{DECISIONS_FILE}: proposal_id,kind,decision,note; "
            "each is shown as if the ones before it were accepted)"
        )
        for p, decision in self.proposals:
            mark = "" if decision == UNDECIDED else f" [{decision}ed already]"
            lines.append(f"  {p.id}  {p.kind}: {p.summary}{mark}")
        lines.append(
            f"numeric mentions: {self.mentions}, unclassified: {len(self.unclassified)} (add a "
            "rule to data/raw/extraction_rules.toml or a reviewed reason to "
            "data/raw/mention_rules.toml)"
        )
        for m in self.unclassified:
            mention = m.mention
            lines.append(f"  {mention.id}  “{mention.text}” ({mention.kind})")
        lines.append(
            "then: `make data` (strict: fails until every proposal is decided and every "
            "mention classified)"
        )
        return "\n".join(lines)


def check_utf8(data: bytes, name: str) -> str:
    """The text of `data`, or InputError naming the first byte that is not UTF-8."""
    if not data:
        raise InputError(f"{name}: the file is empty.")
    if data.startswith(b"\xef\xbb\xbf"):
        raise InputError(
            f"{name}: starts with a UTF-8 byte-order mark (bytes 0-2); save it as UTF-8 "
            "without BOM."
        )
    nul = data.find(b"\x00")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or nul != -1:
        offset = 0 if nul == -1 else nul
        raise InputError(
            f"{name}: byte offset {offset}: looks like UTF-16/32 (byte-order mark or NUL "
            "bytes); convert it to UTF-8."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            f"{name}: byte offset {exc.start} (line {line}, column {col}): byte "
            f"0x{data[exc.start]:02X} is not UTF-8; convert the file to UTF-8 (keep the "
            "original elsewhere)."
        ) from exc


def default_article_id(file_name: str) -> str:
    """An article id from the file name: its stem in lower-case ASCII letters, digits and _
    (at most 32), or `src_<8 hex of its name>` when the stem has none."""
    stem = file_name.rsplit(".", 1)[0]
    slug = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")[:32].strip("_")
    if not slug:
        slug = "src_" + hashlib.sha256(file_name.encode("utf-8")).hexdigest()[:8]
    return slug


def _write_new(path: Path, data: bytes) -> None:
    """Create `path` with `data` through a temporary file in the same folder; never replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".analysis-tmp-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)  # fails if `path` appeared meanwhile: nothing is replaced
    finally:
        os.unlink(tmp)


def add_source(
    file: Path,
    title: str,
    institute: str,
    authors: Sequence[str],
    article_id: str | None = None,
    raw_dir: Path = RAW,
    licence: str = DEFAULT_LICENCE,
    publisher: str = "",
    venue: str = "",
    date: str = "",
    note: str = "",
) -> Onboarded:
    """Onboard `file` into `raw_dir` (see the module docstring); raise InputError on bad input
    with nothing written."""
    file, raw_dir = Path(file), Path(raw_dir)
    shown = relative(file)
    if not file.is_file():
        raise InputError(f"{shown}: not found (give the path of the article's text file).")
    data = file.read_bytes()
    text = check_utf8(data, shown)
    name = file.name
    for value, option in ((title, "--title"), (institute, "--institute")):
        if not value.strip():
            raise InputError(f"{option} is empty; give the article's {option[2:]}.")
    authors = tuple(a for a in authors if a.strip())
    if not authors:
        raise InputError("--authors is empty; give at least one author.")
    if name == ORIGIN_FILE or name.endswith(SOURCE_RECORD_SUFFIX) or name.startswith("."):
        raise InputError(f"{shown}: {name!r} cannot be a source file name; rename the file.")

    target = raw_dir / name
    copied = True
    if target.exists():
        if not target.is_file() or target.read_bytes() != data:
            raise InputError(
                f"{relative(target)} exists and differs from {shown}; it is not overwritten. "
                "Give the new file another name (a new version of a source needs a new record)."
            )
        copied = False
    origins = load_origins(raw_dir)
    listed = {o.file for o in origins}
    if name in listed:
        raise InputError(f"{relative(target)} is already listed in an origin record.")
    taken = {a.id for o in origins for a in o.articles}
    article_id = article_id or default_article_id(name)
    if not is_article_id(article_id):
        raise InputError(
            f"--id {article_id!r}: an article id is 1-32 ASCII letters, digits and _ (no -)."
        )
    if article_id in taken:
        raise InputError(f"--id {article_id!r}: the article id is already used; give another.")
    record = raw_dir / (name.rsplit(".", 1)[0] + SOURCE_RECORD_SUFFIX)
    if record.exists():
        raise InputError(f"{relative(record)} exists; it is not overwritten.")

    origin = SourceOrigin(
        file=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        encoding="utf-8",
        licence=" ".join(licence.split()),
        articles=(
            ArticleOrigin(
                id=article_id,
                title=title.strip(),
                institute=institute.strip(),
                authors=authors,
                publisher=publisher,
                venue=venue,
                date=date,
            ),
        ),
        received_as=f"{name} (copied byte for byte by analysis add-source)",
        note=" ".join(note.split()),
    )
    decide = decide_from(load_decisions(raw_dir))
    # Parse and repair before writing anything: a title or byline that differs from the
    # options, or text before the title, is an error here.
    process_source(text, origin, [], decide, relative(target))
    record_text = origin_record_toml(origin, _RECORD_HEADER.format(file=name))

    written: list[Path] = []
    try:
        if copied:
            _write_new(target, data)
            written.append(target)
        _write_new(record, record_text.encode("utf-8"))
        written.append(record)
        report = _review(origin, raw_dir)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    report.copied = copied
    report.written = [relative(p) for p in written]
    return report


def preview_decide(raw_dir: Path) -> Decide:
    """The reviewed decisions, with every undecided proposal accepted: what the corpus becomes
    if the reviewer agrees with each, so that later stages (the join after a move, the fact
    extraction of repaired text) are shown too."""
    decided = decide_from(load_decisions(raw_dir))

    def decide(p: Proposal) -> str:
        d = decided(p)
        return "accept" if d == UNDECIDED else d

    return decide


def _review(origin: SourceOrigin, raw_dir: Path) -> Onboarded:
    """The new source's proposals and unclassified mentions, from a build of every source
    into a temporary folder (data/processed/ is not touched), undecided proposals accepted."""
    from ..facts.pipeline import build as build_facts
    from .origin import read_source
    from .pipeline import render as render_corpus

    preview = preview_decide(raw_dir)
    _, files = render_corpus(strict=False, raw_dir=raw_dir, decide=preview)
    ids = {a.id for a in origin.articles}
    with tempfile.TemporaryDirectory(prefix="analysis-add-source-") as tmp:
        for file_name, content in files.items():
            (Path(tmp) / file_name).write_bytes(content)
        facts = build_facts(Path(tmp), raw_dir, validate=True)
    mentions = [m for m in facts.mentions if m.mention.sentence_id.split("-", 1)[0] in ids]
    reviewed = decide_from(load_decisions(raw_dir))
    text = read_source(origin, raw_dir)
    result = process_source(text, origin, [], preview, relative(raw_dir / origin.file))
    return Onboarded(
        origin=origin,
        copied=True,
        written=[],
        proposals=[(p, reviewed(p)) for p, _ in result.proposals],
        unclassified=[m for m in mentions if m.status == "unclassified"],
        mentions=len(mentions),
    )
