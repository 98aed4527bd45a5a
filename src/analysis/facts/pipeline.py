"""`analysis facts`: extract, check, validate and export the fact tables.

load (the clean corpus, the reviewed rules, lexicon and glossary) → prepare (numeric mentions,
topic tables, coverage, cross-checks, schema validation) → save (CSV per table, the numeric
mentions, datapackage.json (with each file's sha256) and ccid_facts.xlsx in data/processed/,
swapped in all at once (analysis.io) and only after every table is valid and every check
passes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..corpus.model import ARTICLES_FILE, AUDIT_FILE, PARAGRAPHS_FILE, SENTENCES_FILE
from ..errors import InputError
from ..io import StagedFolder, check_output_dir, publish
from ..paths import PROCESSED, RAW, relative
from .checks import (
    CONSISTENCY_CHECKS,
    Check,
    ConsistencyError,
    failure_message,
    load_checks,
    run_checks,
)
from .coverage import MentionStatus, classify, coverage_counts
from .glossary import GLOSSARY, load_glossary
from .mentions import MENTION_RULES, extract, load_lexicon
from .quantities import quantities_table
from .rules import EXTRACTION_RULES, FACT_ROLES, Row, apply_rules, load_rules
from .source import FactSentence, load_sentences
from .tables import (
    ALL_TABLES,
    BY_NAME,
    CHECKS_TABLE,
    MENTIONS_TABLE,
    QUANTITIES_TABLE,
    SENTENCES_TABLE,
    TABLES,
)
from .validation import SchemaValidator

WORKBOOK_FILE = "ccid_facts.xlsx"
DATAPACKAGE_FILE = "datapackage.json"
# Tables whose rows are ordered by a column rather than by the order of the text.
SORT_BY = {"policy_events": ("date",)}
CORPUS_FILES = (ARTICLES_FILE, PARAGRAPHS_FILE, SENTENCES_FILE, AUDIT_FILE)
# The folder's files that are not table resources of the data package, with what they hold;
# datapackage.json lists them under "files" with their sha256 (export.datapackage).
OTHER_FILES = {
    ARTICLES_FILE: "The articles of the clean corpus (analysis corpus).",
    PARAGRAPHS_FILE: "The paragraphs of the clean corpus, in reading order (analysis corpus).",
    SENTENCES_FILE: "The sentences of the clean corpus, in reading order (analysis corpus).",
    AUDIT_FILE: "One row per repair of the raw source made or considered (analysis corpus).",
    WORKBOOK_FILE: "Every table as a sheet of one Excel workbook, with a README sheet.",
}


@dataclass
class FactBase:
    """Every table of the fact base as rows (column -> value), before export."""

    tables: dict[str, list[dict[str, object]]]
    checks: list[Check]
    mentions: list[MentionStatus]
    sentences: list[FactSentence]

    @property
    def unclassified(self) -> list[MentionStatus]:
        """Mentions that no table uses and no review rule classifies."""
        return [m for m in self.mentions if m.status == "unclassified"]


@dataclass
class Summary:
    """What `analysis facts` did: rows per table, mention coverage, checks, files written."""

    strict: bool
    rows: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    unclassified: list[MentionStatus] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0, or 1 in strict mode when a numeric mention is unclassified."""
        return 1 if self.strict and self.unclassified else 0

    def render(self) -> str:
        """A short, human-readable report of the run."""
        cov = self.coverage
        total = cov.get("total", 0) or 1
        accounted = cov.get("used", 0) + cov.get("not_a_fact", 0)
        lines = [
            f"facts: {len(self.rows)} tables, {sum(self.rows.values())} rows",
            *(f"  {name:<34}{n:>5}" for name, n in self.rows.items()),
            f"numeric mentions: {cov.get('total', 0)} — used {cov.get('used', 0)}, not a fact "
            f"{cov.get('not_a_fact', 0)}, unclassified {cov.get('unclassified', 0)} "
            f"(coverage {100 * accounted / total:.1f}%)",
        ]
        for m in self.unclassified:
            lines.append(
                f"  unclassified {m.mention.id} “{m.mention.text}” ({m.mention.kind}): add a rule "
                f"to {relative(EXTRACTION_RULES)} or a reviewed reason to {relative(MENTION_RULES)}"
            )
        passed = sum(c.result == "pass" for c in self.checks)
        lines.append(f"consistency checks: {passed}/{len(self.checks)} pass")
        if self.exit_code:
            lines.append("strict mode: failing on unclassified mentions; outputs left untouched")
        elif self.written:
            lines.append(f"wrote {len(self.written)} files to {Path(self.written[0]).parent}/")
        return "\n".join(lines)


def _table_rows(name: str, rows: Sequence[Row]) -> list[dict[str, object]]:
    table = BY_NAME[name]
    out = []
    for row in rows:
        record = {c: row.values.get(c) for c in table.column_names}
        record["sentence_id"] = row.sentence_id
        record["quote"] = row.quote
        out.append(record)
    keys = SORT_BY.get(name)
    if keys:
        out.sort(key=lambda r: tuple(str(r[k]) for k in keys))  # stable: text order within
    return out


def _check_quotes(tables: dict[str, list[dict[str, object]]], sentences: dict[str, str]) -> None:
    """Every quote is an exact substring of the clean sentence it cites (else a bug)."""
    for name, rows in tables.items():
        table = BY_NAME[name]
        pairs = [
            (c.name[: -len("sentence_id")], c.name)
            for c in table.columns
            if c.name.endswith("sentence_id")
        ]
        for prefix, sid_column in pairs:
            quote_column = f"{prefix}quote"
            for row in rows:
                sid, quote = row.get(sid_column), row.get(quote_column)
                if sid is None or quote is None or quote_column not in row:
                    continue
                if str(quote) not in sentences.get(str(sid), ""):
                    raise InputError(
                        f"table {name}: the quote “{quote}” is not in sentence {sid}; the "
                        "extraction rule's quote group must lie inside the sentence."
                    )


def _mention_rows(statuses: Sequence[MentionStatus]) -> list[dict[str, object]]:
    rows = []
    for s in statuses:
        m = s.mention
        rows.append(
            {
                "mention_id": m.id,
                "sentence_id": m.sentence_id,
                "start": m.start,
                "end": m.end,
                "text": m.text,
                "kind": m.kind,
                "value": m.value,
                "value_high": m.value_high,
                "value_text": m.value_text,
                "unit": m.unit,
                "measure_word": m.measure_word or None,
                "qualifier": m.qualifier,
                "qualifier_word": m.qualifier_word or None,
                "distributive": m.distributive or None,
                "list_id": m.list_id or None,
                "script": m.script,
                "role": s.role,
                "status": s.status,
                "used_by": ";".join(s.used_by) or None,
                "rule": s.rule or None,
                "reason": s.reason or None,
            }
        )
    return rows


def _cited_rows(
    tables: dict[str, list[dict[str, object]]], sentences: Sequence[FactSentence]
) -> list[dict[str, object]]:
    cited: set[str] = set()
    for rows in tables.values():
        for row in rows:
            for column, value in row.items():
                if column.endswith("sentence_id") or column.startswith("sentence_id_"):
                    if value:
                        cited.update(str(value).split(";"))
    return [
        {
            "sentence_id": s.id,
            "article_id": s.article_id,
            "article_title": s.article_title,
            "institute": s.article_institute,
            "authors": ";".join(s.article_authors) or None,
            "section": s.section or None,
            "paragraph_id": s.paragraph_id,
            "text": s.text,
        }
        for s in sentences
        if s.id in cited
    ]


def build(processed_dir: Path = PROCESSED, raw_dir: Path = RAW, validate: bool = True) -> FactBase:
    """Extract every table from the corpus in `processed_dir` with the rules in `raw_dir`.

    Raises InputError (RuleError, ConsistencyError, SchemaValidationError...) on bad input.
    With `validate=False` the tables are not checked against their schemas: the caller
    must do it (as `run` does, in a helper process, while it renders the exports).
    """
    raw_dir = Path(raw_dir)
    sentences = load_sentences(Path(processed_dir))
    lexicon = load_lexicon(raw_dir / MENTION_RULES.name)
    glossary = load_glossary(raw_dir / GLOSSARY.name)
    rules = load_rules(raw_dir / EXTRACTION_RULES.name)
    mentions = {s.id: extract(s.text, s.id, lexicon) for s in sentences}
    extraction = apply_rules(rules, sentences, mentions, glossary)
    statuses = classify(sentences, mentions, extraction.usage, lexicon)
    checks = run_checks(extraction.rows, sentences, load_checks(raw_dir / CONSISTENCY_CHECKS.name))
    failed = [c for c in checks if c.result == "fail"]
    if failed:
        raise ConsistencyError(failure_message(failed))
    tables = {t.name: _table_rows(t.name, extraction.rows[t.name]) for t in TABLES}
    sentence_texts = {s.id: s.text for s in sentences}
    _check_quotes(tables, sentence_texts)
    tables[CHECKS_TABLE.name] = [c.as_row() for c in checks]
    tables[SENTENCES_TABLE.name] = _cited_rows(tables, sentences)
    tables[MENTIONS_TABLE.name] = _mention_rows(statuses)
    # Every quantity of the body text, read by the grammar alone (no topic rule involved);
    # the reviewed reasons of mention_rules.toml are applied to every mention, used or not.
    reviewed = {s.mention.id: s.rule for s in classify(sentences, mentions, {}, lexicon)}
    tables[QUANTITIES_TABLE.name] = quantities_table(
        sentences, mentions, lexicon, FACT_ROLES, reviewed
    )
    _check_quotes({QUANTITIES_TABLE.name: tables[QUANTITIES_TABLE.name]}, sentence_texts)
    if validate:
        SchemaValidator().validate(tables)
    return FactBase(tables, checks, statuses, sentences)


def _readme(base: FactBase, sources: list[dict[str, str]]) -> list[tuple[str, str]]:
    cov = coverage_counts(base.mentions)
    lines = [
        (
            "Fact base",
            "Facts of the CCID Think Tank articles (advanced-manufacturing cluster "
            "policy; the AMOLED display industry), one sheet per table.",
        ),
        ("Source", "; ".join(f"{s['title']} ({s['path']})" for s in sources)),
        (
            "Provenance",
            "Every row carries sentence_id and quote: the exact words of the clean "
            "corpus sentence (data/processed/corpus_sentences.csv) that state it. The sheet "
            "cited_sentences gives each sentence's article and section.",
        ),
        (
            "Units",
            "Amounts in 100m_yuan are 亿元 (100 million yuan); percent values are 0-100; "
            "qualifier says whether the text gives an exact figure (equal) or a bound "
            "(more_than for 超过, at_least for 以上, which includes the number, "
            "less_than for 不足...).",
        ),
        (
            "Checks",
            f"{len(base.checks)} cross-checks of the document's own arithmetic, all "
            "passing (sheet consistency_checks).",
        ),
        (
            "Mentions",
            f"{cov['total']} numeric mentions: {cov['used']} used by a table, "
            f"{cov['not_a_fact']} classified as not a fact by a reviewed rule, "
            f"{cov['unclassified']} unclassified (sheet numeric_mentions).",
        ),
        ("Rebuild", "analysis data (or make data); do not edit this workbook by hand."),
        ("", ""),
        ("Sheet", "What it holds"),
    ]
    for table in ALL_TABLES:
        lines.append((table.name, f"{table.title}. {table.description}"))
    lines.append(("", ""))
    lines.append(("Column", "Meaning (by sheet)"))
    for table in ALL_TABLES:
        for c in table.columns:
            unit = f" [{c.unit}]" if c.unit else ""
            lines.append((f"{table.name}.{c.name}", f"{c.type}{unit}: {c.description}"))
    return lines


def _sources(base: FactBase, processed_dir: Path) -> list[dict[str, str]]:
    """The datapackage's sources: one per raw file, titled by its own articles' origin records
    (publisher, then each article's title, institute and authors), so an onboarded article is
    named as its record names it, not as the first source's."""
    from ..corpus import load_corpus
    from ..corpus.origin import publisher_names

    by_file: dict[str, list] = {}
    for a in load_corpus(processed_dir).articles:
        by_file.setdefault(a.source, []).append(a)
    sources = []
    for file, articles in by_file.items():
        titles = "; ".join(
            f"《{a.title}》 ({', '.join(filter(None, [a.institute, ' '.join(a.authors)]))})"
            for a in articles
        )
        publishers = {tuple(publisher_names(a.publisher, "en")[:1]) for a in articles}
        (publisher,) = publishers if len(publishers) == 1 else [()]
        title = f"{publisher[0]}: {titles}" if publisher else titles
        sources.append({"title": title, "path": f"data/raw/{file}"})
    return sources


def render(
    base: FactBase, processed_dir: Path, others: Mapping[str, bytes] | None = None
) -> dict[str, bytes]:
    """Every export as bytes, by file name: a CSV per table, datapackage.json, the workbook.

    datapackage.json records the sha256 of each of them and of `others` (the corpus files
    that will sit in the same folder), so that a changed file can be told (facts/integrity.py).
    """
    from .export import csv_text, datapackage, workbook

    sources = _sources(base, processed_dir)
    files = {
        f"{table.name}.csv": csv_text(table, base.tables[table.name]).encode("utf-8")
        for table in ALL_TABLES
    }
    counts = {t.name: len(base.tables[t.name]) for t in ALL_TABLES}
    description = (
        "Every figure of the source as tidy tables with provenance (sentence_id and the exact "
        "quote), cross-checks of the document's arithmetic and every numeric mention with its "
        "classification. Built by `analysis data` from the clean corpus and the reviewed rules "
        "in data/raw/ (extraction_rules.toml, mention_rules.toml, glossary.csv)."
    )
    files[WORKBOOK_FILE] = workbook(ALL_TABLES, base.tables, _readme(base, sources))
    recorded = {name: (OTHER_FILES[name], data) for name, data in (others or {}).items()}
    recorded[WORKBOOK_FILE] = (OTHER_FILES[WORKBOOK_FILE], files[WORKBOOK_FILE])
    text = datapackage(ALL_TABLES, counts, sources, description, files, recorded)
    files[DATAPACKAGE_FILE] = text.encode("utf-8")
    return {
        name: files[name]
        for name in [*(f"{t.name}.csv" for t in ALL_TABLES), DATAPACKAGE_FILE, WORKBOOK_FILE]
    }


def write(files: Mapping[str, bytes], out_dir: Path) -> list[str]:
    """Replace the rendered exports in `out_dir` all at once; return their paths."""
    return publish(out_dir, files)


def run(
    strict: bool = False,
    processed_dir: Path = PROCESSED,
    raw_dir: Path = RAW,
    out_dir: Path | None = None,
    validator: SchemaValidator | None = None,
    staging: StagedFolder | None = None,
) -> Summary:
    """Build, check and export the fact base; return the summary.

    Reads the corpus from `processed_dir` and the reviewed rules from `raw_dir`; writes into
    `out_dir` (default: `processed_dir`). Bad input raises InputError before anything is
    written; in strict mode an unclassified numeric mention writes nothing and exits 1.
    `validator` validates the tables against their schemas (default: inline, in this
    process); with a helper process, the exports are rendered while it works, and written only
    once it has passed them. The exports replace those of `out_dir` all at once (see
    analysis.io); with `staging` (`analysis data`: the corpus is already staged there) they
    are only added to it, and the caller commits.
    """
    processed_dir = Path(processed_dir)
    target = Path(out_dir or processed_dir)
    if staging is None:
        check_output_dir(target)
    validator = validator or SchemaValidator()
    base = build(processed_dir, raw_dir, validate=False)
    summary = Summary(
        strict=strict,
        rows={name: len(rows) for name, rows in base.tables.items()},
        coverage=coverage_counts(base.mentions),
        checks=base.checks,
        unclassified=base.unclassified,
    )
    if summary.exit_code:
        validator.close()
        return summary
    validator.submit(base.tables)
    with contextlib.ExitStack() as stack:
        own = staging is None
        if own:
            staging = stack.enter_context(StagedFolder(target))
        assert staging is not None
        others = {n: d for n in CORPUS_FILES if (d := staging.read(n)) is not None}
        files = render(base, processed_dir, others)
        validator.wait()
        for name, data in files.items():
            staging.write(name, data)
        if own:
            summary.written = staging.commit()
    return summary
