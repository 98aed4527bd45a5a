"""The tables the reports print, in Chinese or English, each with its caption and source line.

Every function returns the keyword arguments of `narrative.show_table` (`frame`, `caption`,
`source`, `number_columns`), so a notebook cell is `nv.show_table(**report_tables.terms(lang))`.
Column headers come from the `[columns]` words of the templates, captions from `[tables]`,
values from `analysis.report_data`; numbers are formatted for the language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import narrative as nv
from . import report_data as rd

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.build.zygote.warm_up`), while `import analysis.report_tables` itself stays cheap.
WARM_IMPORTS = ("pandas",)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def _columns(lang: str) -> dict[str, str]:
    return nv.templates(lang)["columns"]


def _labels(lang: str, group: str) -> dict[str, str]:
    return nv.templates(lang)["labels"][group]


def _caption(key: str, lang: str, **context: Any) -> str:
    return nv.render_inline(f"tables.{key}", lang, **context)


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
        "source": nv.source_caption(source_rows, lang) if source_rows is not None else None,
        "number_columns": tuple(words[c] for c in number_columns),
    }


def _num(value: Any, lang: str) -> str:
    return "" if value is None else nv.format_number(value, lang)


def _names(codes: list[int], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(nv.province_name(c, lang) for c in codes)


# --------------------------------------------------------------------------------------------
# Cluster policy
# --------------------------------------------------------------------------------------------


def terms(lang: str) -> dict[str, Any]:
    """The terms of the 2020 work reports: term, number of provinces, which provinces."""
    nv.check_lang(lang)
    summary = rd.terms_summary()
    rows = []
    for r in summary.to_dict("records"):
        term = r["term_zh"] if lang == "zh" else f"{r['term_en']} ({r['term_zh']})"
        rows.append(
            {
                "term": term,
                "term_provinces": _num(r["provinces"], lang),
                "provinces_listed": _names(r["adcodes"], lang),
            }
        )
    missing = rd.provinces_not_naming()
    if missing:
        rows.append(
            {
                "term": nv.templates(lang)["common"]["no_term"],
                "term_provinces": _num(len(missing), lang),
                "provinces_listed": _names([p.adcode for p in missing], lang),
            }
        )
    year = rd.indicator_row("cluster_indicators", "provinces_total")["period"]
    frame = _frame(rows, ["term", "term_provinces", "provinces_listed"], lang)
    return _view(
        frame,
        _caption("terms", lang, year=year),
        rd.table("provincial_cluster_terms"),
        lang,
        ("term_provinces",),
    )


def strategies(lang: str) -> dict[str, Any]:
    """The provincial strategies: one line per statement of the text, grouped by province."""
    nv.check_lang(lang)
    rows, cited = [], []
    for strategy in rd.strategies():
        for r in strategy["rows"]:
            rows.append(_strategy_row(r, lang))
            cited.append(r)
    frame = _frame(rows, ["province", "item", "year", "content", "listed"], lang)
    return _view(frame, _caption("strategies", lang), cited, lang, ("year",))


def _strategy_row(r: dict[str, Any], lang: str) -> dict[str, Any]:
    """One statement of a strategy: what it is about, when, and what it says (one cell)."""
    words = nv.templates(lang)["labels"].get("strategy_items", {})
    document = r.get("document_zh") or ""
    if document and lang == "en":
        # Document rows carry the title's English rendering in label_en (from the glossary).
        same = r.get("label_zh") == document
        content = nv.label(document, lang, r.get("label_en") if same else None)
    elif document:
        content = f"《{document}》"
    elif r.get("system_label"):
        content = f"“{r['system_label']}”"
    else:
        content = _num(r.get("count"), lang)
    return {
        "province": nv.province_name(r["adcode"], lang),
        "item": words.get(str(r["item"])) or nv.row_label(r, "label", lang),
        "year": str(r["year"]) if r.get("year") is not None else "",
        "content": content,
        "listed": str(r.get("listed_zh") or "").replace(";", "、"),
    }


def province_strategy(province: Any, lang: str) -> dict[str, Any]:
    """The strategy rows of one province (empty frame when the text gives none)."""
    nv.check_lang(lang)
    profile = rd.province_profile(province)
    rows = [_strategy_row(r, lang) for r in profile.strategy]
    frame = _frame(rows, ["item", "year", "content", "listed"], lang)
    name = nv.province_name(profile.unit, lang)
    return _view(
        frame,
        _caption("strategy_rows", lang, name=name),
        profile.strategy or None,
        lang,
        ("year",),
    )


def province_sentences(province: Any, lang: str) -> dict[str, Any]:
    """The sentences of the source that name the province, with their sections."""
    nv.check_lang(lang)
    profile = rd.province_profile(province)
    rows = [
        {"section": _last_heading(s["section"]), "sentence": s["text"]} for s in profile.sentences
    ]
    frame = _frame(rows, ["section", "sentence"], lang)
    name = nv.province_name(profile.unit, lang)
    return _view(frame, _caption("sentences", lang, name=name), None, lang)


def _last_heading(section: str) -> str:
    parts = [p.strip() for p in section.split(">") if p.strip()]
    return parts[-1] if parts else ""


# --------------------------------------------------------------------------------------------
# AMOLED
# --------------------------------------------------------------------------------------------


def amoled_indicators(lang: str) -> dict[str, Any]:
    """Every AMOLED indicator: what, value with unit and qualifier, when, scope."""
    nv.check_lang(lang)
    rows, cited = [], []
    measures = {"production_line": "条", "category": "个", "item": "种", "requirement": "个"}
    for r in rd.records("amoled_indicators"):
        fact = nv.Fact.from_row(r, measure=measures.get(str(r["unit"]), ""))
        scope = r.get("scope_zh") if lang == "zh" else r.get("scope")
        period = nv.format_month(str(r["period"]), lang) if r.get("period") else ""
        rows.append(
            {
                "item": nv.indicator_label(r, lang),
                "value": _rank_or_value(fact, lang),
                "date": period,
                "scope": scope or "",
            }
        )
        cited.append(r)
    frame = _frame(rows, ["item", "value", "date", "scope"], lang)
    return _view(frame, _caption("indicators", lang), cited, lang, ("value",))


def _rank_or_value(fact: nv.Fact, lang: str) -> str:
    if fact.unit == "rank":
        return (
            ("全球" if lang == "zh" else "")
            + fact.format(lang)
            + ("" if lang == "zh" else " in the world")
        )
    return fact.format(lang)


def materials(lang: str) -> dict[str, Any]:
    """The material categories of a flexible AMOLED line, in the text's order."""
    nv.check_lang(lang)
    rows_ = sorted(rd.records("amoled_line_materials"), key=lambda r: int(r["position"]))
    rows = []
    for r in rows_:
        rows.append(
            {
                "number": _num(r["position"], lang),
                "material": r["material_zh"] if lang == "zh" else r["material_en"],
                "material_en": r["material_en"] if lang == "zh" else r["material_zh"],
            }
        )
    frame = _frame(rows, ["number", "material", "material_en"], lang)
    return _view(frame, _caption("materials", lang), rows_, lang, ("number",))


def companies(lang: str) -> dict[str, Any]:
    """The companies the AMOLED article names, by role."""
    nv.check_lang(lang)
    roles = _labels(lang, "roles")
    rows_ = rd.records("display_companies")
    rows = [
        {
            "role": roles.get(str(r["role"]), str(r["role"])),
            "company": r["company_zh"]
            if lang == "zh"
            else f"{r['company_en']} ({r['company_zh']})",
        }
        for r in rows_
    ]
    frame = _frame(rows, ["role", "company"], lang)
    return _view(frame, _caption("companies", lang), rows_, lang)


def technologies(lang: str) -> dict[str, Any]:
    """Technology breakthroughs and screen forms the AMOLED article lists."""
    nv.check_lang(lang)
    kinds = _labels(lang, "tech_kinds")
    rows_ = rd.records("amoled_technology_breakthroughs")
    rows = [
        {
            "kind": kinds.get(str(r["kind"]), str(r["kind"])),
            "technology": r["technology_zh"]
            if lang == "zh"
            else f"{r['technology_en']} ({r['technology_zh']})",
        }
        for r in rows_
    ]
    frame = _frame(rows, ["kind", "technology"], lang)
    return _view(frame, _caption("technologies", lang), rows_, lang)


# --------------------------------------------------------------------------------------------
# Source audit
# --------------------------------------------------------------------------------------------


def structure(lang: str) -> dict[str, Any]:
    """Paragraphs, body paragraphs, pull quotes and sentences per section."""
    nv.check_lang(lang)
    frame = rd.document_structure()
    rows = [
        {
            "article": r["article_id"],
            "section": _last_heading(r["section"]) or "—",
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


def repairs(lang: str) -> dict[str, Any]:
    """Every repair other than punctuation: kind, where, before, after, reason, decision."""
    nv.check_lang(lang)
    kinds = _labels(lang, "repair_kinds")
    decisions = _labels(lang, "decision")
    audit = rd.cleaning_audit()
    audit = audit[audit["kind"] != "punctuation"]
    rows = [
        {
            "repair": kinds.get(r["kind"], r["kind"]),
            "paragraph": r["paragraph_id"],
            "before": _short(r["before"]),
            "after": _short(r["after"]),
            "reason": _short(r["reason"], 160),
            "status": decisions.get(r["decision"], r["decision"]),
        }
        for r in audit.to_dict("records")
    ]
    cols = ["repair", "paragraph", "before", "after", "reason", "status"]
    return _view(_frame(rows, cols, lang), _caption("repairs", lang), None, lang)


def punctuation(lang: str) -> dict[str, Any]:
    """Punctuation repairs summed per paragraph, with the marks changed."""
    nv.check_lang(lang)
    audit = rd.cleaning_audit()
    audit = audit[audit["kind"] == "punctuation"]
    rows = []
    for paragraph, part in audit.groupby("paragraph_id", sort=False):
        marks = "".join(
            dict.fromkeys(f"{b}→{a} " for b, a in zip(part["before"], part["after"], strict=True))
        )
        rows.append(
            {
                "paragraph": paragraph,
                "changes": _num(len(part), lang),
                "after": marks.strip(),
            }
        )
    return _view(
        _frame(rows, ["paragraph", "changes", "after"], lang),
        _caption("punctuation", lang),
        None,
        lang,
        ("changes",),
    )


def _short(text: str, limit: int = 60) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def coverage(lang: str) -> dict[str, Any]:
    """Numeric mentions per kind of number: how many are used, not a fact, unclassified."""
    nv.check_lang(lang)
    frame = rd.mention_coverage()
    statuses = ("used", "not_a_fact", "unclassified")
    rows = []
    for kind, part in frame.groupby("kind", sort=True):
        counts = dict(zip(part["status"], part["mentions"], strict=True))
        row = {"mention_kind": kind}
        row.update({s: _num(int(counts.get(s, 0)), lang) for s in statuses})
        row["mentions"] = _num(int(part["mentions"].sum()), lang)
        rows.append(row)
    status_words = _labels(lang, "status")
    view = _view(
        _frame(rows, ["mention_kind", *statuses, "mentions"], lang).rename(columns=status_words),
        _caption("coverage", lang),
        None,
        lang,
        ("mentions",),
    )
    view["number_columns"] = (*view["number_columns"], *(status_words[s] for s in statuses))
    return view


def not_a_fact(lang: str) -> dict[str, Any]:
    """Mentions classified as not a fact, per review rule, with examples."""
    nv.check_lang(lang)
    mentions = rd.table("numeric_mentions")
    part = mentions[mentions["status"] == "not_a_fact"]
    rows = []
    for rule, group in part.groupby("rule", sort=True):
        examples = "、".join(dict.fromkeys(str(t) for t in group["text"]))
        rows.append(
            {
                "rule": rule,
                "mentions": _num(len(group), lang),
                "listed": _short(examples, 50),
                "reason": str(group["reason"].iloc[0]),
            }
        )
    return _view(
        _frame(rows, ["rule", "mentions", "listed", "reason"], lang),
        _caption("not_a_fact", lang),
        None,
        lang,
        ("mentions",),
    )


def checks(lang: str) -> dict[str, Any]:
    """The consistency checks: what is compared, stated and re-derived figure, result."""
    nv.check_lang(lang)
    results = _labels(lang, "result")
    rows_ = rd.records("consistency_checks")
    rows = [
        {
            "check": r["description"],
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
    nv.check_lang(lang)
    from .facts.tables import ALL_TABLES

    rows = []
    for t in ALL_TABLES:
        rows.append(
            {
                "table": t.name,
                "rows": _num(len(rd.table(t.name)), lang),
                "description": t.title,
            }
        )
    return _view(
        _frame(rows, ["table", "rows", "description"], lang),
        _caption("fact_tables", lang),
        None,
        lang,
        ("rows",),
    )
