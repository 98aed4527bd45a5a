"""Showing a report in a notebook: HTML blocks with their plain text, the title, sections,
tables, inline charts, and the CSS of the elements the report layer writes.

A report notebook starts with `lang = display.setup_notebook(lang)`: the language is checked
once there and carried on as a `Lang`.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import escape

from .lang import Lang, check_lang
from .markup import heading_html, html_to_text, slug, table_html
from .render import Rendered, render, render_inline

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.publish.zygote.warm_up`), while `import analysis.report.display` stays cheap.
WARM_IMPORTS = (
    "IPython.display",
    "matplotlib_inline.backend_inline",
    "mistune",
    "cn2an",
    "analysis.provinces",
    "analysis.report.style",
    "analysis.report.render",  # its IDLE_CALLS compile the words files' templates
    "analysis.facts.glossary",
    "analysis.facts.api",
)

# Styles of the elements the report layer writes (notes, source lines, tables). The report
# page's own stylesheet (analysis.publish.export) sets the font and the typography; these rules
# only add what it does not know about. No external resource is referenced.
REPORT_CSS = """
/* List bullets: • and ◦ are written here so that the font subset the report embeds, which
   holds the characters of the page, has them; otherwise the PDF falls back to DejaVu Sans. */
.an-subtitle { color: #5b6370; font-size: 1.1rem; margin: 0 0 1rem; }
.an-sources { color: #5b6370; font-size: .85rem; margin: 0 0 1.5rem; }
.an-sources ul { margin: .2rem 0 .4rem; padding-left: 1.2rem; }
.an-sources p { margin: .2rem 0; text-align: left; }
.an-notes { color: #5b6370; font-size: .78rem; line-height: 1.55; margin: .2rem 0 1.2rem;
  padding-left: 1.6rem; }
.an-notes li { margin: .15rem 0; text-align: left; }
/* Note markers in brackets, in the text ("31[2]") and in the list of notes ("[2] ..."): a bare
   superscript after a number reads as an exponent. */
@counter-style an-note { system: extends decimal; prefix: "["; suffix: "] "; }
.an-notes { list-style-type: an-note; }
.an-ref { font-size: .7em; line-height: 0; margin-left: .08em; }
.an-ref a { text-decoration: none; }
.an-source { color: #5b6370; font-size: .78rem; margin: .3rem 0 1.2rem; text-align: left; }
figure.an-figure-table { margin: 1rem 0 1.4rem; }
figure.an-figure-table table { width: 100%; margin: .3rem 0 0; }
table.an-table caption { caption-side: top; text-align: left; color: #1f2328;
  font-size: .9rem; padding: 0 0 .3rem; }
table.an-table td.num, table.an-table th.num { text-align: right; white-space: nowrap; }
table.an-table td.nowrap { white-space: nowrap; }
/* A long table of short cells (the 31 provinces compared): tight rows, so that it fits a page. */
table.an-table.an-compact { font-size: .76rem; line-height: 1.3; }
table.an-table.an-compact th, table.an-table.an-compact td { padding: .12rem .4rem; }
table.an-table tr.an-highlight td { background: #d9e6f4; border-top: 1px solid #1f2328;
  border-bottom: 1px solid #1f2328; }
code { font-family: inherit; word-break: break-all; font-size: .85em; }
""".strip()


def show_html(markup: str, text: str | None = None) -> None:
    """Display HTML in a notebook with a plain-text form (what nbval compares and tests read)."""
    from IPython import get_ipython
    from IPython.display import display

    plain = html_to_text(markup) if text is None else text
    if get_ipython() is None:  # a plain Python session: print what a reader would see
        print(plain)
        return
    display({"text/html": str(markup), "text/plain": plain}, raw=True)


def show_markdown(text: str) -> None:
    """Display Markdown (rendered to HTML here, so the export needs no Markdown step)."""
    import mistune

    show_html(mistune.html(text))


def show_heading(key: str, lang: str, level: int = 2, **context: Any) -> None:
    """Display the one-line template at `key` as a heading."""
    text = render_inline(key, lang, **context)
    show_html(heading_html(text, level, anchor=slug(key)), text)


def show_table(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    source: str | None = None,
    number_columns: Sequence[str] = (),
    highlight_rows: Sequence[int] = (),
    css_class: str = "an-table",
) -> None:
    """Display a DataFrame as a clean HTML table with its caption and source line (and the rows
    at `highlight_rows` marked, e.g. a profile's own province)."""
    markup = table_html(
        frame,
        caption=caption,
        source=source,
        number_columns=number_columns,
        highlight_rows=highlight_rows,
        css_class=css_class,
    )
    lines = [caption] if caption else []
    lines.append(frame.to_string(index=False))
    if source:
        lines.append(source)
    show_html(markup, "\n".join(lines))


def setup_notebook(lang: object) -> Lang:
    """Check `lang` and return its `Lang`; apply the chart style; show figures as PNG."""
    lang = check_lang(lang)
    from .style import use_style

    use_style(lang)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover - outside IPython the format does not matter
        return lang
    set_matplotlib_formats("png")  # PNG only, no SVG or PDF copy of each figure
    shell = get_ipython()
    if shell is None:
        return lang
    from matplotlib.figure import Figure

    # 200 dpi, the resolution of the PNG saved for slides: sharp at the page width of the HTML
    # and of the A4 PDF (the image is scaled to the text width), and a chart saved with
    # `save_figure` is shown with the bytes just written rather than drawn once more.
    shell.display_formatter.formatters["image/png"].for_type(
        Figure, lambda fig: _inline_png(fig, str(lang))
    )
    return lang


# Alt text a chart function gave its figure (`describe`), by figure.
_ALT: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def describe(fig: Any, text: str) -> Any:
    """Give a figure the alt text the report shows with it (its title and what it shows, in the
    report's language); without one, `figure_alt` composes it from the figure's own text."""
    _ALT[fig] = text
    return fig


def figure_alt(fig: Any, lang: str) -> str:
    """The alt text of a figure: what `describe` gave it, or its titles, then what it shows
    (axis labels and legend entries), all taken from the figure, so in the chart's language."""
    if fig in _ALT:
        return _ALT[fig]
    from .lang import load_words

    words = load_words(lang)["page"]
    titles: list[str] = []
    shows: list[str] = []
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        titles.append(suptitle.get_text())
    axes = list(fig.axes)
    for ax in axes:  # with the insets (a map's colour bar, its South China Sea box)
        axes += [child for child in getattr(ax, "child_axes", []) if child not in axes]
    for ax in axes:
        titles += [t.get_text() for t in (ax.title, ax._left_title) if t.get_text().strip()]
        shows += [ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            shows += [legend.get_title().get_text(), *(t.get_text() for t in legend.get_texts())]
    for legend in fig.legends:
        shows += [legend.get_title().get_text(), *(t.get_text() for t in legend.get_texts())]
    sep = "、" if lang == "zh" else "; "
    clean = [" ".join(s.split()) for s in dict.fromkeys(titles + shows) if s and s.strip()]
    title_text = sep.join(" ".join(t.split()) for t in dict.fromkeys(titles) if t.strip())
    shown = sep.join(s for s in clean if s not in title_text)
    return (
        words["figure_alt"]
        .format(
            kind=words["figure"],
            title=title_text or words["figure"],
            shows=words["figure_shows"].format(what=shown) if shown else "",
        )
        .strip()
    )


def _inline_png(fig: Any, lang: str = "zh") -> tuple[str, dict[str, str]] | None:
    """The base64 PNG of a figure for the notebook (None for an empty figure, as IPython), with
    its alt text as the output's metadata (the export writes it into the page's `<img>`)."""
    import base64

    from .style import figure_png

    if not fig.axes and not fig.lines:
        return None
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    return data, {"alt": figure_alt(fig, lang)}


def title_html(report: str, lang: str, **context: Any) -> str:
    """The report's title (h1), subtitle and method note, with the report layer's styles.

    The build puts the h1 in the page's title block, under which it prints the citation of
    the source (reports.toml), so the articles are not listed again here.
    """
    title = render_inline(f"{report}.title", lang, **context)
    subtitle = render_inline(f"{report}.subtitle", lang, **context)
    # A report may say its own method (the source audit cannot refer the reader to itself).
    own = f"{report}.method" if "method" in check_lang(lang).words.get(report, {}) else None
    method = escape(render_inline(own or "title_block.method", lang))
    return (
        f"<style>{REPORT_CSS}</style>\n"
        f"{heading_html(title, 1)}\n"
        f'<p class="an-subtitle">{escape(subtitle)}</p>\n'
        f'<div class="an-sources"><p>{method}</p></div>'
    )


def show_title(report: str, lang: str, **context: Any) -> None:
    """Display the title of `report` (its h1 becomes the title block of the exported page)."""
    markup = title_html(report, lang, **context)
    show_html(markup, html_to_text(markup.split("</style>", 1)[-1]))


def section_html(key: str, lang: str, variant: str | None = None, **context: Any) -> Rendered:
    """A section: its heading (`<key>.heading`) and text (`<key>.text` or `.text_<variant>`)."""
    heading = render_inline(f"{key}.heading", lang, **context)
    text_key = f"{key}.text_{variant}" if variant else f"{key}.text"
    body = render(text_key, lang, **context)
    markup = heading_html(heading, 2, anchor=slug(key)) + "\n" + body.html
    return Rendered(html=markup, text=html_to_text(markup), notes=body.notes)


def show_section(key: str, lang: str, variant: str | None = None, **context: Any) -> None:
    """Display a section (heading and text with its source notes)."""
    rendered = section_html(key, lang, variant, **context)
    show_html(rendered.html, rendered.text)


def show_text(key: str, lang: str, **context: Any) -> None:
    """Display the block template at `key` without a heading."""
    rendered = render(key, lang, **context)
    show_html(rendered.html, rendered.text)
