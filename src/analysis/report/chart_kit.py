"""The common parts of the report charts: size, colours, bars, label wrapping, the source line
under each chart and its byte-stable saving as PNG and SVG (`style.save_figure`).

A chart function (`charts`, `timeline`) draws from the frame a notebook hands it; the words come
from the `[charts]` templates of the language's words file. matplotlib is imported inside the
functions.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .citations import source_caption
from .lang import check_lang
from .render import render_inline

# What the functions below import when first called: a report kernel imports these ahead of
# time (`analysis.publish.zygote.warm_up`), while `import analysis.report.chart_kit` stays cheap.
WARM_IMPORTS = (
    "matplotlib.pyplot",
    "matplotlib.patheffects",
    "analysis.report.style",
    "analysis.report.maps",
)

# Called by the kernel template process once its first kernel is forked (`zygote.serve`).
IDLE_CALLS = ("warm_draw",)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORMATS = ("png", "svg")
WIDTH_IN = 6.4  # A4 text width, as the house style
# Colours by role (indices into style.PALETTE, the Okabe-Ito colour-blind-safe palette).
KIND_COLOR = {"national": 0, "competition": 1, "regional": 2, "provincial": 3}
REFERENCE_GREY = "#B8B8B8"
LIGHT_GREY = "#E3E3E3"
NOT_LISTED_FACE = "#FFFFFF"


def figure_formats(default: tuple[str, ...]) -> tuple[str, ...]:
    """The files to save a chart as: the build's (reports.toml `figures`), else `default`."""
    from .. import paths

    return paths.figure_formats(default)


def figures_dir() -> Path:
    """Where charts are saved: `analysis.paths.figures_dir()`, looked up at every save.

    That is `$ANALYSIS_FIGURES_DIR` when set (`analysis build` sets it for each kernel, so
    that a build's charts land in its own reports folder), else `paths.FIGURES`
    (reports/figures/), which tests may redirect.
    """
    from .. import paths

    return paths.figures_dir()


def warm_draw() -> None:
    """Draw a little text in the house style to memory and discard it (the template process).

    A process's first chart costs about 0.1 s more than the next: matplotlib opens the fonts
    and fills its font, glyph and layout caches, and the style is applied. Done once in the
    template process, the kernels forked from it later start with those caches filled (the
    rcParams are put back; the figure is closed, so pyplot numbers the next one 1 again).
    """
    import io

    import matplotlib as mpl

    from .style import even_line_pitch

    with mpl.rc_context():
        plt = setup("en")  # Latin first with the CJK face behind it: both fonts opened
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.set_title("江苏 Jiangsu 0123456789")
        ax.text(0.5, 0.5, "浙江 Zhejiang 8%", fontsize=7)
        ax.annotate("广东 Guangdong", (0.2, 0.2), xytext=(3, 0), textcoords="offset points")
        fig.savefig(io.BytesIO(), format="png", dpi=200)
        even_line_pitch(fig)  # measures the line boxes of both stacks (`style._line_box_em`)
        plt.close(fig)
    # The language's words file was read to choose the font stack: a kernel forked later must
    # read the file as it is then (a template edited in `analysis preview`), not this copy.
    from .lang import load_words

    load_words.cache_clear()


def chart_text(key: str, lang: str, **context: Any) -> str:
    """The one-line chart template `charts.<key>` (a title, an axis label) in `lang`."""
    return render_inline(f"charts.{key}", lang, **context)


def setup(lang: str) -> Any:
    """matplotlib.pyplot with the house style for a chart in `lang` applied (its font stack:
    Latin first for English, the CJK face first for Chinese; `style.font_stack`)."""
    import matplotlib.pyplot as plt

    from .style import use_style

    use_style(lang)
    return plt


def finish(fig: Figure, stem: str, lang: str, rows: Any, save: bool) -> Figure:
    """Add the source caption of `rows`, then save `<stem>_<lang>.png/.svg`."""
    from .style import add_caption, even_line_pitch, save_figure, warn_missing_glyphs

    add_caption(fig, source_caption(rows, lang))
    even_line_pitch(fig)
    warn_missing_glyphs(fig)
    if save:
        save_figure(fig, figures_dir() / f"{stem}_{lang}", formats=figure_formats(FORMATS))
    return fig


def wrap(text: str, lang: str, width_en: int = 26, width_zh: int = 13) -> str:
    """Wrap a category label: at spaces where the language puts spaces between words (English,
    at `width_en` characters), else every `width_zh` characters (Chinese)."""
    if check_lang(lang).fmt["word_space"]:
        return "\n".join(textwrap.wrap(text, width_en, break_on_hyphens=False)) or text
    if len(text) <= width_zh:
        return text
    lines = math.ceil(len(text) / width_zh)
    size = math.ceil(len(text) / lines)  # balanced lines rather than a short last one
    return "\n".join(text[i : i + size] for i in range(0, len(text), size))


def palette(i: int) -> str:
    """Colour `i` of the house palette (Okabe-Ito), cycling."""
    from .style import PALETTE

    return PALETTE[i % len(PALETTE)]


def hbar(
    ax: Axes,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    xlabel: str,
    value_labels: Sequence[str],
    colors: Sequence[str] | str | None = None,
    xmax: float | None = None,
) -> None:
    """Horizontal bars, first item on top, value labels just outside the bar ends."""
    n = len(values)
    ys = list(range(n))
    color = colors if colors is not None else palette(0)
    ax.barh(ys, values, color=color, height=0.66, zorder=2)
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    top = max(values) if values else 1.0
    limit = xmax if xmax is not None else top
    # Room on the right for the longest value label (roughly 0.022 of the axis per character).
    longest = max((len(v) for v in value_labels), default=1)
    ax.set_xlim(0, limit * (1.04 + 0.028 * longest))
    for y, value, text in zip(ys, values, value_labels, strict=True):
        ax.annotate(
            text,
            (value, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=8,
            color="#222222",
        )
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_locator(integer_locator())


def integer_locator() -> Any:
    """Ticks at whole numbers only (counts), at most six."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True, nbins=6)


def height_for(n_bars: int, lines_per_bar: float = 1.0, extra: float = 1.1) -> float:
    """Figure height (inches) for `n_bars` bars whose labels take up to `lines_per_bar` lines."""
    return round(extra + 0.25 * n_bars * (1.0 + 0.25 * (max(1.0, lines_per_bar) - 1.0)), 2)
