"""Narrative from data: sentences, numbers, names, captions and source notes in Chinese or English.

Every sentence a report prints is a Jinja2 template in `templates/narrative_<lang>.toml`, filled
with values read from the fact tables; no figure is typed into a template or a notebook. This
module holds the pieces the templates and notebooks share:

- number formatting per language (`format_value` and friends): 44个 / 44, 93.5%, 4000亿元 /
  RMB 400 billion, 1.2万亿元 / RMB 1.2 trillion, 超过 / more than;
- names per language: provinces through `analysis.provinces`, other terms through the reviewed
  glossary (`data/raw/glossary.csv`);
- provenance: `citation()` turns a row's `sentence_id` into article, section and quote, and
  `source_caption()` writes the "Source: …" line every chart and table carries;
- `Fact`, a value with its unit, qualifier and quote; the `key` filter prints it in bold with a
  numbered note that quotes the source sentence;
- display helpers for notebooks (`show`, `show_heading`, `show_table`, `show_markdown`), which
  publish HTML together with a plain-text form so that executed notebooks compare as text.

pandas and IPython are imported inside functions; jinja2 is cheap and needed throughout.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from .errors import AnalysisError, InputError
from .facts.tables import QUALIFIERS
from .paths import relative

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.build.zygote.warm_up`), while `import analysis.narrative` itself stays cheap.
WARM_IMPORTS = (
    "IPython.display",
    "matplotlib_inline.backend_inline",
    "mistune",
    "cn2an",
    "analysis.provinces",
    "analysis.style",
    "analysis.facts.glossary",
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

LANGS: tuple[str, ...] = ("zh", "en")
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# The HTML `lang` of each report language: zh-CN makes browsers and WeasyPrint pick the
# Simplified Chinese forms of Noto Sans CJK rather than the Japanese ones.
HTML_LANG = {"zh": "zh-CN", "en": "en"}


class UnknownLanguageError(AnalysisError, ValueError):
    """A report language other than the ones the templates exist for."""


def check_lang(lang: object) -> str:
    """Return `lang` if it is a report language, else raise naming the valid values."""
    if isinstance(lang, str) and lang in LANGS:
        return lang
    raise UnknownLanguageError(
        f"Unknown report language {lang!r}: the reports exist in {', '.join(LANGS)} "
        f"(zh = Simplified Chinese, en = English). Pass lang='zh' or lang='en'."
    )


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

_EN_ORDINALS = (
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
)
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _decimal(value: float | int | Decimal, digits: int) -> Decimal:
    """`value` rounded to `digits` decimals, trailing zeros removed, never in exponent form."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot format the non-finite number {value!r}")
    dec = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits)).normalize()
    if dec == dec.to_integral():
        dec = dec.quantize(Decimal(1))
    return dec


def format_number(value: float | int, lang: str, digits: int = 2) -> str:
    """A plain number: at most `digits` decimals, no trailing zeros; English groups thousands.

    Chinese text writes 4000 and 12000 without separators (the source does too); English writes
    4,000.
    """
    check_lang(lang)
    dec = _decimal(value, digits)
    if lang == "en":
        return f"{dec:,f}"
    return f"{dec:f}"


def format_percent(value: float | int, lang: str) -> str:
    """93.5 → "93.5%" (both languages: the percent sign is the same)."""
    return f"{format_number(value, lang, digits=1)}%"


def format_amount(value_100m_yuan: float | int, lang: str) -> str:
    """An amount of money given in 亿元 (100 million yuan), in the words each language uses.

    zh: 210亿元, 4000亿元, 1.2万亿元 (from 10000亿元 up); en: RMB 21 billion, RMB 400 billion,
    RMB 1.2 trillion (1亿元 = RMB 0.1 billion; below RMB 1 billion in millions).
    """
    check_lang(lang)
    v = Decimal(str(value_100m_yuan))
    if lang == "zh":
        if abs(v) >= 10000:
            return f"{format_number(v / 10000, lang)}万亿元"
        return f"{format_number(v, lang)}亿元"
    yuan = v * Decimal(100_000_000)
    for size, word in ((Decimal(10) ** 12, "trillion"), (Decimal(10) ** 9, "billion")):
        if abs(yuan) >= size:
            return f"RMB {format_number(yuan / size, lang)} {word}"
    return f"RMB {format_number(yuan / Decimal(10) ** 6, lang)} million"


def format_count(value: float | int, lang: str, measure: str = "") -> str:
    """A count: zh adds the measure word (44个, 13条); en prints the number alone (44)."""
    text = format_number(value, lang)
    return f"{text}{measure}" if lang == "zh" else text


def format_rank(rank: int, lang: str) -> str:
    """An ordinal rank: zh 第二, en second (words up to tenth, then 11th, 12th...)."""
    check_lang(lang)
    rank = int(rank)
    if rank < 1:
        raise ValueError(f"a rank starts at 1, not {rank}")
    if lang == "zh":
        import cn2an

        return f"第{cn2an.an2cn(rank)}"
    if rank < len(_EN_ORDINALS):
        return _EN_ORDINALS[rank]
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def format_month(period: str, lang: str) -> str:
    """A period "2019-08" → 2019年8月 / August 2019; "2020" → 2020年 / 2020."""
    check_lang(lang)
    match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", str(period).strip())
    if not match:
        raise ValueError(f"period {period!r} is neither YYYY nor YYYY-MM")
    year, month = match.group(1), match.group(2)
    if month is None:
        return f"{year}年" if lang == "zh" else year
    m = int(month)
    if not 1 <= m <= 12:
        raise ValueError(f"period {period!r} has no month {m}")
    return f"{year}年{m}月" if lang == "zh" else f"{_EN_MONTHS[m - 1]} {year}"


_QUALIFY = {
    "zh": {
        "equal": "{}",
        "more_than": "超过{}",
        "less_than": "不足{}",
        "approximately": "约{}",
        "at_least": "至少{}",
        "at_most": "至多{}",
        "range": "{}",
    },
    "en": {
        "equal": "{}",
        "more_than": "more than {}",
        "less_than": "less than {}",
        "approximately": "about {}",
        "at_least": "at least {}",
        "at_most": "at most {}",
        "range": "{}",
    },
}


def qualify(text: str, qualifier: str | None, lang: str) -> str:
    """Wrap a formatted value in the words of its qualifier (超过 / more than, 不足 / less than)."""
    check_lang(lang)
    qualifier = qualifier or "equal"
    if qualifier not in QUALIFIERS:
        raise ValueError(f"unknown qualifier {qualifier!r}; valid: {', '.join(QUALIFIERS)}")
    if qualifier == "order_of_magnitude":
        raise ValueError("order_of_magnitude values are written with format_value")
    return _QUALIFY[lang][qualifier].format(text)


def _magnitude(value: float, lang: str, measure: str) -> str:
    """数十个 / dozens of; 上百种 / about a hundred: the text's vague orders of magnitude."""
    exponent = round(math.log10(value)) if value > 0 else 0
    if lang == "zh":
        words = {1: "数十", 2: "上百", 3: "上千", 4: "上万"}
        return f"{words.get(exponent, format_number(value, lang))}{measure}"
    words_en = {1: "dozens of", 2: "about a hundred", 3: "about a thousand"}
    return words_en.get(exponent, f"about {format_number(value, lang)}")


def format_value(
    value: float | int,
    unit: str | None,
    lang: str,
    qualifier: str | None = "equal",
    measure: str = "",
) -> str:
    """Format a value of the fact tables by its unit (percent, 100m_yuan, rank, or a count)."""
    check_lang(lang)
    unit = (unit or "").strip()
    if qualifier == "order_of_magnitude":
        return _magnitude(float(value), lang, measure)
    if unit in ("percent", "pct", "%"):
        text = format_percent(value, lang)
    elif unit in ("100m_yuan", "亿元"):
        text = format_amount(value, lang)
    elif unit == "rank":
        text = format_rank(int(value), lang)
    else:
        text = format_count(value, lang, measure)
    return qualify(text, qualifier, lang)


def join_items(items: Iterable[str], lang: str, conjunction: str | None = None) -> str:
    """A list in running text: zh 江苏、广东和浙江; en Jiangsu, Guangdong and Zhejiang."""
    check_lang(lang)
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if lang == "zh":
        return "、".join(items[:-1]) + (conjunction or "和") + items[-1]
    word = conjunction or "and"
    if len(items) == 2:
        return f"{items[0]} {word} {items[1]}"
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def province_name(name: object, lang: str) -> str:
    """The name of a province in the report language (short Chinese name or English name)."""
    from .provinces import resolve

    check_lang(lang)
    unit = resolve(name)
    return unit.short_zh if lang == "zh" else unit.name_en


def english(zh: str) -> str:
    """The English label of a Chinese term from the reviewed glossary (InputError if missing)."""
    from .facts.glossary import load_glossary

    return load_glossary().english(str(zh).strip())


def label(zh: str, lang: str, en: str | None = None) -> str:
    """`zh` itself in Chinese; in English `en` when given, else the glossary's label."""
    check_lang(lang)
    if lang == "zh":
        return str(zh)
    if en is not None and str(en).strip() and str(en) != "nan":
        return str(en)
    return english(zh)


def indicator_label(row: Mapping[str, Any], lang: str) -> str:
    """What an indicator row measures, in words that stand alone (reviewed, per language).

    The text's own words (`label_zh`, e.g. 整体产值) rely on their sentence; the reports name
    the indicator in full. Rows of indicators the templates do not know keep the text's words.
    """
    words = templates(lang)["labels"].get("indicators", {})
    return words.get(str(row.get("indicator"))) or row_label(row, "label", lang)


def row_label(row: Mapping[str, Any], base: str, lang: str) -> str:
    """The label of `row` in `lang` from its `<base>_zh` and `<base>_en` columns."""
    check_lang(lang)
    zh = row[f"{base}_zh"]
    return label(zh, lang, row.get(f"{base}_en"))


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    """Where a value comes from: article, section and the sentence that states it."""

    sentence_id: str
    article_id: str  # what groups citations by article (the article's title)
    article_title: str
    institute: str
    section: str
    sentence: str
    quote: str = ""


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and pd.NA-like values
    except (TypeError, ValueError):  # pragma: no cover - pd.NA raises on bool()
        return True


def citation(source: Mapping[str, Any] | str) -> Citation:
    """The citation of a table row (its `sentence_id` and `quote`) or of a sentence id.

    The facts layer's `cite()` supplies article, institute, section and sentence.
    """
    from . import cite

    if isinstance(source, str):
        sentence_id, quote = source, ""
    else:
        sentence_id = str(source["sentence_id"])
        quote = "" if _missing(source.get("quote")) else str(source.get("quote"))
    try:
        found = _cite(cite, sentence_id)
    except KeyError:
        raise InputError(
            f"Sentence {sentence_id!r} is not in the cited_sentences table of data/processed/. "
            "The fact tables and the reports are out of step: run `make data` and build again."
        ) from None
    return dataclasses.replace(found, quote=quote or found.sentence)


@functools.lru_cache(maxsize=512)
def _cite(cite: Any, sentence_id: str) -> Citation:
    c = cite({"sentence_id": sentence_id, "quote": ""})
    return Citation(
        sentence_id=sentence_id,
        article_id=c.article_title,
        article_title=c.article_title,
        institute=c.institute,
        section=c.section,
        sentence=c.sentence,
    )


def _section_label(section: str, lang: str) -> str:
    """The last heading of a section path, translated through the glossary when it has one."""
    parts = [p.strip() for p in section.split(">") if p.strip()]
    if not parts:
        return ""
    heading = parts[-1]
    if lang == "en":
        translated = glossary_label(heading)
        if translated:
            return f"“{heading}” ({translated})"
    return f"“{heading}”"


def glossary_label(zh: str) -> str | None:
    """The glossary's English label of `zh`, or None when the glossary has none."""
    from .facts.glossary import load_glossary

    try:
        return load_glossary().en.get(zh)
    except InputError:
        return None


def _article_label(cite: Citation, lang: str) -> str:
    title = f"《{cite.article_title}》"
    if lang == "en":
        translated = glossary_label(cite.article_title)
        if translated:
            title = f"{title} (“{translated}”)"
    return title


def report_citation(article_ids: Sequence[str], lang: str) -> str:
    """The "Source: …" line of a whole report: institute, authors and title of each article.

    From the origin records (data/raw/sources.toml, through the corpus) and, in English, the
    glossary; `reports.toml` asks for it with `source = { articles = ["a1"] }`.
    """
    from .corpus import load_corpus

    check_lang(lang)
    t = templates(lang)["common"]
    articles = {a.id: a for a in load_corpus().articles}
    parts = []
    for article_id in article_ids:
        article = articles.get(article_id)
        if article is None:
            raise InputError(
                f"unknown article {article_id!r}; the articles of the source are "
                f"{', '.join(articles)} (data/raw/sources.toml)."
            )
        *first, last = article.authors or ("",)
        names = f"{t['authors_sep'].join(first)}{t['authors_last']}{last}" if first else last
        cite = Citation(
            sentence_id="",
            article_id=article.id,
            article_title=article.title,
            institute=article.institute,
            section="",
            sentence="",
        )
        parts.append(
            t["citation_article"].format(
                institute=_institute(cite, lang), authors=names, article=_article_label(cite, lang)
            )
        )
    if not parts:
        raise InputError("a report citation needs at least one article id.")
    return t["citation_prefix"] + t["citation_join"].join(parts) + t["citation_end"]


def source_caption(rows: Iterable[Mapping[str, Any] | str] | Any, lang: str) -> str:
    """The "Source: …" line of a chart or table: article title and section(s) of its rows.

    `rows` are table rows (mappings with `sentence_id`), a DataFrame, or sentence ids. Rows from
    several sections of one article name each section once, in the order they first appear.
    """
    check_lang(lang)
    t = templates(lang)["common"]
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict("records")
    by_article: dict[str, tuple[Citation, list[str]]] = {}
    for row in rows:
        cite = citation(row)
        entry = by_article.setdefault(cite.article_id, (cite, []))
        label_ = _section_label(cite.section, lang)
        if label_ and label_ not in entry[1]:
            entry[1].append(label_)
    if not by_article:
        raise ValueError("source_caption: no rows to cite")
    parts = []
    for cite, sections in by_article.values():
        many = len(sections) > 1 and "caption_sections_many" in t
        pattern = t["caption_sections_many"] if many else t["caption_sections"]
        where = pattern.format(sections=t["list_sep"].join(sections))
        parts.append(
            t["caption_article"].format(
                institute=_institute(cite, lang),
                article=_article_label(cite, lang),
                sections=where if sections else "",
            )
        )
    return t["caption_prefix"] + t["caption_join"].join(parts) + t["caption_end"]


def _institute(cite: Citation, lang: str) -> str:
    if lang == "zh":
        return cite.institute
    return glossary_label(cite.institute) or templates("en")["common"]["publisher"]


# --------------------------------------------------------------------------------------------
# Facts and templates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """A value as the source states it, with its unit, qualifier and the words that state it."""

    value: float | int
    unit: str = ""
    qualifier: str = "equal"
    measure: str = ""
    sentence_id: str | None = None
    quote: str | None = None

    @classmethod
    def from_row(
        cls,
        row: Mapping[str, Any],
        value: str = "value",
        unit: str | None = None,
        measure: str = "",
        qualifier: str | None = None,
    ) -> Fact:
        """A Fact from a table row: `value` names the column; unit/qualifier from the row."""
        raw = row[value]
        if _missing(raw):
            raise ValueError(f"the row has no value in column {value!r}: {dict(row)}")
        unit_ = unit if unit is not None else str(row.get("unit") or "")
        qual = qualifier if qualifier is not None else row.get("qualifier")
        return cls(
            value=_number(raw),
            unit=unit_,
            qualifier="equal" if _missing(qual) or not qual else str(qual),
            measure=measure,
            sentence_id=None if _missing(row.get("sentence_id")) else str(row["sentence_id"]),
            quote=None if _missing(row.get("quote")) else str(row["quote"]),
        )

    def format(self, lang: str, bare: bool = False) -> str:
        """The value in `lang` with its unit; `bare` leaves out the qualifier words."""
        return format_value(
            self.value, self.unit, lang, "equal" if bare else self.qualifier, self.measure
        )


def _number(raw: Any) -> float | int:
    value = float(raw)
    return int(value) if value.is_integer() else value


@dataclass
class Note:
    """A numbered note under a rendered block: the sentence a key number comes from."""

    number: int
    citation: Citation


@dataclass
class Rendered:
    """A rendered template: HTML, its plain-text form and the notes it refers to."""

    html: str
    text: str
    notes: list[Note] = field(default_factory=list)

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks call show() instead
        return self.html


@functools.cache
def templates(lang: str) -> dict[str, Any]:
    """The template table of one language (templates/narrative_<lang>.toml)."""
    check_lang(lang)
    path = TEMPLATES_DIR / f"narrative_{lang}.toml"
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{relative(path)} is missing; restore it from git.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{relative(path)}: {exc}. Fix the TOML syntax and run again.") from None


def template_text(key: str, lang: str) -> str:
    """The raw template at dotted `key` ("cluster_policy.summary") in `lang`."""
    node: Any = templates(lang)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            path = relative(TEMPLATES_DIR / f"narrative_{lang}.toml")
            raise KeyError(f"{path} has no template {key!r} (missing part {part!r})")
        node = node[part]
    if not isinstance(node, str):
        raise KeyError(f"template {key!r} in {lang} is a table, not a string")
    return node


def _lang_of(ctx: Any) -> str:
    return str(ctx["lang"])


def _as_fact(value: Any, measure: str = "") -> Fact:
    fact = value if isinstance(value, Fact) else Fact(value=_number(value))
    return dataclasses.replace(fact, measure=measure) if measure else fact


@jinja2.pass_context
def _f_num(ctx: Any, value: Any, measure: str = "") -> Markup:
    """`{{ fact | num("个") }}`: the value with unit and qualifier words."""
    return escape(_as_fact(value, measure).format(_lang_of(ctx)))


@jinja2.pass_context
def _f_bare(ctx: Any, value: Any, measure: str = "") -> Markup:
    """`{{ fact | bare }}`: the value with its unit, without the qualifier words."""
    return escape(_as_fact(value, measure).format(_lang_of(ctx), bare=True))


@jinja2.pass_context
def _f_key(ctx: Any, value: Any, measure: str = "") -> Markup:
    """`{{ fact | key("家") }}`: a key number in bold with a note quoting its sentence."""
    fact = _as_fact(value, measure)
    text = escape(fact.format(_lang_of(ctx)))
    if fact.sentence_id is None:
        return Markup(f'<strong class="an-key">{text}</strong>')
    notes: NoteBook = ctx["_notes"]
    number = notes.add(fact.sentence_id, fact.quote or "")
    return Markup(
        f'<strong class="an-key">{text}</strong><sup class="an-ref">'
        f'<a href="#{notes.anchor(number)}">{number}</a></sup>'
    )


@jinja2.pass_context
def _f_count(ctx: Any, value: Any, measure: str = "") -> Markup:
    return escape(format_count(_as_fact(value).value, _lang_of(ctx), measure))


@jinja2.pass_context
def _f_pct(ctx: Any, value: Any) -> Markup:
    return escape(format_percent(_as_fact(value).value, _lang_of(ctx)))


@jinja2.pass_context
def _f_amount(ctx: Any, value: Any) -> Markup:
    return escape(format_amount(_as_fact(value).value, _lang_of(ctx)))


@jinja2.pass_context
def _f_rank(ctx: Any, value: Any) -> Markup:
    return escape(format_rank(int(_as_fact(value).value), _lang_of(ctx)))


@jinja2.pass_context
def _f_month(ctx: Any, value: Any) -> Markup:
    return escape(format_month(str(value), _lang_of(ctx)))


@jinja2.pass_context
def _f_province(ctx: Any, value: Any) -> Markup:
    return escape(province_name(value, _lang_of(ctx)))


@jinja2.pass_context
def _f_term(ctx: Any, value: Any, en: Any = None) -> Markup:
    """`{{ "产业集群" | term }}`: the term itself in Chinese, its glossary label in English."""
    return escape(label(str(value), _lang_of(ctx), None if en is None else str(en)))


@jinja2.pass_context
def _f_label(ctx: Any, row: Mapping[str, Any], base: str) -> Markup:
    """`{{ row | label("industry") }}`: the row's `industry_zh` or `industry_en`."""
    return escape(row_label(row, base, _lang_of(ctx)))


@jinja2.pass_context
def _f_items(ctx: Any, values: Iterable[Any], conjunction: str | None = None) -> Markup:
    """`{{ names | items }}`: a list in running text (江苏、广东和浙江 / A, B and C)."""
    parts = [str(escape(v)) for v in values]
    conj = None if conjunction is None else str(escape(conjunction))
    return Markup(join_items(parts, _lang_of(ctx), conj))


@jinja2.pass_context
def _f_quote(ctx: Any, text: Any) -> Markup:
    """`{{ row.quote | quote }}`: source words in the quotation marks of the report language."""
    return escape(f"“{text}”")


@jinja2.pass_context
def _f_plural(ctx: Any, word: str, n: Any) -> str:
    """`{{ "province" | plural(n) }}`: the English plural when n is not one (zh: unchanged)."""
    if _lang_of(ctx) != "en" or _as_fact(n).value == 1:
        return word
    return f"{word[:-1]}ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else f"{word}s"


@dataclass
class NoteBook:
    """The numbered source notes of one rendered block (one sentence, one number)."""

    prefix: str
    start: int = 1
    notes: list[Note] = field(default_factory=list)

    def add(self, sentence_id: str, quote: str) -> int:
        """Register the sentence of a key number and return its note number."""
        for note in self.notes:
            if note.citation.sentence_id == sentence_id:
                return note.number
        cite = citation({"sentence_id": sentence_id, "quote": quote})
        number = self.start + len(self.notes)
        self.notes.append(Note(number, cite))
        return number

    def anchor(self, number: int) -> str:
        """The HTML id of note `number`."""
        return f"{self.prefix}-n{number}"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=_f_num,
        bare=_f_bare,
        key=_f_key,
        count=_f_count,
        pct=_f_pct,
        amount=_f_amount,
        rank=_f_rank,
        month=_f_month,
        province=_f_province,
        term=_f_term,
        label=_f_label,
        items=_f_items,
        quote=_f_quote,
        plural=_f_plural,
    )
    return env


def render_inline(key: str, lang: str, **context: Any) -> str:
    """Render a one-line template (a title, an axis label) to plain text."""
    check_lang(lang)
    source = template_text(key, lang)
    notes = NoteBook(prefix=_slug(key))
    markup = _environment().from_string(source).render(lang=lang, _notes=notes, **context)
    return _html_to_text(markup).strip()


def render(key: str, lang: str, *, note_start: int = 1, **context: Any) -> Rendered:
    """Render the block template at `key` to HTML paragraphs (and lists) with source notes.

    Blank lines separate paragraphs; a paragraph whose lines all start with "- " becomes a
    bulleted list, "1. " a numbered one. Values are escaped; filters format numbers and names.
    """
    check_lang(lang)
    source = template_text(key, lang)
    notes = NoteBook(prefix=_slug(key), start=note_start)
    context.setdefault("labels", templates(lang)["labels"])
    try:
        markup = _environment().from_string(source).render(lang=lang, _notes=notes, **context)
    except jinja2.UndefinedError as exc:
        raise KeyError(f"template {key!r} ({lang}) needs a value it was not given: {exc}") from None
    body = _blocks_to_html(markup)
    html_ = body + notes_html(notes, lang)
    return Rendered(html=html_, text=_html_to_text(html_), notes=notes.notes)


def _slug(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


_LIST_ITEM = re.compile(r"^(?:- |\d+\. )")


def _blocks_to_html(markup: str) -> str:
    out = []
    for block in re.split(r"\n\s*\n", markup.strip()):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        # Runs of list lines become a list; runs of other lines become one paragraph.
        run: list[str] = []
        run_is_list = False
        for line in [*lines, None]:
            is_list = line is not None and bool(_LIST_ITEM.match(line))
            if run and (line is None or is_list != run_is_list):
                out.append(_run_html(run, run_is_list))
                run = []
            if line is not None:
                run.append(line)
                run_is_list = is_list
    return "\n".join(out)


def _run_html(lines: list[str], is_list: bool) -> str:
    if is_list:
        tag = "ul" if lines[0].startswith("- ") else "ol"
        items = "".join(f"<li>{_LIST_ITEM.sub('', line, count=1)}</li>" for line in lines)
        return f"<{tag}>{items}</{tag}>"
    return f"<p>{''.join(lines) if _is_cjk(lines) else ' '.join(lines)}</p>"


def _is_cjk(lines: Sequence[str]) -> bool:
    # Chinese text joins wrapped template lines without a space.
    return any("\u4e00" <= ch <= "\u9fff" for ch in lines[0][-1:] + lines[-1][:1])


def notes_html(notes: NoteBook, lang: str) -> str:
    """The source notes of a block as an ordered list quoting each sentence."""
    if not notes.notes:
        return ""
    t = templates(lang)["common"]
    items = []
    for note in notes.notes:
        cite = note.citation
        where = t["note_where"].format(
            article=escape(_article_label(cite, lang)),
            section=escape(_section_label(cite.section, lang)),
        )
        items.append(
            f'<li id="{notes.anchor(note.number)}" value="{note.number}">'
            f"{escape(t['note_lead'])}“{escape(cite.sentence)}”{where}</li>"
        )
    return f'\n<ol class="an-notes">{"".join(items)}</ol>'


# --------------------------------------------------------------------------------------------
# HTML helpers
# --------------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|li|h[1-6]|tr|caption|div|ol|ul|table|figcaption)>")


def _html_to_text(markup: str) -> str:
    """A plain-text form of our own HTML: blocks on lines, cells separated by tabs."""
    text = _BLOCK_END.sub("\n", str(markup))
    text = re.sub(r"</t[dh]>", "\t", text)
    text = re.sub(r"<sup[^>]*>.*?</sup>", lambda m: f"[{_TAG.sub('', m.group(0))}]", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    lines = [line.rstrip("\t ").strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def heading_html(text: str, level: int = 2, anchor: str | None = None) -> str:
    """An HTML heading with an optional id."""
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{escape(text)}</h{level}>"


def caption_html(text: str) -> str:
    """The source line under a chart or table."""
    return f'<p class="an-source">{escape(text)}</p>'


def table_html(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    source: str | None = None,
    number_columns: Sequence[str] = (),
    css_class: str = "an-table",
) -> str:
    """A clean HTML table: header from the column names, no index, optional caption and source.

    Cells are escaped; `number_columns` are right-aligned. The DataFrame is printed as given,
    so format numbers (e.g. with `format_value`) before calling.
    """
    num = ' class="num"'
    head = "".join(
        f'<th scope="col"{num if c in number_columns else ""}>{escape(str(c))}</th>'
        for c in frame.columns
    )
    body_rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            shown = "" if _missing(value) else str(value)
            if column in number_columns:
                cls = ' class="num"'
            elif len(shown) <= 4 or (shown.isascii() and " " not in shown and len(shown) <= 16):
                # Short names (江苏) and ids (a1-p016) must not break into one-character lines.
                cls = ' class="nowrap"'
            else:
                cls = ""
            cells.append(f"<td{cls}>{escape(shown)}</td>")
        body_rows.append(f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    foot = caption_html(source) if source else ""
    return (
        f'<figure class="an-figure-table"><table class="{css_class}">{cap}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body_rows)}</tbody></table>"
        f"{foot}</figure>"
    )


def show_html(markup: str, text: str | None = None) -> None:
    """Display HTML in a notebook with a plain-text form (what nbval compares and tests read)."""
    from IPython import get_ipython
    from IPython.display import display

    plain = _html_to_text(markup) if text is None else text
    if get_ipython() is None:  # a plain Python session: print what a reader would see
        print(plain)
        return
    display({"text/html": str(markup), "text/plain": plain}, raw=True)


def show_markdown(text: str) -> None:
    """Display Markdown (rendered to HTML here, so the export needs no Markdown step)."""
    import mistune

    show_html(mistune.html(text))


def show_heading(key: str, lang: str, level: int = 2, **context: Any) -> None:
    """Display the one-line template at `key` as a heading."""
    text = render_inline(key, lang, **context)
    show_html(heading_html(text, level, anchor=_slug(key)), text)


def show_table(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    source: str | None = None,
    number_columns: Sequence[str] = (),
) -> None:
    """Display a DataFrame as a clean HTML table with its caption and source line."""
    markup = table_html(frame, caption=caption, source=source, number_columns=number_columns)
    lines = [caption] if caption else []
    lines.append(frame.to_string(index=False))
    if source:
        lines.append(source)
    show_html(markup, "\n".join(lines))


# --------------------------------------------------------------------------------------------
# Notebook helpers
# --------------------------------------------------------------------------------------------

# Styles of the elements this module writes (notes, source lines, tables). The report page's
# own stylesheet (analysis.build.export) sets the font and the typography; these rules only
# add what it does not know about. No external resource is referenced.
REPORT_CSS = """
/* List bullets: • and ◦ are written here so that the font subset the report embeds, which
   holds the characters of the page, has them; otherwise the PDF falls back to DejaVu Sans. */
.an-subtitle { color: #5b6370; font-size: 1.1rem; margin: 0 0 1rem; }
.an-sources { color: #5b6370; font-size: .85rem; margin: 0 0 1.5rem; }
.an-sources ul { margin: .2rem 0 .4rem; padding-left: 1.2rem; }
.an-sources p { margin: .2rem 0; text-align: left; }
.an-notes { color: #5b6370; font-size: .78rem; line-height: 1.55; margin: .2rem 0 1.2rem;
  padding-left: 1.6rem; }
.an-notes li { margin: .15rem 0; text-align: left; }
.an-ref { font-size: .7em; line-height: 0; margin-left: .1em; }
.an-ref a { text-decoration: none; }
.an-source { color: #5b6370; font-size: .78rem; margin: .3rem 0 1.2rem; text-align: left; }
figure.an-figure-table { margin: 1rem 0 1.4rem; }
figure.an-figure-table table { width: 100%; margin: .3rem 0 0; }
table.an-table caption { caption-side: top; text-align: left; color: #1f2328;
  font-size: .9rem; padding: 0 0 .3rem; }
table.an-table td.num, table.an-table th.num { text-align: right; white-space: nowrap; }
table.an-table td.nowrap { white-space: nowrap; }
code { font-family: inherit; word-break: break-all; font-size: .85em; }
""".strip()


def setup_notebook(lang: str) -> None:
    """Check `lang`, apply the chart style and show inline figures as PNG (`figure_png`)."""
    check_lang(lang)
    from .style import use_style

    use_style()
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover - outside IPython the format does not matter
        return
    set_matplotlib_formats("png")  # PNG only, no SVG or PDF copy of each figure
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    # 200 dpi, the resolution of the PNG saved for slides: sharp at the page width of the HTML
    # and of the A4 PDF (the image is scaled to the text width), and a chart saved with
    # `save_figure` is shown with the bytes just written rather than drawn once more.
    shell.display_formatter.formatters["image/png"].for_type(Figure, _inline_png)


def _inline_png(fig: Any) -> str | None:
    """The base64 PNG of a figure for the notebook (None for an empty figure, as IPython)."""
    import base64

    from .style import figure_png

    if not fig.axes and not fig.lines:
        return None
    return base64.b64encode(figure_png(fig)).decode("ascii")


def title_html(report: str, lang: str, **context: Any) -> str:
    """The report's title (h1), subtitle and method note, with this module's styles.

    The build puts the h1 in the page's title block, under which it prints the citation of
    the source (reports.toml), so the articles are not listed again here.
    """
    check_lang(lang)
    title = render_inline(f"{report}.title", lang, **context)
    subtitle = render_inline(f"{report}.subtitle", lang, **context)
    method = escape(render_inline("title_block.method", lang))
    return (
        f"<style>{REPORT_CSS}</style>\n"
        f"{heading_html(title, 1)}\n"
        f'<p class="an-subtitle">{escape(subtitle)}</p>\n'
        f'<div class="an-sources"><p>{method}</p></div>'
    )


def show_title(report: str, lang: str, **context: Any) -> None:
    """Display the title of `report` (its h1 becomes the title block of the exported page)."""
    markup = title_html(report, lang, **context)
    show_html(markup, _html_to_text(markup.split("</style>", 1)[-1]))


def section_html(key: str, lang: str, variant: str | None = None, **context: Any) -> Rendered:
    """A section: its heading (`<key>.heading`) and text (`<key>.text` or `.text_<variant>`)."""
    heading = render_inline(f"{key}.heading", lang, **context)
    text_key = f"{key}.text_{variant}" if variant else f"{key}.text"
    body = render(text_key, lang, **context)
    markup = heading_html(heading, 2, anchor=_slug(key)) + "\n" + body.html
    return Rendered(html=markup, text=_html_to_text(markup), notes=body.notes)


def show_section(key: str, lang: str, variant: str | None = None, **context: Any) -> None:
    """Display a section (heading and text with its source notes)."""
    rendered = section_html(key, lang, variant, **context)
    show_html(rendered.html, rendered.text)


def show_text(key: str, lang: str, **context: Any) -> None:
    """Display the block template at `key` without a heading."""
    rendered = render(key, lang, **context)
    show_html(rendered.html, rendered.text)
