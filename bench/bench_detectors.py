"""Recall and precision of the repair detectors, per kind of damage, on generated documents.

The documents are the project's own repaired corpus (data/processed/, its two articles) and
the articles written for the benchmark (tests/data/damage_base.md), printed with known damage
by analysis.corpus.damage (seeded: the same documents on every run and machine). Every
proposal is accepted, as a reviewer who agreed with all of them would.

    .venv/bin/python bench/bench_detectors.py [--documents 60] [--seed 0] [--misses]

Targets (issue 12): recall >= 0.95 and precision >= 0.95 for each kind, on the main set (one
displaced fragment in three documents of four, cut where its continuation visibly begins
mid-sentence, as in the source). Exit 1 when a kind misses a target there. Two stress sets are
printed beside it, not held to the targets, to show where the text's evidence runs out: two
displaced fragments in every document (which continuation belongs to which fragment is then
told only by what the paragraphs share), and fragments cut at any character (the continuation
then often reads as a sentence start: nothing in the text says where it went).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from analysis.corpus import load_corpus
from analysis.corpus.damage import (
    DAMAGE_KINDS,
    articles_from_corpus,
    articles_from_markdown,
    clean_document,
    generate,
    score,
)

ROOT = Path(__file__).resolve().parents[1]
OWN_TEXT = ROOT / "tests" / "data" / "damage_base.md"
TARGET = 0.95


def pool():
    """The clean articles the documents are made of."""
    own = articles_from_markdown(OWN_TEXT.read_text(encoding="utf-8"))
    return articles_from_corpus(load_corpus()) + own


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--misses", action="store_true", help="list every miss and wrong one")
    args = parser.parse_args(argv)
    articles = pool()
    t0 = time.perf_counter()
    docs = generate(articles, args.documents, seed=args.seed)
    result = score(docs)
    elapsed = time.perf_counter() - t0
    print(
        f"{result.documents} documents (seed {args.seed}) from {len(articles)} clean articles; "
        f"{elapsed:.1f} s"
    )
    print(f"{'kind':<18}{'done':>6}{'found':>7}{'wrong':>7}{'recall':>8}{'precision':>11}")
    failed = False
    for kind in DAMAGE_KINDS:
        t = result.tallies[kind]
        ok = t.recall >= TARGET and t.precision >= TARGET
        failed |= not ok
        print(
            f"{kind:<18}{t.tp + t.fn:>6}{t.tp:>7}{t.fp:>7}{t.recall:>8.3f}{t.precision:>11.3f}"
            f"{'' if ok else '  below target'}"
        )
    print(f"documents repaired to exactly the clean text: {result.restored}/{result.documents}")
    if args.misses:
        for line in result.misses:
            print("  " + line)
    clean = score([clean_document(articles, "clean.txt")])
    wrong = sum(t.fp for t in clean.tallies.values())
    print(f"the clean articles, undamaged: {wrong} proposals (each one a false positive)")
    failed |= wrong > 0
    stress = {
        "two displaced fragments in every document": dict(moves=2),
        "fragments cut at any character": dict(visible_moves=False, moves=1),
    }
    print("stress sets (reading order only, not held to the targets):")
    for label, options in stress.items():
        t = score(generate(articles, args.documents, seed=args.seed, **options)).tallies[
            "reading_order"
        ]
        print(
            f"  {label}: {t.tp + t.fn} fragments, recall {t.recall:.3f}, "
            f"precision {t.precision:.3f}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
