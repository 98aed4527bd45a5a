"""HTML pieces of a report (headings, source lines, tables) and their plain-text form.

Every block a notebook displays is published as HTML together with a plain-text form
(`html_to_text`), so that executed notebooks compare as text (nbval) and tests can read them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from ..missing import is_missing

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|li|h[1-6]|tr|caption|div|ol|ul|table|figcaption)>")


def slug(key: str) -> str:
    """An HTML id from a template key: "cluster_policy.summary" → "cluster-policy-summary"."""
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def html_to_text(markup: str) -> str:
    """A plain-text form of our own HTML: blocks on lines, cells separated by tabs."""
    text = _BLOCK_END.sub("\n", str(markup))
    text = re.sub(r"</t[dh]>", "\t", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    lines = [line.rstrip("\t ").strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def heading_html(text: str, level: int = 2, anchor: str | None = None) -> str:
    """An HTML heading with an optional id."""
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return f"<h{level}{ident}>{escape(text)}</h{level}>"


def caption_html(text: str) -> str:
    """The source line under a chart or table."""
    return f'<p class="an-source">{escape(text)}</p>'


def _cell_class(shown: str, is_number: bool) -> str:
    if is_number:
        return ' class="num"'
    if len(shown) <= 4 or (shown.isascii() and " " not in shown and len(shown) <= 16):
        # Short names (江苏) and ids (a1-p016) must not break into one-character lines.
        return ' class="nowrap"'
    return ""


def table_html(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    source: str | None = None,
    number_columns: Sequence[str] = (),
    css_class: str = "an-table",
    highlight_rows: Sequence[int] = (),
) -> str:
    """A clean HTML table: header from the column names, no index, optional caption and source.

    Cells are escaped; `number_columns` are right-aligned; the rows at `highlight_rows`
    (positions) are marked by more than colour: class `an-highlight`, `aria-current`, and
    their cells in <strong>. The DataFrame is printed as given, so format numbers (e.g. with
    `formatting.format_value`) before calling.
    """
    num = ' class="num"'
    head = "".join(
        f'<th scope="col"{num if c in number_columns else ""}>{escape(str(c))}</th>'
        for c in frame.columns
    )
    body_rows = []
    marked = set(highlight_rows)
    for i, record in enumerate(frame.itertuples(index=False, name=None)):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            # Markup (a Chinese original marked lang="zh-CN", an erratum) is kept as HTML.
            shown = value if isinstance(value, Markup) else "" if is_missing(value) else str(value)
            text = f"<strong>{escape(shown)}</strong>" if i in marked else escape(shown)
            cells.append(f"<td{_cell_class(shown, column in number_columns)}>{text}</td>")
        attrs = ' class="an-highlight" aria-current="true"' if i in marked else ""
        body_rows.append(f"<tr{attrs}>{''.join(cells)}</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    foot = caption_html(source) if source else ""
    return (
        f'<figure class="an-figure-table"><table class="{css_class}">{cap}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body_rows)}</tbody></table>"
        f"{foot}</figure>"
    )
