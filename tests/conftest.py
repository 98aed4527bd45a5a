"""Shared test helpers."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

CORPUS_FILES = ("corpus_articles.csv", "corpus_paragraphs.csv", "corpus_sentences.csv")


def _modified_corpus(corpus_dir: Path, folder: Path, old: str, new: str) -> tuple[Path, str]:
    """A copy of the clean corpus with `old` replaced by `new` in the one body sentence holding it.

    For tests of the fact base alone (a sentence that no longer matches its rule...);
    `modified_source` changes the raw document and cleans it again. Returns the folder and
    the changed sentence.
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


_REPORTS_BEFORE = pytest.StashKey[dict]()


def _reports_snapshot() -> dict[str, tuple[int, int]]:
    """Every file under the repository's reports/ with its size and modification time."""
    from analysis.paths import REPORTS

    found = {}
    for path in sorted(REPORTS.rglob("*")):
        try:
            if path.is_file():
                stat = path.stat()
                found[path.relative_to(REPORTS).as_posix()] = (stat.st_size, stat.st_mtime_ns)
        except OSError:  # removed while we looked
            continue
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_REPORTS_BEFORE] = _reports_snapshot()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test wrote into the repository's reports/ (builds, charts and logs
    of tests belong in temporary folders: reports/ is what `make reports` built)."""
    before = session.config.stash.get(_REPORTS_BEFORE, None)
    if before is None:
        return
    after = _reports_snapshot()
    changed = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    if changed:
        listed = "\n  ".join(changed[:20]) + ("\n  ..." if len(changed) > 20 else "")
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"the tests created, changed or removed files under reports/:\n  {listed}"
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "reports/ was written to", red=True)
            reporter.write_line(message)
        else:  # pragma: no cover - without the terminal plugin
            print(message)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def modified_corpus() -> Callable[[Path, Path, str, str], tuple[Path, str]]:
    """The function that copies the corpus with one number (or word) changed."""
    return _modified_corpus


def _modified_source(folder: Path, old: str, new: str) -> tuple[Path, str]:
    """A copy of data/raw/ with `old` replaced by `new` in the raw document, cleaned again.

    Every occurrence is replaced (a pull quote repeats its body sentence, and a correction
    would fix both). The copy's origin record gets the new sha256 and size. The reviewed repair
    decisions are keyed on the text of the blocks they touch, so they still apply everywhere
    but in the changed blocks: there, the run reports the old decisions as stale and the
    repairs as undecided. This helper re-reviews them as a reviewer would, giving each
    undecided repair the verdict of the stale decision of the same kind, and checks that
    nothing else changed. Returns the folder of the clean corpus and the changed sentence.
    """
    from analysis.corpus.origin import load_origins
    from analysis.corpus.pipeline import run as build_corpus
    from analysis.paths import RAW

    raw = folder / "raw"
    shutil.copytree(RAW, raw)
    (origin,) = load_origins(raw)
    document = raw / origin.file
    document.chmod(0o644)
    text = document.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in the raw document"
    data = text.replace(old, new).encode("utf-8")
    document.write_bytes(data)
    record = (raw / "sources.toml").read_text(encoding="utf-8")
    record = record.replace(origin.sha256, hashlib.sha256(data).hexdigest())
    record = re.sub(r"(?m)^size_bytes = \d+$", f"size_bytes = {len(data)}", record)
    (raw / "sources.toml").write_text(record, encoding="utf-8")
    corpus = folder / "corpus"
    summary = build_corpus(strict=True, raw_dir=raw, out_dir=corpus)
    if summary.exit_code:
        _re_review(raw, summary.undecided, summary.stale)
        summary = build_corpus(strict=True, raw_dir=raw, out_dir=corpus)
    assert summary.exit_code == 0, summary.render()
    with (corpus / "corpus_sentences.csv").open(encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(fh)
        hits = [r["text"] for r in rows if r["role"] in ("body", "lede") and _has(r["text"], new)]
    assert len(hits) == 1, f"{new!r} is in {len(hits)} clean body sentences"
    return corpus, hits[0]


def _has(clean: str, raw: str) -> bool:
    """Whether the clean text holds the raw words (the corpus makes punctuation full-width)."""
    return unicodedata.normalize("NFKC", raw) in unicodedata.normalize("NFKC", clean)


def _re_review(raw: Path, undecided, stale) -> None:
    """Give each undecided repair the verdict of the stale decision of its kind."""
    verdicts: dict[str, set[str]] = {}
    for d in stale:
        verdicts.setdefault(d.kind, set()).add(d.decision)
    kinds = sorted(p.kind for p in undecided)
    assert kinds == sorted(d.kind for d in stale), (kinds, [d.kind for d in stale])
    assert all(len(v) == 1 for v in verdicts.values()), verdicts
    path = raw / "corpus_decisions.csv"
    gone = {d.proposal_id for d in stale}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["proposal_id"] not in gone]
    for p in undecided:
        (verdict,) = verdicts[p.kind]
        rows.append({"proposal_id": p.id, "kind": p.kind, "decision": verdict, "note": "test"})
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def modified_source() -> Callable[[Path, str, str], tuple[Path, str]]:
    """The function that copies the raw document with one number (or word) changed and
    rebuilds its clean corpus with the reviewed decisions."""
    return _modified_source
