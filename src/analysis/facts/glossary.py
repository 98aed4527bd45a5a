"""The reviewed Chinese → English glossary (data/raw/glossary.csv), shared by tables and reports."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..paths import RAW, relative

GLOSSARY = RAW / "glossary.csv"
COLUMNS = ("zh", "en", "kind", "notes")


@dataclass(frozen=True)
class Glossary:
    """English labels by Chinese term; `kinds` says what each term is (industry, company...)."""

    path: Path
    en: dict[str, str]
    kinds: dict[str, str]

    def english(self, zh: str, *, where: str = "") -> str:
        """The English label of `zh`; InputError naming the glossary file if it has none."""
        try:
            return self.en[zh]
        except KeyError:
            raise InputError(
                f"{relative(self.path)} has no English label for “{zh}”{where}. Add a row "
                f"'{zh},<English>,<kind>,<notes>' to the glossary (it is reviewed data) and run "
                "again."
            ) from None


@functools.cache
def load_glossary(path: Path = GLOSSARY) -> Glossary:
    """Read and check the glossary: header, no empty cells in zh/en/kind, no duplicate term."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{relative(path)} is missing; restore it from git.") from None
    if text.startswith("\ufeff"):
        raise InputError(
            f"{relative(path)} starts with a UTF-8 byte-order mark; save it without BOM "
            "(plain UTF-8)."
        )
    rows = list(csv.reader(text.splitlines()))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise InputError(f"{relative(path)} line 1: the header must be {','.join(COLUMNS)}.")
    en: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        if len(row) != len(COLUMNS) or not all(cell.strip() for cell in row[:3]):
            raise InputError(
                f"{relative(path)} line {line}: expected {len(COLUMNS)} fields with zh, en and "
                f"kind filled in, found {row}."
            )
        zh = row[0].strip()
        if zh in en:
            raise InputError(f"{relative(path)} line {line}: the term “{zh}” is listed twice.")
        en[zh] = row[1].strip()
        kinds[zh] = row[2].strip()
    return Glossary(path, en, kinds)
