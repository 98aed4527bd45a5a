"""Benchmark the corpus step (issue 3).

Targets: the real source end to end (`run(strict=True)`: origin records, hash check, parse,
detectors, decisions, four CSV files written) in at most 0.5 s; a synthetic corpus of 1,000
documents generated from the source at no less than 2 MB of text per second on one core, with
time growing linearly in the corpus size (throughput printed at 250, 500 and 1,000 documents).

The synthetic documents are perturbed copies of the source, so every detector still fires:
digits are redrawn, about 3% of the Han characters in running text are swapped for others of
the document, and about 15% of the body paragraphs get an extra page break in the middle of a
sentence; the displaced section, the decks and the half-width punctuation stay. Every proposal
is accepted, so the repairs are applied, and the CSV text is rendered (not written).
MB means 10^6 bytes of UTF-8 text; MB/s is measured on the CPU time of the process.

Run: `.venv/bin/python bench/bench_corpus.py`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from analysis.corpus import pipeline
from analysis.corpus.audit import AUDIT_COLUMNS
from analysis.corpus.model import PARAGRAPH_COLUMNS, SENTENCE_COLUMNS
from analysis.corpus.origin import SourceOrigin, load_origins
from analysis.corpus.punctuation import is_han
from analysis.paths import RAW

SOURCE_TARGET_S = 0.5
THROUGHPUT_TARGET_MB_S = 2.0
SIZES = (250, 500, 1000)
RUNS = 5
REPEATS = 3  # best of: a shared machine only ever makes a run slower
SEED = 20210702


def synthetic_corpus(raw: str, origin: SourceOrigin, n: int) -> list[tuple[bytes, SourceOrigin]]:
    """`n` perturbed copies of `raw`, each with an origin record that matches its bytes."""
    pool = sorted({c for c in raw if is_han(c)})
    blocks = re.split(r"(\n\s*\n)", raw)
    docs = []
    for i in range(n):
        rng = random.Random(SEED + i)
        out = []
        for k, block in enumerate(blocks):
            is_text = (
                k % 2 == 0
                and block.strip()
                and not block.lstrip().startswith("#")
                and len(block) > 40
            )
            if not is_text:
                out.append(block)
                continue
            chars = list(block)
            for j, c in enumerate(chars):
                if c.isdigit():
                    chars[j] = str(rng.randrange(10))
                elif is_han(c) and rng.random() < 0.03:
                    chars[j] = rng.choice(pool)
            text = "".join(chars)
            if rng.random() < 0.15:
                cut = rng.randrange(len(text) // 3, 2 * len(text) // 3)
                if is_han(text[cut - 1]) and is_han(text[cut]):
                    text = text[:cut] + "\n\n" + text[cut:]
            out.append(text)
        data = "".join(out).encode("utf-8")
        docs.append(
            (
                data,
                dataclasses.replace(
                    origin,
                    file=f"synthetic_{i:04d}.txt",
                    sha256=hashlib.sha256(data).hexdigest(),
                    size_bytes=len(data),
                ),
            )
        )
    return docs


def process_corpus(docs: list[tuple[bytes, SourceOrigin]]) -> int:
    """Check, parse, repair and render every document; return the number of paragraphs."""
    paragraphs = 0
    for data, origin in docs:
        result = pipeline.process_bytes(data, origin)
        pipeline.csv_text(PARAGRAPH_COLUMNS, result.paragraph_rows)
        pipeline.csv_text(SENTENCE_COLUMNS, result.sentence_rows)
        pipeline.csv_text(AUDIT_COLUMNS, result.audit_rows)
        paragraphs += len(result.paragraph_rows)
    return paragraphs


def _timed(fn, arg) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of `fn(arg)`."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(arg)
    return time.perf_counter() - wall, time.process_time() - cpu


def _loop_ms() -> float:
    """Milliseconds for a million empty loop iterations: how fast this core is right now."""
    start = time.perf_counter()
    for _ in range(1_000_000):
        pass
    return (time.perf_counter() - start) * 1000


def main() -> int:
    origin = load_origins(RAW)[0]
    raw = (RAW / origin.file).read_text(encoding="utf-8")
    failed = False
    print(f"{'what':<38}{'docs':>6}{'MB':>7}{'wall s':>8}{'cpu s':>8}{'MB/s':>7}  {'target':<13}ok")

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(RUNS):
            times.append(_timed(lambda out: pipeline.run(strict=True, out_dir=out), Path(tmp)))
    wall = statistics.median(t[0] for t in times)
    cpu = statistics.median(t[1] for t in times)
    size_mb = len(raw.encode("utf-8")) / 1e6
    ok = wall <= SOURCE_TARGET_S
    failed |= not ok
    print(
        f"{'source: run(strict=True), writes CSV':<38}{1:>6}{size_mb:>7.3f}{wall:>8.3f}{cpu:>8.3f}"
        f"{size_mb / cpu:>7.2f}  {'<= 0.5 s':<13}{'yes' if ok else 'NO'}"
    )

    docs = synthetic_corpus(raw, origin, max(SIZES))
    process_corpus(docs[:20])  # warm up caches
    rates = []
    for n in SIZES:
        subset = docs[:n]
        mb = sum(len(d) for d, _ in subset) / 1e6
        wall, cpu = min(
            (_timed(process_corpus, subset) for _ in range(REPEATS)), key=lambda t: t[1]
        )
        rate = mb / cpu
        rates.append(rate)
        ok = rate >= THROUGHPUT_TARGET_MB_S
        failed |= not ok
        print(
            f"{'synthetic corpus, all accepted':<38}{n:>6}{mb:>7.2f}{wall:>8.2f}{cpu:>8.2f}"
            f"{rate:>7.2f}  {'>= 2 MB/s':<13}{'yes' if ok else 'NO'}"
        )
    spread = max(rates) / min(rates)
    linear = spread <= 1.25
    failed |= not linear
    print(
        f"linear growth: MB/s varies by a factor of {spread:.2f} from {SIZES[0]} to "
        f"{SIZES[-1]} documents (<= 1.25): {'yes' if linear else 'NO'}"
    )
    print(
        f"(MB/s on CPU time of one process on one core; source: median of {RUNS} runs; "
        f"synthetic: best of {REPEATS} runs per size; this core: {_loop_ms():.0f} ms per 10^6 "
        f"empty loop iterations, load average {os.getloadavg()[0]:.2f})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
