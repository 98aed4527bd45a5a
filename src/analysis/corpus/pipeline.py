"""`analysis corpus`: ingest every listed source, repair it through reviewed decisions, audit.

load (origin records, checked raw files, errata, decisions) → prepare (parse, errata, detectors
and accepted repairs in stage order, articles and sections, sentences) → save (four CSV files in
data/processed/, swapped in together with the folder's other files, only when every input is
valid; see analysis.io).

Stage order: errata → page furniture → reading order → page-break joins → doubled characters
→ pull quotes → punctuation. Each detector sees the text after the accepted repairs of the
stages before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..io import check_output_dir, publish
from ..paths import PROCESSED, RAW, relative
from .audit import AUDIT_COLUMNS, KIND_ORDER, STAGE_ORDER, AuditRow, context_of
from .decisions import ERRATA_FILE, Decision, Erratum, load_decisions, load_errata
from .detectors import (
    FURNITURE_ROLE,
    HEADING_ROLES,
    Proposal,
    detect_doubled_chars,
    detect_page_break_joins,
    detect_page_furniture,
    detect_pull_quotes,
    detect_punctuation,
    detect_reading_order,
)
from .model import (
    ARTICLE_COLUMNS,
    ARTICLES_FILE,
    AUDIT_FILE,
    PARAGRAPH_COLUMNS,
    PARAGRAPHS_FILE,
    SECTION_SEPARATOR,
    SENTENCE_COLUMNS,
    SENTENCES_FILE,
)
from .origin import SourceOrigin, decode_source, load_origins, read_source
from .parse import RawBlock, Unit, parse_units
from .punctuation import FULL_TO_HALF, HALF_TO_FULL, split_sentences, to_fullwidth
from .text import format_spans

Decide = Callable[[Proposal], str]
UNDECIDED = "undecided"


@dataclass
class SourceResult:
    """The clean corpus rows, audit rows and proposals of one source."""

    origin: SourceOrigin
    article_rows: list[list[str]]
    paragraph_rows: list[list[str]]
    sentence_rows: list[list[str]]
    audit_rows: list[AuditRow]
    proposals: list[tuple[Proposal, str]]
    roles: dict[str, int]


@dataclass
class Summary:
    """What `analysis corpus` did: counts per repair kind and the proposals awaiting review."""

    strict: bool
    sources: int = 0
    articles: int = 0
    paragraphs: int = 0
    sentences: int = 0
    roles: dict[str, int] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)
    undecided: list[Proposal] = field(default_factory=list)
    stale: list[Decision] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0, or 1 in strict mode when a proposal is undecided or a decision matches nothing."""
        return 1 if self.strict and (self.undecided or self.stale) else 0

    def render(self) -> str:
        """A short, human-readable report of the run."""
        lines = [
            f"corpus: {self.sources} source(s), {self.articles} articles, {self.paragraphs} "
            f"paragraphs ({self.roles.get('pull_quote', 0)} pull quotes), "
            f"{self.sentences} sentences",
            f"{'repair kind':<18}{'accepted':>9}{'rejected':>9}{'undecided':>10}{'changes':>9}",
        ]
        # The new kinds (page furniture, doubled characters) get a row when a source has them.
        kinds = [k for k in STAGE_ORDER if k in KIND_ORDER or k in self.counts]
        for kind in kinds:
            c = self.counts.get(kind, {})
            lines.append(
                f"{kind:<18}{c.get('accept', 0):>9}{c.get('reject', 0):>9}"
                f"{c.get(UNDECIDED, 0):>10}{self.changes.get(kind, 0):>9}"
            )
        lines.append(f"proposals awaiting review: {len(self.undecided)}")
        for p in self.undecided:
            lines.append(f"  {p.id}  {p.kind}: {p.summary}")
        if self.undecided:
            lines.append(
                "  review each one (`analysis corpus` without --strict lists them in "
                "cleaning_audit.csv as undecided) and add a row per id to "
                "corpus_decisions.csv: proposal_id,kind,decision (accept/reject),note"
            )
        if self.stale:
            lines.append(f"decisions that match no proposal: {len(self.stale)}")
            for d in self.stale:
                lines.append(f"  corpus_decisions.csv:{d.line}: {d.proposal_id} ({d.kind})")
        if self.exit_code:
            lines.append("strict mode: failing; outputs left untouched")
        elif self.written:
            lines.append("wrote " + ", ".join(self.written))
        return "\n".join(lines)


def decide_from(decisions: dict[str, Decision]) -> Decide:
    """A decision function that looks proposals up in the reviewed decisions."""

    def decide(p: Proposal) -> str:
        d = decisions.get(p.id)
        return d.decision if d is not None else UNDECIDED

    return decide


def accept_all(_: Proposal) -> str:
    """A decision function accepting every proposal (benchmarks, previews)."""
    return "accept"


def _owner(units: list[Unit]) -> dict[int, int]:
    return {b.number: i for i, u in enumerate(units) for b in u.blocks}


def _apply_errata(
    raw: str, units: list[Unit], errata: list[Erratum], name: str, errata_name: str, pending: list
) -> None:
    blocks = [b for u in units for b in u.blocks]
    owner = _owner(units)
    for e in errata:
        count = raw.count(e.raw_text)
        if count != 1:
            what = "no longer occurs" if count == 0 else f"occurs {count} times"
            raise InputError(
                f"{errata_name}:{e.line}: the raw text {e.raw_text!r} {what} in {name}; an "
                "erratum must match the raw source exactly once (add context to make it unique, "
                "or remove the entry)."
            )
        start = raw.find(e.raw_text)
        end = start + len(e.raw_text)
        block = next((b for b in blocks if b.start <= start < b.end), None)
        unit = units[owner[block.number]] if block is not None else None
        clean = unit.text.clean_range(start, end) if unit is not None else None
        if unit is None or clean is None:
            raise InputError(
                f"{errata_name}:{e.line}: the raw text {e.raw_text!r} crosses a paragraph, line "
                f"or heading-marker boundary in {name}; correct each paragraph separately."
            )
        unit.text = unit.text.replace(clean[0], clean[1], e.replacement)
        pending.append(
            dict(
                kind="erratum",
                block=block.number,
                raw_spans=format_spans([(start, end)]),
                before=e.raw_text,
                after=e.replacement,
                context="",  # filled in from the final clean text (_erratum_context)
                reason=e.reason,
                detector=f"{ERRATA_FILE}:{e.line}",
                proposal_id="",
                decision="accept",
                _start=start,
            )
        )


def _erratum_context(units: list[Unit], block: int, raw_start: int) -> str:
    """The final clean text around the replacement made from raw offset `raw_start`."""
    for unit in units:
        if all(b.number != block for b in unit.blocks):
            continue
        pos = 0
        for seg in unit.text.segments:
            if not seg.exact and seg.raw_start == raw_start and seg.block == block:
                return context_of(unit.text.text, pos, pos + len(seg.text))
            pos += len(seg.text)
    return ""


def _block_spans(blocks: dict[int, RawBlock], numbers: tuple[int, ...]) -> str:
    return format_spans([(blocks[n].start, blocks[n].end) for n in numbers])


def _proposal_entry(p: Proposal, decision: str, raw_spans: str) -> dict:
    return dict(
        _start=int(raw_spans.split("-", 1)[0]),
        kind=p.kind,
        block=p.blocks[0],
        raw_spans=raw_spans,
        before=p.before,
        after=p.after,
        context=p.summary,
        reason=p.reason,
        detector=p.detector,
        proposal_id=p.id,
        decision=decision,
    )


def _apply_move(units: list[Unit], p: Proposal) -> list[Unit]:
    firsts = [u.first.number for u in units]
    try:
        start = firsts.index(p.blocks[0])
        end = firsts.index(p.blocks[-2])
        o = firsts.index(p.blocks[-1])
    except ValueError:  # an earlier accepted move changed these units; nothing to move
        return units
    if start <= o <= end:
        return units
    moved = units[start : end + 1]
    if o < start:
        return units[:o] + moved + units[o:start] + units[end + 1 :]
    return units[:start] + units[end + 1 : o] + moved + units[o:]


def _merge_joined(units: list[Unit], continues: dict[int, int]) -> list[Unit]:
    """Append each unit accepted as the continuation of a block to the paragraph holding that
    block, in one pass (chains a+b+c join in turn). Page furniture printed between the two
    stays where it is, after the joined paragraph."""
    merged: list[Unit] = []
    for u in units:
        prev = continues.get(u.first.number)
        m = len(merged) - 1
        while m >= 0 and merged[m].role == FURNITURE_ROLE:
            m -= 1
        if prev is not None and m >= 0 and merged[m].blocks[-1].number == prev:
            a = merged[m]
            merged[m] = Unit(a.blocks + u.blocks, a.role, a.text + u.text, a.level)
        else:
            merged.append(u)
    return merged


def process_source(
    raw: str,
    origin: SourceOrigin,
    errata: list[Erratum],
    decide: Decide,
    name: str,
    errata_name: str = ERRATA_FILE,
) -> SourceResult:
    """Parse, repair and audit the decoded text of one source; return its rows and proposals."""
    units = parse_units(raw, origin, name)
    blocks = {u.first.number: u.first for u in units}
    source = origin.file
    pending: list[dict] = []
    proposals: list[tuple[Proposal, str]] = []

    _apply_errata(raw, units, errata, name, errata_name, pending)

    for p in detect_page_furniture(units, source):
        decision = decide(p)
        proposals.append((p, decision))
        pending.append(_proposal_entry(p, decision, _block_spans(blocks, p.blocks)))
        if decision == "accept":
            units[_owner(units)[p.blocks[0]]].role = FURNITURE_ROLE

    for p in detect_reading_order(units, source):
        decision = decide(p)
        proposals.append((p, decision))
        pending.append(_proposal_entry(p, decision, _block_spans(blocks, p.blocks[:-1])))
        if decision == "accept":
            units = _apply_move(units, p)

    joins = detect_page_break_joins(units, source)
    for p in joins:
        decision = decide(p)
        proposals.append((p, decision))
        pending.append(_proposal_entry(p, decision, _block_spans(blocks, p.blocks)))
    continues = {p.blocks[1]: p.blocks[0] for p, d in proposals[-len(joins) :] if d == "accept"}
    if joins and continues:
        units = _merge_joined(units, continues)

    owner = _owner(units)
    doubled: dict[int, list[int]] = {}
    for p in detect_doubled_chars(units, source):
        decision = decide(p)
        proposals.append((p, decision))
        text = units[owner[p.blocks[0]]].text
        (start, _), (_, end) = text.raw_char_spans([p.positions[0], p.positions[0] + 1])
        entry = _proposal_entry(p, decision, format_spans([(start, end)]))
        entry["context"] = context_of(text.text, p.positions[0], p.positions[0] + 2)
        pending.append(entry)
        if decision == "accept":
            doubled.setdefault(owner[p.blocks[0]], []).append(p.positions[0])
    for idx, positions in doubled.items():
        unit = units[idx]
        for pos in sorted(positions, reverse=True):
            unit.text = unit.text.replace(pos, pos + 2, unit.text.text[pos])

    owner = _owner(units)
    for p in detect_pull_quotes(units, source):
        decision = decide(p)
        proposals.append((p, decision))
        pending.append(_proposal_entry(p, decision, _block_spans(blocks, p.blocks)))
        if decision == "accept":
            units[owner[p.blocks[0]]].role = "pull_quote"

    owner = _owner(units)
    accepted_positions: dict[int, list[int]] = {}
    punctuation: list[tuple[int, Proposal, str]] = []
    for p in detect_punctuation(units, source):
        decision = decide(p)
        proposals.append((p, decision))
        punctuation.append((owner[p.blocks[0]], p, decision))
        if decision == "accept":
            accepted_positions.setdefault(owner[p.blocks[0]], []).extend(p.positions)
    for idx, positions in accepted_positions.items():
        unit = units[idx]
        unit.text = unit.text.with_text(to_fullwidth(unit.text.text, sorted(positions)))

    result, block_pid = _assemble(units, origin, proposals)
    for e in pending:
        if e["kind"] == "erratum":
            e["context"] = _erratum_context(units, e["block"], e["_start"])
    keyed = [
        (
            (STAGE_ORDER.index(e["kind"]), e.pop("_start"), e["proposal_id"], e["before"]),
            AuditRow(source=origin.file, paragraph_id=block_pid[e.pop("block")], **e),
        )
        for e in pending
    ]
    keyed.sort(key=lambda kv: kv[0])
    # Punctuation rows come last (stage order) and already in raw order: no per-row sort key.
    punctuation.sort(key=lambda entry: blocks[entry[1].blocks[0]].start)
    result.audit_rows = [row for _, row in keyed]
    result.audit_rows.extend(_punctuation_rows(units, punctuation, block_pid, origin.file))
    return result


def _punctuation_rows(
    units: list[Unit],
    punctuation: list[tuple[int, Proposal, str]],
    block_pid: dict[int, str],
    source: str,
) -> list[AuditRow]:
    """One audit row per converted (or proposed) mark, with its raw offset and context.

    `punctuation` is in raw order of the blocks; within a block, clean positions and raw
    offsets rise together, so the rows come out in raw order.
    """
    out = []
    to_half, to_full, new = FULL_TO_HALF.get, HALF_TO_FULL.__getitem__, tuple.__new__
    for idx, p, decision in punctuation:
        text = units[idx].text
        clean = text.text
        pid = block_pid[p.blocks[0]]
        kind, reason, detector, pid_ = p.kind, p.reason, p.detector, p.id
        spans = text.raw_char_spans(p.positions)
        for pos, (start, end) in zip(p.positions, spans, strict=True):
            mark = clean[pos]
            half = to_half(mark, mark)
            context = f"{clean[max(0, pos - 6) : pos]}【{mark}】{clean[pos + 1 : pos + 7]}"
            # tuple.__new__ skips the NamedTuple's Python-level constructor (hot loop).
            fields = (source, kind, pid, f"{start}-{end}", half, to_full(half), context)
            out.append(new(AuditRow, (*fields, reason, detector, pid_, decision)))
    return out


def _assemble(
    units: list[Unit], origin: SourceOrigin, proposals: list[tuple[Proposal, str]]
) -> tuple[SourceResult, dict[int, str]]:
    """Assign articles, sections, ledes and ids; build the article, paragraph, sentence rows."""
    n_blocks = max(b.number for u in units for b in u.blocks)
    width = max(3, len(str(n_blocks)))
    article_rows: list[list[str]] = []
    paragraph_rows: list[list[str]] = []
    sentence_rows: list[list[str]] = []
    block_pid: dict[int, str] = {}
    roles: dict[str, int] = {}
    articles = iter(origin.articles)
    article = None
    stack: list[tuple[int, str]] = []
    order = 0
    in_preamble = True
    for unit in units:
        text = unit.text.text
        if unit.role == "title":
            article = next(articles)
            stack, order, in_preamble = [], 0, True
            article_rows.append(
                [
                    article.id,
                    origin.file,
                    origin.sha256,
                    article.title,
                    article.institute,
                    ";".join(article.authors),
                    article.publisher,
                    article.venue,
                    article.date,
                    article.provenance_note,
                ]
            )
        elif unit.role in ("heading", "subheading"):
            in_preamble = False
            rank = unit.level if unit.role == "heading" else 7
            while stack and stack[-1][0] >= rank:
                stack.pop()
            stack.append((rank, text))
        elif unit.role == "body" and in_preamble:
            unit.role = "lede"
            in_preamble = False
        assert article is not None  # parse_units guarantees a title first
        order += 1
        pid = f"{article.id}-p{unit.first.number:0{width}d}"
        for b in unit.blocks:
            block_pid[b.number] = pid
        roles[unit.role] = roles.get(unit.role, 0) + 1
        spans = format_spans([(b.start, b.end) for b in unit.blocks])
        section = SECTION_SEPARATOR.join(t for _, t in stack)
        paragraph_rows.append(
            [article.id, section, pid, unit.role, str(order), text, origin.file, spans]
        )
        if unit.role in HEADING_ROLES or unit.role == "byline":
            sentence_spans = [(0, len(text))]
        else:
            sentence_spans = split_sentences(text)
        segments = unit.text.segments
        # One unchanged run of raw text (most paragraphs): offsets are a plain shift.
        base = segments[0].raw_start if len(segments) == 1 and segments[0].exact else None
        for k, (s, e) in enumerate(sentence_spans, start=1):
            sentence_rows.append(
                [
                    f"{pid}-s{k:02d}",
                    pid,
                    article.id,
                    unit.role,
                    str(k),
                    text[s:e],
                    f"{base + s}-{base + e}"
                    if base is not None
                    else format_spans(unit.text.raw_spans(s, e)),
                ]
            )
    result = SourceResult(origin, article_rows, paragraph_rows, sentence_rows, [], proposals, roles)
    return result, block_pid


_NEEDS_QUOTES = re.compile('[",\r\n]')


def _field(value: str) -> str:
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(columns: tuple[str, ...], rows: list) -> str:
    """RFC 4180 CSV text with LF line ends, quoting only where needed.

    Byte for byte what `csv.writer(lineterminator="\n")` writes, except that a field holding a
    bare \r is quoted too; written by hand because it is twice as fast here. `csv.reader` reads
    it back unchanged (both tested).
    """
    lines = [",".join(_field(c) for c in columns)]
    n_commas = len(columns) - 1
    for row in rows:
        line = ",".join(row)
        # Fast paths: nothing to quote, or only commas (no quote or line break anywhere).
        if '"' in line or "\n" in line or "\r" in line:
            line = ",".join(
                [
                    '"' + v.replace('"', '""') + '"'
                    if ('"' in v or "," in v or "\n" in v or "\r" in v)
                    else v
                    for v in row
                ]
            )
        elif line.count(",") != n_commas:
            line = ",".join(['"' + v + '"' if "," in v else v for v in row])
        lines.append(line)
    lines.append("")
    return "\n".join(lines)


def render(
    strict: bool = False, raw_dir: Path = RAW, decide: Decide | None = None
) -> tuple[Summary, dict[str, bytes]]:
    """Build the clean corpus from `raw_dir`; return the summary and the four files as bytes.

    The files are empty (nothing to write) when strict mode fails: a proposal is undecided or
    a decision matches no proposal. Bad input raises InputError. `decide` replaces the
    reviewed decisions (`analysis add-source` previews a new source with its undecided
    proposals accepted).
    """
    raw_dir = Path(raw_dir)
    origins = load_origins(raw_dir)
    errata = load_errata(raw_dir, {o.file for o in origins})
    decisions = load_decisions(raw_dir)
    decide = decide or decide_from(decisions)
    errata_name = relative(raw_dir / ERRATA_FILE)
    results = []
    for origin in origins:
        text = read_source(origin, raw_dir)
        mine = [e for e in errata if e.source == origin.file]
        results.append(
            process_source(text, origin, mine, decide, relative(raw_dir / origin.file), errata_name)
        )
    summary = summarise(results, decisions, strict)
    if summary.exit_code:
        return summary, {}
    outputs = {
        ARTICLES_FILE: csv_text(ARTICLE_COLUMNS, [r for res in results for r in res.article_rows]),
        PARAGRAPHS_FILE: csv_text(
            PARAGRAPH_COLUMNS, [r for res in results for r in res.paragraph_rows]
        ),
        SENTENCES_FILE: csv_text(
            SENTENCE_COLUMNS, [r for res in results for r in res.sentence_rows]
        ),
        AUDIT_FILE: csv_text(AUDIT_COLUMNS, [row for res in results for row in res.audit_rows]),
    }
    return summary, {name: text.encode("utf-8") for name, text in outputs.items()}


def run(strict: bool = False, raw_dir: Path = RAW, out_dir: Path = PROCESSED) -> Summary:
    """Build the clean corpus from `raw_dir` into `out_dir`; return the summary.

    In strict mode nothing is written and the exit code is 1 when a proposal is undecided or a
    decision matches no proposal. Bad input raises InputError before anything is written. The
    four files replace those in `out_dir` all at once (analysis.io.publish): the folder's
    other files are kept.
    """
    check_output_dir(out_dir)
    summary, files = render(strict, raw_dir)
    if files:
        summary.written = publish(out_dir, files)
    return summary


def summarise(results: list[SourceResult], decisions: dict[str, Decision], strict: bool) -> Summary:
    """Count articles, paragraphs, proposals and changes over all sources."""
    summary = Summary(strict=strict, sources=len(results))
    seen_ids: set[str] = set()
    for res in results:
        summary.articles += len(res.article_rows)
        summary.paragraphs += len(res.paragraph_rows)
        summary.sentences += len(res.sentence_rows)
        for role, n in res.roles.items():
            summary.roles[role] = summary.roles.get(role, 0) + n
        for p, decision in res.proposals:
            seen_ids.add(p.id)
            c = summary.counts.setdefault(p.kind, {})
            c[decision] = c.get(decision, 0) + 1
            if decision == UNDECIDED:
                summary.undecided.append(p)
        for row in res.audit_rows:
            if row.decision == "accept":
                summary.changes[row.kind] = summary.changes.get(row.kind, 0) + 1
                if row.kind == "erratum":
                    c = summary.counts.setdefault("erratum", {})
                    c["accept"] = c.get("accept", 0) + 1
    summary.stale = [d for pid, d in sorted(decisions.items()) if pid not in seen_ids]
    summary.stale.sort(key=lambda d: d.line)
    return summary


def process_bytes(data: bytes, origin: SourceOrigin, decide: Decide = accept_all) -> SourceResult:
    """Check and process one source given as bytes (for benchmarks and tests)."""
    text = decode_source(data, origin, origin.file)
    return process_source(text, origin, [], decide, origin.file)
