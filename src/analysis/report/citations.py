"""Provenance in the report language: the citation of a row, the source line of a chart or
table ("Source: …"), and the citation of a whole report.

There is one `Citation` class, the facts layer's (`analysis.facts.api.Citation`, what
`analysis.cite` returns); this module looks citations up by sentence id (cached, since a report
cites the same sentences many times) and writes them in the words of `[common]`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from ..errors import InputError
from ..missing import is_missing
from .labels import author_name, glossary_label, translation, zh_span
from .lang import check_lang

if TYPE_CHECKING:  # pragma: no cover
    from ..facts.api import Citation


def citation(source: Mapping[str, Any] | str) -> Citation:
    """The citation of a table row (its `sentence_id` and `quote`) or of a sentence id."""
    if isinstance(source, str):
        sentence_id, quote = source, ""
    else:
        sentence_id = str(source["sentence_id"])
        quote = "" if is_missing(source.get("quote")) else str(source.get("quote"))
    try:
        found = _cite(sentence_id)
    except KeyError:
        raise InputError(
            f"Sentence {sentence_id!r} is not in the cited_sentences table of data/processed/. "
            "The fact tables and the reports are out of step: run `make data` and build again."
        ) from None
    return dataclasses.replace(found, quote=quote or found.sentence)


@functools.lru_cache(maxsize=512)
def _cite(sentence_id: str) -> Citation:
    from ..facts.api import cite

    return cite({"sentence_id": sentence_id, "quote": ""})


def section_label(section: str, lang: str) -> str:
    """The last heading of a section path, translated through the glossary when it has one."""
    parts = [p.strip() for p in section.split(">") if p.strip()]
    if not parts:
        return ""
    heading = parts[-1]
    if check_lang(lang).is_source:
        return f"“{nest_quotes(heading)}”"
    return f"“{nest_quotes(_english(heading, 'section heading'))}”"


def _english(zh: str, what: str) -> str:
    """The glossary's English of a title or heading an English page names (InputError if
    missing: an English report prints no untranslated Chinese)."""
    translated = glossary_label(zh)
    if translated is None:
        raise InputError(
            f"data/raw/glossary.csv has no English for the {what} “{zh}”, which an English "
            "report names. Add a reviewed row and build again."
        )
    return translated


def heading_text(section: str, lang: str) -> str:
    """The last heading of a section path as a table cell shows it: no quotation marks, in
    English the glossary's rendering."""
    heading = last_heading(section)
    if not heading or check_lang(lang).is_source:
        return heading
    return _english(heading, "section heading")


def last_heading(section: str) -> str:
    """The last heading of a section path ("一、… > （二）…" → "（二）…")."""
    parts = [p.strip() for p in section.split(">") if p.strip()]
    return parts[-1] if parts else ""


def article_label(title: str, lang: str) -> str:
    """《title》; in a translation the glossary's rendering of the title, marked as a
    translation of a Chinese original (“…” (in Chinese)), as citations of translated titles are
    written: an English page cites in English."""
    if check_lang(lang).is_source:
        return f"《{title}》"
    t = check_lang(lang).words["common"]
    return t["title_translated"].format(title=_english(title, "article title"))


def institute_label(institute: str, lang: str) -> str:
    """The institute as the source names it, or its glossary label (else the publisher)."""
    lang = check_lang(lang)
    if lang.is_source:
        return institute
    return glossary_label(institute) or lang.words["common"]["publisher"]


def report_citation(article_ids: Sequence[str], lang: str) -> str:
    """The "Source: …" line of a whole report: institute, authors and title of each article.

    From the origin records (data/raw/sources.toml, through the corpus) and, in English, the
    glossary; `reports.toml` asks for it with `source = { articles = ["a1"] }`.
    """
    from ..corpus import load_corpus

    t = check_lang(lang).words["common"]
    articles = {a.id: a for a in load_corpus().articles}
    parts = []
    for article_id in article_ids:
        article = articles.get(article_id)
        if article is None:
            raise InputError(
                f"unknown article {article_id!r}; the articles of the source are "
                f"{', '.join(articles)} (data/raw/sources.toml)."
            )
        *first, last = [author_name(a, lang) for a in article.authors] or [""]
        names = f"{t['authors_sep'].join(first)}{t['authors_last']}{last}" if first else last
        parts.append(
            t["citation_article"].format(
                institute=institute_label(article.institute, lang),
                authors=names,
                article=article_label(article.title, lang),
            )
        )
    if not parts:
        raise InputError("a report citation needs at least one article id.")
    return t["citation_prefix"] + t["citation_join"].join(parts) + t["citation_end"]


def source_caption(
    rows: Iterable[Mapping[str, Any] | str] | Any, lang: str, *, short: bool = False
) -> str:
    """The "Source: …" line of a chart or table: article title and section(s) of its rows.

    `rows` are table rows (mappings with `sentence_id`), a DataFrame, or sentence ids. Rows from
    several sections of one article name each section once, in the order they first appear.
    `short` (a table inside a report, whose title block cites the article): rows of one article
    name only their sections ("the article, section …"); a chart's caption, drawn into a file
    that travels alone, keeps the full citation.
    """
    t = check_lang(lang).words["common"]
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict("records")
    by_article: dict[str, tuple[Citation, list[str]]] = {}
    for row in rows:
        cite = citation(row)
        entry = by_article.setdefault(cite.article_title, (cite, []))
        label_ = section_label(cite.section, lang)
        if label_ and label_ not in entry[1]:
            entry[1].append(label_)
    if not by_article:
        raise ValueError("source_caption: no rows to cite")
    if short and len(by_article) == 1:
        ((_, sections),) = by_article.values()
        if sections:
            pattern = t["caption_short_many" if len(sections) > 1 else "caption_short"]
            # Quoted headings in a series: zh sets no 顿号 between them (GB/T 15834).
            where = pattern.format(sections=t["section_sep"].join(sections))
            return t["caption_prefix"] + where + t["caption_end"]
    parts = []
    for cite, sections in by_article.values():
        many = len(sections) > 1 and "caption_sections_many" in t
        pattern = t["caption_sections_many"] if many else t["caption_sections"]
        where = pattern.format(sections=t["section_sep"].join(sections))
        parts.append(
            t["caption_article"].format(
                institute=institute_label(cite.institute, lang),
                article=article_label(cite.article_title, lang),
                sections=where if sections else "",
            )
        )
    return t["caption_prefix"] + t["caption_join"].join(parts) + t["caption_end"]


# --------------------------------------------------------------------------------------------
# Quoting the source: errata marked, translations beside the original
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _errata() -> tuple[tuple[str, str, str], ...]:
    """The accepted errata of the corpus step: (paragraph id, as printed, as corrected)."""
    from .audit import cleaning_audit

    audit = cleaning_audit()
    rows = audit[(audit["kind"] == "erratum") & (audit["decision"] == "accept")]
    return tuple(
        (str(r["paragraph_id"]), str(r["before"]), str(r["after"])) for r in rows.to_dict("records")
    )


def mark_errata(text: str, lang: str, paragraph_id: str | None = None) -> Markup:
    """Source text as printed, each corrected place marked: the printed words (`<del>`), the
    erratum mark (〔原文如此〕 / [sic]) and the corrected reading (`<ins>`), so that HTML, PDF
    and Word alike show what the source says and what it should say.

    `text` is clean corpus text (errata applied); `paragraph_id` limits the errata to its
    paragraph (None: any erratum whose correction the text contains).
    """
    t = check_lang(lang).words["common"]
    out = str(escape(text))
    for paragraph, printed, corrected in _errata():
        if paragraph_id is not None and paragraph != paragraph_id:
            continue
        printed, corrected = nest_quotes(printed), nest_quotes(corrected)
        if corrected not in text:
            continue
        mark = (
            f'<span class="an-erratum"><del class="an-printed">{escape(printed)}</del>'
            f'<span class="an-sic">{escape(t["sic"])}</span>'
            f'<ins class="an-corrected">{escape(t["corrected"].format(text=corrected))}</ins>'
            "</span>"
        )
        out = out.replace(str(escape(corrected)), mark)
    return Markup(out)


def has_erratum(text: str) -> bool:
    """True when `text` holds a place an erratum corrected."""
    return any(corrected in text for _, _, corrected in _errata())


def nest_quotes(text: str) -> str:
    """Quotation marks inside a quotation become single (GB/T 15834: “…‘…’…”)."""
    return str(text).replace("“", "‘").replace("”", "’")


def quoted_sentence(sentence_id: str, text: str, lang: str) -> Markup:
    """A quoted sentence of the source, in quotation marks: in Chinese the sentence as printed
    with its errata marked; in English the project's translation, then the Chinese original
    (marked `lang="zh-CN"`). Quotes inside the quotation are single (GB/T 15834)."""
    paragraph = sentence_id.rsplit("-s", 1)[0]
    original = Markup("“{}”").format(mark_errata(nest_quotes(text), lang, paragraph))
    if check_lang(lang).is_source:
        return original
    t = check_lang(lang).words["common"]
    english = Markup("“{}”").format(nest_quotes(translation(sentence_id)))
    after = t["translated_as_corrected"] if has_erratum(text) else ""
    return Markup("{}{} {}").format(english, after, zh_span(original))


def quoted_phrase(zh: str, lang: str) -> Markup:
    """A phrase of the source (an example, a listed item): itself in Chinese; in English its
    translation with the Chinese beside it."""
    original = Markup("“{}”").format(mark_errata(nest_quotes(zh), lang))
    if check_lang(lang).is_source:
        return original
    english = Markup("“{}”").format(nest_quotes(translation(zh)))
    return Markup("{} ({})").format(english, zh_span(original))


def note_html(cite: Citation, lang: str) -> Markup:
    """The body of a source note: the quoted sentence alone (in English its translation with the
    original beside it). The report's title block cites the article once; repeating author,
    title and section in every note made citation boilerplate half of a report's text. The
    sentence id stays with the note as a data attribute (`notes_html`), and the sentence itself
    can be found in `cited_sentences.csv`."""
    return quoted_sentence(cite.sentence_id, cite.sentence, lang)
