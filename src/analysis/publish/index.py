"""`reports/index.html`: one page that links every report, in both languages.

One section per report; a report whose grid varies more than the language (the province
profiles) gets one row per value. Each row links the HTML and PDF of each language, and the
charts the job saved (from its record, folded in a `<details>` so that a report with many
charts keeps its row short), and marks outputs that failed or were never built. The page
embeds a subset of the CJK font like the reports, so it opens offline with Chinese glyph
shapes.
"""

from __future__ import annotations

import html as html_lib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .export import EMBEDDED_FAMILY
from .jobs import STATE_DIR, TMP_PREFIX, Job
from .spec import LANG, Spec


def _lang_name(lang: str) -> str:
    """A language's own name for the index's column head (`[format] name` of its words file)."""
    from ..report.lang import LANGS, load_words

    return load_words(lang)["format"]["name"] if lang in LANGS else (lang or "—")


CSS = """
:root { font-family: "%(family)s", sans-serif; color: #1f2328; }
body { margin: 0; line-height: 1.6; }
main { max-width: 60rem; margin: 0 auto; padding: 2.5rem 1.5rem; }
h1 { font-weight: normal; color: #0b4f8a; margin: 0 0 .3rem; font-size: 1.8rem; }
h1 span { display: block; font-size: 1.1rem; color: #5b6370; }
h2 { font-weight: normal; color: #0b4f8a; font-size: 1.3rem; margin: 2.2rem 0 .5rem;
  border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
.citation { color: #5b6370; font-size: .85rem; margin: .2rem 0; }
.description { margin: .2rem 0 .6rem; }
.description span { display: block; color: #5b6370; font-size: .9rem; }
nav.site { margin: 1rem 0 0; }
nav.site a { margin-right: 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #d0d7de; }
thead th { border-bottom: 2px solid #1f2328; font-weight: normal; color: #5b6370; }
td.num, th.num { text-align: right; }
caption { text-align: left; padding: 1.2rem 0 .3rem; }
a { color: #0b4f8a; }
.failed { color: #a40e26; }
.missing { color: #8c959f; }
details { font-size: .8rem; }
/* Every target at least 24 px high (WCAG 2.2, 2.5.8 target size): the fold and its links. */
summary { min-height: 24px; line-height: 24px; cursor: pointer; }
details a { margin-right: .6rem; display: inline-block; min-height: 24px; line-height: 24px; }
footer { color: #5b6370; font-size: .8rem; margin-top: 2.5rem; }
code { font-family: inherit; font-size: inherit; }
"""


def _esc(text: Any) -> str:
    return html_lib.escape(str(text))


def _figures_label(lang: str, count: int) -> str:
    """The fold of a row's charts, in the language of its column (words `[page] figures`)."""
    from ..report.lang import LANGS, load_words

    words = load_words(lang if lang in LANGS else "zh")["page"]
    return words["figures"].format(n=count)


def _cell(job: Job, record: Mapping[str, Any] | None, reports_dir: Path) -> str:
    if record is None:
        return '<span class="missing">—</span>'
    outputs = job.outputs()
    if record.get("status") != "ok":
        failed = '失败 <span lang="en">failed</span>'
        links = [f'<a class="failed" href="{_esc(outputs["ipynb"])}">{failed}</a>']
        links.append(f'<a lang="en" href="{_esc(job.log)}">log</a>')
        return " · ".join(links)
    parts = []
    title = record.get("title") or job.job_id
    if "html" in outputs and (reports_dir / outputs["html"]).exists():
        parts.append(f'<a href="{_esc(outputs["html"])}">{_esc(title)}</a>')
    else:
        parts.append(_esc(title))
    if "pdf" in outputs and (reports_dir / outputs["pdf"]).exists():
        parts.append(f'<a href="{_esc(outputs["pdf"])}">PDF</a>')
    if "docx" in outputs and (reports_dir / outputs["docx"]).exists():
        parts.append(f'<a href="{_esc(outputs["docx"])}">Word</a>')
    text = " · ".join(parts)
    figures = [rel for rel in sorted(record.get("figures") or {}) if (reports_dir / rel).exists()]
    if figures:
        links = "".join(
            f'<a href="{_esc(rel)}"><code>{_esc(rel.split("/", 1)[-1])}</code></a>'
            for rel in figures
        )
        summary = _esc(_figures_label(job.lang, len(figures)))
        text += f"<details><summary>{summary}</summary>{links}</details>"
    return text


def _description(description: dict[str, str]) -> str:
    """A report's one line on the index, in each language (reports.toml `description`)."""
    zh, en = description.get("zh") or description.get(""), description.get("en")
    if not zh and not en:
        return ""
    inner = _esc(zh or "") + (f'<span lang="en">{_esc(en)}</span>' if en else "")
    return f'<p class="description">{inner}</p>'


def _site_nav() -> str:
    """Links to the methodology note in each language."""
    from ..report.lang import load_words
    from .site import methodology_href

    links = [
        f'<a href="{methodology_href("zh")}">{_esc(load_words("zh")["page"]["methodology"])}</a>',
        f'<a lang="en" href="{methodology_href("en")}">'
        f"{_esc(load_words('en')['page']['methodology'])}</a>",
    ]
    return f'<nav class="site">{"".join(links)}</nav>'


def _in(lang: str, markup: str) -> str:
    """Markup of a language other than the page's (Chinese) marked as such."""
    return f'<span lang="{_esc(lang)}">{markup}</span>' if lang and lang != "zh" else markup


def _row_label(job: Job) -> str:
    """The row's parameters in both languages, as markup (the English marked)."""
    labels = []
    for entry in job.report.grid:
        if entry.name == LANG or not entry.varies:
            continue
        value = job.params[entry.name]
        if entry.param_set is not None and entry.param_set.label:
            zh, en = entry.param_set.label(value, "zh"), entry.param_set.label(value, "en")
            labels.append(_esc(zh) if zh == en else f'{_esc(zh)} <span lang="en">{_esc(en)}</span>')
        else:
            labels.append(_esc(value))
    return " · ".join(labels)


def _heading(
    spec: Spec,
    report_name: str,
    rows: Sequence[Sequence[tuple[str, Job]]],
    records: Mapping[str, Mapping[str, Any]],
) -> str:
    report = spec.reports[report_name]
    if report.heading:  # the page's language (Chinese) first, as for the titles
        order = sorted(report.heading, key=lambda lang: (lang not in ("zh", ""), lang))
        return " / ".join(_in(lang, _esc(report.heading[lang])) for lang in order)
    varies_more = any(e.varies and e.name != LANG for e in report.grid)
    if not varies_more:
        titles = {}
        for lang, job in rows[0]:
            record = records.get(job.job_id)
            title = (record or {}).get("title") or job.title() or ""
            if title and title not in titles:
                titles[title] = lang
        if titles:
            return " / ".join(_in(lang, _esc(title)) for title, lang in titles.items())
    declared = {t: lang for lang, t in report.title.items() if t}
    if declared:
        import re

        return " / ".join(
            _in(lang, _esc(re.sub(r"\s*\{[^}]*\}\s*", " … ", t).strip()))
            for t, lang in declared.items()
        )
    # Nothing built and nothing declared: the report's name in reports.toml, an identifier in
    # neither language (was its words capitalised, English on the Chinese page).
    return f"<code>{_esc(report_name)}</code>"


def render_index(
    spec: Spec, jobs: Sequence[Job], records: Mapping[str, Mapping[str, Any]], reports_dir: Path
) -> str:
    """The index page (without its font: see `with_font`)."""
    site = spec.site_title
    title_zh = site.get("zh") or site.get("") or "报告"
    title_en = site.get("en") or "Reports"
    body = [f'<h1>{_esc(title_zh)}<span lang="en">{_esc(title_en)}</span></h1>']
    body.append(_site_nav())
    for lang in ("zh", "en", ""):
        if spec.source.get(lang):
            attr = f' lang="{lang}"' if lang == "en" else ""
            body.append(f'<p class="citation"{attr}>{_esc(spec.source[lang])}</p>')
    by_report: dict[str, dict[str, list[tuple[str, Job]]]] = {}
    for job in jobs:
        rows = by_report.setdefault(job.report.name, {})
        rows.setdefault(_row_label(job), []).append((job.lang, job))
    for report_name, rows in by_report.items():
        row_list = list(rows.values())
        langs = list(dict.fromkeys(lang for cells in row_list for lang, _ in cells))
        body.append(f'<section id="{_esc(report_name)}">')
        body.append(f"<h2>{_heading(spec, report_name, row_list, records)}</h2>")
        body.append(_description(spec.reports[report_name].description))
        labelled = any(label for label in rows)
        # The corner above the row labels heads nothing: a data cell, not an empty header
        # (axe: empty-table-header).
        head = ["<td></td>"] if labelled else []
        head += [f'<th scope="col">{_in(lang, _esc(_lang_name(lang)))}</th>' for lang in langs]
        body.append("<table><thead><tr>" + "".join(head) + "</tr></thead><tbody>")
        for label, cells in rows.items():
            by_lang = {lang: job for lang, job in cells}
            tds = [f'<th scope="row">{label}</th>'] if labelled else []
            for lang in langs:
                job = by_lang.get(lang)
                content = (
                    _cell(job, records.get(job.job_id), reports_dir)
                    if job is not None
                    else '<span class="missing">—</span>'
                )
                attr = f' lang="{_esc(lang)}"' if lang and lang != "zh" else ""
                tds.append(f"<td{attr}>{content}</td>")
            body.append("<tr>" + "".join(tds) + "</tr>")
        body.append("</tbody></table>")
        body.append(_report_tables(report_name, langs))
        body.append("</section>")
    body.append(
        '<footer><p>构建清单 <span lang="en">Build manifest</span>：<a href="manifest.json">'
        "<code>manifest.json</code></a></p></footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title_zh)} · {_esc(title_en)}</title>\n<style>\n{{FONT}}\n"
        f"{CSS.replace('%(family)s', EMBEDDED_FAMILY).strip()}\n</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def _report_tables(report_name: str, langs: list[str]) -> str:
    """What the report layer shows under a report's links (the profiles: all 31 compared)."""
    from ..report.lang import LANGS
    from ..report.tables import index_tables

    return index_tables(report_name, [lang for lang in langs if lang in LANGS])


def with_font(page: str) -> str:
    """Embed the font subset the page needs."""
    from .export import font_face_css, subset_font

    # Under the private name of the reports, never "Noto Sans CJK SC": a browser with that
    # family installed would otherwise mix its glyphs with the page's subset.
    font = font_face_css(subset_font(html_lib.unescape(page)), EMBEDDED_FAMILY)
    return page.replace("{FONT}", font, 1)


def write_index(page: str, reports_dir: Path) -> bool:
    """Write reports/index.html when its content changed; True when written."""
    from ..io import write_text
    from .cache import bytes_sha256

    marker = reports_dir / STATE_DIR / "index.json"
    target = reports_dir / "index.html"
    digest = bytes_sha256(page.encode("utf-8"))
    try:
        previous = json.loads(marker.read_text(encoding="utf-8")).get("sha256")
    except (OSError, ValueError):
        previous = None
    if previous == digest and target.exists():
        return False
    write_text(target, with_font(page), TMP_PREFIX)
    write_text(marker, json.dumps({"sha256": digest}) + "\n", TMP_PREFIX)
    return True
