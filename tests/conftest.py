"""Shared test helpers."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

CORPUS_FILES = ("corpus_articles.csv", "corpus_paragraphs.csv", "corpus_sentences.csv")


def _modified_corpus(corpus_dir: Path, folder: Path, old: str, new: str) -> tuple[Path, str]:
    """A copy of the clean corpus with `old` replaced by `new` in the one body sentence holding it.

    The copy is taken after cleaning: the corpus ties its reviewed repair decisions to the
    source's hash, so a changed raw file would (rightly) come back unrepaired. Returns the
    folder and the changed sentence.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name in CORPUS_FILES:
        shutil.copy(corpus_dir / name, folder / name)
    path = folder / "corpus_sentences.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    hits = [r for r in rows if old in r["text"] and r["role"] in ("body", "lede")]
    assert len(hits) == 1, f"{old!r} is in {len(hits)} body sentences"
    hits[0]["text"] = hits[0]["text"].replace(old, new)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder, hits[0]["text"]


@pytest.fixture
def modified_corpus() -> Callable[[Path, Path, str, str], tuple[Path, str]]:
    """The function that copies the corpus with one number (or word) changed."""
    return _modified_corpus
