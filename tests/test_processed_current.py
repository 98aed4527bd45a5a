"""data/processed/ is committed: it must be exactly what the current code makes from data/raw/."""

from __future__ import annotations

from pathlib import Path

from analysis.corpus.pipeline import run as build_corpus
from analysis.facts.pipeline import run as build_facts
from analysis.paths import PROCESSED, RAW


def test_committed_processed_data_is_what_the_code_produces(tmp_path: Path) -> None:
    assert build_corpus(strict=True, raw_dir=RAW, out_dir=tmp_path).exit_code == 0
    assert build_facts(strict=True, processed_dir=tmp_path, raw_dir=RAW).exit_code == 0
    made = {p.name: p.read_bytes() for p in sorted(tmp_path.iterdir()) if p.is_file()}
    committed = {p.name: p.read_bytes() for p in sorted(PROCESSED.iterdir()) if p.is_file()}
    assert sorted(made) == sorted(committed), "run `make data` and commit data/processed/"
    stale = [name for name in made if made[name] != committed[name]]
    assert not stale, f"data/processed/ is stale for {stale}: run `make data` and commit it"
