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
Creation dates are never written and the file identifier is derived from the content. The
font is already a small subset, and WeasyPrint subsets it again to the glyphs it drew (with
HarfBuzz, in milliseconds). That second step is what gives the PDF a whole text layer: its
ToUnicode map then names each drawn glyph with the text it was shaped from. Embedded whole
(`full_fonts`), the map was read from the font's cmap, which names no glyph that a font feature
substitutes: the CJK face's `locl` gives English text other digits and `liga` joins "fi", so
`pdftotext` of every English PDF lost its digits ("launched in August  and May .") and every
PDF its ligatures ("rst").

Subsetting uses uharfbuzz when it is installed (milliseconds) and fontTools otherwise (seconds).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html as html_lib
import io
import logging
import os
import re
import shutil
from collections.abc import Iterator
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
_DATA_URI = re.compile(r"data:[a-z/+.-]+;base64,[A-Za-z0-9+/=\s]+", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)

# Characters that CSS-generated text (page numbers, separators) may need beyond the page text.
_ALWAYS = "".join(chr(c) for c in range(0x20, 0x7F)) + "—–·…“”‘’、。，：；！？（）《》【】¶•◦"

FONT_FAMILY_FALLBACK = "Noto Sans CJK SC"
# The family names the page gives its embedded subsets: private to the project, so that neither
# WeasyPrint (through fontconfig) nor a browser can resolve them to an installed font.
EMBEDDED_FAMILY = "Analysis Noto Sans CJK SC subset"
LATIN_FAMILY = "Analysis Noto Sans subset"
# The upright face of the `fontpkg-noto-sans` package (variable in weight and width).
LATIN_FONT_FILE = "NotoSans[wdth,wght].ttf"


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


CELL_TEMPLATE = r"""{%- extends 'base.html.j2' -%}
{%- block header -%}{%- endblock header -%}
{%- block body_header -%}{%- endblock body_header -%}
{%- block body_footer -%}{%- endblock body_footer -%}
{%- block footer -%}{%- endblock footer -%}
"""

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
@page {
  size: A4; margin: 20mm 18mm 22mm;
  @top-right { content: string(report-title); color: #5b6370; font-size: 8pt; }
  @bottom-center { content: counter(page) " / " counter(pages); color: #5b6370;
    font-size: 8pt; }
}
@page :first { @top-right { content: none; } }
@media print {
  html { font-size: 10.5pt; }
  main.report { max-width: none; padding: 0; }
  .report-footer { max-width: none; padding: .6rem 0 0; break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  tr, img, svg, pre { break-inside: avoid; page-break-inside: avoid; }
  h2 { margin-top: 1.6rem; }
}
"""


def page_css(lang: str) -> str:
    """The page's stylesheet, with the font stack of its language. On an English page a passage
    marked as Chinese (a quoted source sentence) is set CJK first, with the full-width
    punctuation Chinese text is drawn with."""
    stack = font_stack(lang)
    css = CSS.replace("%(stack)s", ", ".join(f'"{family}"' for family in stack))
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
    import fontpkg_noto_sans

    return Path(fontpkg_noto_sans.ROOT) / "files" / LATIN_FONT_FILE


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


def render_html(nb: Any, options: dict[str, Any], *, notebook_dir: str) -> tuple[str, str]:
    """Render an executed notebook as a complete HTML page; return (page, title).

    `options`: title (declared, or None to take the notebook's first level-1 heading),
    citation, series (site title), lang, notebook (relative path), params, key.
    """
    exporter = _exporter()
    resources = {"metadata": {"path": notebook_dir, "name": options.get("job_id", "report")}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    lang = options.get("lang") or "zh"
    text = _page_words(lang)
    title = options.get("title")
    first = _H1.search(body)
    if first is not None and (title is None or _text(first.group(1)) == title):
        # The notebook's own heading becomes the title block's heading, not a second one.
        title = title or _text(first.group(1))
        body = body[: first.start()] + body[first.end() :]
    title = title or options.get("job_id", "report")
    esc = html_lib.escape
    block = ['<header class="title-block">']
    if options.get("series"):
        block.append(f'<p class="series">{esc(options["series"])}</p>')
    block.append(f"<h1>{esc(title)}</h1>")
    if options.get("citation"):
        block.append(f'<p class="citation">{esc(options["citation"])}</p>')
    block.append("</header>")
    params = ", ".join(f"{k}={v}" for k, v in sorted(options.get("params", {}).items()))
    footer = [
        '<footer class="report-footer">',
        f"<p>{esc(text['built'].format(notebook=options.get('notebook', '')))}"
        + (f" · {esc(text['params'])}: {esc(params)}" if params else "")
        + "</p>",
    ]
    if options.get("key"):
        footer.append(f"<p>{esc(text['key'])}: {esc(options['key'][:16])}</p>")
    footer.append("</footer>")
    head = (
        '<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="analysis build">\n'
        "<title>{title}</title>\n<style>\n{{FONT}}\n{css}</style>\n</head>\n"
    ).format(lang=_html_lang(lang), title=esc(title), css=page_css(lang).strip() + "\n")
    page = (
        head
        + '<body>\n<main class="report">\n'
        + "\n".join(block)
        + "\n"
        + body.strip()
        + "\n</main>\n"
        + "\n".join(footer)
        + "\n</body>\n</html>\n"
    )
    remote = find_remote_resources(page)
    if remote:
        raise ValueError(
            "the report would load remote resources, which must not happen (it must open "
            f"offline): {', '.join(sorted(set(remote))[:5])}; embed them instead."
        )
    chars = html_lib.unescape(_DATA_URI.sub("", page))
    page = page.replace("{FONT}", page_fonts_css(chars, lang), 1)
    return page, title


def find_remote_resources(page: str) -> list[str]:
    """URLs outside the page that a browser would fetch (scripts, styles, images, fonts)."""
    return [match.group(1) for match in _RESOURCE.finditer(_DATA_URI.sub("", page))]


def find_remote_urls(page: str) -> list[str]:
    """Every http(s) or protocol-relative URL in the page, links included."""
    return REMOTE.findall(_DATA_URI.sub("", page))


# --------------------------------------------------------------------------- PDF


def render_pdf(page: str, *, base_url: str) -> bytes:
    """Render the HTML page as an A4 PDF with WeasyPrint (fonts embedded, no dates).

    Not `full_fonts`: only a font WeasyPrint subsets gets a ToUnicode map of what was shaped
    (see the module docstring), so that copy, search and screen readers get every glyph."""
    import weasyprint

    _subset_with_fonttools()
    with _font_configuration() as font_config, _source_date_epoch():
        document = weasyprint.HTML(string=page, base_url=str(base_url) + "/")
        return document.write_pdf(pdf_identifier=True, font_config=font_config)


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


class _FontToolsNotice(logging.Filter):
    """Drops WeasyPrint's notice that it subsets with fontTools: the project asks it to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "instead of HarfBuzz-Subset" not in record.getMessage()


@functools.cache
def _subset_with_fonttools() -> None:
    """Make WeasyPrint subset fonts with fontTools, whatever the system offers.

    WeasyPrint subsets with the system's libharfbuzz-subset when there is one (of whatever
    version the distribution ships) and with fontTools otherwise, and the two give different
    bytes: a PDF would then depend on a system package. fontTools is pinned in the lock, so it
    gives every machine the same font streams. The switch is WeasyPrint's own module global
    (`weasyprint.pdf.fonts.harfbuzz_subset`), read at each subsetting; the cost is tens of
    milliseconds a PDF (our subsets are small).
    """
    import weasyprint.pdf.fonts as fonts

    fonts.harfbuzz_subset = None
    logging.getLogger("weasyprint").addFilter(_FontToolsNotice())


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
