"""Declarative extraction rules (data/raw/extraction_rules.toml) and the engine that applies them.

A rule is anchored to an article and a section (by title and heading text), selects one
sentence there with a regular expression, and maps the named groups of a pattern to the
columns of one topic table. Values come from the text only: numbers are read through the
numeric-mention extractor (so a rule marks the mentions it uses), English labels through the
glossary, provinces through `analysis.provinces.resolve`. A rule that no longer matches, a value
that does not parse, an unknown unit or province is an InputError that names the rule, the
section and the text.

Rule keys:
    id, table          the rule's name and the table it fills
    article, section   substrings of the article title and of a heading in the section path
    sentence           regex that selects the sentence (exactly one, unless multiple = true)
    pattern            regex searched in that sentence (default: the `sentence` regex itself)
    each               true: one row group per match of `pattern` (finditer) instead of one
    lists              {group = "enumeration" | "<separator>"}: split a group into items; the
                       items of all list groups pair up in order (respectively-lists), the
                       other groups apply to every item
    columns            {column = spec}: "{g}" text (templates allowed), "conv:{g}" converted
                       value, "{#}" the row number within the rule, a constant, "conv:name"
                       a reviewed constant name (province:湖南), or an array of constants (one
                       per list item); a group that did not take part gives an empty value
    attach             {to = list group, key = group, columns = [...]}: these columns only on
                       the list item named by `key` (or the only item when `key` is absent)
    merge_on           [columns]: add the columns to the existing row with the same values
                       instead of adding a row; `provenance` names the column pair prefix
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, UnknownProvinceError
from ..paths import RAW, relative
from .glossary import Glossary
from .mentions import Mention, MentionError, format_value
from .source import FactSentence
from .tables import BY_NAME, TABLES

EXTRACTION_RULES = RAW / "extraction_rules.toml"
FACT_ROLES = frozenset({"lede", "body"})
_ENUM_CONJUNCTIONS = ("以及", "和", "及", "与", "或")
_SPEC = re.compile(r"^(?:(?P<conv>[a-z_]+):)?(?P<template>.*)$", re.S)
_GROUP_REF = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*|#)\}")
_KNOWN_KEYS = {
    "id",
    "table",
    "article",
    "section",
    "sentence",
    "pattern",
    "each",
    "multiple",
    "lists",
    "columns",
    "attach",
    "merge_on",
    "provenance",
    "note",
}


class RuleError(InputError):
    """An extraction rule that is malformed or no longer matches the text."""


@dataclass(frozen=True)
class Rule:
    """One reviewed extraction rule."""

    id: str
    table: str
    article: str
    section: str
    sentence: re.Pattern[str]
    pattern: re.Pattern[str]
    each: bool
    multiple: bool
    lists: dict[str, str]
    columns: dict[str, object]
    attach: dict[str, object]
    merge_on: tuple[str, ...]
    provenance: str
    path: str = ""
    line: int = 0


@dataclass
class Row:
    """A row of a topic table with where it came from and the mentions it uses."""

    table: str
    rule: str
    values: dict[str, object]
    sentence_id: str
    quote: str
    mentions: list[str] = field(default_factory=list)


@dataclass
class Extraction:
    """The rows of every topic table and, for each used mention, the tables that use it."""

    rows: dict[str, list[Row]]
    usage: dict[str, set[str]]


def _where(rule: Rule) -> str:
    section = f", section “{rule.section}”" if rule.section else ""
    return f"{rule.path} line {rule.line}: rule {rule.id!r} (table {rule.table}{section})"


def rule_error(
    rule: Rule, problem: str, text: FactSentence | str | None = None, hint: str = ""
) -> RuleError:
    """An error that names the rule, its section and the sentence it was reading."""
    if isinstance(text, FactSentence):
        quoted = f" Sentence {text.id} (section “{text.section}”): “{text.text}”."
    else:
        quoted = f" Text: “{text}”." if text is not None else ""
    hint = hint or (
        "If the source or the corpus changed, update the rule in data/raw/extraction_rules.toml "
        "(reviewed data) so that it states what the text says; never type the value in."
    )
    return RuleError(f"{_where(rule)}: {problem}.{quoted} {hint}")


def _compile(rule_id: str, key: str, pattern: str, path: Path) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise RuleError(
            f"{relative(path)}: rule {rule_id!r}: the {key} regex {pattern!r} is invalid ({exc})."
        ) from None


def load_rules(path: Path = EXTRACTION_RULES) -> list[Rule]:
    """Read and check the extraction rules: keys, tables, columns and regex groups."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise RuleError(f"{relative(path)} is missing; restore it from git.") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{relative(path)} is not valid TOML ({exc}).") from None
    lines = {
        m.group(1): text[: m.start()].count("\n") + 1
        for m in re.finditer(r'^id\s*=\s*"([^"]+)"', text, re.M)
    }
    rules: list[Rule] = []
    seen: set[str] = set()
    for raw in data.get("rule", []):
        rid = raw.get("id", "?")
        where = f"{relative(path)}: rule {rid!r}"
        unknown = set(raw) - _KNOWN_KEYS
        if unknown:
            raise RuleError(f"{where}: unknown keys {sorted(unknown)}.")
        for key in ("id", "table", "sentence", "columns"):
            if key not in raw:
                raise RuleError(f"{where}: the key {key!r} is missing.")
        if rid in seen:
            raise RuleError(f"{where}: the id is used twice.")
        seen.add(rid)
        table = BY_NAME.get(raw["table"])
        if table is None or not table.topic:
            names = ", ".join(t.name for t in TABLES)
            raise RuleError(f"{where}: unknown table {raw['table']!r} (tables: {names}).")
        sentence = _compile(rid, "sentence", raw["sentence"], path)
        pattern = _compile(rid, "pattern", raw["pattern"], path) if "pattern" in raw else sentence
        columns = dict(raw["columns"])
        provenance = raw.get("provenance", "")
        allowed = set(table.column_names) - {"sentence_id", "quote"}
        if provenance:
            allowed -= {f"{provenance}_sentence_id", f"{provenance}_quote"}
        bad = set(columns) - allowed
        if bad:
            raise RuleError(f"{where}: table {table.name} has no columns {sorted(bad)}.")
        groups = set(pattern.groupindex)
        for column, spec in columns.items():
            if isinstance(spec, str):
                for ref in _GROUP_REF.findall(spec):
                    if ref != "#" and ref not in groups:
                        raise RuleError(
                            f"{where}: column {column} refers to the group {{{ref}}}, which "
                            f"the pattern does not define (groups: {sorted(groups)})."
                        )
        lists = dict(raw.get("lists", {}))
        if set(lists) - groups:
            raise RuleError(f"{where}: lists name unknown groups {sorted(set(lists) - groups)}.")
        rules.append(
            Rule(
                id=rid,
                table=table.name,
                article=raw.get("article", ""),
                section=raw.get("section", ""),
                sentence=sentence,
                pattern=pattern,
                each=bool(raw.get("each", False)),
                multiple=bool(raw.get("multiple", False)),
                lists=lists,
                columns=columns,
                attach=dict(raw.get("attach", {})),
                merge_on=tuple(raw.get("merge_on", ())),
                provenance=provenance,
                path=relative(path),
                line=lines.get(rid, 0),
            )
        )
    return rules


# --- reading values --------------------------------------------------------------------------


@dataclass
class _Context:
    """What converters need: the rule, the sentence, its mentions and the reference data."""

    rule: Rule
    sentence: FactSentence
    mentions: list[Mention]
    glossary: Glossary
    used: list[str]


def _mention(ctx: _Context, span: tuple[int, int], text: str, kinds: Sequence[str]) -> Mention:
    """The one mention of an allowed kind that overlaps `span`, marked as used."""
    start, end = span
    overlapping = [m for m in ctx.mentions if m.start < end and m.end > start]
    for m in overlapping:
        if m.kind == "unparsed":
            raise rule_error(
                ctx.rule,
                f"the value “{m.text}” in “{text}” does not parse as a number (Arabic digits, "
                "or Chinese numerals that cn2an reads)",
                ctx.sentence,
            )
    found = [m for m in overlapping if m.kind in kinds]
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise rule_error(
            ctx.rule,
            f"expected one {'/'.join(kinds)} in “{text}”, found {what}",
            ctx.sentence,
        )
    ctx.used.append(found[0].id)
    return found[0]


_COUNT_KINDS = ("count", "top_n", "number", "rank", "ordinal", "enumerator", "generation")


def _as_int(ctx: _Context, span, text) -> int:
    m = _mention(ctx, span, text, _COUNT_KINDS)
    if m.value is None or not float(m.value).is_integer():
        raise rule_error(ctx.rule, f"“{text}” is not a whole number", ctx.sentence)
    return int(m.value)


def _as_pct(ctx: _Context, span, text) -> float:
    return float(_mention(ctx, span, text, ("percent",)).value)


def _as_yuan(ctx: _Context, span, text) -> float:
    m = _mention(ctx, span, text, ("amount",))
    if m.unit != "100m_yuan":
        raise rule_error(
            ctx.rule,
            f"unknown unit in “{text}”: expected an amount in 元 (亿元, 万亿元), found {m.unit}",
            ctx.sentence,
        )
    return float(m.value)


def _as_month(ctx: _Context, span, text) -> str:
    """The year and month of a date (a date with a day, 2021-05-20, gives 2021-05)."""
    return _mention(ctx, span, text, ("date",)).value_text[:7]


def _as_year(ctx: _Context, span, text) -> int:
    m = _mention(ctx, span, text, ("year", "date"))
    return int(m.value_text[:4])


def _as_period(ctx: _Context, span, text) -> str:
    return _mention(ctx, span, text, ("year", "date")).value_text


_VALUE_KINDS = ("percent", "amount", "count", "top_n", "number", "rank", "generation")


def _as_value(ctx: _Context, span, text) -> float:
    m = _mention(ctx, span, text, _VALUE_KINDS)
    if m.kind == "amount" and m.unit != "100m_yuan":
        raise rule_error(
            ctx.rule, f"unknown unit in “{text}”: expected 元, found {m.unit}", ctx.sentence
        )
    return float(m.value)


def _as_unit(ctx: _Context, span, text) -> str:
    m = _mention(ctx, span, text, _VALUE_KINDS)
    if m.unit not in ("percent", "100m_yuan", "rank"):
        raise rule_error(
            ctx.rule,
            f"“{text}” has no unit of its own ({m.unit}); give the unit as a constant in the rule",
            ctx.sentence,
        )
    return m.unit


def _as_qualifier(ctx: _Context, span, text) -> str:
    return _mention(ctx, span, text, _VALUE_KINDS).qualifier


def _as_label(ctx: _Context, span, text) -> str:
    m = _mention(ctx, span, text, ("label",))
    return m.value_text


def _as_english(ctx: _Context, span, text) -> str:
    return ctx.glossary.english(text, where=f" (needed by {_where(ctx.rule)})")


def _resolve(ctx: _Context, text: str):
    from ..provinces import resolve

    try:
        return resolve(text)
    except UnknownProvinceError as exc:
        raise rule_error(
            ctx.rule, f"unknown province name “{text}” ({exc})", ctx.sentence
        ) from None


def _items_of(text: str) -> list[str]:
    return [t for t, _ in split_items(text, 0, "enumeration")]


CONVERTERS: dict[str, Callable[[_Context, tuple[int, int], str], object]] = {
    "int": _as_int,
    "pct": _as_pct,
    "yuan100m": _as_yuan,
    "month": _as_month,
    "year": _as_year,
    "period": _as_period,
    "value": _as_value,
    "unit": _as_unit,
    "qualifier": _as_qualifier,
    "label": _as_label,
    "en": _as_english,
    "province": lambda ctx, span, text: _resolve(ctx, text).short_zh,
    "adcode": lambda ctx, span, text: _resolve(ctx, text).adcode,
    "province_en": lambda ctx, span, text: _resolve(ctx, text).name_en,
    "items": lambda ctx, span, text: ";".join(_items_of(text)),
    "en_items": lambda ctx, span, text: ";".join(
        _as_english(ctx, span, item) for item in _items_of(text)
    ),
}


_NAME_CONVERTERS = frozenset({"en", "province", "adcode", "province_en"})


def split_items(text: str, offset: int, separator: str) -> list[tuple[str, int]]:
    """Split a list into (item, absolute start) pairs.

    "enumeration" splits on 、 and then splits the last piece once at a conjunction (和, 及,
    以及, 与, 或) when both sides are non-empty, so 山东和上海 gives two items and 和辉光电
    stays one. Any other separator is split on literally.
    """
    items: list[tuple[str, int]] = []
    if separator == "enumeration":
        pieces = _split_literal(text, offset, "、")
        last, last_start = pieces[-1]
        for conj in _ENUM_CONJUNCTIONS:
            k = last.find(conj)
            if k > 0 and k + len(conj) < len(last):
                pieces[-1:] = [
                    (last[:k], last_start),
                    (last[k + len(conj) :], last_start + k + len(conj)),
                ]
                break
        items = pieces
    else:
        items = _split_literal(text, offset, separator)
    return [(t, s) for t, s in items if t]


def _split_literal(text: str, offset: int, separator: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    pos = 0
    for part in text.split(separator):
        out.append((part, offset + pos))
        pos += len(part) + len(separator)
    return out


# --- applying rules ---------------------------------------------------------------------------


def _in_scope(rule: Rule, sentence: FactSentence) -> bool:
    if sentence.role not in FACT_ROLES:
        return False
    if rule.article and rule.article not in sentence.article_title:
        return False
    if rule.section and not any(rule.section in h for h in sentence.section_path):
        return False
    return True


def _select(rule: Rule, sentences: Sequence[FactSentence]) -> list[FactSentence]:
    scope = [s for s in sentences if _in_scope(rule, s)]
    if not scope:
        raise rule_error(
            rule,
            f"no body sentence lies in article “{rule.article or '*'}” / section "
            f"“{rule.section or '*'}”",
            hint="Check the article and section anchors of the rule against the corpus "
            "headings (corpus_paragraphs.csv, column section_path).",
        )
    chosen = [s for s in scope if rule.sentence.search(s.text)]
    if not chosen:
        nearest = max(scope, key=lambda s: _similarity(rule.sentence.pattern, s.text))
        raise rule_error(
            rule,
            f"no sentence of the section matches /{rule.sentence.pattern}/ any more; the "
            f"nearest sentence is {nearest.id}",
            nearest,
        )
    if len(chosen) > 1 and not rule.multiple:
        ids = ", ".join(s.id for s in chosen)
        raise rule_error(
            rule,
            f"/{rule.sentence.pattern}/ matches several sentences ({ids}); "
            "make it specific or set multiple = true",
            chosen[0].text,
        )
    return chosen


def _similarity(pattern: str, text: str) -> int:
    """How many characters of the pattern's literal text occur in `text` (for error hints)."""
    literal = re.sub(r"\\.|[\[\](){}?*+^$|.]", "", pattern)
    return sum(ch in text for ch in set(literal))


def _group_span(m: re.Match[str], name: str) -> tuple[int, int] | None:
    if m.group(name) is None:
        return None
    return m.span(name)


def _rows_from_match(rule: Rule, ctx: _Context, m: re.Match[str], number: list[int]) -> list[Row]:
    sentence = ctx.sentence
    quote = m.group("quote") if "quote" in m.re.groupindex and m.group("quote") else m.group(0)
    quote = quote.strip("、，；,; ")
    # Lists: (item text, span) per list group; every list must have the same length.
    items: dict[str, list[tuple[str, tuple[int, int]]]] = {}
    for name, separator in rule.lists.items():
        span = _group_span(m, name)
        if span is None:
            continue
        parts = split_items(m.group(name), span[0], separator)
        items[name] = [(t, (s, s + len(t))) for t, s in parts]
    lengths = {name: len(v) for name, v in items.items()}
    if len(set(lengths.values())) > 1:
        raise rule_error(
            rule,
            "the lists do not pair up (a respectively-list needs the same number of items in "
            f"each list): {lengths}",
            sentence,
        )
    n = next(iter(lengths.values()), 1)
    for column, spec in rule.columns.items():
        if isinstance(spec, list) and len(spec) != n:
            raise rule_error(
                rule, f"column {column} gives {len(spec)} constants for {n} items", sentence
            )
    attach_to = rule.attach.get("to")
    attach_key = rule.attach.get("key")
    attach_cols = set(rule.attach.get("columns", ()))
    attach_index: int | None = None
    if attach_to:
        key_text = m.group(attach_key) if attach_key and m.group(attach_key) else None
        names = [t for t, _ in items.get(attach_to, [])]
        if key_text is not None:
            if key_text not in names:
                raise rule_error(
                    rule,
                    f"the example names “{key_text}”, which is not in the list {names}",
                    sentence,
                )
            attach_index = names.index(key_text)
        elif len(names) == 1:
            attach_index = 0
    rows: list[Row] = []
    for i in range(n):
        number[0] += 1
        values: dict[str, object] = {}
        ctx.used = []
        for column, spec in rule.columns.items():
            if column in attach_cols and attach_index != i:
                values[column] = None
                continue
            values[column] = _value(rule, ctx, m, spec, items, i, number[0])
        rows.append(Row(rule.table, rule.id, values, sentence.id, quote, list(ctx.used)))
    return rows


def _value(rule, ctx, m, spec, items, i, number):
    """The value of one column spec for list item `i`."""
    if isinstance(spec, list):
        return spec[i]
    if not isinstance(spec, str):
        return spec
    parsed = _SPEC.match(spec)
    conv, template = parsed.group("conv"), parsed.group("template")
    refs = _GROUP_REF.findall(template)
    if not refs:
        if conv in _NAME_CONVERTERS:
            # a reviewed constant name (a province the sentence implies), resolved like text
            return CONVERTERS[conv](ctx, (0, 0), template)
        if conv:
            raise rule_error(rule, f"the column spec {spec!r} converts no group")
        return template  # a constant
    text_parts: list[str] = []
    span: tuple[int, int] | None = None
    pos = 0
    for ref_match in _GROUP_REF.finditer(template):
        text_parts.append(template[pos : ref_match.start()])
        pos = ref_match.end()
        ref = ref_match.group(1)
        if ref == "#":
            text_parts.append(str(number))
            continue
        if ref in items:
            item_text, item_span = items[ref][i]
        else:
            if m.group(ref) is None:
                return None  # an optional group that did not take part
            item_text, item_span = m.group(ref), m.span(ref)
        text_parts.append(item_text)
        span = (
            item_span if span is None else (min(span[0], item_span[0]), max(span[1], item_span[1]))
        )
    text_parts.append(template[pos:])
    text = "".join(text_parts)
    if conv is None:
        return int(text) if refs == ["#"] else text
    converter = CONVERTERS.get(conv)
    if converter is None:
        raise rule_error(rule, f"unknown converter {conv!r} (known: {', '.join(CONVERTERS)})")
    try:
        return converter(ctx, span or (0, 0), text)
    except MentionError as exc:
        raise rule_error(rule, f"the value “{text}” does not parse ({exc})", ctx.sentence) from None


def apply_rules(
    rules: Sequence[Rule],
    sentences: Sequence[FactSentence],
    mentions: dict[str, list[Mention]],
    glossary: Glossary,
) -> Extraction:
    """Apply every rule; return the rows per table (in rule and text order) and mention usage."""
    rows: dict[str, list[Row]] = {t.name: [] for t in TABLES}
    usage: dict[str, set[str]] = {}
    for rule in rules:
        number = [0]
        produced: list[Row] = []
        for sentence in _select(rule, sentences):
            ctx = _Context(rule, sentence, mentions.get(sentence.id, []), glossary, [])
            matches = (
                list(rule.pattern.finditer(sentence.text))
                if rule.each
                else [m for m in [rule.pattern.search(sentence.text)] if m]
            )
            if not matches:
                raise rule_error(
                    rule,
                    f"the sentence {sentence.id} no longer matches /{rule.pattern.pattern}/",
                    sentence,
                )
            for m in matches:
                produced.extend(_rows_from_match(rule, ctx, m, number))
        if rule.merge_on:
            _merge(rule, rows[rule.table], produced)
        else:
            rows[rule.table].extend(produced)
        for row in produced:
            for mention_id in row.mentions:
                usage.setdefault(mention_id, set()).add(rule.table)
    return Extraction(rows, usage)


def _merge(rule: Rule, existing: list[Row], produced: list[Row]) -> None:
    """Add the produced columns to the existing rows with the same key values."""
    for row in produced:
        key = tuple(row.values.get(k) for k in rule.merge_on)
        targets = [r for r in existing if tuple(r.values.get(k) for k in rule.merge_on) == key]
        if len(targets) != 1:
            shown = ", ".join(
                f"{k}={format_value(v) if isinstance(v, float) else v}"
                for k, v in zip(rule.merge_on, key, strict=True)
            )
            raise rule_error(
                rule,
                f"{len(targets)} rows of {rule.table} have {shown}; a merge needs exactly one",
                row.quote,
            )
        target = targets[0]
        for column, value in row.values.items():
            if column in rule.merge_on:
                continue
            target.values[column] = value
        if rule.provenance:
            target.values[f"{rule.provenance}_sentence_id"] = row.sentence_id
            target.values[f"{rule.provenance}_quote"] = row.quote
        target.mentions.extend(row.mentions)
