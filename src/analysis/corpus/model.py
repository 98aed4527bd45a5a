"""The corpus as the next layer sees it, and `load_corpus()` to read it from data/processed/.

Only the standard library is used, so loading the corpus stays cheap.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..paths import PROCESSED, relative
from .text import parse_spans

ARTICLES_FILE = "corpus_articles.csv"
PARAGRAPHS_FILE = "corpus_paragraphs.csv"
SENTENCES_FILE = "corpus_sentences.csv"
AUDIT_FILE = "cleaning_audit.csv"

ARTICLE_COLUMNS = (
    "article_id",
    "source",
    "source_sha256",
    "title",
    "institute",
    "authors",
    "publisher",
    "venue",
    "date",
    "provenance_note",
)
PARAGRAPH_COLUMNS = (
    "article_id",
    "section_path",
    "paragraph_id",
    "role",
    "order",
    "text",
    "source",
    "raw_spans",
)
SENTENCE_COLUMNS = (
    "sentence_id",
    "paragraph_id",
    "article_id",
    "role",
    "order",
    "text",
    "raw_spans",
)
SECTION_SEPARATOR = " > "
# Roles whose text states the article's own findings; pull quotes restate them and headings,
# titles and bylines are labels.
FACT_ROLES = frozenset({"lede", "body"})


@dataclass(frozen=True)
class Article:
    """One article: id (a1, oled_2022...: sources.toml), its source file and origin record."""

    id: str
    source: str
    source_sha256: str
    title: str
    institute: str
    authors: tuple[str, ...]
    publisher: str
    venue: str
    date: str
    provenance_note: str


@dataclass(frozen=True)
class Paragraph:
    """A clean paragraph with its place in the article and its raw character spans."""

    id: str
    article_id: str
    section_path: tuple[str, ...]
    role: str
    order: int
    text: str
    source: str
    raw_spans: tuple[tuple[int, int], ...]

    @property
    def for_facts(self) -> bool:
        """Whether fact extraction should read this paragraph (lede and body only)."""
        return self.role in FACT_ROLES


@dataclass(frozen=True)
class Sentence:
    """A clean sentence with its paragraph and its raw character spans."""

    id: str
    paragraph_id: str
    article_id: str
    role: str
    order: int
    text: str
    raw_spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Section:
    """A section of an article: its heading path and its paragraphs in reading order."""

    article_id: str
    path: tuple[str, ...]
    paragraph_ids: tuple[str, ...]


@dataclass
class Corpus:
    """Articles, sections, paragraphs and sentences of the clean corpus, in reading order."""

    articles: list[Article]
    paragraphs: list[Paragraph]
    sentences: list[Sentence]
    _paragraph_index: dict[str, Paragraph] = field(default_factory=dict, repr=False)
    _sentence_index: dict[str, list[Sentence]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._paragraph_index = {p.id: p for p in self.paragraphs}
        for s in self.sentences:
            self._sentence_index.setdefault(s.paragraph_id, []).append(s)

    def paragraph(self, paragraph_id: str) -> Paragraph:
        """The paragraph with id `paragraph_id` (KeyError if there is none)."""
        return self._paragraph_index[paragraph_id]

    def sentences_of(self, paragraph_id: str) -> list[Sentence]:
        """The sentences of one paragraph, in order."""
        return list(self._sentence_index.get(paragraph_id, []))

    def article(self, article_id: str) -> Article:
        """The article with id `article_id`."""
        for a in self.articles:
            if a.id == article_id:
                return a
        raise KeyError(article_id)

    def sections(self, article_id: str | None = None) -> list[Section]:
        """Sections in reading order (the preamble has the empty path), optionally of one."""
        out: list[Section] = []
        for p in self.paragraphs:
            if article_id is not None and p.article_id != article_id:
                continue
            if out and out[-1].article_id == p.article_id and out[-1].path == p.section_path:
                last = out[-1]
                out[-1] = Section(last.article_id, last.path, (*last.paragraph_ids, p.id))
            else:
                out.append(Section(p.article_id, p.section_path, (p.id,)))
        return out

    def fact_paragraphs(self) -> list[Paragraph]:
        """The paragraphs fact extraction should read: ledes and body text, no pull quotes."""
        return [p for p in self.paragraphs if p.for_facts]

    def fact_sentences(self) -> list[Sentence]:
        """The sentences of `fact_paragraphs()`, in reading order."""
        return [s for s in self.sentences if s.role in FACT_ROLES]


def _read(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise InputError(f"{relative(path)}: not found; run `analysis corpus` to build the corpus.")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != columns:
            raise InputError(
                f"{relative(path)}:1: unexpected columns; rebuild it with `analysis corpus`."
            )
        return list(reader)


def load_corpus(processed_dir: Path = PROCESSED) -> Corpus:
    """Load the clean corpus written by `analysis corpus` from `processed_dir`."""
    d = Path(processed_dir)
    articles = [
        Article(
            id=r["article_id"],
            source=r["source"],
            source_sha256=r["source_sha256"],
            title=r["title"],
            institute=r["institute"],
            authors=tuple(a for a in r["authors"].split(";") if a),
            publisher=r["publisher"],
            venue=r["venue"],
            date=r["date"],
            provenance_note=r["provenance_note"],
        )
        for r in _read(d / ARTICLES_FILE, ARTICLE_COLUMNS)
    ]
    paragraphs = [
        Paragraph(
            id=r["paragraph_id"],
            article_id=r["article_id"],
            section_path=tuple(r["section_path"].split(SECTION_SEPARATOR))
            if r["section_path"]
            else (),
            role=r["role"],
            order=int(r["order"]),
            text=r["text"],
            source=r["source"],
            raw_spans=parse_spans(r["raw_spans"]),
        )
        for r in _read(d / PARAGRAPHS_FILE, PARAGRAPH_COLUMNS)
    ]
    sentences = [
        Sentence(
            id=r["sentence_id"],
            paragraph_id=r["paragraph_id"],
            article_id=r["article_id"],
            role=r["role"],
            order=int(r["order"]),
            text=r["text"],
            raw_spans=parse_spans(r["raw_spans"]),
        )
        for r in _read(d / SENTENCES_FILE, SENTENCE_COLUMNS)
    ]
    return Corpus(articles, paragraphs, sentences)
