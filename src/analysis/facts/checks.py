"""Cross-checks: re-derive figures the document states from other figures it states.

Each check compares a stated figure (`expected`, from sentence A) with the same figure
computed from other statements (`computed`, from sentences B): the winners of the rounds add
up to the stated total, the winners by industry and by province add up to the winners of the
rounds, 29 of 31 provinces is the stated 93.5%, the provinces listed under each term add up to
the stated 29, and the counts the text announces (两批, 两轮, 两次会议, 六大工程, 三个“要求”…)
match the items it lists. A failing check fails the build with both sentences quoted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import InputError
from .mentions import format_value
from .rules import Row, split_items
from .source import FactSentence


class ConsistencyError(InputError):
    """The document's own arithmetic does not add up (a changed or mistyped number)."""


@dataclass(frozen=True)
class Check:
    """The result of one cross-check."""

    check: str
    description: str
    expected: float
    computed: float
    result: str
    sentence_id_a: str
    quote_a: str
    sentence_id_b: str
    quote_b: str

    def as_row(self) -> dict[str, object]:
        """The check as a row of the consistency_checks table."""
        return dict(self.__dict__)


class _Facts:
    """Look-ups into the extracted rows for the checks, with errors that name what is missing."""

    def __init__(self, rows: dict[str, list[Row]], sentences: dict[str, FactSentence]) -> None:
        self.rows = rows
        self.sentences = sentences

    def all(self, table: str, **where: object) -> list[Row]:
        return [r for r in self.rows.get(table, []) if _has(r, where)]

    def one(self, table: str, check: str, **where: object) -> Row:
        found = self.all(table, **where)
        if len(found) != 1:
            shown = ", ".join(f"{k}={v}" for k, v in where.items())
            raise InputError(
                f"consistency check {check!r} needs one row of {table} with {shown}, found "
                f"{len(found)}; an extraction rule in data/raw/extraction_rules.toml that "
                "should produce it is missing or changed."
            )
        return found[0]

    def quote(self, ids: Sequence[str]) -> tuple[str, str]:
        """Sentence ids joined by ';' and their full texts joined by ' … '."""
        unique = list(dict.fromkeys(ids))
        return ";".join(unique), " … ".join(self.sentences[i].text for i in unique)


def _has(row: Row, where: dict[str, object]) -> bool:
    return all(row.values.get(k) == v for k, v in where.items())


def _decimals(value: float) -> int:
    text = format_value(value)
    return len(text.split(".")[1]) if "." in text else 0


def _check(
    facts: _Facts,
    name: str,
    description: str,
    expected: float,
    ids_a: Sequence[str],
    computed: float,
    ids_b: Sequence[str],
) -> Check:
    sid_a, quote_a = facts.quote(ids_a)
    sid_b, quote_b = facts.quote(ids_b)
    result = "pass" if float(expected) == float(computed) else "fail"
    return Check(
        name, description, float(expected), float(computed), result, sid_a, quote_a, sid_b, quote_b
    )


def _winners(f: _Facts) -> list[Check]:
    total = f.one("cluster_indicators", "winners_by_round", indicator="competition_winners")
    rounds = f.all("cluster_competition_rounds")
    by_round = sum(int(r.values.get("winners") or 0) for r in rounds)
    round_ids = [str(r.values.get("winners_sentence_id")) for r in rounds]
    industries = f.all("national_clusters_by_industry")
    provinces = f.all("national_clusters_by_province")
    return [
        _check(
            f,
            "winners_by_round",
            "the winners of the rounds, by year, add up to the stated winners of both rounds",
            total.values["value"],
            [total.sentence_id],
            by_round,
            round_ids,
        ),
        _check(
            f,
            "winners_by_industry",
            "the winners by industry add up to the winners of the rounds",
            by_round,
            round_ids,
            sum(int(r.values["clusters"]) for r in industries),
            [r.sentence_id for r in industries],
        ),
        _check(
            f,
            "winners_by_province",
            "the winners by province add up to the winners of the rounds",
            by_round,
            round_ids,
            sum(int(r.values["clusters"]) for r in provinces),
            [r.sentence_id for r in provinces],
        ),
    ]


def _provinces(f: _Facts) -> list[Check]:
    share = f.one(
        "cluster_indicators", "province_share", indicator="provinces_naming_clusters_share"
    )
    naming = f.one("cluster_indicators", "province_share", indicator="provinces_naming_clusters")
    total = f.one("cluster_indicators", "province_share", indicator="provinces_total")
    stated = float(share.values["value"])
    computed = round(
        100 * float(naming.values["value"]) / float(total.values["value"]), _decimals(stated)
    )
    terms = f.all("provincial_cluster_terms")
    term_ids = [r.sentence_id for r in terms]
    return [
        _check(
            f,
            "province_share",
            "the stated share equals the provinces naming clusters out of all provinces, "
            "rounded as stated",
            stated,
            [share.sentence_id],
            computed,
            [naming.sentence_id, total.sentence_id],
        ),
        _check(
            f,
            "provinces_by_term",
            "the provinces listed under each term add up to the stated number",
            naming.values["value"],
            [naming.sentence_id],
            len(terms),
            term_ids,
        ),
        _check(
            f,
            "provinces_by_term_distinct",
            "no province is listed under more than one term: the distinct provinces are the "
            "stated number",
            naming.values["value"],
            [naming.sentence_id],
            len({r.values["province_zh"] for r in terms}),
            term_ids,
        ),
    ]


def _announced_counts(f: _Facts) -> list[Check]:
    rounds_n = f.one("cluster_indicators", "competition_rounds", indicator="competition_rounds")
    rounds = f.all("cluster_competition_rounds")
    stages = f.one("cluster_indicators", "competition_stages", indicator="competition_stages")
    meetings = f.one("cluster_indicators", "regional_meetings", indicator="regional_meetings")
    regional = f.all("policy_events", level="regional")
    plans = f.one(
        "provincial_strategies", "guangdong_action_plans", province_zh="广东", item="action_plans"
    )
    pillar = f.one(
        "provincial_strategies",
        "guangdong_action_plans",
        province_zh="广东",
        item="pillar_industries",
    )
    emerging = f.one(
        "provincial_strategies",
        "guangdong_action_plans",
        province_zh="广东",
        item="emerging_industry_clusters",
    )
    projects = f.one(
        "provincial_strategies", "guangdong_projects", province_zh="广东", item="projects"
    )
    requirements_n = f.one(
        "amoled_indicators", "ecosystem_requirements", indicator="ecosystem_requirements"
    )
    requirements = f.all("amoled_requirements")
    named = [r for r in f.all("amoled_equipment_concentration") if r.values.get("firms_zh")]
    checks = [
        _check(
            f,
            "competition_rounds",
            "the stated number of rounds matches the rounds the text dates",
            rounds_n.values["value"],
            [rounds_n.sentence_id],
            len(rounds),
            [r.sentence_id for r in rounds],
        ),
        _check(
            f,
            "competition_stages",
            "the stated number of stages matches the stages named",
            stages.values["value"],
            [stages.sentence_id],
            len(split_items(str(stages.values["label_zh"]), 0, "enumeration")),
            [stages.sentence_id],
        ),
        _check(
            f,
            "regional_meetings",
            "the stated number of meetings matches the meetings named",
            meetings.values["value"],
            [meetings.sentence_id],
            len(regional),
            [r.sentence_id for r in regional],
        ),
        _check(
            f,
            "guangdong_action_plans",
            "the action plans number the pillar industries plus the emerging industry clusters",
            plans.values["count"],
            [plans.sentence_id],
            int(pillar.values["count"]) + int(emerging.values["count"]),
            [pillar.sentence_id, emerging.sentence_id],
        ),
        _check(
            f,
            "guangdong_projects",
            "the stated number of projects matches the projects named",
            projects.values["count"],
            [projects.sentence_id],
            len(str(projects.values["listed_zh"]).split(";")),
            [projects.sentence_id],
        ),
        _check(
            f,
            "ecosystem_requirements",
            "the stated number of requirements matches the numbered requirements set out",
            requirements_n.values["value"],
            [requirements_n.sentence_id],
            len(requirements),
            [r.sentence_id for r in requirements],
        ),
    ]
    for row in named:
        checks.append(
            _check(
                f,
                f"firms_named_{row.values['equipment_en']}".replace(" ", "_"),
                f"the stated number of firms for {row.values['equipment_zh']} matches the "
                "firms named",
                row.values["top_firms"],
                [row.sentence_id],
                len(str(row.values["firms_zh"]).split(";")),
                [row.sentence_id],
            )
        )
    return checks


CHECK_GROUPS: tuple[Callable[[_Facts], list[Check]], ...] = (
    _winners,
    _provinces,
    _announced_counts,
)


def run_checks(rows: dict[str, list[Row]], sentences: Sequence[FactSentence]) -> list[Check]:
    """Run every cross-check on the extracted rows; return the results (pass or fail)."""
    facts = _Facts(rows, {s.id: s for s in sentences})
    return [check for group in CHECK_GROUPS for check in group(facts)]


def failure_message(failed: Sequence[Check]) -> str:
    """One paragraph per failing check, quoting both sentences."""
    parts = []
    for c in failed:
        parts.append(
            f"consistency check {c.check!r} failed: {c.description}. The text states "
            f"{format_value(c.expected)} in {c.sentence_id_a}: “{c.quote_a}” — but "
            f"{format_value(c.computed)} follows from {c.sentence_id_b}: “{c.quote_b}”."
        )
    parts.append(
        "A number in the source or the corpus changed or is mistyped. Check both sentences "
        "against the raw text; correct a typo through data/raw/errata.csv (reviewed), never by "
        "editing outputs. Nothing was written."
    )
    return "\n".join(parts)
