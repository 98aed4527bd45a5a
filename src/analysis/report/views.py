"""Data views of the fact tables: rankings, regional splits, timelines, strategies, profiles.

Everything here is derived from `analysis.load()` tables by counting, sorting and joining; no
figure is typed in. A view returns a DataFrame (or rows, or a `Fact`) and imports nothing of
the prose: the notebooks name what a view returns (`by_province = views.winners_by_province()`)
and hand it to a chart (`charts`), a table (`tables`) and the narrative (`contexts`). Views
that derive from another view take it as an argument (`winners_by_region(by_province)`), so a
frame changed in a notebook flows into everything drawn from it. pandas is imported inside the
functions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..provinces import Province, mainland, resolve
from .values import Fact, is_missing

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.publish.zygote.warm_up`), while `import analysis.report.views` stays cheap.
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
    from .. import load

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
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def plain(value: Any) -> Any:
    """None for a missing value; an integral float (a year read next to NaNs) as int."""
    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    return value


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


def province_rank(province: object, by_province: pd.DataFrame | None = None) -> dict[str, Any]:
    """A province's winners, rank and the provinces it shares the rank with (in `by_province`,
    a `winners_by_province()` frame, by default the one of the fact tables)."""
    unit = resolve(province)
    frame = winners_by_province() if by_province is None else by_province
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


def winners_by_region(
    by_province: pd.DataFrame | None = None, terms: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Winners, provinces with winners and provinces naming clusters, per NBS economic region.

    From `by_province` (`winners_by_province()`) and `terms` (`cluster_terms()`), by default
    those of the fact tables.
    """
    import pandas as pd

    winners = winners_by_province() if by_province is None else by_province
    terms = cluster_terms() if terms is None else terms
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


def provinces_not_naming(terms: pd.DataFrame | None = None) -> list[Province]:
    """Mainland provinces the text does not list under any term (in `terms`, a `cluster_terms()`
    frame), ordered by adcode."""
    terms = cluster_terms() if terms is None else terms
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
    from ..corpus import load_corpus

    corpus = load_corpus()
    cited = {str(row["sentence_id"]) for name in PROVINCE_TABLES for row in _rows_of(name, unit)}
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
    winners, terms, strategy = (_rows_of(name, unit) for name in PROVINCE_TABLES)
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


def province_comparison(
    by_province: pd.DataFrame | None = None,
    terms: pd.DataFrame | None = None,
    strategies_: list[dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """The 31 mainland provinces side by side: winners, rank, region, term and strategy.

    One row per province in the order of `by_province` (`winners_by_province()`: most winners
    first, ties by adcode), joined with its 2020 work-report term (`terms`, `cluster_terms()`;
    `named` False where the text lists none) and whether the text describes a strategy of its
    own (`strategies_`, `strategies()`). Every argument defaults to the fact tables' view.
    """
    winners = winners_by_province() if by_province is None else by_province
    terms = cluster_terms() if terms is None else terms
    described = {s["adcode"] for s in (strategies() if strategies_ is None else strategies_)}
    by_code = {int(r["adcode"]): r for r in terms.to_dict("records")}
    frame = winners[
        ["adcode", "province_zh", "province_en", "clusters", "rank", "region_zh", "region_en"]
    ].copy()
    for column in ("term_zh", "term_en"):
        frame[column] = [by_code[int(c)][column] for c in frame["adcode"]]
    frame["named"] = [bool(by_code[int(c)]["named"]) for c in frame["adcode"]]
    frame["strategy"] = [int(c) in described for c in frame["adcode"]]
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# AMOLED
# --------------------------------------------------------------------------------------------


def indicators(table_name: str) -> pd.DataFrame:
    """An indicator table (cluster_indicators, amoled_indicators), one row per indicator."""
    return table(table_name)


def indicator_rows(frame: pd.DataFrame, names: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """The rows of an `indicators()` frame for `names`, in that order, exactly one each."""
    rows = [{k: plain(v) for k, v in r.items()} for r in frame.to_dict("records")]
    out = []
    for name in names:
        own = [r for r in rows if r["indicator"] == name]
        out.append(_one(own, f"indicator {name!r}", str(frame.attrs.get("table", "indicators"))))
    return out


def equipment() -> list[dict[str, Any]]:
    """The equipment kinds with their top suppliers' firms and combined share (a Fact)."""
    out = []
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
        out.append(row)
    return out
