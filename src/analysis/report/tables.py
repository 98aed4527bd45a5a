"""The tables the reports print, in Chinese or English, each with its caption and source line.

Each function takes the frame (or rows) a notebook derived from the views and the language, and
returns the keyword arguments of `display.show_table` (`frame`, `caption`, `source`,
`number_columns`): `display.show_table(**tables.terms(summary, terms, lang))`. Column headers
come from the `[columns]` words, captions from `[tables]`; numbers are formatted for the language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from . import views as v
from .citations import (
    has_erratum,
    heading_text,
    mark_errata,
    quoted_sentence,
    source_caption,
)
from .formatting import format_month, format_number, join_names
from .labels import (
    en_span,
    indicator_label,
    label,
    mark_chinese,
    province_name,
    region_name,
    row_label,
    translation,
    with_original,
    words,
    zh_span,
)
from .lang import check_lang
from .markup import table_html
from .render import render_inline
from .values import Fact

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.publish.zygote.warm_up`), while `import analysis.report.tables` stays cheap.
WARM_IMPORTS = ("pandas",)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def _columns(lang: str) -> dict[str, str]:
    return check_lang(lang).words["columns"]


def _caption(key: str, lang: str, **context: Any) -> str:
    return render_inline(f"tables.{key}", lang, **context)


def _frame(rows: list[dict[str, Any]], columns: list[str], lang: str) -> pd.DataFrame:
    """A DataFrame with the language's headers for `columns` (keys of the [columns] words)."""
    import pandas as pd

    words = _columns(lang)
    frame = pd.DataFrame(rows, columns=columns)
    return frame.rename(columns={c: words[c] for c in columns})


def _view(
    frame: pd.DataFrame,
    caption: str,
    source_rows: Any,
    lang: str,
    number_columns: tuple[str, ...] = (),
) -> dict[str, Any]:
    words = _columns(lang)
    return {
        "frame": frame,
        "caption": caption,
        "source": source_caption(source_rows, lang, short=True)
        if source_rows is not None
        else None,
        "number_columns": tuple(words[c] for c in number_columns),
    }


def _num(value: Any, lang: str) -> str:
    return "" if value is None else format_number(value, lang)


def _names(codes: list[int], lang: str) -> str:
    return join_names((province_name(c, lang) for c in codes), lang)


# --------------------------------------------------------------------------------------------
# Cluster policy
# --------------------------------------------------------------------------------------------


def terms(summary: pd.DataFrame, terms: pd.DataFrame, lang: str) -> dict[str, Any]:
    """The terms of the 2020 work reports: term, number of provinces, which provinces.

    From `summary` (`views.terms_summary()`) and, for the provinces naming none, `terms`
    (`views.cluster_terms()`).
    """
    rows = []
    for r in summary.to_dict("records"):
        rows.append(
            {
                "term": with_original(r, "term", lang),
                "term_provinces": _num(r["provinces"], lang),
                "provinces_listed": _names(r["adcodes"], lang),
            }
        )
    missing = v.provinces_not_naming(terms)
    if missing:
        rows.append(
            {
                "term": check_lang(lang).words["common"]["no_term"],
                "term_provinces": _num(len(missing), lang),
                "provinces_listed": _names([p.adcode for p in missing], lang),
            }
        )
    year = v.indicator_row("cluster_indicators", "provinces_total")["period"]
    frame = _frame(rows, ["term", "term_provinces", "provinces_listed"], lang)
    return _view(
        frame,
        _caption("terms", lang, year=year),
        v.table("provincial_cluster_terms"),
        lang,
        ("term_provinces",),
    )


def strategies(strategies: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """The provincial strategies (`views.strategies()`): one line per statement of the text,
    grouped by province."""
    rows, cited = [], []
    for strategy in strategies:
        for r in strategy["rows"]:
            rows.append(_strategy_row(r, lang))
            cited.append(r)
    frame = _frame(rows, ["province", "item", "year", "content", "listed"], lang)
    return _view(frame, _caption("strategies", lang), cited, lang, ("year",))


def _strategy_row(r: dict[str, Any], lang: str) -> dict[str, Any]:
    """One statement of a strategy: what it is about, when, and what it says (one cell)."""
    items = words(lang, "strategy_items")
    document = r.get("document_zh") or ""
    if document and check_lang(lang).is_source:
        content: Any = mark_errata(f"《{document}》", lang)  # the title as printed, marked
    elif document:
        # Document rows carry the title's English rendering in label_en (from the glossary).
        same = r.get("label_zh") == document
        content = label(document, lang, r.get("label_en") if same else None)
        if has_erratum(document):
            content += check_lang(lang).words["common"]["translated_as_corrected"]
    elif r.get("system_label"):
        content = f"“{r['system_label']}”"
    else:
        content = _num(r.get("count"), lang)
    return {
        "province": province_name(r["adcode"], lang),
        "item": items.get(str(r["item"])) or row_label(r, "label", lang),
        "year": str(r["year"]) if r.get("year") is not None else "",
        "content": content,
        "listed": _listed(str(r.get("listed_zh") or ""), lang),
    }


def _listed(listed_zh: str, lang: str) -> Any:
    """The items a statement lists (";"-separated): 、-joined in Chinese; in English each
    item's reviewed translation, the Chinese originals beside them."""
    items = [x for x in listed_zh.split(";") if x]
    if check_lang(lang).is_source or not items:
        return "、".join(items)
    english = join_names((translation(x) for x in items), lang)
    return Markup("{} ({})").format(english, zh_span("、".join(items)))


def province_strategy(profile: v.ProvinceProfile, lang: str) -> dict[str, Any]:
    """The strategy rows of one province's profile (empty frame when the text gives none)."""
    rows = [_strategy_row(r, lang) for r in profile.strategy]
    frame = _frame(rows, ["item", "year", "content", "listed"], lang)
    name = province_name(profile.unit, lang)
    return _view(
        frame,
        _caption("strategy_rows", lang, name=name),
        profile.strategy or None,
        lang,
        ("year",),
    )


def province_sentences(profile: v.ProvinceProfile, lang: str) -> dict[str, Any]:
    """The sentences of the source that name the profile's province, with their sections."""
    from .contexts import other_sentences

    rows = [
        {
            "section": heading_text(s["section"], lang),
            "sentence": quoted_sentence(s["sentence_id"], s["text"], lang),
        }
        for s in other_sentences(profile)
    ]
    frame = _frame(rows, ["section", "sentence"], lang)
    name = province_name(profile.unit, lang)
    return _view(frame, _caption("sentences", lang, name=name), None, lang)


# --------------------------------------------------------------------------------------------
# AMOLED
# --------------------------------------------------------------------------------------------


def province_comparison(
    comparison: pd.DataFrame, lang: str, highlight: Any = None
) -> dict[str, Any]:
    """The 31 mainland provinces compared (`views.province_comparison()`), with the row of
    `highlight` (a province profile's own) marked: `highlight_rows` gives it a class, ARIA
    and bold type, so that it stands out without colour too. Rank only where there are winners:
    the provinces without one share the last rank, which says nothing more than "0"."""
    from ..provinces import resolve

    common = check_lang(lang).words["common"]
    target = resolve(highlight).adcode if highlight is not None else None
    rows, marked = [], []
    for i, r in enumerate(comparison.to_dict("records")):
        term = label(r["term_zh"], lang, r["term_en"]) if r["named"] else common["no_term"]
        rows.append(
            {
                "rank": _num(r["rank"], lang) if r["clusters"] > 0 else "—",
                "province": province_name(int(r["adcode"]), lang),
                "region": region_name(r["region_zh"], lang),
                "clusters": _num(r["clusters"], lang),
                "term": term,
                "strategy": common["yes"] if r["strategy"] else common["no"],
            }
        )
        if int(r["adcode"]) == target:
            marked.append(i)
    columns = ["rank", "province", "region", "clusters", "term", "strategy"]
    view = _view(
        _frame(rows, columns, lang),
        _caption("comparison", lang, n=len(rows)),
        [*(row for name in v.PROVINCE_TABLES for row in v.records(name))],
        lang,
        ("rank", "clusters"),
    )
    return {**view, "highlight_rows": tuple(marked), "css_class": "an-table an-compact"}


def comparison_html(lang: str) -> str:
    """The comparison of the 31 provinces as an HTML table (for the index page)."""
    return table_html(**province_comparison(v.province_comparison(), lang))


# Tables the index page shows under a report's links, by report name: the profiles' section
# gets the one-table comparison of all 31 (issue 11).
INDEX_TABLES = {"province_profile": comparison_html}


def index_tables(report: str, langs: list[str]) -> str:
    """The HTML of the tables the index shows under `report`, one per language of `langs`
    (marked with its `lang` when it is not the page's Chinese); "" for a report with none."""
    make = INDEX_TABLES.get(report)
    if make is None:
        return ""
    parts = []
    for code in langs:
        lang = check_lang(code)
        attr = "" if lang.is_source else f' lang="{lang.html}"'
        parts.append(f'<div class="index-table"{attr}>{make(lang)}</div>')
    return "\n".join(parts)


def amoled_indicators(indicators: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Every AMOLED indicator of `indicators` (the amoled_indicators table): what, value with
    unit and qualifier, when, scope."""
    rows, cited = [], []
    measures = words(lang, "measures")
    for r in indicators.to_dict("records"):
        r = {k: v.plain(x) for k, x in r.items()}
        fact = Fact.from_row(r, measure=measures.get(str(r["unit"]), ""))
        scope = check_lang(lang).pick(r.get("scope_zh"), r.get("scope"))
        period = format_month(str(r["period"]), lang) if r.get("period") else ""
        rows.append(
            {
                "item": indicator_label(r, lang),
                "value": _rank_or_value(fact, lang),
                "date": period,
                "scope": scope or "",
            }
        )
        cited.append(r)
    frame = _frame(rows, ["item", "value", "date", "scope"], lang)
    return _view(frame, _caption("indicators", lang), cited, lang, ("value",))


def _rank_or_value(fact: Fact, lang: str) -> str:
    if fact.unit == "rank":
        return check_lang(lang).words["common"]["world_rank"].format(rank=fact.format(lang))
    return fact.format(lang)


def materials(materials: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """The material categories of a flexible AMOLED line (amoled_line_materials rows), in the
    text's order; the other language's name next to each."""
    rows_ = sorted(materials, key=lambda r: int(r["position"]))
    lang = check_lang(lang)
    rows = []
    for r in rows_:
        rows.append(
            {
                "number": _num(r["position"], lang),
                "material": lang.pick(r["material_zh"], r["material_en"]),
                "material_en": lang.pick(en_span(r["material_en"]), zh_span(r["material_zh"])),
            }
        )
    frame = _frame(rows, ["number", "material", "material_en"], lang)
    return _view(frame, _caption("materials", lang), rows_, lang, ("number",))


def _named_by_kind(
    rows: list[dict[str, Any]], lang: str, *, kind: str, labels: str, name: str, caption: str
) -> dict[str, Any]:
    """A list of names (`<name>_zh`/`_en`) with the reviewed label (`[labels.<labels>]`) of
    each row's `kind` column: the companies by role, the technologies by kind."""
    words_ = words(lang, labels)
    out = [
        {
            kind: words_.get(str(r[kind]), str(r[kind])),
            name: with_original(r, name, lang),
        }
        for r in rows
    ]
    return _view(_frame(out, [kind, name], lang), _caption(caption, lang), rows, lang)


def companies(companies: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """The companies the AMOLED article names (display_companies rows), by role."""
    return _named_by_kind(
        companies, lang, kind="role", labels="roles", name="company", caption="companies"
    )


def technologies(technologies: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """Technology breakthroughs and screen forms the AMOLED article lists (rows of
    amoled_technology_breakthroughs)."""
    return _named_by_kind(
        technologies,
        lang,
        kind="kind",
        labels="tech_kinds",
        name="technology",
        caption="technologies",
    )


# --------------------------------------------------------------------------------------------
# Source audit
# --------------------------------------------------------------------------------------------


def structure(frame: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Paragraphs, body paragraphs, pull quotes and sentences per section (of `frame`,
    `audit.document_structure()`)."""
    rows = [
        {
            "article": r["article_id"],
            "section": heading_text(r["section"], lang) or "—",
            "paragraphs": _num(r["paragraphs"], lang),
            "fact_paragraphs": _num(r["fact_paragraphs"], lang),
            "pull_quotes": _num(r["pull_quotes"], lang),
            "sentences": _num(r["sentences"], lang),
        }
        for r in frame.to_dict("records")
    ]
    cols = ["article", "section", "paragraphs", "fact_paragraphs", "pull_quotes", "sentences"]
    return _view(
        _frame(rows, cols, lang),
        _caption("structure", lang),
        None,
        lang,
        ("paragraphs", "fact_paragraphs", "pull_quotes", "sentences"),
    )


def repairs(audit: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Every repair of `audit` (`audit.cleaning_audit()`) other than punctuation: kind, where,
    before, after, reason, decision."""
    from . import audit as audit_words

    kinds = words(lang, "repair_kinds")
    decisions = words(lang, "decision")
    audit = audit[audit["kind"] != "punctuation"]
    rows = [
        {
            "repair": kinds.get(r["kind"], r["kind"]),
            "paragraph": r["paragraph_id"],
            # Excerpts of the text are cut to their context; a move described in words is not.
            "before": _source_text(_cut(r, audit_words.repair_sides(r, lang)[0]), lang),
            "after": _source_text(_cut(r, audit_words.repair_sides(r, lang)[1]), lang),
            "reason": _source_text(audit_words.repair_reason(r, lang), lang),
            "status": decisions.get(r["decision"], r["decision"]),
        }
        for r in audit.to_dict("records")
    ]
    cols = ["repair", "paragraph", "before", "after", "reason", "status"]
    return _view(_frame(rows, cols, lang), _caption("repairs", lang), None, lang)


def punctuation(audit: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Punctuation repairs of `audit` (`audit.cleaning_audit()`) summed per paragraph, with the
    marks changed."""
    audit = audit[audit["kind"] == "punctuation"]
    rows = []
    for paragraph, part in audit.groupby("paragraph_id", sort=False):
        pairs = dict.fromkeys(zip(part["before"], part["after"], strict=True))
        rows.append(
            {
                "paragraph": paragraph,
                "changes": _num(len(part), lang),
                "after": _marks(list(pairs), lang),
            }
        )
    return _view(
        _frame(rows, ["paragraph", "changes", "after"], lang),
        _caption("punctuation", lang),
        None,
        lang,
        ("changes",),
    )


def _marks(pairs: list[tuple[str, str]], lang: str) -> Any:
    """Punctuation changes: ",→，" in Chinese; in English each full-width mark marked Chinese
    and named (`[labels.marks]`)."""
    if check_lang(lang).is_source:
        return " ".join(f"{b}→{a}" for b, a in pairs)
    names = words(lang, "marks")
    return Markup("; ").join(
        Markup("{}→{} ({})").format(b, zh_span(a), names.get(a, "full-width mark"))
        for b, a in pairs
    )


def _source_text(text: str, lang: str) -> Any:
    """Text that may quote the source: in a translation its Chinese runs are marked."""
    return text if check_lang(lang).is_source else mark_chinese(text)


def _cut(row: Mapping[str, Any], text: str) -> str:
    return text if row["kind"] == "reading_order" else _short(text)


def _short(text: str, limit: int = 60) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def coverage(frame: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Numeric mentions per kind of number (`audit.mention_coverage()`): how many are used,
    not a fact, unclassified."""
    statuses = ("used", "not_a_fact", "unclassified")
    rows = []
    for kind, part in frame.groupby("kind", sort=True):
        counts = dict(zip(part["status"], part["mentions"], strict=True))
        row = {"mention_kind": words(lang, "mention_kinds").get(str(kind), str(kind))}
        row.update({s: _num(int(counts.get(s, 0)), lang) for s in statuses})
        row["mentions"] = _num(int(part["mentions"].sum()), lang)
        rows.append(row)
    status_words = words(lang, "status")
    view = _view(
        _frame(rows, ["mention_kind", *statuses, "mentions"], lang).rename(columns=status_words),
        _caption("coverage", lang),
        None,
        lang,
        ("mentions",),
    )
    view["number_columns"] = (*view["number_columns"], *(status_words[s] for s in statuses))
    return view


def not_a_fact(mentions: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Mentions (numeric_mentions) classified as not a fact, per review rule, with examples."""
    part = mentions[mentions["status"] == "not_a_fact"]
    rows = []
    for rule, group in part.groupby("rule", sort=True):
        examples = _short("、".join(dict.fromkeys(str(t) for t in group["text"])), 50)
        rule_words = words(lang, "mention_rules").get(str(rule), {})
        rows.append(
            {
                "rule": rule_words.get("name", rule),
                "mentions": _num(len(group), lang),
                "listed": examples if check_lang(lang).is_source else zh_span(examples),
                "reason": rule_words.get("reason", str(group["reason"].iloc[0])),
            }
        )
    return _view(
        _frame(rows, ["rule", "mentions", "listed", "reason"], lang),
        _caption("not_a_fact", lang),
        None,
        lang,
        ("mentions",),
    )


def checks(checks: pd.DataFrame, lang: str) -> dict[str, Any]:
    """The consistency checks (consistency_checks): what is compared, stated and re-derived
    figure, result."""
    results = words(lang, "result")
    rows_ = [{k: v.plain(x) for k, x in r.items()} for r in checks.to_dict("records")]
    rows = [
        {
            "check": words(lang, "checks").get(str(r["check"]), r["description"]),
            "expected": _num(r["expected"], lang),
            "computed": _num(r["computed"], lang),
            "result": results.get(r["result"], r["result"]),
        }
        for r in rows_
    ]
    return _view(
        _frame(rows, ["check", "expected", "computed", "result"], lang),
        _caption("checks", lang),
        [{"sentence_id": r["sentence_id_a"], "quote": r["quote_a"]} for r in rows_],
        lang,
        ("expected", "computed"),
    )


def fact_tables(lang: str) -> dict[str, Any]:
    """The tables of the fact base with their row counts and descriptions."""
    from ..facts.tables import ALL_TABLES

    rows = []
    for t in ALL_TABLES:
        rows.append(
            {
                "table": Markup("<code>{}</code>").format(t.name),
                "rows": _num(len(v.table(t.name)), lang),
                "description": words(lang, "table_titles").get(t.name, t.title),
            }
        )
    return _view(
        _frame(rows, ["table", "rows", "description"], lang),
        _caption("fact_tables", lang),
        None,
        lang,
        ("rows",),
    )
