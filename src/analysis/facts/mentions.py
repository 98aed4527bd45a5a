"""Numeric mentions: every number in a sentence, with its normalised value, unit and qualifier.

The grammar is general and its words are data: the reviewed lexicon
`data/raw/mention_rules.toml` lists the measure words, magnitudes, currencies, qualifiers, the
forms of [lexicon.forms] (range separators, 个百分点, 成, 番, fraction words, periods), names
whose numerals are not numbers (珠三角, 一带一路, 5G) and compound names (十九大, 十四五).
One mention is one quantity: number, optional magnitude (万, 亿, 万亿), optional range, unit
or measure word, and the qualifier words around it — 超过1200万台 is 12,000,000 台, more than.

Forms read: Arabic (half- and full-width, decimals, thousands separators) and Chinese numerals
(两, 〇/零; parsed with cn2an, except pairs such as 三四 that cn2an reads as 34 and prose means
3-4); ranges (—, –, ~, 至, 到, 或: 3—5个, 500亿—800亿元, 5000万元到1亿元); fractions (2/3,
三分之一, 半数); tenths (三成 = 30 percent); multiples (2倍, 翻两番 = 4 times); percentages and
percentage points (个百分点, a unit of its own); bounds and approximations before, inside or
after the number (超过, 突破, 逾, 近, 约 / 多, 余, 几 / 以上, 以下, 左右, 上下) and indefinite
numbers (上百, 数十, 几十); dates, years and periods (2021年5月, 2021年上半年, 一季度, 截至 as
"as of"); labels and names (“十四五”, 十九届五中全会, “1+N”, “415”).

Kinds of mention: percent, percentage_point, amount, count, measure (吨, 千瓦), duration,
anniversary, generation, multiple, fraction, date (year and month, or a day), year, period,
month, rank (全球第一), ordinal (第一批), top_n (前三家), system labels and the compound names of
the lexicon (congress, plenum, plan_period, enumerator), and bare numbers. Each mention keeps
the magnitude word and the span of every word that gave it (`parts`); `quantities.py` turns
mentions into quantities in their own units.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..errors import InputError
from ..paths import RAW, relative
from .tables import QUALIFIERS

MENTION_RULES = RAW / "mention_rules.toml"

# Same-length stand-in for masked characters: matches no numeral, unit or qualifier.
_MASK = "\u25a1"
_RANGE_SEPARATORS = "~～至到\\-－—–"
# Arabic numbers, half- or full-width (\d matches both; ．is the full-width point), with
# thousands separators (1,200 and the full-width ，is not one: it is the Chinese comma).
_AR_NUMBER = r"\d{1,3}(?:,\d{3})+(?:[.．]\d+)?|\d+(?:[.．]\d+)?"
# Units of the normalised value, by kind (counts keep their measure word in `measure_word`).
_KIND_UNITS = {
    "percent": "percent",
    "count": "count",
    "measure": "measure",
    "top_n": "count",
    "anniversary": "year",
    "generation": "generation",
    "multiple": "times",
    "date": "year_month",
    "year": "year",
    "rank": "rank",
    "ordinal": "ordinal",
    "enumerator": "ordinal",
    "congress": "ordinal",
    "plenum": "ordinal",
    "plan_period": "ordinal",
    "label": "label",
    "number": "number",
    "fraction": "fraction",
    "percentage_point": "percentage_point",
    "period": "period",
    "month": "month_of_year",
    "unparsed": "",
}
_DURATION_UNITS = {"年": "year", "个月": "month", "月": "month", "天": "day"}
# Measure words that make 第N a rank (第一名) rather than the ordinal of a series (第一批).
_RANK_WORDS = ("名", "位")
_ORDINAL_WORDS = ("批", "届", "次", "轮", "个", "期", "代", "季度", "条", "项", "款", "章", "节")


class MentionError(InputError):
    """A numeral that cannot be parsed, or a lexicon that is malformed."""


@dataclass(frozen=True)
class Compound:
    """A name containing numerals, matched before ordinary numbers (十九大, 十四五)."""

    kind: str
    description: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class ReviewRule:
    """A reviewed reason why a mention that no table uses is not a figure of the study."""

    id: str
    reason: str
    roles: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    inside: str = ""
    text: re.Pattern[str] | None = None
    context: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Grammar:
    """The forms of quantities beyond number + measure word ([lexicon.forms] of the lexicon)."""

    range_separators: tuple[str, ...]
    alternative_separators: tuple[str, ...]
    percentage_points: tuple[str, ...]
    tenth: str
    tenth_not_before: str
    doubling_verb: str
    doubling: str
    fraction_words: dict[str, tuple[Decimal, str]]
    periods: dict[str, str]
    year_ends: dict[str, str]
    month_parts: tuple[str, ...]
    blockers: tuple[str, ...]
    indefinite_articles: tuple[str, ...]
    distant_qualifiers: tuple[str, ...]
    distant_window: int


@dataclass(frozen=True)
class Phrase:
    """Words of the heuristic that finds the phrase a quantity measures ([phrase])."""

    boundaries: str
    quote_marks: str
    stop_after: tuple[str, ...]
    nouns: tuple[str, ...]
    predicates: tuple[str, ...]
    leading: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """The reviewed vocabulary of the extractor, read from data/raw/mention_rules.toml."""

    source: str
    chinese_digits: str
    non_numeric_words: tuple[str, ...]
    measure_words: dict[str, str]
    currencies: dict[str, str]
    magnitudes: dict[str, Decimal]
    qualifiers_before: dict[str, str]
    qualifiers_after: dict[str, str]
    qualifiers_inside: dict[str, str]
    indefinite_prefixes: dict[str, str]
    list_separators: tuple[str, ...]
    respectively: tuple[str, ...]
    each: tuple[str, ...]
    compounds: tuple[Compound, ...]
    review_rules: tuple[ReviewRule, ...]
    grammar: Grammar
    phrase: Phrase
    pattern: re.Pattern[str] = field(repr=False, compare=False, default=None)  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Mention:
    """One numeric mention in a clean sentence; `text == sentence[start:end]`."""

    sentence_id: str
    index: int
    start: int
    end: int
    text: str
    kind: str
    value: float | None
    value_high: float | None
    value_text: str
    unit: str
    measure_word: str
    qualifier: str
    qualifier_word: str
    distributive: str
    list_id: str
    script: str
    # The magnitude word (万, 亿, 万亿) that scales the number, and where each word that gave
    # the quantity lies: (role, start, end) with role number, number_high, magnitude, unit,
    # qualifier (spans in the sentence; a qualifier may lie outside [start, end)).
    magnitude: str = ""
    parts: tuple[tuple[str, int, int], ...] = ()

    @property
    def id(self) -> str:
        """Stable id: the sentence id and the mention's position in it (a1-p017-s02-m03)."""
        return f"{self.sentence_id}-m{self.index:02d}"


def _sorted_words(words: object) -> list[str]:
    return sorted(words, key=lambda w: (-len(w), w))  # longest first, so 大类 beats 大


def _alternation(words: object) -> str:
    return "|".join(re.escape(w) for w in _sorted_words(words))


def _lexicon_error(path: Path, problem: str) -> MentionError:
    return MentionError(
        f"{relative(path)}: {problem}. This file is the reviewed lexicon of the numeric-mention "
        "extractor; fix the entry (or restore the file from git) and run again."
    )


def _compile(path: Path, where: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise _lexicon_error(
            path, f"{where}: the regular expression {pattern!r} is invalid ({exc})"
        ) from None


# The keys each part of the file may have (the tables of words, such as measure_words, take
# any key). A misspelt key would otherwise be ignored without a word: a review rule's
# "context" typed as "contxt" would classify far more than the reviewer meant.
_KEYS = {
    "": ("lexicon", "compound", "not_a_fact", "phrase"),
    "[phrase]": ("boundaries", "quote_marks", "stop_after", "nouns", "predicates", "leading"),
    "[lexicon]": (
        "chinese_digits",
        "non_numeric_words",
        "measure_words",
        "currencies",
        "magnitudes",
        "qualifiers_before",
        "qualifiers_after",
        "qualifiers_inside",
        "indefinite_prefixes",
        "lists",
        "forms",
    ),
    "[lexicon.lists]": ("separators", "respectively", "each"),
    "[lexicon.forms]": (
        "range_separators",
        "alternative_separators",
        "percentage_points",
        "tenth",
        "tenth_not_before",
        "doubling_verb",
        "doubling",
        "fraction_words",
        "periods",
        "year_ends",
        "month_parts",
        "blockers",
        "indefinite_articles",
        "distant_qualifiers",
        "distant_window",
    ),
    "[[compound]]": ("kind", "description", "pattern"),
    "[[not_a_fact]]": ("id", "reason", "roles", "kinds", "inside", "text", "context"),
}


def _check_keys(path: Path, data: dict) -> None:
    """MentionError naming the file, the key and the valid keys for any key not in _KEYS."""

    def check(part: str, table: object, where: str) -> None:
        if not isinstance(table, dict):
            return
        unknown = sorted(set(table) - set(_KEYS[part]))
        if unknown:
            valid = ", ".join(_KEYS[part])
            raise _lexicon_error(
                path, f"unknown key {', '.join(map(repr, unknown))} in {where} (valid: {valid})"
            )

    check("", data, "the top level")
    check("[phrase]", data.get("phrase"), "[phrase]")
    lexicon = data.get("lexicon")
    check("[lexicon]", lexicon, "[lexicon]")
    if isinstance(lexicon, dict):
        check("[lexicon.lists]", lexicon.get("lists"), "[lexicon.lists]")
        check("[lexicon.forms]", lexicon.get("forms"), "[lexicon.forms]")
    for part, name, label in (
        ("[[compound]]", "compound", "kind"),
        ("[[not_a_fact]]", "not_a_fact", "id"),
    ):
        entries = data.get(name, [])
        for n, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
            ident = entry.get(label, f"#{n}") if isinstance(entry, dict) else f"#{n}"
            check(part, entry, f"[[{name}]] {ident!r}")


def _fraction_word(path: Path, word: str, spec: object) -> tuple[Decimal, str]:
    """A fraction word's value and qualifier: "1/2" or "1/2 more_than" (过半)."""
    parts = str(spec).split()
    try:
        n, d = parts[0].split("/")
        value = Decimal(n) / Decimal(d)
    except (ValueError, IndexError, InvalidOperation, ArithmeticError):
        raise _lexicon_error(
            path, f"fraction word {word!r}: {spec!r} is not 'n/d' or 'n/d qualifier'"
        ) from None
    return value, parts[1] if len(parts) > 1 else ""


@functools.cache
def load_lexicon(path: Path = MENTION_RULES) -> Lexicon:
    """Read and check the extractor's lexicon and review rules (cached per path)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MentionError(f"{relative(path)} is missing; restore it from git.") from None
    except tomllib.TOMLDecodeError as exc:
        raise _lexicon_error(path, f"it is not valid TOML ({exc})") from None
    _check_keys(path, data)
    try:
        lex = data["lexicon"]
        lists = lex["lists"]
        compounds = tuple(
            Compound(
                kind=c["kind"],
                description=c["description"],
                pattern=_compile(path, f"compound {c['kind']}", c["pattern"]),
            )
            for c in data.get("compound", [])
        )
        rules = []
        for r in data.get("not_a_fact", []):
            rules.append(
                ReviewRule(
                    id=r["id"],
                    reason=r["reason"],
                    roles=tuple(r.get("roles", ())),
                    kinds=tuple(r.get("kinds", ())),
                    inside=r.get("inside", ""),
                    text=_compile(path, f"not_a_fact {r['id']}", r["text"])
                    if "text" in r
                    else None,
                    context=(
                        _compile(path, f"not_a_fact {r['id']}", r["context"])
                        if "context" in r
                        else None
                    ),
                )
            )
        magnitudes = {k: Decimal(v) for k, v in lex["magnitudes"].items()}
        forms = lex["forms"]
        grammar = Grammar(
            range_separators=tuple(forms["range_separators"]),
            alternative_separators=tuple(forms["alternative_separators"]),
            percentage_points=tuple(forms["percentage_points"]),
            tenth=forms["tenth"],
            tenth_not_before=forms["tenth_not_before"],
            doubling_verb=forms["doubling_verb"],
            doubling=forms["doubling"],
            fraction_words={
                word: _fraction_word(path, word, spec)
                for word, spec in forms["fraction_words"].items()
            },
            periods=dict(forms["periods"]),
            year_ends=dict(forms["year_ends"]),
            month_parts=tuple(forms["month_parts"]),
            blockers=tuple(forms["blockers"]),
            indefinite_articles=tuple(forms["indefinite_articles"]),
            distant_qualifiers=tuple(forms["distant_qualifiers"]),
            distant_window=int(forms["distant_window"]),
        )
        lexicon = Lexicon(
            source=relative(path),
            chinese_digits=lex["chinese_digits"],
            non_numeric_words=tuple(lex["non_numeric_words"]),
            measure_words=dict(lex["measure_words"]),
            currencies=dict(lex["currencies"]),
            magnitudes=magnitudes,
            qualifiers_before=dict(lex["qualifiers_before"]),
            qualifiers_after=dict(lex["qualifiers_after"]),
            qualifiers_inside=dict(lex["qualifiers_inside"]),
            indefinite_prefixes=dict(lex["indefinite_prefixes"]),
            list_separators=tuple(lists["separators"]),
            respectively=tuple(lists["respectively"]),
            each=tuple(lists["each"]),
            compounds=compounds,
            review_rules=tuple(rules),
            grammar=grammar,
            phrase=Phrase(
                boundaries=data["phrase"]["boundaries"],
                quote_marks=data["phrase"]["quote_marks"],
                stop_after=tuple(data["phrase"]["stop_after"]),
                nouns=tuple(data["phrase"]["nouns"]),
                predicates=tuple(data["phrase"]["predicates"]),
                leading=tuple(data["phrase"]["leading"]),
            ),
        )
    except KeyError as exc:
        raise _lexicon_error(path, f"the required entry {exc.args[0]!r} is missing") from None
    except (TypeError, AttributeError, InvalidOperation) as exc:
        raise _lexicon_error(path, f"an entry has the wrong type ({exc})") from None
    for rule in lexicon.review_rules:
        if rule.inside and len(rule.inside) != 2:
            raise _lexicon_error(path, f"not_a_fact {rule.id}: inside must be a bracket pair")
    ids = [r.id for r in lexicon.review_rules]
    if len(ids) != len(set(ids)):
        raise _lexicon_error(path, "two not_a_fact rules share an id")
    unknown_q = (
        set(lexicon.qualifiers_before.values())
        | set(lexicon.qualifiers_after.values())
        | set(lexicon.qualifiers_inside.values())
        | {q for _, q in lexicon.grammar.fraction_words.values() if q}
    ) - set(QUALIFIERS)
    if unknown_q:
        raise _lexicon_error(
            path, f"unknown qualifiers {sorted(unknown_q)} (known: {', '.join(QUALIFIERS)})"
        )
    unknown = set(lexicon.measure_words.values()) - set(_KIND_UNITS) - {"duration"}
    if unknown:
        raise _lexicon_error(path, f"unknown measure-word kinds {sorted(unknown)}")
    return replace(lexicon, pattern=_master_pattern(lexicon))


def _master_pattern(lex: Lexicon) -> re.Pattern[str]:
    """The alternation of every mention shape, tried in order at each position.

    The order is the grammar's precedence: names and calendar forms first, then the forms
    whose unit is a word of several characters (个百分点 before the measure word 个, 万台 read
    as magnitude and measure word), then counts, then bare numbers.
    """
    g = lex.grammar
    digits = "零〇一二三四五六七八九"
    cn = f"[{re.escape(lex.chinese_digits)}]+(?:点[{digits}]+)?"
    num = f"(?:{_AR_NUMBER}|{cn})"
    rsep = f"(?:{_alternation(g.range_separators)})"
    asep = f"(?:{_alternation(g.range_separators + g.alternative_separators)})"
    mw = _alternation(lex.measure_words)
    mag = _alternation(lex.magnitudes)
    cur = _alternation(lex.currencies)
    inside = _alternation(lex.qualifiers_inside)
    indef = _alternation(lex.indefinite_prefixes)
    block = f"(?!{_alternation(g.blockers)})" if g.blockers else ""
    periods = _alternation(g.periods)
    year_ends = _alternation({**g.periods, **g.year_ends})
    year = r"(?:1[89]|20)\d{2}"
    month = r"1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]"
    cn_year = "[〇零一二三四五六七八九]{4}"
    not_cn = f"(?<![{re.escape(lex.chinese_digits)}])"
    tenth_digit = "[一二三四五六七八九两]{1,2}|十"
    shapes = [
        (
            "label",
            r"(?<=[“\"])(?:\d+|[A-Z])(?:\+(?:\d+|[A-Z]))+(?=[”\"])|(?<=[“\"])\d{3,}(?=[”\"])"
            r"|(?<![\dA-Za-z+])(?:\d+|[A-Z])(?:\+(?:\d+|[A-Z]))+(?![\dA-Za-z+])",
        ),
        ("period", f"(?P<period_y>{year})年{block}(?P<period_p>{year_ends})"),
        (
            "date",
            f"(?P<date_y>{year})年(?P<date_m>{month})月(?:(?P<date_d>[12]?\\d|3[01])日)?"
            f"{block}(?P<date_e>{_alternation(g.month_parts)})?",
        ),
        ("datecn", f"(?P<datecn_y>{cn_year})年(?P<datecn_m>{month})月"),
        ("year", f"(?P<year_y>{year})(?:{rsep}(?P<year_y2>{year}))?年"),
        ("yearcn", f"(?P<yearcn_y>{cn_year})年"),
        ("monthday", f"(?<![\\d年])(?P<monthday_m>{month})月(?P<monthday_d>[12]?\\d|3[01])日"),
        ("bareperiod", f"(?P<bareperiod_p>{periods})"),
        (
            "amount",
            f"(?P<amount_n>{num})(?:(?P<amount_mag1>{mag})?(?P<amount_cur1>{cur})?{asep}"
            f"(?P<amount_n2>{num}))?"
            f"(?P<amount_in>{inside})?(?P<amount_mag>{mag})?(?P<amount_cur>{cur})",
        ),
        (
            "points",
            f"(?P<points_n>{num})(?:{asep}(?P<points_n2>{num}))?(?P<points_in>{inside})?"
            f"(?P<points_w>{_alternation(g.percentage_points)})",
        ),
        (
            "percent",
            f"(?P<percent_n>{_AR_NUMBER})[%％]?(?:{rsep}(?P<percent_n2>{_AR_NUMBER}))?[%％]"
            f"|百分之(?P<percent_cn>{cn})",
        ),
        (
            "tenth",
            f"{not_cn}(?P<tenth_n>{tenth_digit})(?:{rsep}(?P<tenth_n2>{tenth_digit}))?"
            f"(?P<tenth_w>{re.escape(g.tenth)})(?![{re.escape(g.tenth_not_before)}])"
            f"(?P<tenth_in>{inside})?",  # 三成多: more than 30 percent
        ),
        (
            "doubling",
            f"{re.escape(g.doubling_verb)}了?(?P<doubling_n>[一二三四五六七八九两]|\\d+)?"
            f"(?P<doubling_w>{re.escape(g.doubling)})",
        ),
        ("fraction", r"(?<![\d/.])(?P<fraction_n>\d+)/(?P<fraction_d>\d+)(?![\d/])"),
        ("fword", f"(?P<fword_w>{_alternation(g.fraction_words)})"),
        (
            "ordinal",
            f"第(?P<ordinal_n>{num})(?P<ordinal_mw>{_alternation(_ORDINAL_WORDS + _RANK_WORDS)})?",
        ),
        ("top", f"前(?P<top_n>{num})(?P<top_mw>{mw})"),
        (
            "indef",
            f"(?<!以)(?P<indef_p>{indef})(?P<indef_mag>[十百千万亿]+)(?P<indef_in>{inside})?"
            f"(?:(?P<indef_cur>{cur})|(?P<indef_mw>{mw}))?",
        ),
        (
            "count",
            f"(?P<count_n>{num})(?:(?P<count_mag1>{mag})?(?P<count_mw1>{mw})?{asep}"
            f"(?P<count_n2>{num}))?"
            f"(?P<count_in>{inside})?(?P<count_mag>{mag})?(?P<count_mw>{mw})",
        ),
        ("number", f"(?P<number_n>{num})(?P<number_mag>{mag})?"),
    ]
    return re.compile("|".join(f"(?P<{name}>{body})" for name, body in shapes))


def parse_number(text: str) -> Decimal:
    """Parse an Arabic or Chinese numeral ("1,200", "93.5", "十九", "两", "二〇三五", "百")."""
    normal = unicodedata.normalize("NFKC", text).replace(",", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", normal):
        return Decimal(normal)
    if normal and normal[0] in "百千万亿":
        normal = "一" + normal  # cn2an reads 一百 but not a bare 百 (as in 百企引航)
    import cn2an  # imported here: the module loads a few tables, and only extraction needs it

    try:
        value = cn2an.cn2an(normal, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        raise MentionError(
            f"cannot parse the numeral {text!r}: it is neither an Arabic number nor a Chinese "
            "numeral that cn2an reads"
        ) from None
    return Decimal(str(value))


def _script(text: str, chinese_digits: str) -> str:
    """Which numerals a mention uses: arabic (2019年8月), chinese (十九大) or mixed (1.2万亿元)."""
    has_ar = any(ch.isdigit() for ch in text)
    has_cn = any(ch in chinese_digits for ch in text)
    return "mixed" if has_ar and has_cn else ("arabic" if has_ar else "chinese")


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def format_value(value: float | None) -> str:
    """Render a value without a spurious '.0' (12000.0 -> '12000', 93.5 -> '93.5')."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _mask(text: str, lex: Lexicon) -> tuple[str, list[tuple[int, int, Compound, re.Match[str]]]]:
    """Mask compound names and non-numeric words; return the masked text and the compounds."""
    found: list[tuple[int, int, Compound, re.Match[str]]] = []
    for compound in lex.compounds:
        for m in compound.pattern.finditer(text):
            if m.end() > m.start():
                found.append((m.start(), m.end(), compound, m))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    kept: list[tuple[int, int, Compound, re.Match[str]]] = []
    for item in found:
        if not kept or item[0] >= kept[-1][1]:
            kept.append(item)
    chars = list(text)
    for start, end, _, _ in kept:
        chars[start:end] = _MASK * (end - start)
    words = [
        (m.start(), m.end())
        for word in _sorted_words(lex.non_numeric_words)
        for m in re.finditer(re.escape(word), text)
    ]
    covered = {i for start, end in words for i in range(start, end)}

    def numeral_at(i: int) -> bool:
        return 0 <= i < len(text) and text[i] in lex.chinese_digits and i not in covered

    digits = lex.chinese_digits
    for start, end in words:
        if (text[start] in digits and numeral_at(start - 1)) or (
            text[end - 1] in digits and numeral_at(end)
        ):
            continue  # part of a longer numeral: 三万一千 is a number, not 万一 ("in case")
        chars[start:end] = _MASK * (end - start)
    return "".join(chars), kept


def _ending(text: str, words: dict[str, str] | tuple[str, ...]) -> str:
    for word in _sorted_words(words):
        if text.endswith(word):
            return word
    return ""


def _starting(text: str, words: dict[str, str]) -> str:
    for word in _sorted_words(words):
        if text.startswith(word):
            return word
    return ""


def extract(text: str, sentence_id: str = "", lexicon: Lexicon | None = None) -> list[Mention]:
    """Every numeric mention in `text`, in order, with exact character spans."""
    lex = lexicon or load_lexicon()
    masked, compounds = _mask(text, lex)
    raw: list[dict] = []
    for start, end, compound, m in compounds:
        groups = m.groupdict()
        try:
            n = parse_number(groups["n"])
            value_text = format_value(float(n))
            if groups.get("m"):
                value_text += "-" + format_value(float(parse_number(groups["m"])))
            if groups.get("d"):  # a fraction: n out of d
                d = parse_number(groups["d"])
                value_text = f"{format_value(float(n))}/{format_value(float(d))}"
                n = n / d
        except (MentionError, ArithmeticError):
            raw.append(_unparsed(start, end, text))
            continue
        raw.append(
            dict(
                start=start,
                end=end,
                kind=compound.kind,
                value=n,
                high=None,
                vtext=value_text,
                parts=[("number", *m.span("n"))],
            )
        )
    for m in lex.pattern.finditer(masked):
        try:
            raw.append(_shape(m, lex))
        except MentionError:
            # Kept as a mention of its own kind: a rule that reads it reports the rule, the
            # section and the text; if no rule reads it, it is unclassified.
            raw.append(_unparsed(m.start(), m.end(), text))
    raw.sort(key=lambda r: r["start"])
    mentions: list[Mention] = []
    for i, r in enumerate(raw, start=1):
        start, end = r["start"], r["end"]
        parts = list(r.get("parts", ()))
        qualifier, word = r.get("qualifier", ""), r.get("qualifier_word", "")
        if not word:
            qualifier, word, span = _outer_qualifier(text, start, end, lex)
            if span:
                parts.append(("qualifier", *span))
        kind = r["kind"]
        if qualifier in ("", "equal") and r.get("high") is not None:
            qualifier = "range"  # 达到1000亿—1500亿元: 达到 says "reaches", the range is the news
        if not qualifier:
            qualifier = "equal"
        distributive = "each" if _ending(text[:start], lex.each) else ""
        mentions.append(
            Mention(
                sentence_id=sentence_id,
                index=i,
                start=start,
                end=end,
                text=text[start:end],
                kind=kind,
                value=_float(r["value"]),
                value_high=_float(r.get("high")),
                value_text=r.get("vtext") or format_value(_float(r["value"])),
                unit=r.get("unit") or _KIND_UNITS.get(kind, ""),
                measure_word=r.get("mw", ""),
                qualifier=qualifier,
                qualifier_word=word,
                distributive=distributive,
                list_id="",
                script=_script(text[start:end], lex.chinese_digits),
                magnitude=r.get("mag", ""),
                parts=tuple(sorted(parts, key=lambda p: (p[1], p[2]))),
            )
        )
    return _link_lists(mentions, text, lex)


def _outer_qualifier(
    text: str, start: int, end: int, lex: Lexicon
) -> tuple[str, str, tuple[int, int] | None]:
    """The qualifier word right before or right after a mention, with its span.

    A bound wins over an exact marker: in 达到三成以上 the qualifier is 以上 (达到 only says
    "reaches"). A word after the mention that begins a blocker (上下游, "up- and downstream")
    is not a qualifier.
    """
    before, after = text[:start], text[end:]
    bword = _ending(before, lex.qualifiers_before)
    aword = _starting(after, lex.qualifiers_after)
    if aword and any(after.startswith(b) for b in lex.grammar.blockers):
        aword = ""
    if not bword:
        bword, bstart = _distant_qualifier(before, lex)
        if bword:
            return lex.qualifiers_before[bword], bword, (bstart, bstart + len(bword))
    bq = lex.qualifiers_before.get(bword, "")
    if bword and (bq != "equal" or not aword):
        return bq, bword, (start - len(bword), start)
    if aword:
        return lex.qualifiers_after[aword], aword, (end, end + len(aword))
    return "", "", None


def _distant_qualifier(before: str, lex: Lexicon) -> tuple[str, int]:
    """A bound such as 至少 a verb away from its number (至少建设1个): the word and its start.

    Only the words of [lexicon.forms] distant_qualifiers, at most `distant_window` characters
    before the number and in the same clause.
    """
    g = lex.grammar
    window = before[-(g.distant_window + max(map(len, g.distant_qualifiers), default=0)) :]
    best = ("", -1)
    for word in g.distant_qualifiers:
        at = window.rfind(word)
        if at < 0:
            continue
        gap = window[at + len(word) :]
        if len(gap) <= g.distant_window and not any(ch in gap for ch in "，。；：、,;:"):
            start = len(before) - len(window) + at
            if start > best[1]:
                best = (word, start)
    return best


def _unparsed(start: int, end: int, text: str) -> dict:
    return dict(start=start, end=end, kind="unparsed", value=None, vtext=text[start:end], parts=[])


_PAIR_DIGITS = "一二三四五六七八九"


def _numeral_range(text: str) -> tuple[Decimal, Decimal] | None:
    """Two adjacent Chinese digits that name a range: 三四 (3-4), 两三 (2-3), 三五 (3-5).

    cn2an reads 三四 as 34; in prose two single digits side by side are an approximate range.
    """
    if len(text) != 2:
        return None
    a, b = (2 if ch == "两" else _PAIR_DIGITS.find(ch) + 1 for ch in text)
    if a < 1 or b < 1:
        return None
    if b == a + 1 or (a, b) == (3, 5):
        return Decimal(a), Decimal(b)
    return None


def _number(text: str) -> tuple[Decimal, Decimal | None]:
    """A numeral and, for a pair such as 三四, its upper value."""
    pair = _numeral_range(text)
    if pair:
        return pair
    return parse_number(text), None


_UNIT_FACTOR = Decimal(10**8)  # the magnitudes of the lexicon are in units of 亿


def _scaled(
    m: re.Match[str], lex: Lexicon, prefix: str, base: Decimal = _UNIT_FACTOR
) -> tuple[Decimal, Decimal | None, str, list[tuple[str, int, int]]]:
    """Value, upper value, magnitude word and parts of a `<prefix>_n [mag1] [sep n2] [mag]`.

    `base` converts a magnitude (in 亿) into the unit of the value: 10^8 for counts, 1 for
    amounts (kept in 亿). A first number without its own magnitude takes the second's
    (3—5万家 is 30,000-50,000), and a number with none is scaled by 1/base.
    """
    g = m.groupdict()
    parts: list[tuple[str, int, int]] = [("number", *m.span(f"{prefix}_n"))]
    mag2 = g.get(f"{prefix}_mag") or ""
    mag1 = g.get(f"{prefix}_mag1") or ""
    low, high = _number(g[f"{prefix}_n"])
    if g.get(f"{prefix}_n2"):
        high, _ = _number(g[f"{prefix}_n2"])
        parts.append(("number_high", *m.span(f"{prefix}_n2")))
    one = Decimal(1) / _UNIT_FACTOR * base
    scale_low = lex.magnitudes[mag1] * base if mag1 else None
    scale_high = lex.magnitudes[mag2] * base if mag2 else one
    if mag1:
        parts.append(("magnitude", *m.span(f"{prefix}_mag1")))
    if mag2:
        parts.append(("magnitude", *m.span(f"{prefix}_mag")))
    low = low * (scale_low if scale_low is not None else scale_high)
    if high is not None:
        high = high * scale_high
    return low, high, mag2 or mag1, parts


def _inside_qualifier(out: dict, m: re.Match[str], lex: Lexicon, group: str) -> None:
    word = m.group(group)
    if word:
        out.update(qualifier=lex.qualifiers_inside[word], qualifier_word=word)
        out["parts"].append(("qualifier", *m.span(group)))


def _embedded_magnitude(text: str, start: int, lex: Lexicon) -> tuple[str, list]:
    """The magnitude word at the end of a Chinese numeral (一千二百万 -> 万), with its part."""
    for word in ("万亿", "亿", "万"):  # the groups of Chinese numerals: 一千二百|万
        if len(text) > len(word) and text.endswith(word):
            end = start + len(text)
            return word, [("magnitude", end - len(word), end)]
    return "", []


def _shape(m: re.Match[str], lex: Lexicon) -> dict:
    """Turn one match of the master pattern into a raw mention record."""
    g = m.groupdict()
    gr = lex.grammar
    name = m.lastgroup
    out: dict = dict(start=m.start(), end=m.end(), parts=[])
    parts: list = out["parts"]
    if name == "label":
        out.update(kind="label", value=None, vtext=m.group())
    elif name == "period":
        year, code = int(g["period_y"]), {**gr.periods, **gr.year_ends}[g["period_p"]]
        out.update(kind="period", value=Decimal(year), vtext=f"{year:04d}-{code}")
        parts += [("number", *m.span("period_y")), ("unit", *m.span("period_p"))]
    elif name in ("date", "datecn"):
        year, month = int(parse_number(g[f"{name}_y"])), int(parse_number(g[f"{name}_m"]))
        vtext = f"{year:04d}-{month:02d}"
        parts += [("number", *m.span(f"{name}_y")), ("number", *m.span(f"{name}_m"))]
        if g.get("date_d"):  # a day: the value text is the full date, the unit "date"
            vtext += f"-{int(g['date_d']):02d}"
            parts.append(("number", *m.span("date_d")))
            out["unit"] = "date"
        out.update(kind="date", value=None, vtext=vtext)
    elif name == "monthday":  # 5月20日: a day of a year the sentence does not name
        month, day = int(parse_number(g["monthday_m"])), int(g["monthday_d"])
        parts += [("number", *m.span("monthday_m")), ("number", *m.span("monthday_d"))]
        out.update(kind="date", value=None, vtext=f"--{month:02d}-{day:02d}", unit="date")
    elif name == "year":
        out.update(kind="year", value=Decimal(g["year_y"]))
        parts.append(("number", *m.span("year_y")))
        if g["year_y2"]:
            out["high"] = Decimal(g["year_y2"])
            parts.append(("number_high", *m.span("year_y2")))
    elif name == "yearcn":
        out.update(kind="year", value=parse_number(g["yearcn_y"]))
        parts.append(("number", *m.span("yearcn_y")))
    elif name == "bareperiod":
        out.update(kind="period", value=None, vtext=gr.periods[g["bareperiod_p"]])
        parts.append(("unit", *m.span("bareperiod_p")))
    elif name == "amount":
        currency = lex.currencies[g["amount_cur"]]
        low, high, magnitude, found = _scaled(m, lex, "amount", Decimal(1))
        if not magnitude and not re.search(r"\d", g["amount_n"]):
            magnitude, more = _embedded_magnitude(g["amount_n"], m.start("amount_n"), lex)
            found += more
        parts += found + [("unit", *m.span("amount_cur"))]
        out.update(
            kind="amount", value=low, unit=f"100m_{currency}", mw=g["amount_cur"], mag=magnitude
        )
        if high is not None:
            out["high"] = high
        _inside_qualifier(out, m, lex, "amount_in")
    elif name == "points":
        low, high = _number(g["points_n"])
        if g["points_n2"]:
            high, _ = _number(g["points_n2"])
            parts.append(("number_high", *m.span("points_n2")))
        parts[:0] = [("number", *m.span("points_n"))]
        parts.append(("unit", *m.span("points_w")))
        out.update(kind="percentage_point", value=low, high=high, mw=g["points_w"])
        _inside_qualifier(out, m, lex, "points_in")
    elif name == "percent":
        if g["percent_cn"]:
            out.update(kind="percent", value=parse_number(g["percent_cn"]))
            parts.append(("number", *m.span("percent_cn")))
        else:
            out.update(kind="percent", value=parse_number(g["percent_n"]))
            parts.append(("number", *m.span("percent_n")))
            if g["percent_n2"]:
                out["high"] = parse_number(g["percent_n2"])
                parts.append(("number_high", *m.span("percent_n2")))
    elif name == "tenth":
        low, high = _number(g["tenth_n"])
        parts.append(("number", *m.span("tenth_n")))
        if g["tenth_n2"]:
            high, _ = _number(g["tenth_n2"])
            parts.append(("number_high", *m.span("tenth_n2")))
        parts.append(("unit", *m.span("tenth_w")))
        ten = Decimal(10)
        out.update(
            kind="percent", value=low * ten, high=None if high is None else high * ten, mw=gr.tenth
        )
        _inside_qualifier(out, m, lex, "tenth_in")
    elif name == "doubling":
        times = parse_number(g["doubling_n"]) if g["doubling_n"] else Decimal(1)
        if g["doubling_n"]:
            parts.append(("number", *m.span("doubling_n")))
        parts.append(("unit", *m.span("doubling_w")))
        out.update(kind="multiple", value=Decimal(2) ** int(times), mw=gr.doubling)
    elif name == "fraction":
        n, d = Decimal(g["fraction_n"]), Decimal(g["fraction_d"])
        if d == 0:
            raise MentionError(f"the fraction {m.group()!r} has a zero denominator")
        parts.append(("number", m.start(), m.end()))
        out.update(kind="fraction", value=n / d, vtext=f"{n}/{d}")
    elif name == "fword":
        value, qualifier = gr.fraction_words[g["fword_w"]]
        parts.append(("number", *m.span("fword_w")))
        out.update(kind="fraction", value=value, vtext=f"{value.normalize()}")
        if qualifier:
            out.update(qualifier=qualifier, qualifier_word=g["fword_w"])
    elif name == "ordinal":
        mw = g["ordinal_mw"] or ""
        kind = "rank" if mw in ("",) + _RANK_WORDS else "ordinal"
        out.update(kind=kind, value=parse_number(g["ordinal_n"]), mw=mw)
        parts.append(("number", *m.span("ordinal_n")))
    elif name == "top":
        out.update(kind="top_n", value=parse_number(g["top_n"]), mw=g["top_mw"])
        parts += [("number", *m.span("top_n")), ("unit", *m.span("top_mw"))]
    elif name == "indef":
        mw = g["indef_mw"] or ""
        value = parse_number("一" + g["indef_mag"])
        parts.append(("number", *m.span("indef_mag")))
        if g["indef_cur"]:
            currency = lex.currencies[g["indef_cur"]]
            magnitude, more = _embedded_magnitude(
                "一" + g["indef_mag"], m.start("indef_mag") - 1, lex
            )
            parts += more + [("unit", *m.span("indef_cur"))]
            out.update(
                kind="amount",
                value=value / _UNIT_FACTOR,
                unit=f"100m_{currency}",
                mw=g["indef_cur"],
                mag=magnitude,
            )
        else:
            kind = lex.measure_words.get(mw, "count") if mw else "number"
            out.update(kind=kind, value=value, mw=mw)
            if mw:
                parts.append(("unit", *m.span("indef_mw")))
            if kind == "duration":
                out["unit"] = _DURATION_UNITS.get(mw, "")
        out.update(
            qualifier=lex.indefinite_prefixes[g["indef_p"]],
            qualifier_word=g["indef_p"] + g["indef_mag"],
        )
        parts.append(("qualifier", m.start("indef_p"), m.end("indef_mag")))
    elif name == "count":
        mw = g["count_mw"]
        kind = lex.measure_words[mw]
        low, high, magnitude, found = _scaled(m, lex, "count")
        if not magnitude and not re.search(r"\d", g["count_n"]):
            magnitude, more = _embedded_magnitude(g["count_n"], m.start("count_n"), lex)
            found += more
        parts += found + [("unit", *m.span("count_mw"))]
        out.update(kind=kind, value=low, mw=mw, mag=magnitude)
        if kind == "duration":
            out["unit"] = _DURATION_UNITS.get(mw, "")
        if high is not None:
            out["high"] = high
        _inside_qualifier(out, m, lex, "count_in")
    else:  # the last alternative: a bare number, perhaps with a magnitude (35万)
        low, high, magnitude, found = _scaled(m, lex, "number")
        if not magnitude and not re.search(r"\d", g["number_n"]):
            magnitude, more = _embedded_magnitude(g["number_n"], m.start("number_n"), lex)
            found += more
        parts += found
        out.update(kind="number", value=low, mag=magnitude)
        if high is not None:
            out["high"] = high
    return out


def _link_lists(mentions: list[Mention], text: str, lex: Lexicon) -> list[Mention]:
    """Group mentions joined only by list separators; mark respectively-lists."""
    out = list(mentions)
    i = 0
    while i < len(out):
        j = i
        while (
            j + 1 < len(out)
            and out[j + 1].kind == out[i].kind
            and text[out[j].end : out[j + 1].start] in lex.list_separators
        ):
            j += 1
        if j > i:
            head = out[i]
            respectively = bool(_ending(text[: head.start], lex.respectively))
            for k in range(i, j + 1):
                item = out[k]
                changes: dict = {"list_id": head.id}
                if respectively:
                    changes["distributive"] = "respectively"
                    if not item.qualifier_word and head.qualifier_word:
                        changes["qualifier"] = head.qualifier
                        changes["qualifier_word"] = head.qualifier_word
                out[k] = replace(item, **changes)
        i = j + 1
    return out


def mentions_in(mentions: list[Mention], start: int, end: int) -> list[Mention]:
    """The mentions that lie inside the character span [start, end)."""
    return [m for m in mentions if m.start >= start and m.end <= end]
