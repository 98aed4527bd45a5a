"""The one adapter between the corpus layer and fact extraction: clean sentences in reading order.

Fact extraction reads the corpus that `analysis corpus` wrote (`analysis.corpus.load_corpus`)
and sees each sentence together with what a citation needs: its article, section and role.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..paths import PROCESSED


@dataclass(frozen=True)
class FactSentence:
    """A clean sentence with its article, section path and paragraph role."""

    id: str
    paragraph_id: str
    article_id: str
    article_title: str
    article_institute: str
    article_authors: tuple[str, ...]
    section_path: tuple[str, ...]
    role: str
    text: str

    @property
    def section(self) -> str:
        """The section path as one string ("heading > sub-heading"), empty for a preamble."""
        return " > ".join(self.section_path)


def load_sentences(processed_dir: Path = PROCESSED) -> list[FactSentence]:
    """Every clean sentence of the corpus in `processed_dir`, in reading order, all roles."""
    from ..corpus import load_corpus

    corpus = load_corpus(processed_dir)
    articles = {a.id: a for a in corpus.articles}
    sections = {p.id: p.section_path for p in corpus.paragraphs}
    return [
        FactSentence(
            id=s.id,
            paragraph_id=s.paragraph_id,
            article_id=s.article_id,
            article_title=articles[s.article_id].title,
            article_institute=articles[s.article_id].institute,
            article_authors=articles[s.article_id].authors,
            section_path=sections[s.paragraph_id],
            role=s.role,
            text=s.text,
        )
        for s in corpus.sentences
    ]
