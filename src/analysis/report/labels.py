"""Names in the report language: provinces (`analysis.provinces`), terms (the reviewed glossary,
`data/raw/glossary.csv`) and the reviewed labels of the words files.

In the source's language a name is printed as the text writes it; in a translation, through the
province reference or the glossary (`Lang.is_source`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from ..errors import InputError
from ..missing import is_missing
from .lang import check_lang


def province_name(name: object, lang: str) -> str:
    """The name of a province in the report language (short Chinese name or English name)."""
    from ..provinces import resolve

    unit = resolve(name)
    return check_lang(lang).pick(unit.short_zh, unit.name_en)


def english(zh: str) -> str:
    """The English label of a Chinese term from the reviewed glossary (InputError if missing)."""
    from ..facts.glossary import load_glossary

    return load_glossary().english(str(zh).strip())


def glossary_label(zh: str) -> str | None:
    """The glossary's English label of `zh`, or None when the glossary has none."""
    from ..facts.glossary import load_glossary

    try:
        return load_glossary().en.get(zh)
    except InputError:
        return None


def label(zh: str, lang: str, en: str | None = None) -> str:
    """`zh` itself in Chinese; in English `en` when given, else the glossary's label."""
    if check_lang(lang).is_source:
        return str(zh)
    if en is not None and not is_missing(en) and str(en).strip() and str(en) != "nan":
        return str(en)
    return english(zh)


def row_label(row: Mapping[str, Any], base: str, lang: str) -> str:
    """The label of `row` in `lang` from its `<base>_zh` and `<base>_en` columns."""
    return label(row[f"{base}_zh"], lang, row.get(f"{base}_en"))


def pair(row: Mapping[str, Any], base: str, lang: str) -> Any:
    """The row's `<base>_zh` in the source's language, its `<base>_en` otherwise (no glossary)."""
    return check_lang(lang).pick(row[f"{base}_zh"], row[f"{base}_en"])


def with_original(row: Mapping[str, Any], base: str, lang: str) -> str:
    """`<base>_zh` in the source's language; `<base>_en (<base>_zh)` in a translation, the
    Chinese marked as such (HTML)."""
    zh = row[f"{base}_zh"]
    if check_lang(lang).is_source:
        return str(zh)
    if not any("\u4e00" <= ch <= "\u9fff" for ch in str(zh)):
        # The text's own name is already Latin (LT-PO, POL-Less): the English says it.
        return str(row[f"{base}_en"])
    return beside(str(row[f"{base}_en"]), str(zh))


def zh_span(zh: str) -> Markup:
    """Chinese inside an English page, marked `lang="zh-CN"` (glyphs, screen readers, tests)."""
    return Markup('<span lang="zh-CN">{}</span>').format(zh)


_CHINESE_RUN = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef…¶“”‘’]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def mark_chinese(text: str) -> Markup:
    """English text that quotes Chinese (a repair's reason): each run of Chinese marked
    `lang="zh-CN"`, with the punctuation that belongs to it."""
    out, last = [], 0
    for match in _CHINESE_RUN.finditer(str(text)):
        if not _HAN.search(match.group()):
            continue
        out.append(escape(text[last : match.start()]))
        out.append(zh_span(match.group()))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def en_span(en: str) -> Markup:
    """English inside a Chinese page (a column of English names), marked `lang="en"`."""
    return Markup('<span lang="en">{}</span>').format(en)


def beside(en: str, zh: str) -> Markup:
    """English with its Chinese original beside it: `industrial clusters (产业集群)`."""
    return Markup("{} ({})").format(en, zh_span(zh))


def words(lang: str, group: str) -> dict[str, str]:
    """A group of reviewed labels of the words file (`[labels.<group>]`), e.g. "levels"."""
    return check_lang(lang).words["labels"].get(group, {})


def indicator_label(row: Mapping[str, Any], lang: str) -> str:
    """What an indicator row measures, in words that stand alone (reviewed, per language).

    The text's own words (`label_zh`, e.g. 整体产值) rely on their sentence; the reports name
    the indicator in full. Rows of indicators the words file does not know keep the text's words.
    """
    return words(lang, "indicators").get(str(row.get("indicator"))) or row_label(row, "label", lang)


def capitalised(text: str, lang: str) -> str:
    """A label that starts a line: glossary labels start in lower case; the source's do not."""
    return text if check_lang(lang).is_source else text[:1].upper() + text[1:]


def region_name(region_zh: str, lang: str) -> str:
    """The name of an NBS economic region (东部 / Eastern) in the report language."""
    from ..provinces import REGIONS

    return check_lang(lang).pick(region_zh, REGIONS.get(region_zh))


# --------------------------------------------------------------------------------------------
# Curated translations of the source's sentences and phrases, and romanised author names
# --------------------------------------------------------------------------------------------

TRANSLATIONS_FILE = "translations.csv"
AUTHOR_NAMES_FILE = "author_names.csv"
_SENTENCE_ID = r"a[0-9a-z_]*-p\d+-s\d+"


def _curated_rows(file_name: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a curated CSV of data/raw/ with their line numbers; `#` lines are comments."""
    import csv

    from ..paths import RAW, relative

    path = RAW / file_name
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{relative(path)} is missing; restore it from git.") from None
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if not line.startswith("#")]
    rows = list(csv.reader(line for _, line in numbered))
    if not rows or tuple(rows[0]) != columns:
        line = numbered[0][0] if numbered else 1
        raise InputError(f"{relative(path)} line {line}: the header must be {','.join(columns)}.")
    out = []
    for (line, _), row in zip(numbered[1:], rows[1:], strict=True):
        if not any(row):
            continue
        if len(row) != len(columns) or not all(c.strip() for c in row[:2]):
            raise InputError(
                f"{relative(path)} line {line}: expected {len(columns)} fields with "
                f"{columns[0]} and {columns[1]} filled in, found {row}."
            )
        out.append((line, dict(zip(columns, (c.strip() for c in row), strict=True))))
    return out


@functools.cache
def translations() -> dict[str, str]:
    """The project's English of each quoted sentence (by sentence id) and phrase (by its
    Chinese), from data/raw/translations.csv, checked against the clean corpus: a sentence
    whose Chinese no longer matches the corpus, or a phrase the corpus no longer contains, is
    an InputError naming the line (the translation would be of another text)."""
    import re

    from ..corpus import load_corpus
    from ..paths import RAW, relative

    corpus = {s.id: s.text for s in load_corpus().sentences}
    everything = "\n".join(corpus.values())
    where = relative(RAW / TRANSLATIONS_FILE)
    out: dict[str, str] = {}
    for line, row in _curated_rows(TRANSLATIONS_FILE, ("key", "zh", "en")):
        key, zh = row["key"], row["zh"]
        if re.fullmatch(_SENTENCE_ID, key):
            if corpus.get(key) != zh:
                raise InputError(
                    f"{where} line {line}: sentence {key} reads "
                    f"“{corpus.get(key, '(no such sentence)')}” in the clean corpus, not “{zh}”. "
                    "Review the translation against the corpus and update the row."
                )
            name = key
        elif key == "phrase":
            if zh not in everything:
                raise InputError(
                    f"{where} line {line}: the phrase “{zh}” is in no sentence of the clean "
                    "corpus. Review the row against the corpus."
                )
            name = zh
        else:
            raise InputError(
                f"{where} line {line}: key {key!r} is neither a sentence id nor `phrase`."
            )
        if name in out:
            raise InputError(f"{where} line {line}: {name} is translated twice.")
        if not row["en"] or any("\u4e00" <= ch <= "\u9fff" for ch in row["en"]):
            raise InputError(f"{where} line {line}: the English of {name} is empty or not English.")
        out[name] = row["en"]
    return out


def translation(key: str) -> str:
    """The English of a sentence id or a phrase (InputError naming the file if it has none)."""
    from ..paths import RAW, relative

    try:
        return translations()[key]
    except KeyError:
        raise InputError(
            f"{relative(RAW / TRANSLATIONS_FILE)} has no English for {key!r}, which a report "
            "quotes. Add a reviewed row (key,zh,en) and build again."
        ) from None


@functools.cache
def author_names() -> dict[str, str]:
    """Romanised author names by Chinese name (data/raw/author_names.csv, reviewed)."""
    rows = _curated_rows(AUTHOR_NAMES_FILE, ("name_zh", "name_en", "override"))
    return {row["name_zh"]: row["name_en"] for _, row in rows}


def author_name(zh: str, lang: str) -> str:
    """An author's name in the report language: as written in Chinese, romanised in English."""
    if check_lang(lang).is_source:
        return zh
    from ..paths import RAW, relative

    try:
        return author_names()[zh]
    except KeyError:
        raise InputError(
            f"{relative(RAW / AUTHOR_NAMES_FILE)} has no romanised name for {zh}; add a reviewed "
            "row (pypinyin proposes one) and build again."
        ) from None


def unit_kind(unit: Any, lang: str) -> str:
    """What a province-level unit is, in words: province, autonomous region, municipality."""
    return words(lang, "unit_kinds")[str(unit.kind)]
