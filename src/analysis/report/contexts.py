"""What each report's templates are given, computed from the frames of the data views.

A notebook derives its frames from the views (`by_province = views.winners_by_province()`) and
passes them here (`contexts.cluster_context(by_province=by_province, ...)`); every number the
narrative prints is computed from them, so a frame a researcher changes changes the text too.
A frame not given is taken from its view of the fact tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from . import audit
from . import views as v
from .values import DatedFact, Fact

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

T = TypeVar("T")


def _or(given: T | None, view: Callable[[], T]) -> T:
    """`given` when the notebook passed a frame, else what the view returns."""
    return view() if given is None else given


def _leaders(winners: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The provinces with most winners, those with the next most, and the rank of the latter.

    From the `clusters` column (not a `rank` column a changed frame may have left stale): a
    rank is one more than the number of provinces with more winners.
    """
    with_winners = winners[winners["clusters"] > 0]
    counts = sorted(set(with_winners["clusters"]), reverse=True)
    leaders = with_winners[with_winners["clusters"] == counts[0]]
    if len(counts) < 2:
        return leaders, leaders[:0], 0
    runners_up = with_winners[with_winners["clusters"] == counts[1]]
    return leaders, runners_up, int((winners["clusters"] > counts[1]).sum()) + 1


def _majority(winners: pd.DataFrame) -> list[int]:
    """The fewest provinces, most winners first, that together hold more than half of all
    winning clusters (Jiangsu, Guangdong, Zhejiang and Hubei: 26 of 44)."""
    with_winners = winners[winners["clusters"] > 0]
    ordered = with_winners.sort_values("clusters", ascending=False, kind="stable")
    total, held, out = int(ordered["clusters"].sum()), 0, []
    for row in ordered.to_dict("records"):
        if 2 * held > total:
            break
        out.append(int(row["adcode"]))
        held += int(row["clusters"])
    return out


def _partial_lists(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Strategy rows whose stated count exceeds the items the text lists (Zhejiang's action
    plan: 8 areas, five named): the reports say that the list is partial."""
    out = []
    for r in rows:
        listed = [x for x in str(r.get("listed_zh") or "").split(";") if x]
        if listed and r.get("count") is not None and int(r["count"]) > len(listed):
            out.append({**r, "listed": len(listed)})
    return out


def _sentence_rows(ids: list[str]) -> list[dict[str, Any]]:
    from ..corpus import load_corpus

    corpus = load_corpus()
    texts = {s.id: s for s in corpus.sentences}
    return [{"sentence_id": i, "text": texts[i].text} for i in ids]


def _weaknesses(sentence_id: str | None) -> list[dict[str, Any]]:
    """The article's case on the weak links, in its own order: the opening sentence of each
    paragraph from the one stating the localisation rate to the end of its section (首先…,
    其次…, 此外…), so the report follows the argument and not only its figures."""
    from ..corpus import load_corpus

    if sentence_id is None:
        return []
    corpus = load_corpus()
    paragraphs = {p.id: p for p in corpus.paragraphs}
    start = paragraphs[next(s.paragraph_id for s in corpus.sentences if s.id == sentence_id)]
    body = [p for p in corpus.fact_paragraphs() if p.section_path == start.section_path]
    after = body[[p.id for p in body].index(start.id) :]
    return _sentence_rows([corpus.sentences_of(p.id)[0].id for p in after])


def strategy_sentences(profile: v.ProvinceProfile) -> list[dict[str, Any]]:
    """Every sentence of the paragraphs that state the province's strategy, in text order:
    the substance the profile translates (Jiangsu's 企业+联盟 innovation centres, ...)."""
    from ..corpus import load_corpus

    corpus = load_corpus()
    cited = {str(r["sentence_id"]) for r in profile.strategy}
    paragraphs = {s.paragraph_id for s in corpus.sentences if s.id in cited}
    ids = [s.id for s in corpus.fact_sentences() if s.paragraph_id in paragraphs]
    return _sentence_rows(ids)


def other_sentences(profile: v.ProvinceProfile) -> list[dict[str, Any]]:
    """The profile's sentences that its strategy section does not already quote."""
    shown = {s["sentence_id"] for s in strategy_sentences(profile)}
    return [s for s in profile.sentences if s["sentence_id"] not in shown]


def cluster_context(
    *,
    by_industry: pd.DataFrame | None = None,
    by_province: pd.DataFrame | None = None,
    by_region: pd.DataFrame | None = None,
    terms: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    strategies: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything the cluster-policy templates use, from the frames the notebook derived
    (each defaults to its view of the fact tables), so a changed frame changes the text."""
    rounds = v.competition_rounds()
    industries = _or(by_industry, v.winners_by_industry).to_dict("records")
    winners = _or(by_province, v.winners_by_province)
    leaders, runners_up, runners_up_rank = _leaders(winners)
    terms_ = _or(terms, v.cluster_terms)
    regions = _or(by_region, lambda: v.winners_by_region(winners, terms_)).to_dict("records")
    events = _or(events, v.timeline)
    naming = v.indicator("cluster_indicators", "provinces_naming_clusters")
    strategies_ = _or(strategies, v.strategies)
    documents = sorted(
        (r for s in strategies_ for r in s["documents"] if r.get("year") is not None),
        key=lambda r: int(r["year"]),
    )
    systems = [r for s in strategies_ for r in s["systems"]]
    majority = _majority(winners)
    strategy_units = [int(s["adcode"]) for s in strategies_]
    return {
        "total": v.indicator("cluster_indicators", "competition_winners"),
        "n_rounds": v.indicator("cluster_indicators", "competition_rounds"),
        "stages": v.indicator("cluster_indicators", "competition_stages"),
        "rounds": rounds,
        "industries": industries,
        "n_industries": len(industries),
        "top3_share": sum(r["share_pct"] for r in industries[:3]),
        # Concentration, for the key points: the fewest leading provinces that hold more than
        # half of the winners, and which of the provinces with a strategy are among them.
        "majority": majority,
        "majority_clusters": int(winners.set_index("adcode").loc[majority, "clusters"].sum()),
        "majority_share": 100.0
        * float(winners.set_index("adcode").loc[majority, "clusters"].sum())
        / float(winners["clusters"].sum()),
        "strategy_leaders": [c for c in strategy_units if c in majority],
        "n_winner_provinces": int((winners["clusters"] > 0).sum()),
        "leaders": [int(c) for c in leaders["adcode"]],
        "leaders_clusters": int(leaders["clusters"].iloc[0]),
        "runners_up": [int(c) for c in runners_up["adcode"]],
        "runners_up_clusters": int(runners_up["clusters"].iloc[0]) if len(runners_up) else 0,
        "runners_up_rank": runners_up_rank,
        "n_zero": int((winners["clusters"] == 0).sum()),
        "regions": regions,
        "top_region": max(regions, key=lambda r: r["clusters"]),
        "provinces_total": v.indicator("cluster_indicators", "provinces_total"),
        "naming": naming,
        "naming_share": v.indicator("cluster_indicators", "provinces_naming_clusters_share"),
        "year": v.indicator_row("cluster_indicators", "provinces_total")["period"],
        "terms": _or(summary, v.terms_summary).to_dict("records"),
        "not_naming": [p.adcode for p in v.provinces_not_naming(terms_)],
        "strategies": strategies_,
        "first_year": documents[0] if documents else None,
        "last_year": documents[-1] if documents else None,
        "systems": systems,
        "partial": _partial_lists([r for s in strategies_ for r in s["rows"]]),
        "toolbox": v.records("cluster_policy_toolbox"),
        "events": events.to_dict("records"),
        "first_event": events.iloc[0].to_dict(),
        "national": int((events["kind"] == "national").sum()),
        "competition": int((events["kind"] == "competition").sum()),
        "regional": int((events["kind"] == "regional").sum()),
        "provincial": int((events["kind"] == "provincial").sum()),
    }


def amoled_context(
    *,
    indicators: pd.DataFrame | None = None,
    equipment: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything the AMOLED templates use, from the notebook's `indicators` frame (the
    amoled_indicators table) and `equipment` rows (`views.equipment()`), by default the views'."""
    frame = _or(indicators, lambda: v.indicators("amoled_indicators"))

    def fact(name: str) -> Fact:
        return Fact.from_row(v.indicator_rows(frame, [name])[0])

    def dated(name: str) -> DatedFact:
        row = v.indicator_rows(frame, [name])[0]
        return DatedFact(**fact(name).__dict__, period=str(row.get("period") or ""))

    built, building = fact("amoled_lines_built"), fact("amoled_lines_under_construction")
    localisation = dated("organic_material_localisation_rate")
    capacity = fact("new_display_capacity_rank")
    companies = v.records("display_companies")
    tech = v.records("amoled_technology_breakthroughs")
    materials = v.records("amoled_line_materials")
    events = v.records("amoled_supply_chain_events")
    return {
        "investment": fact("new_display_investment"),
        "output": dated("new_display_output_value"),
        "size_rank": fact("new_display_size_rank"),
        "capacity_rank": capacity,
        "shipments_rank": fact("new_display_shipments_rank"),
        "lines_built": dated("amoled_lines_built"),
        "lines_building": building,
        "lines_total": int(built.value) + int(building.value),
        "amoled_investment": fact("amoled_investment"),
        "amoled_output": dated("amoled_output_value"),
        "amoled_rank": fact("amoled_output_rank"),
        "penetration": fact("amoled_penetration_by_value"),
        "localisation": localisation,
        "weaknesses": _weaknesses(localisation.sentence_id),
        "capacity_sentence": _sentence_rows([str(fact("new_display_capacity_rank").sentence_id)])[
            0
        ],
        "categories": fact("line_material_categories"),
        "items": fact("line_material_items"),
        "n_requirements": fact("ecosystem_requirements"),
        "equipment": _or(equipment, v.equipment),
        "materials": materials,
        "line_generation": int(materials[0]["line_generation"]) if materials else None,
        "panel_makers": [c for c in companies if c["role"] == "panel_maker"],
        "device_makers": [c for c in companies if c["role"] == "device_maker"],
        "equipment_makers": [c for c in companies if c["role"] == "equipment_maker"],
        "technologies": [r for r in tech if r["kind"] == "technology"],
        "screen_forms": [r for r in tech if r["kind"] == "screen_form"],
        "requirements": sorted(v.records("amoled_requirements"), key=lambda r: int(r["number"])),
        "event": events[0] if events else None,
    }


def province_context(province: object, by_province: pd.DataFrame | None = None) -> dict[str, Any]:
    """Everything the province-profile templates use for one province; its rank from
    `by_province` (`views.winners_by_province()` by default)."""
    profile = v.province_profile(province)
    unit = profile.unit
    rank = profile.rank if by_province is None else v.province_rank(unit, by_province)
    rank = rank or {}
    total = v.indicator("cluster_indicators", "competition_winners")
    winners_fact = (
        Fact.from_row(profile.winners, value="clusters", unit="cluster")
        if profile.winners
        else None
    )
    peers = []
    if profile.term:
        peers = [
            int(r["adcode"])
            for r in v.records("provincial_cluster_terms")
            if r["term_zh"] == profile.term["term_zh"] and int(r["adcode"]) != unit.adcode
        ]
    return {
        "profile": profile,
        "unit": unit,
        "adcode": unit.adcode,
        "depth": profile.depth,
        "winners": winners_fact,
        "rank": rank.get("rank"),
        "tied": rank.get("tied_with", []) if winners_fact else [],
        "ranked": rank.get("provinces_ranked"),
        "with_winners": rank.get("provinces_with_winners"),
        "share": 100.0 * winners_fact.value / total.value if winners_fact else 0.0,
        "total": total,
        "n_rounds": v.indicator("cluster_indicators", "competition_rounds"),
        "naming": v.indicator("cluster_indicators", "provinces_naming_clusters"),
        "year": v.indicator_row("cluster_indicators", "provinces_total")["period"],
        "term": profile.term,
        "peers": peers,
        "strategy": profile.strategy,
        "strategy_sentences": strategy_sentences(profile),
        "sentences": other_sentences(profile),
        "partial": _partial_lists(profile.strategy),
        "n_strategies": len(v.strategies()),
        "unit_kind": unit.kind,
    }


def audit_context(
    *,
    repairs: pd.DataFrame | None = None,
    mentions: pd.DataFrame | None = None,
    checks: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Everything the source-audit templates use: origin, structure, repairs, coverage, checks;
    from the notebook's `repairs` (`audit.repairs_by_kind()`), `mentions` (numeric_mentions) and
    `checks` (consistency_checks) frames, by default the views'."""
    from ..corpus import load_corpus
    from ..corpus.origin import load_origins
    from ..facts.tables import ALL_TABLES
    from ..paths import RAW

    origins = load_origins(RAW)
    corpus = load_corpus()
    repairs = _or(repairs, audit.repairs_by_kind)
    mentions = _or(mentions, lambda: v.table("numeric_mentions"))
    checks_ = _or(checks, lambda: v.table("consistency_checks"))
    checks = [{k: v.plain(x) for k, x in r.items()} for r in checks_.to_dict("records")]
    status = audit.status_counts(mentions)
    total = int(len(mentions))
    used = status.get("used", 0)
    not_a_fact = status.get("not_a_fact", 0)
    return {
        "source": {
            "file": origins[0].file,
            "size": origins[0].size_bytes,
            "sha256": origins[0].sha256,
        },
        "sources": origins,
        "articles": corpus.articles,
        "n_paragraphs": len(corpus.paragraphs),
        "n_sentences": len(corpus.sentences),
        "n_fact_paragraphs": len(corpus.fact_paragraphs()),
        "n_pull_quotes": sum(p.role == "pull_quote" for p in corpus.paragraphs),
        "repairs": repairs.to_dict("records"),
        "accepted": int(repairs["accepted"].sum()),
        # Punctuation (half-width marks made full-width) is counted apart from the repairs that
        # change the words or their order: 239 comma fixes are not "repairs" of the same weight.
        "punctuation": int(repairs.loc[repairs["kind"] == "punctuation", "accepted"].sum()),
        "substantive": int(repairs.loc[repairs["kind"] != "punctuation", "accepted"].sum()),
        "moves": audit.reading_order_moves(),
        "rejected": int(repairs["rejected"].sum()),
        "undecided": int(repairs["undecided"].sum()),
        "total": total,
        "used": used,
        "not_a_fact": not_a_fact,
        "unclassified": status.get("unclassified", 0),
        # Coverage: the share of mentions that are accounted for (used or reviewed as not a fact).
        "coverage": 100.0 * (used + not_a_fact) / total if total else 100.0,
        "checks": checks,
        "passed": sum(c["result"] == "pass" for c in checks),
        "failed": sum(c["result"] != "pass" for c in checks),
        "tables": list(ALL_TABLES),
        "partial": _partial_lists([r for s in v.strategies() for r in s["rows"]]),
        "endings": _endings(corpus),
    }


def _endings(corpus: Any) -> list[dict[str, Any]]:
    """Each article's last body paragraph and its section heading: where the text stops (the
    AMOLED article ends on its last requirement, with no recommendations)."""
    last: dict[str, Any] = {}
    for p in corpus.paragraphs:
        if p.role == "body":
            last[p.article_id] = p
    numbers = {a.id: i for i, a in enumerate(corpus.articles, start=1)}
    return [
        {
            "article_id": a,
            "article_no": numbers.get(a, 0),
            "section": p.section_path[-1] if p.section_path else "",
            "text": p.text,
        }
        for a, p in last.items()
    ]
