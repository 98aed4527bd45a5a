"""Executed notebook -> self-contained HTML (no code) -> A4 PDF, byte for byte reproducible.

HTML: nbconvert renders the cells (outputs only, no prompts) through a small template that
draws nothing of its own; this module wraps them in a page with the title block, the
typography, the print rules and an embedded subset of Noto Sans CJK SC holding exactly the
characters of the page. The page therefore opens offline on any machine and shows Chinese
glyph shapes (not the Japanese forms a fallback font would give), at a few hundred kB. No
script is included and no URL outside the page is referenced: a remote resource is an error.

English pages are set Latin first: an embedded subset of Noto Sans (from the
`fontpkg-noto-sans` package, pinned to its Regular instance) for the Latin text, with proportional
figures and punctuation, then the CJK face for the Chinese the page quotes. In the CJK face,
English text took its full-width quote marks, which left gaps around every quotation. Chinese
pages are set in the CJK face alone, whose Latin glyphs are drawn to sit among Chinese ones.

Each embedded face is declared under a family name no installed font has (`EMBEDDED_FAMILY`,
`LATIN_FAMILY`), and the page's font stacks name only those and the generic `sans-serif`.
Under its real name, "Noto Sans CJK SC", WeasyPrint asked fontconfig for that family and, where
Debian's `fonts-noto-cjk` is installed, laid the page out in the system font and embedded all
of it (16 MB, other bytes). A private name can match only the face the page carries.

PDF: WeasyPrint renders the same HTML with the print rules (A4, page numbers, running title).
Creation dates are never written and the file identifier is derived from the content. The font
is already a small subset, and WeasyPrint subsets it again to the glyphs it drew (with the
HarfBuzz of the pinned uharfbuzz wheel, in milliseconds: `_subset_with_pinned_harfbuzz`). That
second step is what gives the PDF a whole text layer: its ToUnicode map then names each drawn
glyph with the text it was shaped from. Embedded whole (`full_fonts`), the map was read from
the font's cmap, which names no glyph that a font feature substitutes: the CJK face's `locl`
gives English text other digits and `liga` joins "fi", so `pdftotext` of every English PDF lost
its digits ("launched in August  and May .") and every PDF its ligatures ("rst").

The page's fonts are subset with uharfbuzz when it is installed (milliseconds) and fontTools
otherwise (seconds); the PDF's always with uharfbuzz, a dependency of the package.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import html as html_lib
import io
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

REMOTE = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'<>)]*""")
# Attributes and CSS constructs that make a browser fetch something.
_RESOURCE = re.compile(
    r"""(?:\b(?:src|srcset|poster|data|action|formaction|background)\s*=\s*["']?\s*"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?\s*|url\(\s*["']?\s*|@import\s+["']?\s*)"""
    r"""((?:https?:)?//[^\s"'<>)]+)""",
    re.IGNORECASE,
)
# Case-blind where a URI is (the scheme, "base64"), not across the whole pattern: a class
# matched under re.IGNORECASE folds the case of every character it tries, and this pattern
# reads all of a page's embedded charts (a profile: 2.9 ms, written this way 0.6 ms).
_DATA_URI = re.compile(r"(?i:data):[A-Za-z/+.-]+;(?i:base64),[A-Za-z0-9+/=\s]+")
_TAG = re.compile(r"<[^>]+>")
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # Han characters, for marking their language

# Characters that CSS-generated text (page numbers, separators) may need beyond the page text.
_ALWAYS = "".join(chr(c) for c in range(0x20, 0x7F)) + "—–·…“”‘’、。，：；！？（）《》【】¶•◦"

FONT_FAMILY_FALLBACK = "Noto Sans CJK SC"
# The family names the page gives its embedded subsets: private to the project, so that neither
# WeasyPrint (through fontconfig) nor a browser can resolve them to an installed font.
EMBEDDED_FAMILY = "Analysis Noto Sans CJK SC subset"
LATIN_FAMILY = "Analysis Noto Sans subset"


def font_stack(lang: str) -> list[str]:
    """The embedded families of a page, in the order the page asks them for a character."""
    return (
        [LATIN_FAMILY, EMBEDDED_FAMILY] if _html_lang(lang).startswith("en") else [EMBEDDED_FAMILY]
    )


def _page_words(lang: str) -> dict[str, str]:
    """The words of the page around a report (`[page]` of the language's words file)."""
    from ..report.lang import LANGS, load_words

    return load_words(lang if lang in LANGS else "en")["page"]


def _html_lang(lang: str) -> str:
    from ..report.lang import LANGS, Lang

    return Lang(lang).html if lang in LANGS else (lang or "zh-CN")


# The cells, and nothing else; an image takes its alt text from the output's metadata, where
# the report layer puts it (`report.display`: the chart's title and what it shows, in the
# report's language). Without one, `alt=""` is filled in from the section's heading below:
# nbconvert's own fallback is English ("No description has been provided for this image").
CELL_TEMPLATE = r"""{%- extends 'base.html.j2' -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}" alt="
{{- ((output | get_metadata('alt', 'image/png')) or '') | escape_html }}">
</div>
{%- endblock data_png %}
{%- block header -%}{%- endblock header -%}
{%- block body_header -%}{%- endblock body_header -%}
{%- block body_footer -%}{%- endblock body_footer -%}
{%- block footer -%}{%- endblock footer -%}
"""

# The tallest a chart is printed (of the A4 text block's 255 mm); see the print rules in CSS.
CHART_MAX_HEIGHT = "108mm"

DISPLAY_PRIORITY = [
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/latex",
    "text/plain",
]

CSS = """
:root {
  --ink: #1f2328; --muted: #5b6370; --rule: #d0d7de; --accent: #0b4f8a; --tint: #f4f7fa;
  font-family: %(stack)s, sans-serif;
  color: var(--ink);
}
html { font-size: 16px; }
body { margin: 0; background: #fff; line-height: 1.75; font-kerning: normal; }
main.report { max-width: 46rem; margin: 0 auto; padding: 2.5rem 1.5rem 3rem; }
:lang(zh) p, :lang(zh) li { text-align: justify; }
h1, h2, h3, h4 { font-weight: normal; line-height: 1.35; color: var(--accent);
  break-after: avoid; page-break-after: avoid; }
h1 { font-size: 1.9rem; margin: 0 0 .4rem; }
h2 { font-size: 1.4rem; margin: 2.2rem 0 .6rem; padding-bottom: .25rem;
  border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.15rem; margin: 1.6rem 0 .4rem; }
h4 { font-size: 1rem; margin: 1.2rem 0 .3rem; color: var(--ink); }
p, ul, ol { margin: 0 0 .9rem; }
strong, b { font-weight: normal; color: var(--accent); }
a { color: var(--accent); }
a.anchor-link { display: none; }
blockquote { margin: 1rem 0; padding: .4rem 1rem; border-left: 3px solid var(--accent);
  background: var(--tint); color: var(--muted); }
.title-block { border-bottom: 2px solid var(--accent); padding-bottom: 1rem; margin-bottom: 2rem; }
.title-block .series { margin: 0 0 .6rem; color: var(--muted); font-size: .85rem;
  letter-spacing: .05em; }
.title-block h1 { string-set: report-title content(text); }
.title-block .citation { margin: .6rem 0 0; color: var(--muted); font-size: .85rem;
  text-align: left; }
img, svg { max-width: 100%; height: auto; }
.jp-RenderedImage, .jp-RenderedSVG { margin: 1rem 0; text-align: center;
  break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .85rem; line-height: 1.5;
  font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--rule); padding: .35rem .6rem; vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); text-align: left; }
tbody tr:nth-child(even) { background: var(--tint); }
caption, .caption, figcaption { caption-side: bottom; color: var(--muted); font-size: .8rem;
  text-align: left; padding-top: .4rem; }
/* Only the regular weight of the font exists: emphasis is colour and size, never a fake bold. */
* { font-weight: 400 !important; }
pre { font-family: inherit; font-variant-numeric: tabular-nums; font-size: .8rem;
  line-height: 1.5; white-space: pre-wrap; overflow-wrap: anywhere;
  background: var(--tint); padding: .6rem .8rem; margin: .8rem 0; }
.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"] pre {
  background: #fff5f5; color: #8a1c1c; }
.report-footer { max-width: 46rem; margin: 0 auto; padding: 1rem 1.5rem 2rem; color: var(--muted);
  font-size: .75rem; border-top: 1px solid var(--rule); }
.report-footer p { margin: 0 0 .2rem; text-align: left; }
/* File and parameter names in the footer: the page's own faces, never the user agent's
   monospace (a system font, which would change the PDF's bytes from machine to machine). */
code { font-family: inherit; font-size: inherit; }
.title-block .imprint { margin: .3rem 0 0; color: var(--muted); font-size: .85rem;
  text-align: left; }
.an-nav { margin: .6rem 0 0; font-size: .85rem; text-align: left; }
.an-nav a { margin-right: .9rem; }
.an-data { margin: .3rem 0 0; font-size: .8rem; color: var(--muted); text-align: left; }
.an-data a { margin-right: .6rem; }
nav.an-toc { margin: 0 0 2rem; font-size: .9rem; }
nav.an-toc h2 { font-size: 1.05rem; margin: 0 0 .3rem; border: none; padding: 0; }
nav.an-toc ol { margin: 0; padding-left: 1.4rem; }
nav.an-toc li { margin: .1rem 0; }
/* Print: a heading stays with what follows it, a chart or table with the text before it (so
   that a heading and its one paragraph never stand alone at the foot of a page, away from
   their map), a caption with its table and a source line with its chart; a table never leaves
   one row alone on a page, and its header row is repeated on the next. */
p, li { orphans: 3; widows: 3; }
/* nbconvert's empty collapser, first in every cell: as an empty first child it stood between a
   cell and its `break-before`, which WeasyPrint then never saw. It draws nothing anyway. */
.jp-Collapser { display: none; }
.an-keep-prev { break-before: avoid; page-break-before: avoid; }
table.an-table caption { break-after: avoid; }  /* above its table (the report layer's) */
.an-source { break-before: avoid; page-break-before: avoid; }
table.an-table thead { display: table-header-group; }
table.an-table tbody tr:first-child, table.an-table tbody tr:nth-last-child(2) {
  break-after: avoid; page-break-after: avoid; }
@page {
  size: A4; margin: 20mm 18mm 22mm;
  @top-right { content: string(report-title); color: #5b6370; font-size: 8pt; }
  @bottom-center { content: counter(page) " / " counter(pages); color: #5b6370;
    font-size: 8pt; }
}
@page :first { @top-right { content: none; } }
@media print {
  html { font-size: 10.5pt; }
  /* A chart at most ~half the text block high (its width shrinks with it, centred), so that a
     heading, its lead-in and the chart fit on a page together with what came before: the tall
     timeline, the strategy chart and the maps (150-170 mm at full width) each left the page
     before them half empty. */
  .jp-RenderedImage img { max-height: %(chart_max)s; width: auto; }
  .jp-RenderedImage { margin: .4rem 0; }
  main.report { max-width: none; padding: 0; }
  .report-footer { max-width: none; padding: .6rem 0 0; break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  tr, img, svg, pre { break-inside: avoid; page-break-inside: avoid; }
  h2 { margin-top: 1.6rem; }
  /* Two columns, the first one the longer (as `columns: 2` balances them), as a grid: with
     columns, WeasyPrint laid the list out again and again to balance them (an eighth of a
     profile's PDF step). `--an-toc-rows` is half the entries, rounded up (`_toc_html`). */
  nav.an-toc ol { display: grid; grid-template-columns: 1fr 1fr; column-gap: 2rem;
    grid-template-rows: repeat(var(--an-toc-rows), auto); grid-auto-flow: column; }
  /* Grid items' margins do not collapse: half of the list's .1rem above and below each. */
  nav.an-toc li { margin: .05rem 0; }
  nav.an-toc li { break-inside: avoid; }
  nav.an-toc a::after { content: leader(". ") target-counter(attr(href), page); }
  nav.an-toc a { display: inline; }
}
"""


def page_css(lang: str) -> str:
    """The page's stylesheet, with the font stack of its language. On an English page a passage
    marked as Chinese (a quoted source sentence) is set CJK first, with the full-width
    punctuation Chinese text is drawn with."""
    stack = font_stack(lang)
    css = CSS.replace("%(stack)s", ", ".join(f'"{family}"' for family in stack))
    css = css.replace("%(chart_max)s", CHART_MAX_HEIGHT)
    if len(stack) > 1:
        css += f':lang(zh) {{ font-family: "{EMBEDDED_FAMILY}", sans-serif; }}\n'
    return css


# --------------------------------------------------------------------------- fonts


@functools.cache
def _font_file() -> tuple[Path, str]:
    try:
        from ..report import style

        return style.font_path(), style.FONT_FAMILY
    except ImportError:  # pragma: no cover - style is part of the package
        import noto_cjk_sans_otc

        return Path(str(noto_cjk_sans_otc.FONT_PATH)), FONT_FAMILY_FALLBACK


@functools.cache
def _face_index(path: Path, family: str) -> int:
    """The index of the face called `family` in a font collection (0 for a single font)."""
    from fontTools.ttLib import TTCollection, TTLibError

    try:
        collection = TTCollection(str(path), lazy=True)
    except TTLibError:
        return 0
    with collection:  # lazy: the file stays open until closed
        for index, font in enumerate(collection.fonts):
            names = {font["name"].getDebugName(1), font["name"].getDebugName(16)}
            if family in names:
                return index
    # Should never happen with the pinned font package; fail loudly rather than use face 0,
    # which is the Japanese one.
    raise RuntimeError(f"{path} has no face named {family!r}")


@functools.cache
def _latin_font_file() -> Path:
    """The upright Noto Sans of the `fontpkg-noto-sans` package, as English charts find it."""
    from ..report import style

    return style.latin_font_path()


@functools.cache
def latin_codepoints() -> frozenset[int]:
    """The characters the Latin face draws (the rest of an English page goes to the CJK face)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(_latin_font_file()), lazy=True) as font:
        return frozenset(font.getBestCmap())


def subset_font(chars: str) -> bytes:
    """An OpenType font with just `chars` (plus basic Latin and punctuation) from the SC face."""
    path, family = _font_file()
    index = _face_index(path, family)
    codepoints = sorted({ord(c) for c in chars + _ALWAYS if ord(c) >= 0x20})
    return _subset(path, index, codepoints, pin_axes=False)


def subset_latin_font(chars: str) -> bytes:
    """A static Noto Sans Regular with the characters of `chars` (and `_ALWAYS`) it draws."""
    wanted = {ord(c) for c in chars + _ALWAYS if ord(c) >= 0x20}
    return _subset(_latin_font_file(), 0, sorted(wanted & latin_codepoints()), pin_axes=True)


def _subset(path: Path, index: int, codepoints: list[int], *, pin_axes: bool) -> bytes:
    """A subset of face `index` of `path`; `pin_axes` makes a variable font its default
    (Regular) instance, so the page embeds one static face, as WeasyPrint would otherwise
    instantiate it itself with fontTools."""
    try:
        import uharfbuzz as hb
    except ImportError:
        return _subset_fonttools(path, index, codepoints, pin_axes=pin_axes)
    face = hb.Face(hb.Blob.from_file_path(str(path)), index)
    spec = hb.SubsetInput()
    for codepoint in codepoints:
        spec.unicode_set.add(codepoint)
    if pin_axes:
        spec.pin_all_axes_to_default(face)
    return bytes(hb.subset(face, spec).blob.data)


def _subset_fonttools(path: Path, index: int, codepoints: list[int], *, pin_axes: bool) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib.instancer import instantiateVariableFont

    options = subset.Options()
    options.hinting = False
    options.notdef_outline = True
    options.layout_features = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    buffer = io.BytesIO()
    with TTFont(str(path), fontNumber=index, lazy=None if pin_axes else True) as font:
        if pin_axes and "fvar" in font:
            defaults = {axis.axisTag: axis.defaultValue for axis in font["fvar"].axes}
            font = instantiateVariableFont(font, defaults, static=True)
        subsetter.subset(font)
        font.save(buffer, reorderTables=False)
    return buffer.getvalue()


def font_face_css(font: bytes, family: str = EMBEDDED_FAMILY) -> str:
    """An @font-face rule embedding `font` as a data URI, under the family name `family`."""
    data = base64.b64encode(font).decode("ascii")
    kind = ("otf", "opentype") if font[:4] == b"OTTO" else ("ttf", "truetype")
    return (
        f'@font-face {{ font-family: "{family}"; font-style: normal; font-weight: 400; '
        f'src: url(data:font/{kind[0]};base64,{data}) format("{kind[1]}"); }}'
    )


def page_fonts_css(chars: str, lang: str) -> str:
    """The @font-face rules of a page: each face of its stack, holding the characters of the
    page it may be asked for."""
    if LATIN_FAMILY not in font_stack(lang):
        return font_face_css(subset_font(chars), EMBEDDED_FAMILY)
    return "\n".join(
        [
            font_face_css(subset_latin_font(chars), LATIN_FAMILY),
            # All the page's characters: a passage marked lang="zh-CN" is set CJK first.
            font_face_css(subset_font(chars), EMBEDDED_FAMILY),
        ]
    )


def prepare() -> None:
    """Load nbconvert, WeasyPrint and the font, and render a tiny page once (templates,
    WeasyPrint's user-agent stylesheet and fontconfig are initialised on first use)."""
    import weasyprint
    from nbformat.v4 import new_markdown_cell, new_notebook

    path, family = _font_file()
    _face_index(path, family)
    latin_codepoints()
    for lang in ("zh", "en"):
        page, _ = render_html(
            new_notebook(cells=[new_markdown_cell("# 预热 warm-up")]),
            {"lang": lang, "job_id": "warm-up"},
            notebook_dir=str(path.parent),
        )
        with _font_configuration() as font_config:
            weasyprint.HTML(string=page).render(font_config=font_config)


# --------------------------------------------------------------------------- HTML


@functools.cache
def _exporter() -> Any:
    from jinja2 import DictLoader
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.embed_images = True
    config.HTMLExporter.sanitize_html = False
    # The notebook is validated once, after the preprocessors, not after each of the twelve
    # (3 ms of a profile's 27 ms HTML step); an invalid one is refused all the same.
    config.HTMLExporter.optimistic_validation = True
    config.NbConvertBase.display_data_priority = DISPLAY_PRIORITY
    config.CSSHTMLHeaderPreprocessor.enabled = False
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "remove_cell"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output", "remove_output"}
    exporter = HTMLExporter(
        config=config,
        template_name="lab",
        extra_loaders=[DictLoader({"analysis_report.html.j2": CELL_TEMPLATE})],
    )
    exporter.template_file = "analysis_report.html.j2"
    return exporter


def _text(fragment: str) -> str:
    return html_lib.unescape(_TAG.sub("", fragment)).replace("¶", "").strip()


_HEADING = re.compile(r"<h([2-3])\b([^>]*)>(.*?)</h\1>", re.IGNORECASE | re.DOTALL)
_ID = re.compile(r'\bid="([^"]*)"')
_CELL_START = '<div class="jp-Cell '
# A heading (its text in group 1), or an image (its alt checked by `_alt_filled`: a pattern
# that looked for an empty alt inside the tag backtracked through the chart's base64).
_HEADING_OR_IMG = re.compile(r"<h[1-3]\b[^>]*>(.*?)</h[1-3]>|<img\b[^>]*>", re.S)
_EMPTY_ALT = re.compile(r'\balt=""')
_FIGURE_CELL = ("jp-RenderedImage", 'class="an-figure-table"')


# A section's text is "short" when it is at most this wide (a CJK character counts two, its
# notes not at all): about three lines of the A4 page. Only such a lead-in goes over to the next
# page with its chart; a longer section may end a page, and its chart start the next.
LEAD_IN_WIDTH = 400


def _prose_width(cell: str) -> int:
    """The width of a cell's own prose: its text without notes, CJK characters counting two."""
    text = _text(re.sub(r'<ol class="an-notes">.*?</ol>', "", cell, flags=re.S))
    return sum(2 if ord(c) > 0x2E7F else 1 for c in text if not c.isspace())


def _cells_marked(body: str) -> str:
    """Mark each cell that shows a chart or a table without a heading of its own as kept with
    what precedes it (`an-keep-prev`: no page break between the two), so that a heading and
    its lead-in never stand at the foot of a page away from their chart.

    A table always (it may break between its rows, so keeping its start costs little); a chart
    only after a short lead-in (`LEAD_IN_WIDTH`): WeasyPrint moves the whole preceding cell
    with the chart, and a long section moved left half-empty pages, two in a row. Never a chart
    that follows another chart or table: the chain (heading, lead-in, bar chart, map) was taller
    than a page, and kept whole it left two pages a third and a half empty (cluster_policy.en
    pages 5-6); one figure may end a page and the next start the following one.
    """
    parts = _split_before(body, _CELL_START)
    previous = ""
    for index, part in enumerate(parts):
        if not part.strip() or "jp-mod-noOutputs" in part.split(">", 1)[0]:
            continue
        is_table = 'class="an-figure-table"' in part
        is_chart = "jp-RenderedImage" in part
        after_figure = any(mark in previous for mark in _FIGURE_CELL)
        if (is_table or is_chart) and not re.search(r"<h[1-6]\b", part):
            if is_table or (not after_figure and _prose_width(previous) <= LEAD_IN_WIDTH):
                parts[index] = part.replace(
                    '<div class="jp-Cell ', '<div class="an-keep-prev jp-Cell ', 1
                )
        previous = part
    return "".join(parts)


def _split_before(text: str, mark: str) -> list[str]:
    """`text` cut before every occurrence of `mark` (what splitting on the lookahead
    `(?=mark)` gives, without trying the pattern at every character of the charts' base64)."""
    parts, start = [], 0
    at = text.find(mark)
    while at != -1:
        parts.append(text[start:at])
        start = at
        at = text.find(mark, at + 1)
    parts.append(text[start:])
    return parts


def _headings(body: str) -> tuple[str, list[tuple[int, str, str]]]:
    """Give every h2/h3 an id (its own, or `s<n>` in page order) and list (level, id, text)."""
    found: list[tuple[int, str, str]] = []
    seen: set[str] = set()

    def named(match: re.Match[str]) -> str:
        level, attrs, inner = int(match.group(1)), match.group(2), match.group(3)
        ident = _ID.search(attrs)
        anchor = ident.group(1) if ident else ""
        if not anchor or anchor in seen:
            anchor = f"s{len(found) + 1}"
            attrs = _ID.sub("", attrs) + f' id="{anchor}"'
        seen.add(anchor)
        found.append((level, anchor, _text(inner)))
        return f"<h{level}{attrs}>{inner}</h{level}>"

    return _HEADING.sub(named, body), found


def _toc_html(headings: list[tuple[int, str, str]], label: str) -> str:
    """The table of contents: the page's h2 headings, linked (page numbers in the PDF)."""
    items = [(a, t) for level, a, t in headings if level == 2 and t]
    if len(items) < 2:
        return ""
    esc = html_lib.escape
    links = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t in items)
    rows = (len(items) + 1) // 2  # the print layout's two columns (`CSS`)
    return (
        f'<nav class="an-toc" aria-labelledby="an-toc-heading">'
        f'<h2 id="an-toc-heading">{esc(label)}</h2>'
        f'<ol style="--an-toc-rows: {rows}">{links}</ol></nav>'
    )


def _alt_filled(body: str, lang: str) -> str:
    """Alt text for an image the report layer gave none: "Chart: <heading of its section>"."""
    words = _page_words(lang)
    sep = "：" if lang == "zh" else ": "
    heading = ""

    def fill(match: re.Match[str]) -> str:
        nonlocal heading
        if match.group(1) is not None:
            heading = _text(match.group(1))
            return match.group(0)
        if 'alt=""' not in match.group(0) or not _EMPTY_ALT.search(match.group(0)):
            return match.group(0)
        alt = html_lib.escape(f"{words['figure']}{sep}{heading}" if heading else words["figure"])
        return match.group(0).replace('alt=""', f'alt="{alt}"', 1)

    return _HEADING_OR_IMG.sub(fill, body)


def _linked(body: str, xrefs: dict[str, str]) -> str:
    """Each phrase of `xrefs` in the text (never inside a tag or a link) made a link."""
    for phrase, href in xrefs.items():
        pattern = re.compile(
            r"(<a\b.*?</a>|<[^>]+>)|(" + re.escape(html_lib.escape(phrase, quote=False)) + ")",
            re.S,
        )
        body = pattern.sub(
            lambda m, href=href: (
                m.group(1) or f'<a class="an-xref" href="{html_lib.escape(href)}">{m.group(2)}</a>'
            ),
            body,
        )
    return body


def page_shell(inner: str, title: str, lang: str, footer: str = "") -> str:
    """A complete page around `inner` (the report's main), its font left as `{FONT}`."""
    head = (
        '<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="analysis build">\n'
        "<title>{title}</title>\n<style>\n{{FONT}}\n{css}</style>\n</head>\n"
    ).format(lang=_html_lang(lang), title=html_lib.escape(title), css=page_css(lang).strip() + "\n")
    return (
        head
        + '<body>\n<main class="report">\n'
        + inner
        + "\n</main>\n"
        + footer
        + "</body>\n</html>\n"
    )


def with_fonts(page: str, lang: str, text: str | None = None) -> str:
    """Embed in `page` the font subsets of its characters (see `page_fonts_css`); `text`:
    the page without its data URIs, when the caller has it already."""
    chars = html_lib.unescape(_DATA_URI.sub("", page) if text is None else text)
    return page.replace("{FONT}", page_fonts_css(chars, lang), 1)


def _params_markup(params: dict[str, Any], labels: dict[str, str]) -> str:
    """The job's parameters as typed on the command line (`name=value`, code), a value in
    Chinese marked `lang="zh-CN"` and followed by its label in the page's language where that
    differs (a screen reader then reads 江苏 as Chinese, and the English reader sees Jiangsu)."""
    esc = html_lib.escape
    parts = []
    for name, value in sorted(params.items()):
        shown = str(value)
        if _CJK.search(shown):
            code = f'<code lang="en">{esc(name)}=</code><code lang="zh-CN">{esc(shown)}</code>'
        else:
            code = f'<code lang="en">{esc(name)}={esc(shown)}</code>'
        label = labels.get(name)
        parts.append(code + (f" ({esc(label)})" if label and label != shown else ""))
    return ", ".join(parts)


def render_html(nb: Any, options: dict[str, Any], *, notebook_dir: str) -> tuple[str, str]:
    """Render an executed notebook as a complete HTML page; return (page, title).

    `options`: title (declared, or None to take the notebook's first level-1 heading),
    citation, series (site title), lang, notebook (relative path), params, key, and `site`
    (`publish.site.page_context`: imprint, links, data downloads, cross-references).
    """
    exporter = _exporter()
    resources = {"metadata": {"path": notebook_dir, "name": options.get("job_id", "report")}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    lang = options.get("lang") or "zh"
    text = _page_words(lang)
    site = options.get("site") or {}
    title = options.get("title")
    first = _H1.search(body)
    if first is not None and (title is None or _text(first.group(1)) == title):
        # The notebook's own heading becomes the title block's heading, not a second one.
        title = title or _text(first.group(1))
        body = body[: first.start()] + body[first.end() :]
    title = title or options.get("job_id", "report")
    esc = html_lib.escape
    colon = "：" if lang == "zh" else ": "
    block = ['<header class="title-block">']
    if options.get("series"):
        block.append(f'<p class="series">{esc(options["series"])}</p>')
    block.append(f"<h1>{esc(title)}</h1>")
    if options.get("citation"):
        block.append(f'<p class="citation">{esc(options["citation"])}</p>')
    imprint = site.get("imprint") or {}
    lines = [
        f"{esc(text[key])}{colon}{esc(imprint[name])}"
        for key, name in (("publisher", "publisher"), ("source_date", "date"))
        if imprint.get(name)
    ]
    if lines:
        block.append(f'<p class="imprint">{"<br>".join(lines)}</p>')
    if site.get("links"):
        links = " ".join(f'<a href="{esc(href)}">{esc(label)}</a>' for label, href in site["links"])
        block.append(f'<p class="an-nav">{links}</p>')
    if site.get("data"):
        links = " ".join(
            # A file name is neither language: set as code, as the footer's names are.
            f'<a href="{esc(href)}">'
            + (f"<code>{esc(label)}</code>" if label.endswith(".csv") else esc(label))
            + "</a>"
            for label, href in site["data"]
        )
        block.append(f'<p class="an-data">{esc(text["data"])}{colon}{links}</p>')
    block.append("</header>")
    body = _cells_marked(body.strip())
    body, headings = _headings(body)
    body = _alt_filled(body, lang)
    body = _linked(body, site.get("xrefs") or {})
    params = _params_markup(options.get("params", {}), site.get("param_labels") or {})
    notebook = f'<code lang="en">{esc(options.get("notebook", ""))}</code>'
    footer = [
        '<footer class="report-footer">',
        "<p>"
        + esc(text["built"]).replace("{notebook}", notebook)
        + (f" · {esc(text['params'])}{colon}{params}" if params else "")
        + "</p>",
    ]
    if options.get("key"):
        footer.append(f"<p>{esc(text['key'])}{colon}<code>{esc(options['key'][:16])}</code></p>")
    footer.append("</footer>\n")
    inner = "\n".join(block) + "\n" + _toc_html(headings, text["toc"]) + "\n" + body
    page = page_shell(inner, title, lang, "\n".join(footer))
    # Without its embedded charts (most of a page's bytes), once for both uses.
    text = _DATA_URI.sub("", page)
    remote = _remote_resources(text)
    if remote:
        raise ValueError(
            "the report would load remote resources, which must not happen (it must open "
            f"offline): {', '.join(sorted(set(remote))[:5])}; embed them instead."
        )
    return with_fonts(page, lang, text), title


def _remote_resources(text: str) -> list[str]:
    return [match.group(1) for match in _RESOURCE.finditer(text)]


def find_remote_resources(page: str) -> list[str]:
    """URLs outside the page that a browser would fetch (scripts, styles, images, fonts)."""
    return _remote_resources(_DATA_URI.sub("", page))


def find_remote_urls(page: str) -> list[str]:
    """Every http(s) or protocol-relative URL in the page, links included."""
    return REMOTE.findall(_DATA_URI.sub("", page))


# --------------------------------------------------------------------------- PDF


def render_pdf(page: str, *, base_url: str) -> bytes:
    """Render the HTML page as an A4 PDF with WeasyPrint (fonts embedded, no dates).

    Not `full_fonts`: only a font WeasyPrint subsets gets a ToUnicode map of what was shaped
    (see the module docstring), so that copy, search and screen readers get every glyph."""
    import weasyprint

    _subset_with_pinned_harfbuzz()
    _png_data_as_it_is()
    _toc_in_two_passes()
    with _font_configuration() as font_config, _source_date_epoch():
        # No base URL: the page embeds every resource, and a relative link ("../index.html",
        # "../data/…csv") must stay relative; resolved against a base, it became a file:// URL
        # naming the machine's checkout, in every PDF.
        del base_url
        short, fetch = _embedded_as_references(page)
        document = weasyprint.HTML(string=short, url_fetcher=fetch)
        return document.write_pdf(pdf_identifier=True, font_config=font_config)


# Where a page embeds resources: its <style> blocks (fonts) and <img> tags; and a data URI in
# them, as an image's `src="…"` or a font's `url(…)`.
_RESOURCE_HOLDER = re.compile(r"<style\b[^>]*>.*?</style>|<img\b[^>]*>", re.IGNORECASE | re.DOTALL)
# Case-blind in the scheme and "base64" only (as `_DATA_URI`): folding the case of every
# character of the base64 made this 17 ms of a profile's PDF step.
_EMBEDDED = re.compile(
    r'(?:(?<=src=")|(?<=url\())(?i:data):([A-Za-z]+/[A-Za-z0-9.+-]+);(?i:base64),'
    r'([A-Za-z0-9+/=\s]+)(?=[")])'
)
EMBEDDED_SCHEME = "analysis-embedded"


def _embedded_as_references(page: str) -> tuple[str, Any]:
    """The page with each embedded resource named by a short reference, and the URL fetcher
    that gives WeasyPrint those resources, and nothing else.

    WeasyPrint reads a data URI character by character, twice (its HTML parser checks the
    document for invalid characters; the CSS tokenizer reads and then serializes a font's
    url(…)): a page's chart and fonts are about 450 KB of base64, and that was 40 ms of a
    profile's 340 ms PDF step. Named `analysis-embedded:N`, the same bytes reach it decoded;
    the PDF is the same but for the names of its image objects (which WeasyPrint derives
    from the URL). Any other URL is refused: the PDF step fetches nothing.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    resources: dict[str, tuple[str, str]] = {}

    def reference(match: re.Match[str]) -> str:
        url = f"{EMBEDDED_SCHEME}:{len(resources)}"
        resources[url] = (match.group(1).lower(), match.group(2))
        return url

    short = _RESOURCE_HOLDER.sub(lambda m: _EMBEDDED.sub(reference, m.group(0)), page)

    class Embedded(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url not in resources:
                raise ValueError(f"the PDF step fetches no resource: {url[:80]}")
            mime, data = resources[url]
            body = io.BytesIO(base64.b64decode("".join(data.split())))
            return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})

    return short, Embedded()


@contextlib.contextmanager
def _source_date_epoch() -> Iterator[None]:
    """SOURCE_DATE_EPOCH=0 while a PDF is written: fontTools stamps each font it saves (the
    `head` table's modified date) with the current time unless this variable names one."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


# The tables WeasyPrint drops from every font it embeds (its own `_harfbuzz_subset`).
_PDF_DROP_TABLES = (
    "BASE",
    "DSIG",
    "EBDT",
    "EBLC",
    "EBSC",
    "GPOS",
    "GSUB",
    "JSTF",
    "LTSH",
    "PCLT",
    "SVG ",
)


def _subset_for_pdf(font: Any, to_unicode: Mapping[int, Any], hinting: bool) -> None:
    """WeasyPrint's HarfBuzz subsetting of a font it embeds, done with the pinned `uharfbuzz`.

    The same two passes as WeasyPrint's own `Font._harfbuzz_subset`: keep the glyphs drawn with
    their ids (`RETAIN_GIDS`: the text's ToUnicode map names glyphs by id), then drop the empty
    ones after the last. The HarfBuzz compiled into the uharfbuzz wheel is the one in the lock,
    so every machine gets the same font streams; the system's libharfbuzz-subset (whatever the
    distribution ships, or none) is never used.
    """
    import uharfbuzz as hb

    if not to_unicode:
        return
    face = hb.Face(hb.Blob(bytes(font.file_content)), font.index)
    outline = hb.SubsetFlags.NOTDEF_OUTLINE if font.missing else hb.SubsetFlags.DEFAULT
    kept = hb.SubsetInput()
    kept.glyph_set.update(sorted(to_unicode))
    kept.flags = (
        hb.SubsetFlags.RETAIN_GIDS
        | hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
        | hb.SubsetFlags.DESUBROUTINIZE
        | outline
    )
    tags = (int.from_bytes(tag.encode("ascii"), "big") for tag in _PDF_DROP_TABLES)
    kept.drop_table_tag_set.update(tags)
    first = hb.subset(face, kept)
    trimmed = hb.SubsetInput()
    trimmed.glyph_set.update(range(max(to_unicode) + 1))
    trimmed.flags = (
        hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
        | hb.SubsetFlags.DESUBROUTINIZE
        | (hb.SubsetFlags.DEFAULT if hinting else hb.SubsetFlags.NO_HINTING)
        | outline
    )
    second = hb.subset(first, trimmed) if first is not None else None
    data = bytes(second.blob.data) if second is not None else b""
    if not data:
        raise RuntimeError(f"could not subset the font {font.family!r} for the PDF")
    font.file_content = data


@functools.cache
def _subset_with_pinned_harfbuzz() -> None:
    """Make WeasyPrint subset the fonts it embeds with the pinned uharfbuzz (`_subset_for_pdf`).

    WeasyPrint subsets with the system's libharfbuzz-subset when there is one (of whatever
    version the distribution ships) and with fontTools otherwise, and the two give different
    bytes: a PDF would then depend on a system package. Earlier builds forced fontTools, which
    is pinned too but is pure Python: about 0.2 s of a profile's 0.55 s PDF step went to it
    (cProfile, `bench/bench_build.py` stages). uharfbuzz is pinned in the lock and carries its
    own HarfBuzz, so the streams are the same on every machine, in milliseconds. The switch is
    WeasyPrint's `Font.subset`, the one method that chooses the subsetter.
    """
    import weasyprint.pdf.fonts as fonts

    fonts.Font.subset = _subset_for_pdf


def _png_idat(data: bytes) -> bytes | None:
    """The image data of a PNG file that a PDF can hold as it is, else None.

    A PDF image compressed with /FlateDecode and a PNG predictor (10 or more: a filter type
    byte before each row) is the concatenated IDAT chunks of a PNG file of the same samples:
    8 bits per sample, no interlacing, truecolour (colour type 2) or grey (0), which is what
    WeasyPrint declares for an image it holds as RGB or L. Anything else (an alpha channel, a
    palette, 16 bits, Adam7) gets None, and WeasyPrint's own route.
    """
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    bit_depth, colour_type, _, _, interlace = data[24:29]
    if bit_depth != 8 or colour_type not in (0, 2) or interlace != 0:
        return None
    parts = []
    at = 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        if kind == b"IDAT":
            parts.append(data[at + 8 : at + 8 + length])
        elif kind in (b"tRNS", b"PLTE"):  # transparency or a palette: not plain samples
            return None
        at += 12 + length
    return b"".join(parts) or None


@functools.cache
def _png_data_as_it_is() -> None:
    """Make WeasyPrint embed a plain RGB or grey PNG's image data as it is (`_png_idat`).

    WeasyPrint decodes every PNG image and compresses its pixels again for the PDF (about
    50 ms for a province map, 1280 x 984: a tenth of the profile's PDF step), though for such
    a PNG the stream it makes holds the same samples, in the same format, as the file's own
    IDAT chunks. The charts are written as RGB PNG files (`report.style`), so their bytes go
    into the PDF unchanged; the pixels the PDF shows are the file's (tested). Any other image
    takes WeasyPrint's route, unchanged: the switch is `RasterImage._get_png_data`, which
    WeasyPrint calls with the image opened from its file, or with a channel it split off.
    """
    from weasyprint.images import RasterImage

    own = RasterImage._get_png_data

    def get_png_data(pillow_image: Any) -> bytes:
        source = getattr(pillow_image, "fp", None)
        if pillow_image.format == "PNG" and isinstance(source, io.BytesIO):
            data = _png_idat(source.getvalue())
            if data is not None:
                return data
        return own(pillow_image)

    RasterImage._get_png_data = staticmethod(get_png_data)


# The anchor a `target-counter(attr(…), …)` resolved to last (`_toc_in_two_passes`): WeasyPrint
# resolves the attribute in `TargetCollector.lookup_target` and, right after, names the anchor
# again from the unresolved token, which gave None.
_RESOLVED_ANCHOR: list[Any] = [None, None]


@functools.cache
def _toc_in_two_passes() -> None:
    """Make WeasyPrint lay out the page with the contents twice, not three times.

    The contents' page numbers (`target-counter(attr(href), page)`, `PRINT_CSS`) are known only
    once the pages they point to are laid out, so that page is laid out again. WeasyPrint 70
    did it twice more: it filed each entry's missing target counter under the anchor None (it
    names the anchor from the `attr()` token, not from the attribute it had just resolved), so
    the anchors' page numbers never reached the entries; the numbers came instead through a
    list of the entry's own missing counters that `compute_content_list` overwrote with the
    target's (`missing_counters` is reused as a loop variable), which re-read them one
    pass late, and once more because the total page count had changed meanwhile. A profile's
    first page took three layouts (28 ms more than one). And where an entry points to the page
    it is on, that page was laid out again whenever any of its counters changed (the page
    count, known after the first pass), though the entry shows only the page number.

    Here the anchor gets its name, an entry's own missing counters stay its own (empty when
    its content has no `counter()`), and an anchor's news spreads only when a counter that an
    entry shows has changed; so the entries are re-read when their anchors are laid out and
    the page is laid out once more. The pages are the same, byte for byte (all PDFs
    of a build compared); a test counts the layouts and reads the numbers.
    """
    from weasyprint.css import targets
    from weasyprint.urls import get_url_tuple

    name_of = targets.anchor_name_from_token
    lookup = targets.TargetCollector.lookup_target
    collect = targets.TargetCollector.collect_missing_counters
    cache = targets.TargetCollector.cache_target_page_counters

    def anchor_name_from_token(anchor_token: Any) -> Any:
        if anchor_token is _RESOLVED_ANCHOR[0]:
            return _RESOLVED_ANCHOR[1]
        return name_of(anchor_token)

    def lookup_target(self: Any, anchor_token: Any, source_box: Any, *args: Any) -> Any:
        item = lookup(self, anchor_token, source_box, *args)
        if anchor_token[0] == "attr()":  # resolved as `lookup_target` resolves it
            attr_name, kind, fallback = anchor_token[1]
            value = source_box.element.get(attr_name, fallback)
            if kind == "string":
                name = name_of(("string", value))
            elif kind == "url":
                name = name_of(("url", get_url_tuple(value, source_box.style.base_url)))
            else:
                name = None
            _RESOLVED_ANCHOR[:] = [anchor_token, name]
        return item

    def collect_missing_counters(
        self: Any, parent_box: Any, css_token: str, parse_again: Any, own: Any, targeted: Any
    ) -> Any:
        if (
            css_token == "content"
            and any(own is missed for missed in targeted.values())
            and not any(
                value[0] in ("counter()", "counters()") for value in parent_box.style["content"]
            )
        ):
            own = []  # the target's list, not the entry's: it has no counter() of its own
        return collect(self, parent_box, css_token, parse_again, own, targeted)

    def cache_target_page_counters(
        self: Any, anchor_name: Any, counters: Any, index: int, page_maker: Any
    ) -> Any:
        item = self.target_lookup_items.get(anchor_name)
        if not self.collecting and item is not None and item.state == "up-to-date":
            wanted = {
                name
                for entry in self.counter_lookup_items.values()
                for name in entry.missing_target_counters.get(anchor_name, ())
            }
            known = item.cached_page_counter_values
            if known != counters and all(known.get(n) == counters.get(n) for n in wanted):
                # Only counters no entry shows changed (the page count, once it is known):
                # the entries' text is what it was, so their page need not be laid out again.
                item.page_maker_index = index
                item.cached_page_counter_values = copy.deepcopy(counters)
                return None
        return cache(self, anchor_name, counters, index, page_maker)

    targets.anchor_name_from_token = anchor_name_from_token
    targets.TargetCollector.lookup_target = lookup_target
    targets.TargetCollector.collect_missing_counters = collect_missing_counters
    targets.TargetCollector.cache_target_page_counters = cache_target_page_counters


@contextlib.contextmanager
def _font_configuration() -> Iterator[Any]:
    """A WeasyPrint font configuration whose temporary font folder is removed when done.

    WeasyPrint writes each @font-face font into a `weasyprint-*` folder under $TMPDIR and
    removes it only when the configuration is garbage-collected; a worker process exits without
    that collection, so every PDF left a folder behind. The folder is WeasyPrint's own
    (`FontConfiguration._folder`), made for this configuration alone, so removing it is safe.
    """
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    try:
        yield font_config
    finally:
        folder = getattr(font_config, "_folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
            font_config._folder = None


# --------------------------------------------------------------------------- Word

# The fonts the Word styles name: the faces the HTML and PDF are set in, each with a common
# fallback Word and LibreOffice substitute when it is not installed (`w:altName`).
DOCX_FONTS = {
    "latin": ("Noto Sans", "Arial"),
    "east_asia": ("Noto Sans CJK SC", "Microsoft YaHei"),
}
_NOTE_REF = re.compile(r'<sup class="an-ref"><a href="#([^"]+)">\[(\d+)\]</a></sup>')
_NOTES = re.compile(r'<ol class="an-notes">(.*?)</ol>', re.S)
# A note's id wherever it stands among the item's attributes (a note also carries the id of its
# sentence, `data-sentence`, before it).
_NOTE_ITEM = re.compile(r'<li\b[^>]*?\bid="([^"]+)"[^>]*>(.*?)</li>', re.S)
# The page of the Word files: A4 with the PDF's margins (20, 18 and 22 mm, in twentieths of a
# point). pandoc's default reference.docx names no size, and Word or LibreOffice then chose US
# Letter.
DOCX_SECTION = (
    '<w:pgSz w:w="11906" w:h="16838" />'
    '<w:pgMar w:top="1134" w:right="1020" w:bottom="1247" w:left="1020" w:header="567" '
    'w:footer="567" w:gutter="0" />'
)
_TABLE = re.compile(
    r'(<table class="an-table[^"]*">(?:<caption>.*?</caption>)?)(.*?</table>)', re.S
)
_ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", re.S)
_LINK_RUN = re.compile(r'(<p class="an-(?:nav|data)">)(.*?)(</p>)', re.S)


def _pandoc() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


@functools.cache
def reference_docx() -> bytes:
    """pandoc's default reference.docx with the house fonts, built the same on every machine.

    The theme and the styles name Noto Sans for Latin text and Noto Sans CJK SC for Chinese
    (`DOCX_FONTS`), and the font table gives each a fallback; the zip entries carry a fixed
    date, so the bytes depend on the pinned pandoc alone.
    """
    import subprocess
    import zipfile

    default = subprocess.run(
        [_pandoc(), "--print-default-data-file", "reference.docx"],
        capture_output=True,
        check=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": "0"},
    ).stdout
    latin, latin_alt = DOCX_FONTS["latin"]
    cjk, cjk_alt = DOCX_FONTS["east_asia"]
    fonts = f'<w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{cjk}" w:cs="{latin}" />'
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(default)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in sorted(source.infolist(), key=lambda i: i.filename):
            data = source.read(info.filename)
            if info.filename == "word/styles.xml":
                data = re.sub(rb"<w:rFonts\b[^>]*/>", fonts.encode(), data)
                data = _docx_sizes(data)
            elif info.filename == "word/theme/theme1.xml":
                data = re.sub(
                    rb'(<a:latin typeface=")[^"]*"', rb"\g<1>" + latin.encode() + b'"', data
                )
                data = re.sub(rb'(<a:ea typeface=")[^"]*"', rb"\g<1>" + cjk.encode() + b'"', data)
            elif info.filename == "word/document.xml":
                # After footnotePr: the schema orders a section's properties, and Word refuses
                # a page size placed before them.
                data = data.replace(b"</w:sectPr>", DOCX_SECTION.encode() + b"</w:sectPr>", 1)
            elif info.filename == "word/fontTable.xml":
                extra = "".join(
                    f'<w:font w:name="{name}"><w:altName w:val="{alt}"/>'
                    f'<w:family w:val="swiss"/><w:pitch w:val="variable"/></w:font>'
                    for name, alt in (DOCX_FONTS["latin"], DOCX_FONTS["east_asia"])
                )
                data = data.replace(b"</w:fonts>", extra.encode() + b"</w:fonts>")
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, data)
    return out.getvalue()


# About how many characters of table text (9 pt) a line of the A4 Word page holds.
DOCX_TABLE_LINE = 90


def _column_widths(table: str) -> list[int]:
    """Percent widths of a table's columns, from what they hold (a CJK character counting two).

    Each column first gets its longest word (which cannot wrap) and a little padding, then the
    rest of the line is shared in proportion to how much more its longest cell needs (up to 40
    characters: a longer text wraps anyway). Without widths pandoc split the page into equal
    columns, and a five-column table of short items and long lists wrapped its lists one word
    a line over five pages; by longest cells alone, "Jiangsu" and "2018" broke a letter a line.
    """
    rows = [[_text(c) for c in _CELL.findall(row)] for row in _ROW.findall(table)]
    if not rows or len({len(r) for r in rows}) != 1:
        return []  # spanned cells: leave it to pandoc

    def width(text: str) -> int:
        return sum(2 if ord(c) > 0x2E7F else 1 for c in text)

    def longest_word(text: str) -> int:
        # CJK text breaks between any two characters (one counts two), other text at spaces.
        runs = re.split(r"[\s\u2e80-\uffff]+", text)
        return max([len(run) for run in runs] + [2 if width(text) > len(text) else 0])

    columns = list(zip(*rows, strict=True))
    least = [max(longest_word(cell) for cell in column) + 3 for column in columns]
    # What a column would like: its longest cell below the header (a header wraps).
    wanted = [
        max(low, min(max([width(cell) for cell in column[1:]] or [0]) + 3, 40))
        for low, column in zip(least, columns, strict=True)
    ]
    spare = DOCX_TABLE_LINE - sum(least)
    extra = sum(w - low for w, low in zip(wanted, least, strict=True))
    if spare > 0 and extra > 0:
        shares = [
            low + spare * min(1.0, extra / spare) * (w - low) / extra
            for w, low in zip(wanted, least, strict=True)
        ]
    else:
        shares = [float(low) for low in least]
    total = sum(shares)
    widths = [max(1, round(100 * share / total)) for share in shares]
    widths[widths.index(max(widths))] += 100 - sum(widths)
    return widths


def _with_column_widths(match: re.Match[str]) -> str:
    widths = _column_widths(match.group(0))
    if not widths:
        return match.group(0)
    cols = "".join(f'<col style="width: {w}%" />' for w in widths)
    return f"{match.group(1)}<colgroup>{cols}</colgroup>{match.group(2)}"


def _docx_sizes(styles: bytes) -> bytes:
    """The Word styles' type sizes: text at 10.5 pt as in the PDF (pandoc's default is 12 pt, a
    letter's rather than a report's) and tables at 9 pt (the PDF's .85rem), so that a table's
    columns hold what `_column_widths` gave them room for."""
    styles = styles.replace(
        b'<w:sz w:val="24" />\n        <w:szCs w:val="24" />',
        b'<w:sz w:val="21" />\n        <w:szCs w:val="21" />',
        1,
    )
    table = re.compile(
        rb'(<w:style w:type="table" w:default="1" w:styleId="Table">.*?)(<w:tblPr>)', re.S
    )
    return table.sub(rb'\1<w:rPr><w:sz w:val="18" /><w:szCs w:val="18" /></w:rPr>\2', styles, 1)


# The Word page's text width (A4 less the margins of DOCX_SECTION), in millimetres.
DOCX_TEXT_WIDTH_MM = 174.0


def _docx_image_size(image: bytes) -> str:
    """The width attribute that prints a chart in Word as in the PDF: the text width, or less
    where that would make it taller than CHART_MAX_HEIGHT (pandoc sized each chart by its
    200 dpi, the timeline 152 mm high, and it left the page before it half empty)."""
    if image[:8] != b"\x89PNG\r\n\x1a\n":
        return ""
    width_px, height_px = int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")
    if not width_px or not height_px:
        return ""
    cap = float(CHART_MAX_HEIGHT.removesuffix("mm"))
    width = min(DOCX_TEXT_WIDTH_MM, cap * width_px / height_px)
    return f' width="{width:.1f}mm"'


def _footnote_refs() -> Callable[[re.Match[str]], str]:
    """A replacer of note markers by pandoc's footnote references, each note once: where the
    HTML cites one note twice ("29[2] of the 31 provinces … 93.5%[2]"), pandoc made a second,
    identical footnote; the second marker now repeats the first one's number, "[2]" (footnotes
    are numbered in the order their references appear, as pandoc numbers them)."""
    numbers: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        note = match.group(1)
        if note in numbers:
            # In brackets, as in the HTML and PDF: a bare superscript after a number ("4²")
            # reads as an exponent.
            return f"<sup>[{numbers[note]}]</sup>"
        numbers[note] = len(numbers) + 1
        return (
            f'<a href="#{note}" class="footnote-ref" role="doc-noteref">'
            f"<sup>{match.group(2)}</sup></a>"
        )

    return replace


def docx_source(page: str) -> str:
    """The report's HTML as pandoc reads it into Word: no stylesheet or fonts, no table of
    contents or footer (Word has its own), and the notes as footnotes (pandoc's own form,
    `doc-noteref` / `doc-endnotes`), which Word shows as real footnotes."""
    body = page.split("<body>", 1)[1].split("</body>", 1)[0]
    body = re.sub(r"<style>.*?</style>", "", body, flags=re.S)
    body = re.sub(r'<nav class="an-toc".*?</nav>', "", body, flags=re.S)
    body = re.sub(r'<footer class="report-footer">.*?</footer>', "", body, flags=re.S)
    body = _NOTE_REF.sub(_footnote_refs(), body)

    def notes(match: re.Match[str]) -> str:
        items = "".join(
            f'<li id="{m.group(1)}"><p>{m.group(2)}</p></li>'
            for m in _NOTE_ITEM.finditer(match.group(1))
        )
        return f'<section class="footnotes" role="doc-endnotes"><ol>{items}</ol></section>'

    body = _NOTES.sub(notes, body)
    # A table in a <figure> became, in Word, a table nested in a one-cell layout table; as a
    # plain table with its caption it is what Word users edit.
    body = re.sub(
        r'<figure class="an-figure-table">(.*?)</figure>', r"<div>\1</div>", body, flags=re.S
    )
    body = _TABLE.sub(_with_column_widths, body)
    # The links of the title block stood apart by CSS margins only; in Word they ran together
    # ("All reports Methodology note Source audit PDF Word").
    body = _LINK_RUN.sub(
        lambda m: m.group(1) + m.group(2).replace("</a> <a ", "</a> · <a ") + m.group(3), body
    )
    head = page.split("<body>", 1)[0]
    lang = re.search(r'<html lang="([^"]+)"', head)
    # No <title>: pandoc would print it as a Title paragraph above the title block's heading.
    return (
        f'<!DOCTYPE html>\n<html lang="{lang.group(1) if lang else "zh-CN"}">\n<head>\n'
        f"</head>\n<body>{body}</body>\n</html>\n"
    )


def _docx_request(page: str) -> tuple[str, str, list[tuple[str, bytes]]]:
    """What pandoc converts: (language, HTML source, the charts as named files)."""
    lang = re.search(r'<html lang="([^"]+)"', page)
    source = docx_source(page)
    # Each embedded chart as a file beside the source: pandoc decodes a megabyte of base64
    # in a data: URI ten times slower than it reads the file (1.5 s for the cluster report).
    images: list[tuple[str, bytes]] = []

    def to_file(match: re.Match[str]) -> str:
        data = base64.b64decode(match.group(2))
        images.append((f"figure-{len(images) + 1}.{match.group(1)}", data))
        return f'src="{images[-1][0]}"{_docx_image_size(data)}'

    source = re.sub(r'src="data:image/(png|jpeg);base64,([A-Za-z0-9+/=\s]+)"', to_file, source)
    return (lang.group(1) if lang else "zh-CN"), source, images


_PANDOC_ENV = {"SOURCE_DATE_EPOCH": "0", "LANG": "C.UTF-8"}


def render_docx(page: str) -> bytes:
    """The report as a Word document, from the same HTML with pandoc (the binary of the pinned
    `pypandoc-binary`, run offline): headings, footnotes, tables and charts, styles that name the
    house fonts (`reference_docx`). SOURCE_DATE_EPOCH=0 stamps the document's dates, so the
    bytes are the same on every machine and in every folder.

    Converted by this process's kept pandoc (`_KeptPandoc`), or, if that cannot run, by a
    pandoc started for this report: the same bytes either way (tested)."""
    lang, source, images = _docx_request(page)
    kept = _kept_pandoc()
    if kept is not None:
        try:
            return kept.convert(lang, source, images)
        except _PandocGone:
            _discard_kept_pandoc()
    return _render_docx_once(lang, source, images)


def _render_docx_once(lang: str, source: str, images: list[tuple[str, bytes]]) -> bytes:
    """`render_docx` with a pandoc of its own, the charts in a temporary folder."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="analysis-docx-") as tmp:
        reference = Path(tmp) / "reference.docx"
        reference.write_bytes(reference_docx())
        target = Path(tmp) / "report.docx"
        for name, data in images:
            (Path(tmp) / name).write_bytes(data)
        subprocess.run(
            [
                _pandoc(),
                "--from=html",
                "--to=docx",
                f"--reference-doc={reference}",
                f"--metadata=lang:{lang}",
                f"--resource-path={tmp}",
                "--output",
                str(target),
            ],
            input=source.encode("utf-8"),
            capture_output=True,
            check=True,
            cwd=tmp,
            env={"PATH": os.environ.get("PATH", ""), **_PANDOC_ENV},
        )
        return target.read_bytes()


class _PandocGone(Exception):
    """The kept pandoc ended or stopped answering."""


class PandocError(RuntimeError):
    """pandoc could not convert a report to Word (its message)."""


class _KeptPandoc:
    """One pandoc for all the Word files of a process: `pandoc lua docx.lua`, fed one report
    after another on its stdin (see that script for the exchange).

    pandoc takes about 25 ms to start, a third of a profile's Word step, and the build makes
    68 Word files. It ends when its stdin closes: when this process ends, however it ends,
    and then removes its temporary folder (the reference document, under $TMPDIR) itself.
    """

    def __init__(self) -> None:
        import subprocess
        import tempfile

        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.errors = tempfile.TemporaryFile()  # pandoc's stderr, read only if it dies
        env = {"PATH": os.environ.get("PATH", ""), **_PANDOC_ENV}
        if os.environ.get("TMPDIR"):
            env["TMPDIR"] = os.environ["TMPDIR"]
        # A session of its own: a Ctrl-C or a SIGTERM to the build's process group does not
        # reach it; it ends when its stdin closes, and only then removes its folder.
        self.process = subprocess.Popen(
            [_pandoc(), "lua", str(Path(__file__).with_name("docx.lua"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env=env,
            start_new_session=True,
        )
        reference = reference_docx()
        self._send(f"{len(reference)}\n".encode() + reference)

    def _send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except OSError as exc:
            raise _PandocGone(str(exc)) from exc

    def convert(self, lang: str, source: str, images: list[tuple[str, bytes]]) -> bytes:
        """The Word file of one report."""
        assert self.process.stdout is not None
        parts = [("source", source.encode("utf-8")), *images]
        header = " ".join(f"{name}:{len(data)}" for name, data in parts)
        with self.lock:
            self._send(f"{header}\n{lang}\n".encode() + b"".join(data for _, data in parts))
            status, _, size = (
                self.process.stdout.readline().decode("ascii", "replace").partition(" ")
            )
            if status not in ("ok", "error") or not size.strip().isdigit():
                raise _PandocGone(status)
            body = self.process.stdout.read(int(size))
        if status == "error":
            raise PandocError(
                f"pandoc could not make the Word file: {body.decode('utf-8', 'replace')}"
            )
        return body

    def close(self) -> None:
        """End pandoc (it removes its folder) and wait for it."""
        from .zygote import close_stdin

        close_stdin(self.process)
        try:
            self.process.wait(timeout=10)
        except Exception:  # pragma: no cover - stuck: nothing of ours to save
            self.process.kill()
            self.process.wait()
        self.errors.close()


_KEPT: list[_KeptPandoc] = []


def _kept_pandoc() -> _KeptPandoc | None:
    """This process's kept pandoc (started on first use; None where it cannot start). A
    forked child starts its own: the parent's pipes are the parent's."""
    if _KEPT and _KEPT[0].pid == os.getpid():
        return _KEPT[0]
    _KEPT.clear()
    try:
        kept = _KeptPandoc()
    except (OSError, _PandocGone):
        return None
    _KEPT.append(kept)
    if len(_AT_EXIT) == 0:
        import atexit

        atexit.register(_discard_kept_pandoc)
        _AT_EXIT.append(True)
    return kept


_AT_EXIT: list[bool] = []


def _discard_kept_pandoc() -> None:
    if _KEPT and _KEPT[0].pid == os.getpid():
        _KEPT[0].close()
    _KEPT.clear()
