"""The source corpus: ingest, parse, detect damage, repair through reviewed decisions, audit.

Run it with `analysis corpus [--strict]` (`analysis.corpus.pipeline.run`). Read it with
`load_corpus()`.

API for the next layer (fact extraction)::

    from analysis.corpus import load_corpus

    corpus = load_corpus()               # reads data/processed/corpus_*.csv (stdlib only)
    corpus.articles                      # [Article(id="a1", title, institute, authors, source,
                                         #          source_sha256, publisher, venue, date, ...)]
    corpus.paragraphs                    # [Paragraph] in reading order, all roles
    corpus.fact_paragraphs()             # roles lede and body only (no pull quotes, headings)
    corpus.sentences                     # [Sentence] in reading order
    corpus.fact_sentences()              # sentences of lede and body paragraphs
    corpus.sections("a1")                # [Section(article_id, path, paragraph_ids)]
    corpus.paragraph("a1-p016")          # one paragraph by id
    corpus.sentences_of("a1-p016")       # its sentences

`Paragraph`: `id` ("a1-p016": article id + number of the raw block the paragraph starts with,
so ids never shift when a repair is accepted), `article_id`, `section_path` (tuple of heading
texts below the article title; empty for the preamble), `role` (title, byline, lede, heading,
subheading, body, pull_quote, furniture: a page number or running head), `order` (1-based
within the article), `text` (clean: joined across page breaks, errata applied, full-width
punctuation in Chinese text), `source` (file name in data/raw/) and `raw_spans` (tuple of
(start, end) character offsets into the decoded raw file; a paragraph joined across a page
break has two spans, in reading order). `for_facts` is True for lede and body.

`Sentence`: `id` ("a1-p016-s02"), `paragraph_id`, `article_id`, `role` (its paragraph's),
`order`, `text` and `raw_spans`. `raw_text[start:end]` of each span is the raw text the sentence
came from (half-width punctuation and uncorrected typos included), so a quote can always be
checked against the source; character offsets of the UTF-8 file decoded as `str`.

Curated inputs in data/raw/: `sources.toml` (origin records; a source onboarded with `analysis
add-source` has its record in `<stem>.source.toml` beside it), `errata.csv` (reviewed typo
corrections) and `corpus_decisions.csv` (accept/reject per detector proposal). Outputs in
data/processed/: `corpus_articles.csv`, `corpus_paragraphs.csv`, `corpus_sentences.csv`,
`cleaning_audit.csv` (one row per change or considered change).
"""

from __future__ import annotations

from .model import Article, Corpus, Paragraph, Section, Sentence, load_corpus

__all__ = ["Article", "Corpus", "Paragraph", "Section", "Sentence", "load_corpus"]
