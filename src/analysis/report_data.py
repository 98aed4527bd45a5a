"""Views of the fact tables that the reports need: rankings, regional splits, timelines, profiles.

Everything here is derived from `analysis.load()` tables (and, for the source audit, from the
corpus files in data/processed/) by counting, sorting and joining; no figure is typed in. The
functions are shared by the narrative templates (`analysis.narrative`), the charts
(`analysis.figures`) and the tests. pandas is imported inside the functions.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .narrative import Fact
from .provinces import Province, mainland, resolve

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.build.zygote.warm_up`), while `import analysis.report_data` itself stays cheap.
WARM_IMPORTS = ("pandas", "analysis.facts.api", "analysis.corpus")

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# The NBS regions in the order the statistical yearbooks list them.
REGION_ORDER = ("东部", "中部", "西部", "东北")
# The term of a province the text does not list under any term.
NO_TERM = ""


def table(name: str) -> pd.DataFrame:
    """A fact table from the facts layer (`analysis.load`), as a fresh copy.

    Each table is loaded (and validated) once per process: a report reads the same few
    tables many times, and loading is most of a province profile's run time otherwise.
    """
    return _loaded(name).copy()


@functools.cache
def _loaded(name: str) -> pd.DataFrame:
    from . import load

    # Typed, but not re-validated: `analysis data` validates every table against its schema
    # before writing it, and importing pandera would triple the run time of a small report.
    return load(name, validate=False)


def clear_cache() -> None:
    """Forget the tables and profiles read so far (after data/processed/ was rebuilt)."""
    _loaded.cache_clear()
    _profile.cache_clear()


def records(name: str) -> list[dict[str, Any]]:
    """The rows of a fact table as dictionaries (missing values as None)."""
    frame = table(name)
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    """None for a missing value; an integral float (a year read next to NaNs) as int."""
    if _isna(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def _isna(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _one(rows: list[dict[str, Any]], what: str, table_name: str) -> dict[str, Any]:
    if len(rows) != 1:
        raise InputError(
            f"The table {table_name} has {len(rows)} rows for {what}, expected exactly one. "
            "The fact tables changed shape; run `make data` and check the extraction rules."
        )
    return rows[0]


def indicator(table_name: str, name: str) -> Fact:
    """One row of an indicator table (cluster_indicators, amoled_indicators) as a Fact."""
    rows = [r for r in records(table_name) if r["indicator"] == name]
    return Fact.from_row(_one(rows, f"indicator {name!r}", table_name))


def indicator_row(table_name: str, name: str) -> dict[str, Any]:
    """One row of an indicator table as a dictionary."""
    rows = [r for r in records(table_name) if r["indicator"] == name]
    return _one(rows, f"indicator {name!r}", table_name)


# --------------------------------------------------------------------------------------------
# National competition
# --------------------------------------------------------------------------------------------


def competition_rounds() -> list[dict[str, Any]]:
    """The rounds of the national competition, in order, each with a Fact for its winners."""
    rows = sorted(records("cluster_competition_rounds"), key=lambda r: int(r["round"]))
    for row in rows:
        row["winners_fact"] = Fact(
            value=int(row["winners"]),
            unit="cluster",
            sentence_id=row.get("winners_sentence_id") or row["sentence_id"],
            quote=row.get("winners_quote") or row["quote"],
        )
    return rows


def winners_by_industry() -> pd.DataFrame:
    """Winners by industry, most first (ties in the text's order), with the share of the total."""
    frame = table("national_clusters_by_industry")
    frame = frame.sort_values(["clusters", "position"], ascending=[False, True], kind="stable")
    frame["share_pct"] = 100.0 * frame["clusters"] / frame["clusters"].sum()
    return frame.reset_index(drop=True)


def winners_by_province(include_zero: bool = True) -> pd.DataFrame:
    """Winners by province with rank (1 = most; ties share a rank) and NBS region.

    With `include_zero`, the mainland provinces the text does not list get 0 winners: the
    listed counts add up to the total winners (a consistency check of the facts layer), so
    the list is complete and an unlisted province had none.
    """
    import pandas as pd

    stated = table("national_clusters_by_province")
    stated["stated"] = True
    if include_zero:
        listed = set(stated["adcode"].astype(int))
        extra = [
            {
                "province_zh": p.short_zh,
                "adcode": p.adcode,
                "province_en": p.name_en,
                "clusters": 0,
                "stated": False,
            }
            for p in mainland()
            if p.adcode not in listed
        ]
        frame = pd.concat([stated, pd.DataFrame(extra)], ignore_index=True)
    else:
        frame = stated
    frame["adcode"] = frame["adcode"].astype(int)
    frame["clusters"] = frame["clusters"].astype(int)
    frame["rank"] = frame["clusters"].rank(method="min", ascending=False).astype(int)
    units = {p.adcode: p for p in mainland()}
    frame["region_zh"] = [units[c].region_zh for c in frame["adcode"]]
    frame["region_en"] = [units[c].region_en for c in frame["adcode"]]
    frame = frame.sort_values(["clusters", "adcode"], ascending=[False, True], kind="stable")
    return frame.reset_index(drop=True)


def province_rank(province: object) -> dict[str, Any]:
    """A province's winners, rank and the provinces it shares the rank with."""
    unit = resolve(province)
    frame = winners_by_province()
    row = frame[frame["adcode"] == unit.adcode]
    if row.empty:
        raise InputError(f"{unit.short_zh} is not a mainland province; it has no rank.")
    rank = int(row["rank"].iloc[0])
    clusters = int(row["clusters"].iloc[0])
    tied = frame[(frame["rank"] == rank) & (frame["adcode"] != unit.adcode)]
    return {
        "rank": rank,
        "clusters": clusters,
        "stated": bool(row["stated"].iloc[0]),
        "tied_with": [int(c) for c in tied["adcode"]],
        "provinces_with_winners": int((frame["clusters"] > 0).sum()),
        "provinces_ranked": len(frame),
    }


def winners_by_region() -> pd.DataFrame:
    """Winners, provinces with winners and provinces naming clusters, per NBS economic region."""
    import pandas as pd

    winners = winners_by_province()
    terms = cluster_terms()
    rows = []
    for region in REGION_ORDER:
        units = [p for p in mainland() if p.region_zh == region]
        codes = {p.adcode for p in units}
        w = winners[winners["adcode"].isin(codes)]
        t = terms[terms["adcode"].isin(codes)]
        rows.append(
            {
                "region_zh": region,
                "region_en": units[0].region_en,
                "provinces": len(units),
                "clusters": int(w["clusters"].sum()),
                "provinces_with_winners": int((w["clusters"] > 0).sum()),
                "provinces_naming_clusters": int(t["named"].sum()),
            }
        )
    frame = pd.DataFrame(rows)
    total = frame["clusters"].sum()
    frame["share_pct"] = 100.0 * frame["clusters"] / total if total else 0.0
    return frame


# --------------------------------------------------------------------------------------------
# 2020 government work reports
# --------------------------------------------------------------------------------------------


def cluster_terms() -> pd.DataFrame:
    """The term each mainland province used in its 2020 work report; `named` False if none."""
    import pandas as pd

    stated = table("provincial_cluster_terms")
    stated["adcode"] = stated["adcode"].astype(int)
    by_code = {int(r["adcode"]): r for r in stated.to_dict("records")}
    rows = []
    for p in mainland():
        row = by_code.get(p.adcode)
        if row is None:
            rows.append(
                {
                    "province_zh": p.short_zh,
                    "adcode": p.adcode,
                    "province_en": p.name_en,
                    "term_zh": NO_TERM,
                    "term_en": NO_TERM,
                    "named": False,
                }
            )
        else:
            rows.append({**row, "named": True})
    return pd.DataFrame(rows)


def terms_summary() -> pd.DataFrame:
    """One row per term: how many provinces used it, which ones, and the sentence that says so.

    Ordered by the number of provinces (most first), ties in the order the text gives them.
    """
    import pandas as pd

    stated = table("provincial_cluster_terms")
    order = list(dict.fromkeys(stated["term_zh"]))
    rows = []
    for term in order:
        part = stated[stated["term_zh"] == term]
        rows.append(
            {
                "term_zh": term,
                "term_en": part["term_en"].iloc[0],
                "provinces": len(part),
                "provinces_zh": list(part["province_zh"]),
                "adcodes": [int(c) for c in part["adcode"]],
                "sentence_id": part["sentence_id"].iloc[0],
                "quote": part["quote"].iloc[0],
                "order": order.index(term),
            }
        )
    frame = pd.DataFrame(rows).sort_values(["provinces", "order"], ascending=[False, True])
    return frame.drop(columns="order").reset_index(drop=True)


def provinces_not_naming() -> list[Province]:
    """Mainland provinces the text does not list under any term, ordered by adcode."""
    terms = cluster_terms()
    codes = set(terms.loc[~terms["named"], "adcode"])
    return [p for p in mainland() if p.adcode in codes]


# --------------------------------------------------------------------------------------------
# Timeline and strategies
# --------------------------------------------------------------------------------------------


def timeline() -> pd.DataFrame:
    """The dated policy events in date order (text order within a month), with competition
    rounds joined to their winners; `kind` is national, regional, provincial or competition."""
    import pandas as pd

    events = table("policy_events").reset_index(drop=True)
    events["text_order"] = range(len(events))
    rounds = {str(r["launched"]): r for r in competition_rounds()}
    kinds, winners = [], []
    for row in events.to_dict("records"):
        match = rounds.get(str(row["date"]))
        is_round = match is not None and str(match["round_zh"]) in str(row["event_zh"])
        kinds.append("competition" if is_round else row["level"])
        winners.append(match["winners_fact"] if is_round else None)
    events["kind"] = kinds
    events["winners_fact"] = pd.Series(winners, dtype=object)
    events = events.sort_values(["date", "text_order"], kind="stable")
    return events.drop(columns="text_order").reset_index(drop=True)


def strategies() -> list[dict[str, Any]]:
    """The provincial strategies, one entry per province in text order, with its rows."""
    rows = records("provincial_strategies")
    order = list(dict.fromkeys(int(r["adcode"]) for r in rows))
    out = []
    for code in order:
        own = [r for r in rows if int(r["adcode"]) == code]
        unit = resolve(code)
        out.append(
            {
                "unit": unit,
                "adcode": code,
                "rows": own,
                "documents": [r for r in own if r.get("document_zh")],
                "systems": [r for r in own if r.get("system_label")],
                "counts": [r for r in own if r.get("count") is not None],
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# Province profile
# --------------------------------------------------------------------------------------------


@dataclass
class ProvinceProfile:
    """Everything the source says about one province, gathered from the tables and the corpus."""

    unit: Province
    rank: dict[str, Any] | None
    winners: dict[str, Any] | None  # the national_clusters_by_province row, if listed
    term: dict[str, Any] | None  # the provincial_cluster_terms row, if listed
    strategy: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    sentences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def mentioned(self) -> bool:
        """True when any sentence of the source names the province or a table lists it."""
        return bool(self.winners or self.term or self.strategy or self.sentences)

    @property
    def depth(self) -> str:
        """full (a strategy of its own), listed (in a table), or absent (never named)."""
        if self.strategy:
            return "full"
        if self.mentioned:
            return "listed"
        return "absent"


PROVINCE_TABLES = (
    "national_clusters_by_province",
    "provincial_cluster_terms",
    "provincial_strategies",
)


def _rows_of(table_name: str, unit: Province) -> list[dict[str, Any]]:
    return [r for r in records(table_name) if int(r["adcode"]) == unit.adcode]


def _names_of(unit: Province) -> tuple[str, ...]:
    # Full and short Chinese names only: one-character aliases (苏, 湘) would match ordinary
    # words, and the text never uses them for provinces.
    return tuple(dict.fromkeys((unit.name_zh, unit.short_zh)))


def province_sentences(unit: Province) -> list[dict[str, Any]]:
    """The clean body sentences that name `unit`, plus those the tables cite for it."""
    from .corpus import load_corpus

    corpus = load_corpus()
    cited = set()
    for name in (
        "national_clusters_by_province",
        "provincial_cluster_terms",
        "provincial_strategies",
    ):
        for row in records(name):
            if int(row["adcode"]) == unit.adcode:
                cited.add(str(row["sentence_id"]))
    names = _names_of(unit)
    sections = {p.id: p.section_path for p in corpus.paragraphs}
    out = []
    for sentence in corpus.fact_sentences():
        if sentence.id in cited or any(n in sentence.text for n in names):
            out.append(
                {
                    "sentence_id": sentence.id,
                    "article_id": sentence.article_id,
                    "section": " > ".join(sections.get(sentence.paragraph_id, ())),
                    "text": sentence.text,
                }
            )
    return out


def province_profile(province: object) -> ProvinceProfile:
    """Gather what the source says about `province` (any name or alias `resolve` accepts)."""
    return _profile(resolve(province).adcode)


@functools.cache
def _profile(adcode: int) -> ProvinceProfile:
    unit = resolve(adcode)
    if not unit.is_mainland:
        raise InputError(
            f"{unit.short_zh} ({unit.name_en}) is outside the 31 mainland provinces the source "
            "covers; choose one of: " + ", ".join(p.short_zh for p in mainland()) + "."
        )
    winners = [
        r for r in records("national_clusters_by_province") if int(r["adcode"]) == unit.adcode
    ]
    terms = [r for r in records("provincial_cluster_terms") if int(r["adcode"]) == unit.adcode]
    strategy = [r for r in records("provincial_strategies") if int(r["adcode"]) == unit.adcode]
    names = _names_of(unit)
    events = [
        r
        for r in records("policy_events")
        if any(n in str(r["body"]) or n in str(r["event_zh"]) for n in names)
    ]
    return ProvinceProfile(
        unit=unit,
        rank=province_rank(unit),
        winners=winners[0] if winners else None,
        term=terms[0] if terms else None,
        strategy=strategy,
        events=events,
        sentences=province_sentences(unit),
    )


# --------------------------------------------------------------------------------------------
# Source audit
# --------------------------------------------------------------------------------------------


def processed_csv(file_name: str) -> pd.DataFrame:
    """A CSV of data/processed/ written by the corpus step (InputError if it is missing)."""
    import pandas as pd

    from . import paths

    path = paths.PROCESSED / file_name
    if not path.is_file():
        raise InputError(
            f"{paths.relative(path)} is missing: run `make data` (analysis data) to build the "
            "corpus and the fact tables, then build the reports again."
        )
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def cleaning_audit() -> pd.DataFrame:
    """The cleaning audit of the corpus step: one row per repair or considered repair."""
    from .corpus.model import AUDIT_FILE

    return processed_csv(AUDIT_FILE)


def repairs_by_kind() -> pd.DataFrame:
    """Per repair kind (in stage order): proposals accepted, rejected, undecided."""
    import pandas as pd

    from .corpus.audit import KIND_ORDER

    audit = cleaning_audit()
    rows = []
    for kind in KIND_ORDER:
        part = audit[audit["kind"] == kind]
        rows.append(
            {
                "kind": kind,
                "accepted": int((part["decision"] == "accept").sum()),
                "rejected": int((part["decision"] == "reject").sum()),
                "undecided": int((~part["decision"].isin(["accept", "reject"])).sum()),
            }
        )
    return pd.DataFrame(rows)


def document_structure() -> pd.DataFrame:
    """Per article and section: paragraphs by role and sentences, in reading order."""
    import pandas as pd

    from .corpus import load_corpus

    corpus = load_corpus()
    rows: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for p in corpus.paragraphs:
        key = (p.article_id, p.section_path)
        entry = rows.setdefault(
            key,
            {
                "article_id": p.article_id,
                "section": " > ".join(p.section_path),
                "paragraphs": 0,
                "fact_paragraphs": 0,
                "pull_quotes": 0,
                "sentences": 0,
            },
        )
        entry["paragraphs"] += 1
        entry["fact_paragraphs"] += int(p.for_facts)
        entry["pull_quotes"] += int(p.role == "pull_quote")
        entry["sentences"] += len(corpus.sentences_of(p.id))
    return pd.DataFrame(list(rows.values()))


def mention_coverage() -> pd.DataFrame:
    """Numeric mentions by status (used, not_a_fact, unclassified) and kind."""
    mentions = table("numeric_mentions")
    counts = mentions.groupby(["status", "kind"], sort=True).size().rename("mentions")
    return counts.reset_index()


def status_counts(frame: pd.DataFrame, column: str = "status") -> Mapping[str, int]:
    """Counts of each value of `column`, as a plain dict ordered by value."""
    counts = frame[column].value_counts().sort_index()
    return {str(k): int(v) for k, v in counts.items()}


# --------------------------------------------------------------------------------------------
# Template contexts: what each report's templates are given
# --------------------------------------------------------------------------------------------


def cluster_context() -> dict[str, Any]:
    """Everything the cluster-policy templates use, from the fact tables."""
    rounds = competition_rounds()
    industries = winners_by_industry().to_dict("records")
    winners = winners_by_province()
    with_winners = winners[winners["clusters"] > 0]
    ranks = sorted(set(with_winners["rank"]))
    leaders = with_winners[with_winners["rank"] == ranks[0]]
    runners_up = with_winners[with_winners["rank"] == ranks[1]] if len(ranks) > 1 else leaders[:0]
    terms = terms_summary().to_dict("records")
    regions = winners_by_region().to_dict("records")
    events = timeline()
    naming = indicator("cluster_indicators", "provinces_naming_clusters")
    strategies_ = strategies()
    documents = sorted(
        (r for s in strategies_ for r in s["documents"] if r.get("year") is not None),
        key=lambda r: int(r["year"]),
    )
    systems = [r for s in strategies_ for r in s["systems"]]
    return {
        "total": indicator("cluster_indicators", "competition_winners"),
        "n_rounds": indicator("cluster_indicators", "competition_rounds"),
        "stages": indicator("cluster_indicators", "competition_stages"),
        "rounds": rounds,
        "industries": industries,
        "n_industries": len(industries),
        "top3_share": sum(r["share_pct"] for r in industries[:3]),
        "n_winner_provinces": len(with_winners),
        "leaders": [int(c) for c in leaders["adcode"]],
        "leaders_clusters": int(leaders["clusters"].iloc[0]),
        "runners_up": [int(c) for c in runners_up["adcode"]],
        "runners_up_clusters": int(runners_up["clusters"].iloc[0]) if len(runners_up) else 0,
        "runners_up_rank": int(ranks[1]) if len(ranks) > 1 else 0,
        "n_zero": int((winners["clusters"] == 0).sum()),
        "regions": regions,
        "top_region": max(regions, key=lambda r: r["clusters"]),
        "provinces_total": indicator("cluster_indicators", "provinces_total"),
        "naming": naming,
        "naming_share": indicator("cluster_indicators", "provinces_naming_clusters_share"),
        "year": indicator_row("cluster_indicators", "provinces_total")["period"],
        "terms": terms,
        "not_naming": [p.adcode for p in provinces_not_naming()],
        "strategies": strategies_,
        "first_year": documents[0] if documents else None,
        "last_year": documents[-1] if documents else None,
        "systems": systems,
        "toolbox": records("cluster_policy_toolbox"),
        "events": events.to_dict("records"),
        "first_event": events.iloc[0].to_dict(),
        "national": int((events["kind"] == "national").sum()),
        "competition": int((events["kind"] == "competition").sum()),
        "regional": int((events["kind"] == "regional").sum()),
        "provincial": int((events["kind"] == "provincial").sum()),
    }


def amoled_context() -> dict[str, Any]:
    """Everything the AMOLED templates use, from the fact tables."""
    t = "amoled_indicators"
    built = indicator(t, "amoled_lines_built")
    building = indicator(t, "amoled_lines_under_construction")
    equipment = []
    for row in records("amoled_equipment_concentration"):
        row = dict(row)
        row["firms"] = [f for f in str(row.get("firms_zh") or "").split(";") if f]
        row["firms_en_list"] = [f for f in str(row.get("firms_en") or "").split(";") if f]
        if row.get("share_pct") is not None:
            row["share_fact"] = Fact(
                value=float(row["share_pct"]),
                unit="percent",
                qualifier=row.get("share_qualifier") or "equal",
                sentence_id=row["sentence_id"],
                quote=row["quote"],
            )
        equipment.append(row)
    companies = records("display_companies")
    tech = records("amoled_technology_breakthroughs")
    materials = records("amoled_line_materials")
    events = records("amoled_supply_chain_events")
    return {
        "investment": indicator(t, "new_display_investment"),
        "output": _with_period(t, "new_display_output_value"),
        "size_rank": indicator(t, "new_display_size_rank"),
        "capacity_rank": indicator(t, "new_display_capacity_rank"),
        "shipments_rank": indicator(t, "new_display_shipments_rank"),
        "lines_built": _with_period(t, "amoled_lines_built"),
        "lines_building": building,
        "lines_total": int(built.value) + int(building.value),
        "amoled_investment": indicator(t, "amoled_investment"),
        "amoled_output": _with_period(t, "amoled_output_value"),
        "amoled_rank": indicator(t, "amoled_output_rank"),
        "penetration": indicator(t, "amoled_penetration_by_value"),
        "localisation": _with_period(t, "organic_material_localisation_rate"),
        "categories": indicator(t, "line_material_categories"),
        "items": indicator(t, "line_material_items"),
        "n_requirements": indicator(t, "ecosystem_requirements"),
        "equipment": equipment,
        "materials": materials,
        "line_generation": int(materials[0]["line_generation"]) if materials else None,
        "panel_makers": [c for c in companies if c["role"] == "panel_maker"],
        "device_makers": [c for c in companies if c["role"] == "device_maker"],
        "equipment_makers": [c for c in companies if c["role"] == "equipment_maker"],
        "technologies": [r for r in tech if r["kind"] == "technology"],
        "screen_forms": [r for r in tech if r["kind"] == "screen_form"],
        "requirements": sorted(records("amoled_requirements"), key=lambda r: int(r["number"])),
        "event": events[0] if events else None,
    }


def _with_period(table_name: str, name: str) -> Fact:
    row = indicator_row(table_name, name)
    fact = Fact.from_row(row)
    return _Dated(**fact.__dict__, period=str(row.get("period") or ""))


@dataclass(frozen=True)
class _Dated(Fact):
    """A Fact that also carries the period (year or month) its row states."""

    period: str = ""


def province_context(province: object) -> dict[str, Any]:
    """Everything the province-profile templates use for one province."""
    profile = province_profile(province)
    unit = profile.unit
    rank = profile.rank or {}
    total = indicator("cluster_indicators", "competition_winners")
    winners_fact = (
        Fact.from_row(profile.winners, value="clusters", unit="cluster")
        if profile.winners
        else None
    )
    peers = []
    if profile.term:
        peers = [
            int(r["adcode"])
            for r in records("provincial_cluster_terms")
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
        "n_rounds": indicator("cluster_indicators", "competition_rounds"),
        "naming": indicator("cluster_indicators", "provinces_naming_clusters"),
        "year": indicator_row("cluster_indicators", "provinces_total")["period"],
        "term": profile.term,
        "peers": peers,
        "strategy": profile.strategy,
        "sentences": profile.sentences,
    }


def audit_context() -> dict[str, Any]:
    """Everything the source-audit templates use: origin, structure, repairs, coverage, checks."""
    from .corpus import load_corpus
    from .corpus.origin import load_origins
    from .facts.tables import ALL_TABLES
    from .paths import RAW

    origins = load_origins(RAW)
    corpus = load_corpus()
    repairs = repairs_by_kind()
    mentions = table("numeric_mentions")
    checks = records("consistency_checks")
    status = status_counts(mentions)
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
    }
