"""What joins the reports into one site: links, the title block's imprint, data downloads and
the methodology note.

- `page_context(spec, job)`: what a report's page needs to know of the site (given to the
  export with the job): publisher and dates of its source (from the origin records, only what
  they state), links to the index, the methodology note, the source audit, its own PDF and Word
  files and the data it shows.
- `write_site(spec, reports_dir)`: writes `methodology.<lang>.html` and copies the tables the
  reports declare (`data = [...]` in reports.toml, as CSV, and the workbook of every table)
  into `data/`. What it wrote is recorded in `.build/site.json` with each file's sha256, and
  listed in the manifest; a file of `data/` is removed only when that record lists it with the
  very bytes it has (a file someone put there is never touched).
"""

from __future__ import annotations

import html as html_lib
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .jobs import DATA_DIR, HTML_DIR, STATE_DIR, TMP_PREFIX, Job
from .spec import Spec

SITE_RECORD = f"{STATE_DIR}/site.json"
WORKBOOK = "ccid_facts.xlsx"
METHODOLOGY = "methodology"
AUDIT_REPORT = "source_audit"


def _words(lang: str) -> dict[str, str]:
    from ..report.lang import LANGS, load_words

    return load_words(lang if lang in LANGS else "en")["page"]


def methodology_href(lang: str) -> str:
    """The methodology note of a language, relative to the reports folder."""
    return f"{METHODOLOGY}.{lang or 'zh'}.html"


def publisher_label(publisher: str, lang: str) -> str:
    """The publisher of an origin record in a language (`corpus.origin.publisher_names`): a
    Chinese page takes the Chinese names, an English page the English ones; the publisher
    first, its parent body in brackets."""
    from ..corpus.origin import publisher_names

    names = publisher_names(publisher, lang)
    if not names:
        return ""
    first, rest = names[0], names[1:]
    if not rest:
        return first
    return f"{first}（{'，'.join(rest)}）" if lang == "zh" else f"{first} ({', '.join(rest)})"


def imprint(article_ids: tuple[str, ...], lang: str) -> dict[str, str]:
    """The title block's publisher and date lines of a report, from its articles' records.

    A date is given only when the record states one. Otherwise the line says "undated" and,
    where the text names months, the bound they give (written in or after the latest one);
    never the date of the build.
    """
    if not article_ids:
        return {}
    from ..corpus import load_corpus

    words = _words(lang)
    articles = {a.id: a for a in load_corpus().articles}
    chosen = [articles[i] for i in article_ids if i in articles]
    publishers = list(dict.fromkeys(publisher_label(a.publisher, lang) for a in chosen))
    dates = list(dict.fromkeys(a.date for a in chosen if a.date))
    if not dates:
        # Undated: what the text itself bounds. An article that mentions a month was written in
        # or after it; the month is read from the text, never typed.
        months = [latest_month(a.id) for a in chosen]
        if months and all(months):
            from ..report.formatting import format_month, join_items

            said = join_items((format_month(m, lang) for m in months), lang)
            key = "date_after" if len(months) == 1 else "date_after_each"
            dates = [words[key].format(month=said)]
    return {
        "publisher": "; ".join(p for p in publishers if p),
        "date": "; ".join(dates) if dates else words["date_unknown"],
    }


_MONTH = re.compile(r"(\d{4})年(\d{1,2})月")


def latest_month(article_id: str) -> str:
    """The latest year and month ("2021-05") an article's clean text names ("截至2021年5月"),
    or "" when it names none: the earliest it can have been written."""
    from ..corpus import load_corpus

    found = [
        f"{year}-{int(month):02d}"
        for p in load_corpus().paragraphs
        if p.article_id == article_id
        for year, month in _MONTH.findall(p.text)
        if 1 <= int(month) <= 12
    ]
    return max(found, default="")


def page_context(spec: Spec, job: Job) -> dict[str, Any]:
    """What the page of `job` needs of the site: imprint, links and data downloads.

    Every href starts from the reports folder's parent (`../`): the HTML, the PDF and the Word
    file each lie one folder down (html/, pdf/, docx/), so the same links work in all three."""
    lang = job.lang
    words = _words(lang)
    outputs = job.outputs()
    links = [
        (words["index"], "../index.html"),
        (words["methodology"], "../" + methodology_href(lang)),
    ]
    audit = spec.reports.get(AUDIT_REPORT)
    if audit is not None and job.report.name != AUDIT_REPORT and "html" in audit.formats:
        links.append((words["audit"], f"../{HTML_DIR}/{AUDIT_REPORT}.{lang}.html" if lang else ""))
    for kind, label in (("pdf", "PDF"), ("docx", words["docx"])):
        if kind in outputs:
            links.append((label, "../" + outputs[kind]))
    data = [(f"{table}.csv", f"../{DATA_DIR}/{table}.csv") for table in job.report.data]
    if data:
        data.append((words["workbook"], f"../{DATA_DIR}/{WORKBOOK}"))
    xrefs = {}
    if audit is not None and job.report.name != AUDIT_REPORT and lang:
        xrefs[words["audit_ref"]] = f"../{HTML_DIR}/{AUDIT_REPORT}.{lang}.html"
    return {
        "imprint": imprint(job.report.articles, lang),
        "links": [list(link) for link in links if link[1]],
        "data": [list(item) for item in data],
        "xrefs": xrefs,
        # Each parameter's reader-facing label, where it differs from the value typed (the
        # footer shows `province=江苏` as typed, and "Jiangsu" beside it on an English page).
        "param_labels": {
            name: job.label(name) for name in job.params if job.label(name) != str(job.params[name])
        },
    }


# --------------------------------------------------------------------------- site files


def _methodology_text(lang: str) -> dict[str, Any]:
    text = (Path(__file__).with_name("methodology.toml")).read_text(encoding="utf-8")
    notes = tomllib.loads(text)
    return notes[lang if lang in notes else "en"]


def render_methodology(lang: str, series: str = "") -> str:
    """The methodology note as a page (without its fonts), in the report style."""
    from .export import page_shell

    note = _methodology_text(lang)
    words = _words(lang)
    esc = html_lib.escape
    body = [
        '<header class="title-block">',
        f'<p class="series">{esc(series)}</p>' if series else "",
        f"<h1>{esc(note['title'])}</h1>",
        f'<p class="an-nav"><a href="index.html">{esc(words["index"])}</a></p>',
        "</header>",
        f"<p>{esc(note['intro'])}</p>",
    ]
    for number, section in enumerate(note["sections"], start=1):
        body.append(f'<h2 id="m{number}">{esc(section["heading"])}</h2>')
        body += [f"<p>{_code_marked(esc(paragraph))}</p>" for paragraph in section["paragraphs"]]
    inner = "\n".join(line for line in body if line)
    if lang:  # "see the Source audit report" made a link, as in the reports
        from .export import _linked

        inner = _linked(inner, {words["audit_ref"]: f"{HTML_DIR}/{AUDIT_REPORT}.{lang}.html"})
    return page_shell(inner, note["title"], lang)


_FILE_NAME = re.compile(r"\b[\w./-]+\.(?:toml|json|csv|xlsx|html)\b")


def _code_marked(text: str) -> str:
    """File names of the note set as code: names, in neither language."""
    return _FILE_NAME.sub(lambda m: f"<code>{m.group(0)}</code>", text)


def _file_sha256(path: Path) -> str:
    from .cache import file_sha256

    return file_sha256(path)


def site_files(spec: Spec, processed: Path) -> dict[str, bytes | Path]:
    """Every file the site adds beside the reports: relative path -> bytes or source file."""
    from .export import with_fonts

    series_by_lang = spec.site_title
    files: dict[str, bytes | Path] = {}
    langs = sorted(
        {
            str(v)
            for r in spec.reports.values()
            for e in r.grid
            if e.name == "lang"
            for v in e.values
        }
    )
    for lang in langs or ["zh"]:
        series = series_by_lang.get(lang) or series_by_lang.get("") or ""
        page = with_fonts(render_methodology(lang, series), lang)
        files[methodology_href(lang)] = page.encode("utf-8")
    tables = sorted({t for report in spec.reports.values() for t in report.data})
    for table in tables:
        files[f"{DATA_DIR}/{table}.csv"] = processed / f"{table}.csv"
    if tables:
        files[f"{DATA_DIR}/{WORKBOOK}"] = processed / WORKBOOK
    return files


def read_site_record(reports_dir: Path) -> dict[str, dict[str, Any]]:
    """The files the last `write_site` placed: relative path -> sha256 and size."""
    try:
        data = json.loads((reports_dir / SITE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return files if isinstance(files, dict) else {}


def write_site(spec: Spec, reports_dir: Path, processed: Path | None = None) -> dict[str, Any]:
    """Write the methodology notes and the data copies; return the record of what is there.

    Raises InputError naming the file when a declared table is missing from data/processed/.
    """
    from ..errors import InputError
    from ..io import write_bytes
    from .cache import bytes_sha256

    if processed is None:
        processed = spec.root / "data" / "processed"
    previous = read_site_record(reports_dir)
    record: dict[str, dict[str, Any]] = {}
    for rel, content in site_files(spec, processed).items():
        if isinstance(content, Path):
            try:
                content = content.read_bytes()
            except OSError as exc:
                raise InputError(
                    f"{content}: cannot copy it into {reports_dir / rel} ({exc.strerror}); a "
                    f"report of {spec.path.name} lists it under `data`; run `make data`."
                ) from None
        digest = bytes_sha256(content)
        target = reports_dir / rel
        if previous.get(rel, {}).get("sha256") != digest or not holds(target, digest):
            write_bytes(target, content, TMP_PREFIX)
        record[rel] = {"sha256": digest, "size": len(content)}
    for rel, info in sorted(previous.items()):
        if rel in record or not rel.startswith(f"{DATA_DIR}/") or ".." in rel.split("/"):
            continue
        path = reports_dir / rel
        if holds(path, info.get("sha256")):  # only our own bytes
            path.unlink()
    text = json.dumps({"files": record}, indent=1, sort_keys=True) + "\n"
    from ..io import write_text

    write_text(reports_dir / SITE_RECORD, text, TMP_PREFIX)
    return record


def holds(path: Path, digest: Any) -> bool:
    """Whether `path` is a plain file holding the bytes of sha256 `digest`."""
    try:
        return path.is_file() and not path.is_symlink() and _file_sha256(path) == digest
    except OSError:
        return False


def manifest_section(reports_dir: Path) -> Mapping[str, Any]:
    """The site's files for the manifest (what `write_site` recorded)."""
    return dict(sorted(read_site_record(reports_dir).items()))
