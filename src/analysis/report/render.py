"""The report's sentences: Jinja2 templates of the words files, filled with values of the facts.

Every sentence a report prints is a template in `words/<lang>.toml`, given values computed from
the fact tables (`contexts`); no figure is typed into a template. Filters format numbers and
names in the template's language (`formatting`, `labels`); `key` prints a number in bold with
a numbered note quoting its source sentence. `render` returns HTML, its plain text and notes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from . import formatting as fm
from .citations import citation, note_html, quoted_phrase, quoted_sentence
from .labels import label, province_name, row_label
from .lang import check_lang, template_text
from .markup import html_to_text, slug
from .values import Fact, as_number

# Called by the kernel template process once its first kernel is forked (`zygote.serve`).
IDLE_CALLS = ("warm_templates",)

if TYPE_CHECKING:  # pragma: no cover
    from ..facts.api import Citation


@dataclass
class Note:
    """A numbered note under a rendered block: the sentence a key number comes from."""

    number: int
    citation: Citation


@dataclass
class Rendered:
    """A rendered template: HTML, its plain-text form and the notes it refers to."""

    html: str
    text: str
    notes: list[Note] = field(default_factory=list)

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks call show() instead
        return self.html


@dataclass
class NoteBook:
    """The numbered source notes of one rendered block (one sentence, one number)."""

    prefix: str
    start: int = 1
    notes: list[Note] = field(default_factory=list)

    def add(self, sentence_id: str, quote: str) -> int:
        """Register the sentence of a key number and return its note number."""
        for note in self.notes:
            if note.citation.sentence_id == sentence_id:
                return note.number
        cite = citation({"sentence_id": sentence_id, "quote": quote})
        number = self.start + len(self.notes)
        self.notes.append(Note(number, cite))
        return number

    def anchor(self, number: int) -> str:
        """The HTML id of note `number`."""
        return f"{self.prefix}-n{number}"


def _lang_of(ctx: Any) -> str:
    return str(ctx["lang"])


def _as_fact(value: Any, measure: str = "") -> Fact:
    fact = value if isinstance(value, Fact) else Fact(value=as_number(value))
    return dataclasses.replace(fact, measure=measure) if measure else fact


@jinja2.pass_context
def _f_num(ctx: Any, value: Any, measure: str = "") -> Markup:
    """`{{ fact | num("个") }}`: the value with unit and qualifier words."""
    return escape(_as_fact(value, measure).format(_lang_of(ctx)))


@jinja2.pass_context
def _f_bare(ctx: Any, value: Any, measure: str = "") -> Markup:
    """`{{ fact | bare }}`: the value with its unit, without the qualifier words."""
    return escape(_as_fact(value, measure).format(_lang_of(ctx), bare=True))


@jinja2.pass_context
def _f_key(ctx: Any, value: Any, measure: str = "") -> Markup:
    """`{{ fact | key("家") }}`: a key number in bold with a note quoting its sentence.

    The note marker is bracketed, "31[2]": a bare superscript after a number reads as an
    exponent ("31²")."""
    fact = _as_fact(value, measure)
    text = escape(fact.format(_lang_of(ctx)))
    if fact.sentence_id is None:
        return Markup(f'<strong class="an-key">{text}</strong>')
    notes: NoteBook = ctx["_notes"]
    number = notes.add(fact.sentence_id, fact.quote or "")
    return Markup(
        f'<strong class="an-key">{text}</strong><sup class="an-ref">'
        f'<a href="#{notes.anchor(number)}">[{number}]</a></sup>'
    )


def _value_filter(formatter: Any) -> Any:
    """A filter formatting the value of a Fact or a number with `formatter(value, lang)`."""

    @jinja2.pass_context
    def apply(ctx: Any, value: Any) -> Markup:
        return escape(formatter(_as_fact(value).value, _lang_of(ctx)))

    return apply


@jinja2.pass_context
def _f_count(ctx: Any, value: Any, measure: str = "") -> Markup:
    return escape(fm.format_count(_as_fact(value).value, _lang_of(ctx), measure))


@jinja2.pass_context
def _f_spell(ctx: Any, value: Any, measure: str = "") -> Markup:
    """`{{ n | spell("批") }}`: a small count in words (两批 / two), as the source writes it."""
    return escape(fm.format_spelled(_as_fact(value).value, _lang_of(ctx), measure))


@jinja2.pass_context
def _f_first(ctx: Any, name: Any) -> Markup:
    """`{{ code | province | first }}`: a name as first mentioned (Xizang (Tibet))."""
    first = check_lang(_lang_of(ctx)).words["labels"].get("first_mention", {})
    return escape(first.get(str(name), str(name)))


@jinja2.pass_context
def _f_month(ctx: Any, value: Any) -> Markup:
    return escape(fm.format_month(str(value), _lang_of(ctx)))


@jinja2.pass_context
def _f_province(ctx: Any, value: Any) -> Markup:
    return escape(province_name(value, _lang_of(ctx)))


@jinja2.pass_context
def _f_term(ctx: Any, value: Any, en: Any = None) -> Markup:
    """`{{ "产业集群" | term }}`: the term itself in Chinese, its glossary label in English."""
    return escape(label(str(value), _lang_of(ctx), None if en is None else str(en)))


@jinja2.pass_context
def _f_label(ctx: Any, row: Mapping[str, Any], base: str) -> Markup:
    """`{{ row | label("industry") }}`: the row's `industry_zh` or `industry_en`."""
    return escape(row_label(row, base, _lang_of(ctx)))


@jinja2.pass_context
def _f_items(ctx: Any, values: Iterable[Any], conjunction: str | None = None) -> Markup:
    """`{{ names | items }}`: a list in running text (江苏、广东和浙江 / A, B and C)."""
    parts = [str(escape(v)) for v in values]
    conj = None if conjunction is None else str(escape(conjunction))
    return Markup(fm.join_items(parts, _lang_of(ctx), conj))


@jinja2.pass_context
def _f_quote(ctx: Any, text: Any) -> Markup:
    """`{{ sentence | quote }}`: a sentence of the source (a row with `sentence_id` and
    `text`) or a phrase of it, quoted in the report language: errata marked, and in English
    the project's translation with the Chinese original beside it (`citations`)."""
    lang = _lang_of(ctx)
    if isinstance(text, Mapping):
        return quoted_sentence(str(text["sentence_id"]), str(text["text"]), lang)
    return quoted_phrase(str(text), lang)


@jinja2.pass_context
def _f_plural(ctx: Any, word: str, n: Any) -> str:
    """`{{ "province" | plural(n) }}`: the plural when n is not one, in a language that has
    plurals (the source's language has none: unchanged)."""
    if check_lang(_lang_of(ctx)).is_source or _as_fact(n).value == 1:
        return word
    return f"{word[:-1]}ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else f"{word}s"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=_f_num,
        bare=_f_bare,
        key=_f_key,
        count=_f_count,
        spell=_f_spell,
        first=_f_first,
        pct=_value_filter(fm.format_percent),
        amount=_value_filter(fm.format_amount),
        rank=_value_filter(lambda v, lang: fm.format_rank(int(v), lang)),
        month=_f_month,
        province=_f_province,
        term=_f_term,
        label=_f_label,
        items=_f_items,
        quote=_f_quote,
        plural=_f_plural,
    )
    return env


# Compiled templates by their source text (`_compiled`).
_COMPILED: dict[str, jinja2.Template] = {}
_COMPILED_MAX = 2_000


def _compiled(source: str) -> jinja2.Template:
    """The template of this source text, compiled once per process.

    Jinja2 compiles a template given as a string (`from_string`) every time, to Python code
    and then bytecode: 0.5 to 0.8 ms each, 13 of them in a province profile. Kept under the
    source text itself, a template edited in between (`analysis preview`) is compiled afresh;
    those of the words files are compiled in the template process (`warm_templates`), before
    the kernels that render them are forked.
    """
    template = _COMPILED.get(source)
    if template is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        template = _COMPILED[source] = _environment().from_string(source)
    return template


def warm_templates() -> None:
    """Compile every template of both words files (the template process: `_compiled`), then
    forget the files, which a kernel forked later reads as they are then (`chart_kit.warm_draw`)."""
    from .lang import load_words

    def sources(node: Any) -> Iterable[str]:
        for value in node.values():
            if isinstance(value, dict):
                yield from sources(value)
            elif isinstance(value, str) and ("{{" in value or "{%" in value):
                yield value

    for code in ("zh", "en"):
        for source in sources(check_lang(code).words):
            try:
                _compiled(source)
            except jinja2.TemplateError:  # a kernel that renders it reports it
                continue
    load_words.cache_clear()


def render_inline(key: str, lang: str, **context: Any) -> str:
    """Render a one-line template (a title, an axis label) to plain text."""
    lang = check_lang(lang)
    source = template_text(key, lang)
    notes = NoteBook(prefix=slug(key))
    markup = _compiled(source).render(lang=lang, _notes=notes, **context)
    return html_to_text(markup).strip()


def render(key: str, lang: str, *, note_start: int = 1, **context: Any) -> Rendered:
    """Render the block template at `key` to HTML paragraphs (and lists) with source notes.

    Blank lines separate paragraphs; a paragraph whose lines all start with "- " becomes a
    bulleted list, "1. " a numbered one. Values are escaped; filters format numbers and names.
    """
    lang = check_lang(lang)
    source = template_text(key, lang)
    notes = NoteBook(prefix=slug(key), start=note_start)
    context.setdefault("labels", lang.words["labels"])
    try:
        markup = _compiled(source).render(lang=lang, _notes=notes, **context)
    except jinja2.UndefinedError as exc:
        raise KeyError(f"template {key!r} ({lang}) needs a value it was not given: {exc}") from None
    html_ = _blocks_to_html(markup) + notes_html(notes, lang)
    return Rendered(html=html_, text=html_to_text(html_), notes=notes.notes)


_LIST_ITEM = re.compile(r"^(?:- |\d+\. )")


def _blocks_to_html(markup: str) -> str:
    out = []
    for block in re.split(r"\n\s*\n", markup.strip()):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        # Runs of list lines become a list; runs of other lines become one paragraph.
        run: list[str] = []
        run_is_list = False
        for line in [*lines, None]:
            is_list = line is not None and bool(_LIST_ITEM.match(line))
            if run and (line is None or is_list != run_is_list):
                out.append(_run_html(run, run_is_list))
                run = []
            if line is not None:
                run.append(line)
                run_is_list = is_list
    return "\n".join(out)


def _run_html(lines: list[str], is_list: bool) -> str:
    if is_list:
        tag = "ul" if lines[0].startswith("- ") else "ol"
        items = "".join(f"<li>{_LIST_ITEM.sub('', line, count=1)}</li>" for line in lines)
        return f"<{tag}>{items}</{tag}>"
    return f"<p>{''.join(lines) if _is_cjk(lines) else ' '.join(lines)}</p>"


def _is_cjk(lines: Sequence[str]) -> bool:
    # Chinese text joins wrapped template lines without a space.
    return any("\u4e00" <= ch <= "\u9fff" for ch in lines[0][-1:] + lines[-1][:1])


def notes_html(notes: NoteBook, lang: str) -> str:
    """The source notes of a block as an ordered list quoting each sentence."""
    if not notes.notes:
        return ""
    items = []
    for note in notes.notes:
        items.append(
            f'<li id="{notes.anchor(note.number)}" value="{note.number}" '
            f'data-sentence="{escape(note.citation.sentence_id)}">'
            f"{note_html(note.citation, lang)}</li>"
        )
    return f'\n<ol class="an-notes">{"".join(items)}</ol>'
