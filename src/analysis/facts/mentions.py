"""Numeric mentions: every number in a sentence, with its normalised value, unit and qualifier.

The grammar is general (a number in Arabic or Chinese numerals, an optional range, a unit or
measure word, qualifiers around it); the words it knows — measure words, currencies, qualifiers,
words whose numeral characters are not numbers, names such as 十九大 — come from the reviewed
lexicon `data/raw/mention_rules.toml`. Chinese numerals are parsed with `cn2an`.

Kinds of mention: percent, amount, count, duration, anniversary, generation, multiple, date
(year and month), year, rank (全球第一), ordinal (第一批), top_n (前三家), order-of-magnitude
counts (数十个, 上百种), system labels (“1+N”, “3+3+2”, “415”) and the compound names of the
lexicon (congress, plenum, plan_period, enumerator), and bare numbers.
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

MENTION_RULES = RAW / "mention_rules.toml"

# Same-length stand-in for masked characters: matches no numeral, unit or qualifier.
_MASK = "\u25a1"
_RANGE_SEPARATORS = "~～至到\\-－—–"
_AR_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# Units of the normalised value, by kind (counts keep their measure word in `measure_word`).
_KIND_UNITS = {
    "percent": "percent",
    "count": "count",
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
    "unparsed": "",
}
_DURATION_UNITS = {"年": "year", "月": "month", "天": "day"}
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
    "": ("lexicon", "compound", "not_a_fact"),
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
    ),
    "[lexicon.lists]": ("separators", "respectively", "each"),
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
    lexicon = data.get("lexicon")
    check("[lexicon]", lexicon, "[lexicon]")
    if isinstance(lexicon, dict):
        check("[lexicon.lists]", lexicon.get("lists"), "[lexicon.lists]")
    for part, name, label in (
        ("[[compound]]", "compound", "kind"),
        ("[[not_a_fact]]", "not_a_fact", "id"),
    ):
        entries = data.get(name, [])
        for n, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
            ident = entry.get(label, f"#{n}") if isinstance(entry, dict) else f"#{n}"
            check(part, entry, f"[[{name}]] {ident!r}")


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
    unknown = set(lexicon.measure_words.values()) - set(_KIND_UNITS) - {"duration"}
    if unknown:
        raise _lexicon_error(path, f"unknown measure-word kinds {sorted(unknown)}")
    return replace(lexicon, pattern=_master_pattern(lexicon))


def _master_pattern(lex: Lexicon) -> re.Pattern[str]:
    """The alternation of every mention shape, tried in order at each position."""
    cn = f"[{re.escape(lex.chinese_digits)}]+"
    num = f"(?:{_AR_NUMBER}|{cn})"
    rsep = f"[{_RANGE_SEPARATORS}]"
    mw = _alternation(lex.measure_words)
    mag = _alternation(lex.magnitudes)
    cur = _alternation(lex.currencies)
    inside = _alternation(lex.qualifiers_inside)
    indef = _alternation(lex.indefinite_prefixes)
    year = r"(?:1[89]|20)\d{2}"
    month = r"1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]"
    cn_year = "[〇零一二三四五六七八九]{4}"
    shapes = [
        (
            "label",
            r"(?<=[“\"])(?:\d+|[A-Z])(?:\+(?:\d+|[A-Z]))+(?=[”\"])|(?<=[“\"])\d{3,}(?=[”\"])",
        ),
        ("date", f"(?P<date_y>{year})年(?P<date_m>{month})月"),
        ("year", f"(?P<year_y>{year})(?:{rsep}(?P<year_y2>{year}))?年"),
        ("yearcn", f"(?P<yearcn_y>{cn_year})年"),
        (
            "amount",
            f"(?P<amount_n>{num})(?:{rsep}(?P<amount_n2>{num}))?(?P<amount_in>{inside})?"
            f"(?P<amount_mag>{mag})?(?P<amount_cur>{cur})",
        ),
        (
            "percent",
            f"(?P<percent_n>{_AR_NUMBER})[%％]?(?:{rsep}(?P<percent_n2>{_AR_NUMBER}))?[%％]"
            f"|百分之(?P<percent_cn>{cn})",
        ),
        (
            "ordinal",
            f"第(?P<ordinal_n>{num})(?P<ordinal_mw>{_alternation(_ORDINAL_WORDS + _RANK_WORDS)})?",
        ),
        ("top", f"前(?P<top_n>{num})(?P<top_mw>{mw})"),
        (
            "indef",
            f"(?P<indef_p>{indef})(?P<indef_mag>[十百千万])(?P<indef_in>{inside})?(?P<indef_mw>{mw})?",
        ),
        (
            "count",
            f"(?P<count_n>{num})(?:{rsep}(?P<count_n2>{num}))?(?P<count_in>{inside})?(?P<count_mw>{mw})",
        ),
        ("number", f"(?P<number_n>{num})"),
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

    for start, end in words:
        if numeral_at(start - 1) or numeral_at(end):
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
            dict(start=start, end=end, kind=compound.kind, value=n, high=None, vtext=value_text)
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
        before, after = text[:start], text[end:]
        qualifier, word = r.get("qualifier", ""), r.get("qualifier_word", "")
        if not word:
            word = _ending(before, lex.qualifiers_before)
            if word:
                qualifier = lex.qualifiers_before[word]
            else:
                word = _starting(after, lex.qualifiers_after)
                qualifier = lex.qualifiers_after[word] if word else ""
        kind = r["kind"]
        if not qualifier and r.get("high") is not None:
            qualifier = "range"
        if not qualifier:
            qualifier = "equal"
        distributive = "each" if _ending(before, lex.each) else ""
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
            )
        )
    return _link_lists(mentions, text, lex)


def _unparsed(start: int, end: int, text: str) -> dict:
    return dict(start=start, end=end, kind="unparsed", value=None, vtext=text[start:end])


def _shape(m: re.Match[str], lex: Lexicon) -> dict:
    """Turn one match of the master pattern into a raw mention record."""
    g = m.groupdict()
    name = m.lastgroup
    out: dict = dict(start=m.start(), end=m.end())
    if name == "label":
        out.update(kind="label", value=None, vtext=m.group())
    elif name == "date":
        year, month = int(g["date_y"]), int(parse_number(g["date_m"]))
        out.update(kind="date", value=None, vtext=f"{year:04d}-{month:02d}")
    elif name == "year":
        out.update(kind="year", value=Decimal(g["year_y"]))
        if g["year_y2"]:
            out["high"] = Decimal(g["year_y2"])
    elif name == "yearcn":
        out.update(kind="year", value=parse_number(g["yearcn_y"]))
    elif name == "amount":
        scale = lex.magnitudes.get(g["amount_mag"] or "", Decimal(1) / Decimal(10**8))
        currency = lex.currencies[g["amount_cur"]]
        value = parse_number(g["amount_n"]) * scale
        out.update(kind="amount", value=value, unit=f"100m_{currency}", mw=g["amount_cur"])
        if g["amount_n2"]:
            out["high"] = parse_number(g["amount_n2"]) * scale
        if g["amount_in"]:
            out.update(
                qualifier=lex.qualifiers_inside[g["amount_in"]], qualifier_word=g["amount_in"]
            )
    elif name == "percent":
        if g["percent_cn"]:
            out.update(kind="percent", value=parse_number(g["percent_cn"]))
        else:
            out.update(kind="percent", value=parse_number(g["percent_n"]))
            if g["percent_n2"]:
                out["high"] = parse_number(g["percent_n2"])
    elif name == "ordinal":
        mw = g["ordinal_mw"] or ""
        kind = "rank" if mw in ("",) + _RANK_WORDS else "ordinal"
        out.update(kind=kind, value=parse_number(g["ordinal_n"]), mw=mw)
    elif name == "top":
        out.update(kind="top_n", value=parse_number(g["top_n"]), mw=g["top_mw"])
    elif name == "indef":
        mw = g["indef_mw"] or ""
        kind = lex.measure_words.get(mw, "count") if mw else "number"
        out.update(
            kind=kind,
            value=parse_number("一" + g["indef_mag"]),
            mw=mw,
            qualifier=lex.indefinite_prefixes[g["indef_p"]],
            qualifier_word=g["indef_p"] + g["indef_mag"],
        )
        if kind == "duration":
            out["unit"] = _DURATION_UNITS.get(mw, "")
    elif name == "count":
        mw = g["count_mw"]
        kind = lex.measure_words[mw]
        out.update(kind=kind, value=parse_number(g["count_n"]), mw=mw)
        if kind == "duration":
            out["unit"] = _DURATION_UNITS.get(mw, "")
        if g["count_n2"]:
            out["high"] = parse_number(g["count_n2"])
        if g["count_in"]:
            out.update(qualifier=lex.qualifiers_inside[g["count_in"]], qualifier_word=g["count_in"])
    else:  # the last alternative: a bare number
        out.update(kind="number", value=parse_number(g["number_n"]))
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
