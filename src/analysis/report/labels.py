"""Names in the report language: provinces (`analysis.provinces`), terms (the reviewed glossary,
`data/raw/glossary.csv`) and the reviewed labels of the words files.

In the source's language a name is printed as the text writes it; in a translation, through the
province reference or the glossary (`Lang.is_source`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    """`<base>_zh` in the source's language; `<base>_en (<base>_zh)` in a translation."""
    zh = row[f"{base}_zh"]
    return str(check_lang(lang).pick(zh, f"{row[f'{base}_en']} ({zh})"))


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
