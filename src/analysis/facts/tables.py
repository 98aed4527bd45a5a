"""The fact tables: names, columns, types, units and descriptions — the contract users rely on.

Each table is described once here; the pandera schemas (`schemas.py`), the Frictionless data
package, the Excel README sheet and the researcher API (`api.py`) are all derived from it.
This module uses only the standard library, so `list_tables()` stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

# Column types, named as in the Frictionless Table Schema.
TYPES = ("string", "integer", "number", "yearmonth", "year", "boolean")
QUALIFIERS = (
    "equal",
    "more_than",
    "less_than",
    "approximately",
    "at_least",
    "at_most",
    "order_of_magnitude",
    "range",
    "as_of",
)
# article id (ASCII letters, digits, _: sources.toml) - paragraph - sentence; any number of
# articles and blocks (analysis.corpus.pipeline pads to at least 3 and 2 digits).
SENTENCE_ID = r"[A-Za-z0-9_]+-p\d{3,}-s\d{2,}"
SENTENCE_ID_PATTERN = rf"^{SENTENCE_ID}$"
# The pandas dtype of each column type: nullable extension dtypes, so that an empty cell is
# <NA> and integers stay integers. Here rather than in `schemas.py`, so that loading a table
# without validating it (`load(..., validate=False)`) does not import pandera.
PANDAS_DTYPES = {
    "string": "string",
    "yearmonth": "string",
    "integer": "Int64",
    "year": "Int64",
    "number": "Float64",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Column:
    """One column: type, meaning, unit and the values it may take."""

    name: str
    type: str
    description: str
    unit: str | None = None
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Table:
    """One table of the fact base."""

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    topic: bool = True  # a topic table built from extraction rules (has sentence_id and quote)

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names in order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError if there is none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _provenance(prefix: str = "", what: str = "the row") -> tuple[Column, Column]:
    p = f"{prefix}_" if prefix else ""
    return (
        Column(
            f"{p}sentence_id",
            "string",
            f"Id of the clean corpus sentence that states {what} (corpus_sentences.csv).",
            pattern=SENTENCE_ID_PATTERN,
        ),
        Column(
            f"{p}quote",
            "string",
            f"The exact words of that sentence that state {what} (a substring of its clean text).",
        ),
    )


def _province(what: str) -> tuple[Column, ...]:
    return (
        Column("province_zh", "string", f"{what}: short Chinese name as in provinces.csv."),
        Column("adcode", "integer", "Six-digit division code of the province.", minimum=110000),
        Column("province_en", "string", "English name of the province (provinces.csv)."),
    )


def _indicator_columns(scopes: str) -> tuple[Column, ...]:
    return (
        Column("indicator", "string", "Stable identifier of the indicator (snake_case)."),
        Column("label_zh", "string", "What is measured, in the words of the text."),
        Column("label_en", "string", "English label (glossary.csv)."),
        Column("value", "number", "The figure as stated, in `unit`."),
        Column(
            "unit",
            "string",
            "Unit of `value`: percent, 100m_yuan (亿元), rank, or what is counted.",
        ),
        Column(
            "qualifier",
            "string",
            "How the text qualifies the figure: equal, more_than (超过), less_than (不足), "
            "at_least (以上, which includes the number), approximately (近/约), "
            "order_of_magnitude (数十/上百).",
            enum=QUALIFIERS,
        ),
        Column(
            "period",
            "string",
            "When: a year (YYYY), a month (YYYY-MM, 'as of'), or empty when the text gives none.",
            nullable=True,
            pattern=r"^\d{4}(-\d{2})?$",
        ),
        Column(
            "scope_zh",
            "string",
            "Where or what the figure covers, in the text's words.",
            nullable=True,
        ),
        Column("scope", "string", f"English scope (glossary.csv): {scopes}.", nullable=True),
    )


TABLES: tuple[Table, ...] = (
    Table(
        "national_clusters_by_industry",
        "National cluster-competition winners by industry",
        "The winners of the rounds of MIIT's national advanced-manufacturing cluster "
        "competition, by industry, in the order the text lists them.",
        (
            Column("position", "integer", "Order in the text's list.", minimum=1),
            Column("industry_zh", "string", "Industry, as the text names it."),
            Column("industry_en", "string", "English name of the industry (glossary.csv)."),
            Column(
                "clusters", "integer", "Number of winning clusters.", unit="clusters", minimum=0
            ),
            *_provenance(),
        ),
        key=("industry_zh",),
    ),
    Table(
        "national_clusters_by_province",
        "National cluster-competition winners by province",
        "The winners of the rounds of the national competition, by province, in the order the "
        "text lists them; a count given for several provinces (A、B各N个) gives one row each.",
        (
            *_province("Province"),
            Column(
                "clusters", "integer", "Number of winning clusters.", unit="clusters", minimum=0
            ),
            *_provenance(),
        ),
        key=("province_zh",),
    ),
    Table(
        "cluster_competition_rounds",
        "Rounds of the national cluster competition",
        "The rounds (batches) of MIIT's national advanced-manufacturing cluster competition: "
        "when each was launched and how many clusters won it.",
        (
            Column("round", "integer", "Round (batch) number.", minimum=1),
            Column("round_zh", "string", "The round as the text names it (第一批)."),
            Column("launched", "yearmonth", "Month the round was launched (YYYY-MM)."),
            Column("year", "year", "Year of the round; the text gives winners by this year."),
            Column(
                "winners", "integer", "Clusters that won the round.", unit="clusters", minimum=0
            ),
            *_provenance(what="the launch of the round"),
            *_provenance("winners", "the number of winners"),
        ),
        key=("round",),
    ),
    Table(
        "cluster_indicators",
        "Key figures on cluster policy",
        "Figures of the cluster article that are not lists: the competition's stages and "
        "rounds, its total winners, and how many provinces named clusters in their government "
        "work reports.",
        _indicator_columns("as the text states it") + _provenance(),
        key=("indicator",),
    ),
    Table(
        "policy_events",
        "Cluster-policy events",
        "Dated national, regional and provincial decisions on advanced-manufacturing clusters, "
        "with what each one stated.",
        (
            Column(
                "date",
                "string",
                "Month of the event (YYYY-MM), or its year (YYYY) where the text gives no month.",
                pattern=r"^\d{4}(-(0[1-9]|1[0-2]))?$",
            ),
            Column(
                "level",
                "string",
                "Level of government.",
                enum=("national", "regional", "provincial"),
            ),
            Column("body", "string", "Who decided or spoke, in the text's words."),
            Column("body_en", "string", "English name of `body` (glossary.csv)."),
            Column("event_zh", "string", "The meeting, report or document, in the text's words."),
            Column("statement_zh", "string", "What it stated or did, in the text's words."),
            *_provenance(),
        ),
        key=("date", "event_zh"),
    ),
    Table(
        "provincial_cluster_terms",
        "How provinces named clusters in their government work reports",
        "The term each province used for clusters in its government work "
        "report, with the example the text gives for some of them.",
        (
            *_province("Province"),
            Column("term_zh", "string", "The term, as quoted in the text (产业集群...)."),
            Column("term_en", "string", "English rendering of the term (glossary.csv)."),
            Column(
                "example_zh",
                "string",
                "The text's example of the term for this province.",
                nullable=True,
            ),
            Column(
                "example_clusters",
                "integer",
                "Number of clusters the example names (N大, N强), if it gives one.",
                unit="clusters",
                nullable=True,
                minimum=1,
            ),
            *_provenance(),
        ),
        key=("province_zh",),
    ),
    Table(
        "provincial_strategies",
        "Provincial cluster strategies",
        "The strategies of Jiangsu, Guangdong, Zhejiang and Hunan, one row per stated fact: "
        "guiding documents with their year, the labels of policy systems, and counts.",
        (
            *_province("Province"),
            Column("item", "string", "Stable identifier of the fact (snake_case)."),
            Column("label_zh", "string", "What the fact is about, in the text's words."),
            Column("label_en", "string", "English label (glossary.csv)."),
            Column("year", "year", "Year of the document or decision.", nullable=True),
            Column("date", "yearmonth", "Month, when the text gives it.", nullable=True),
            Column("document_zh", "string", "Title of the document.", nullable=True),
            Column(
                "system_label",
                "string",
                "Label of a policy system, as quoted (digits and letters joined by '+').",
                nullable=True,
                pattern=r"^[0-9A-Z]+(\+[0-9A-Z]+)*$",
            ),
            Column(
                "count", "integer", "The number stated, of `label_zh`.", nullable=True, minimum=0
            ),
            Column(
                "listed_zh",
                "string",
                "Items the text names for the count, separated by ';' (may be partial: 等).",
                nullable=True,
            ),
            *_provenance(),
        ),
        key=("province_zh", "item"),
    ),
    Table(
        "amoled_indicators",
        "AMOLED and new-display industry indicators",
        "Size, investment, capacity, ranking and localisation of China's new-display and "
        "AMOLED industry, as stated in the AMOLED article.",
        _indicator_columns("the world, China, mainland China, a production line") + _provenance(),
        key=("indicator",),
    ),
    Table(
        "amoled_equipment_concentration",
        "Market concentration of AMOLED equipment",
        "Share of the top suppliers of each kind of AMOLED production equipment; "
        "a respectively-list (A、B、C等设备…分别为x%、y%和z%) gives one row per equipment.",
        (
            Column("equipment_zh", "string", "Kind of equipment."),
            Column("equipment_en", "string", "English name (glossary.csv)."),
            Column(
                "top_firms", "integer", "Number of leading firms the share refers to.", minimum=1
            ),
            Column(
                "share_pct",
                "number",
                "Combined market share of those firms; empty where the text gives words "
                "instead of a figure (独占: held exclusively).",
                unit="percent",
                nullable=True,
                minimum=0,
                maximum=100,
            ),
            Column(
                "share_qualifier",
                "string",
                "Qualifier of the share.",
                nullable=True,
                enum=QUALIFIERS,
            ),
            Column("concentration_zh", "string", "How the text states the concentration."),
            Column(
                "scope_zh", "string", "Market the share refers to (全球), if stated.", nullable=True
            ),
            Column("firms_zh", "string", "Firms named, separated by ';'.", nullable=True),
            Column(
                "firms_en", "string", "English names of the firms, separated by ';'.", nullable=True
            ),
            *_provenance(),
        ),
        key=("equipment_zh",),
    ),
    Table(
        "display_companies",
        "Companies named in the AMOLED article",
        "Panel makers, device makers and equipment makers the AMOLED article names.",
        (
            Column("company_zh", "string", "Company, as the text names it."),
            Column("company_en", "string", "English name (glossary.csv)."),
            Column(
                "role",
                "string",
                "Role in the industry chain.",
                enum=("panel_maker", "device_maker", "equipment_maker"),
            ),
            *_provenance(),
        ),
        key=("company_zh",),
    ),
    Table(
        "amoled_line_materials",
        "Material categories of a flexible AMOLED line",
        "The material categories the text lists for one flexible AMOLED production line.",
        (
            Column("position", "integer", "Order in the text's list.", minimum=1),
            Column("material_zh", "string", "Material category."),
            Column("material_en", "string", "English name (glossary.csv)."),
            Column(
                "line_generation",
                "integer",
                "Generation of the production line (N代).",
                unit="generation",
                minimum=1,
            ),
            *_provenance(),
        ),
        key=("material_zh",),
    ),
    Table(
        "amoled_technology_breakthroughs",
        "AMOLED technology breakthroughs and new screen forms",
        "Technologies in which research made breakthroughs, and the screen forms companies "
        "launched, as listed in the AMOLED article.",
        (
            Column("technology_zh", "string", "Technology or screen form."),
            Column("technology_en", "string", "English name (glossary.csv)."),
            Column(
                "kind",
                "string",
                "technology (研发取得突破) or screen_form (推出).",
                enum=("technology", "screen_form"),
            ),
            *_provenance(),
        ),
        key=("technology_zh",),
    ),
    Table(
        "cluster_policy_toolbox",
        "The cluster-policy toolbox",
        "The measures of the 'toolbox' for cultivating advanced-manufacturing clusters, "
        "one per paragraph heading sentence.",
        (
            Column("position", "integer", "Order in the text.", minimum=1),
            Column("measure_zh", "string", "The measure, as its paragraph states it."),
            Column("measure_en", "string", "English rendering (glossary.csv)."),
            *_provenance(),
        ),
        key=("measure_zh",),
    ),
    Table(
        "amoled_requirements",
        "Requirements for the AMOLED ecosystem in the coming Five-Year Plan period",
        "The requirements (“要求”) the AMOLED article sets out, numbered as in the text.",
        (
            Column("number", "integer", "Number of the requirement (一是, 二是...).", minimum=1),
            Column("requirement_zh", "string", "The requirement, in the text's words."),
            Column("requirement_en", "string", "English rendering (glossary.csv)."),
            *_provenance(),
        ),
        key=("number",),
    ),
    Table(
        "amoled_supply_chain_events",
        "Supply-chain events cited in the AMOLED article",
        "Events the AMOLED article cites to show the risk of single-source materials.",
        (
            Column("year", "year", "Year of the event."),
            Column("event_zh", "string", "The event."),
            Column("event_en", "string", "English name (glossary.csv)."),
            Column("product_zh", "string", "Product concerned."),
            Column("product_en", "string", "English name (glossary.csv)."),
            *_provenance(),
        ),
        key=("year", "event_zh"),
    ),
)

CHECKS_TABLE = Table(
    "consistency_checks",
    "Cross-checks of the document's own arithmetic",
    "Each check re-derives a figure the document states from other figures it states; "
    "`expected` is the stated figure, `computed` the re-derived one.",
    (
        Column("check", "string", "Identifier of the check."),
        Column("description", "string", "What is compared."),
        Column("expected", "number", "The figure the document states."),
        Column("computed", "number", "The figure re-derived from other statements."),
        Column("result", "string", "pass or fail.", enum=("pass", "fail")),
        Column(
            "sentence_id_a", "string", "Sentence of the stated figure.", pattern=SENTENCE_ID_PATTERN
        ),
        Column("quote_a", "string", "Words stating the figure."),
        Column(
            "sentence_id_b",
            "string",
            "Sentence(s) of the figures it is derived from.",
            pattern=rf"^{SENTENCE_ID}(;{SENTENCE_ID})*$",
        ),
        Column("quote_b", "string", "Words stating those figures (' … ' between sentences)."),
    ),
    key=("check",),
    topic=False,
)

MENTIONS_TABLE = Table(
    "numeric_mentions",
    "Every numeric mention in the corpus",
    "Each number in the clean corpus with its normalised value, unit and qualifier, and "
    "whether a fact table uses it or a reviewed rule classifies it as not a fact.",
    (
        Column("mention_id", "string", "Sentence id and the mention's number in it."),
        Column("sentence_id", "string", "Sentence of the mention.", pattern=SENTENCE_ID_PATTERN),
        Column(
            "start",
            "integer",
            "Start of the mention in the clean sentence (characters).",
            minimum=0,
        ),
        Column("end", "integer", "End of the mention (exclusive).", minimum=1),
        Column("text", "string", "The mention as written."),
        Column(
            "kind",
            "string",
            "percent, percentage_point, amount, count, fraction, date, year, period, rank, "
            "ordinal, label...",
        ),
        Column("value", "number", "Normalised value (amounts in 亿元).", nullable=True),
        Column("value_high", "number", "Upper end of a range.", nullable=True),
        Column(
            "value_text",
            "string",
            "Normalised value as text (YYYY-MM for a date, the label as quoted).",
        ),
        Column("unit", "string", "percent, 100m_yuan, count, year, year_month, rank..."),
        Column(
            "measure_word", "string", "Measure word or currency after the number.", nullable=True
        ),
        Column(
            "qualifier", "string", "equal, more_than, less_than, approximately...", enum=QUALIFIERS
        ),
        Column(
            "qualifier_word", "string", "The word that qualifies it (超过, 不足...).", nullable=True
        ),
        Column(
            "distributive",
            "string",
            "respectively (分别) or each (各), if so.",
            nullable=True,
            enum=("respectively", "each"),
        ),
        Column(
            "list_id", "string", "Mention id of the head of the list it belongs to.", nullable=True
        ),
        Column(
            "script",
            "string",
            "arabic, chinese or mixed numerals.",
            enum=("arabic", "chinese", "mixed"),
        ),
        Column("role", "string", "Role of the paragraph (body, lede, pull_quote...)."),
        Column(
            "status",
            "string",
            "used (by a table), not_a_fact, or unclassified.",
            enum=("used", "not_a_fact", "unclassified"),
        ),
        Column("used_by", "string", "Tables that use it, separated by ';'.", nullable=True),
        Column("rule", "string", "Review rule that classifies it as not a fact.", nullable=True),
        Column("reason", "string", "Why it is not a fact.", nullable=True),
    ),
    key=("mention_id",),
    topic=False,
)

SENTENCES_TABLE = Table(
    "cited_sentences",
    "Sentences the fact tables cite",
    "Every sentence a fact table or check cites, with its article and section, so that each "
    "row can be turned into a citation.",
    (
        Column("sentence_id", "string", "Sentence id.", pattern=SENTENCE_ID_PATTERN),
        Column("article_id", "string", "Article id (a and its number in the source)."),
        Column("article_title", "string", "Title of the article."),
        Column("institute", "string", "Institute of the authors (赛迪智库...)."),
        Column("authors", "string", "Authors, separated by ';'.", nullable=True),
        Column("section", "string", "Section path, headings joined by ' > '.", nullable=True),
        Column("paragraph_id", "string", "Paragraph id."),
        Column("text", "string", "Clean text of the sentence."),
    ),
    key=("sentence_id",),
    topic=False,
)

QUANTITIES_TABLE = Table(
    "quantities",
    "Every quantity of the body text",
    "Each quantity stated in a body or lede sentence, read by the grammar of Chinese "
    "quantities (data/raw/mention_rules.toml) before any topic rule: its value in its own "
    "unit, the magnitude word, the qualifier, the words that gave them and the phrase it "
    "measures (a heuristic, see analysis/facts/quantities.py). Names that look numeric "
    "(“十四五”, 十九届五中全会, quoted system labels) are not quantities.",
    (
        Column("quantity_id", "string", "Id of the numeric mention (numeric_mentions.csv)."),
        Column("article_id", "string", "Article of the sentence."),
        Column("sentence_id", "string", "Sentence of the quantity.", pattern=SENTENCE_ID_PATTERN),
        Column("start", "integer", "Start of the mention in the sentence (characters).", minimum=0),
        Column("end", "integer", "End of the mention (exclusive).", minimum=1),
        Column("text", "string", "The mention as written (number, magnitude, unit word)."),
        Column(
            "kind",
            "string",
            "count, amount, percent, percentage_point, fraction, multiple, duration, year, "
            "date, period, rank, ordinal, top_n, generation, anniversary, number, unparsed.",
        ),
        Column(
            "value",
            "number",
            "The value in `unit`: amounts in the currency itself (五百亿元 is fifty billion "
            "yuan), counts with their magnitude (一千二百万台 is twelve million 台), 三成 is "
            "thirty percent.",
            nullable=True,
        ),
        Column("value_high", "number", "Upper end of a range, in `unit`.", nullable=True),
        Column(
            "value_text",
            "string",
            "The value as text: YYYY-MM for a date, YYYY-Hn / YYYY-Qn / YYYY-end for a period, "
            "n/d for a fraction.",
        ),
        Column(
            "unit",
            "string",
            "Unit of `value`: the measure word of a count (家, 台, 个...), yuan / usd / eur, "
            "percent, percentage_point, fraction, times, year, month, day, year_month, period, "
            "rank, ordinal, number.",
        ),
        Column(
            "magnitude",
            "string",
            "Magnitude word that scales the number (万, 亿, 万亿).",
            nullable=True,
        ),
        Column(
            "qualifier",
            "string",
            "equal, more_than (超过/突破/多/余), less_than (不足), "
            "approximately (约/近/左右/上下), at_least (至少/以上), at_most (最多/以下/以内), "
            "order_of_magnitude (数十/上百), range, as_of (截至). 以上/以下/以内 include "
            "the number itself, as the Civil Code reads them.",
            enum=QUALIFIERS,
        ),
        Column("qualifier_word", "string", "The word that gave the qualifier.", nullable=True),
        Column(
            "number_words",
            "string",
            "The numeral(s) as written, ';' between the ends of a range.",
            nullable=True,
        ),
        Column(
            "unit_word",
            "string",
            "The word that gave the unit (台, 元, 个百分点, 成).",
            nullable=True,
        ),
        Column(
            "phrase",
            "string",
            "The phrase the quantity measures, as far as the sentence shows (heuristic).",
            nullable=True,
        ),
        Column("quote", "string", "The clause of the sentence that states the quantity."),
        Column(
            "not_a_fact",
            "string",
            "Reviewed rule (mention_rules.toml) that says the mention is not a figure of the "
            "study: a slogan, a time horizon, an indefinite article...",
            nullable=True,
        ),
    ),
    key=("quantity_id",),
    topic=False,
)

ALL_TABLES: tuple[Table, ...] = (
    *TABLES,
    CHECKS_TABLE,
    MENTIONS_TABLE,
    SENTENCES_TABLE,
    QUANTITIES_TABLE,
)
BY_NAME: dict[str, Table] = {t.name: t for t in ALL_TABLES}
