"""Numbers in the words of a report language: 44个 / 44, 93.5%, 4000亿元 / RMB 400 billion.

How each language writes numbers, amounts, ranks, months, qualifiers and lists is data, in the
`[format]` table of its words file (`lang.Lang.fmt`); the functions here apply it, so they
hold no language of their own. Every function takes `lang` as a code or a `Lang`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import Decimal

from ..facts.tables import QUALIFIERS
from .lang import check_lang


def _decimal(value: float | int | Decimal, digits: int) -> Decimal:
    """`value` rounded to `digits` decimals, trailing zeros removed, never in exponent form."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot format the non-finite number {value!r}")
    dec = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits)).normalize()
    if dec == dec.to_integral():
        dec = dec.quantize(Decimal(1))
    return dec


def format_number(value: float | int | Decimal, lang: str, digits: int = 2) -> str:
    """A plain number: at most `digits` decimals, no trailing zeros; grouped where the
    language groups thousands (English 4,000; Chinese 4000, as the source writes it)."""
    dec = _decimal(value, digits)
    return f"{dec:,f}" if check_lang(lang).fmt["group_thousands"] else f"{dec:f}"


def format_percent(value: float | int, lang: str) -> str:
    """93.5 → "93.5%" (both languages: the percent sign is the same)."""
    return f"{format_number(value, lang, digits=1)}%"


def format_amount(value_100m_yuan: float | int, lang: str) -> str:
    """An amount of money given in 亿元 (100 million yuan), in the scale words of `lang`.

    zh: 210亿元, 4000亿元, 1.2万亿元 (from 10000亿元 up); en: RMB 21 billion, RMB 400 billion,
    RMB 1.2 trillion (1亿元 = RMB 0.1 billion; below RMB 1 billion in millions).
    """
    lang = check_lang(lang)
    v = Decimal(str(value_100m_yuan))
    scales = lang.fmt["amounts"]
    for scale in scales:
        if abs(v) >= Decimal(str(scale["from"])) or scale is scales[-1]:
            return scale["pattern"].format(format_number(v / Decimal(str(scale["divide"])), lang))
    raise AssertionError("unreachable: the last scale always applies")  # pragma: no cover


def format_count(value: float | int, lang: str, measure: str = "") -> str:
    """A count: zh adds the measure word (44个, 13条); en prints the number alone (44)."""
    text = format_number(value, lang)
    return f"{text}{measure}" if check_lang(lang).fmt["count_measure"] else text


def format_spelled(value: float | int, lang: str, measure: str = "") -> str:
    """A small whole count written in words: en "two", zh 两批 (with its measure word).

    Chinese publishing norms (GB/T 15835-2011, 4.3) allow Chinese or Arabic numerals for small
    counts; the reports follow the source: its statistics in Arabic digits (44家, 8个), the
    small counts it writes as words in Chinese numerals (两批, 前两批, 三个“要求”, 两家, 前三家).
    Before a measure word 2 is 两, not 二. Counts the words file has no word for stay digits.
    """
    lang = check_lang(lang)
    number = int(value)
    if number != value or number < 0:
        raise ValueError(f"only whole counts are spelled out, not {value!r}")
    if lang.fmt["rank_numerals"] == "chinese":
        import cn2an

        text = "两" if number == 2 else cn2an.an2cn(number)
        return f"{text}{measure}"
    words = lang.fmt.get("cardinals") or []
    text = words[number] if number < len(words) else format_number(number, lang)
    return f"{text}{lang.fmt['word_space'] if measure else ''}{measure}"


def format_rank(rank: int, lang: str) -> str:
    """An ordinal rank: zh 第二, en second (words up to tenth, then 11th, 12th...)."""
    fmt = check_lang(lang).fmt
    rank = int(rank)
    if rank < 1:
        raise ValueError(f"a rank starts at 1, not {rank}")
    if fmt["rank_numerals"] == "chinese":
        import cn2an

        return fmt["rank"].format(cn2an.an2cn(rank))
    ordinals = fmt["ordinals"]
    if rank < len(ordinals):
        return fmt["rank"].format(ordinals[rank])
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return fmt["rank"].format(f"{rank}{suffix}")


def format_month(period: str, lang: str) -> str:
    """A period "2019-08" → 2019年8月 / August 2019; "2020" → 2020年 / 2020."""
    fmt = check_lang(lang).fmt
    match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", str(period).strip())
    if not match:
        raise ValueError(f"period {period!r} is neither YYYY nor YYYY-MM")
    year, month = match.group(1), match.group(2)
    if month is None:
        return fmt["year"].format(year=year)
    m = int(month)
    if not 1 <= m <= 12:
        raise ValueError(f"period {period!r} has no month {m}")
    names = fmt.get("months") or [""] * 12
    return fmt["month"].format(year=year, month=m, month_name=names[m - 1])


def in_parens(text: str, lang: str) -> str:
    """`text` in the parentheses of `lang`: （2020年） / (2020)."""
    fmt = check_lang(lang).fmt
    return f"{fmt['open_paren']}{text}{fmt['close_paren']}"


def qualify(text: str, qualifier: str | None, lang: str) -> str:
    """Wrap a formatted value in the words of its qualifier (超过 / more than, 不足 / less than)."""
    words = check_lang(lang).fmt["qualifiers"]
    qualifier = qualifier or "equal"
    if qualifier not in QUALIFIERS:
        raise ValueError(f"unknown qualifier {qualifier!r}; valid: {', '.join(QUALIFIERS)}")
    if qualifier == "order_of_magnitude":
        raise ValueError("order_of_magnitude values are written with format_value")
    return words[qualifier].format(text)


def _magnitude(value: float, lang: str, measure: str) -> str:
    """数十个 / dozens of; 上百种 / over a hundred: the text's vague orders of magnitude."""
    lang = check_lang(lang)
    exponent = round(math.log10(value)) if value > 0 else 0
    pattern = lang.fmt["magnitudes"].get(str(exponent))
    if pattern is None:  # no word for this power of ten
        pattern = lang.fmt["magnitude_other"]
    return pattern.format(number=format_number(value, lang), measure=measure)


def format_value(
    value: float | int,
    unit: str | None,
    lang: str,
    qualifier: str | None = "equal",
    measure: str = "",
) -> str:
    """Format a value of the fact tables by its unit (percent, 100m_yuan, rank, or a count)."""
    lang = check_lang(lang)
    unit = (unit or "").strip()
    if qualifier == "order_of_magnitude":
        return _magnitude(float(value), lang, measure)
    if unit in lang.fmt.get("spelled_units", ()) and (qualifier or "equal") == "equal":
        # Counts of things the text names as a set (两批, 三个“要求”): in words, as it does.
        if float(value).is_integer() and 0 <= value < len(lang.fmt.get("cardinals") or [0] * 10):
            return format_spelled(value, lang, measure)
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
    fmt = check_lang(lang).fmt
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    space = fmt["word_space"]
    word = conjunction or fmt["list_and"]
    if not space and any(word in item for item in items):
        # 天马和和辉光电, 电子信息和软件和信息服务: a name that holds the conjunction (和辉光电,
        # 软件和信息服务) makes the list ambiguous or doubles the particle; the source lists
        # such names with 、 alone, and so do we.
        return fmt["list_sep"].join(items)
    joiner = f"{space}{word}{space}"
    if space and len(items) > 2 and any(joiner in item for item in items):
        # "electronic information and software and information services": an item that holds
        # "and" takes the serial comma, so the last item reads as one.
        joiner = f"{fmt['list_sep'].rstrip()}{joiner}"
    return fmt["list_sep"].join(items[:-1]) + joiner + items[-1]


def join_names(items: Iterable[str], lang: str) -> str:
    """Names in a table cell, separated the way `lang` separates list items (no "and")."""
    return check_lang(lang).fmt["list_sep"].join(str(i) for i in items)
