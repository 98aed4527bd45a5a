"""A job is one report run with one set of parameters; its id names every file it produces.

Ids are stable and ASCII-safe: the report name, then the slug of each varying parameter, the
language last, joined by dots (`cluster_policy.zh`, `province_profile.jiangsu.en`). Values that
are not plain ASCII take their slug from their value set (a province's English name), so file
names never depend on the file system's handling of Chinese.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .spec import LANG, ReportSpec, SpecError, slugify

NOTEBOOKS_DIR = "notebooks"
HTML_DIR = "html"
PDF_DIR = "pdf"
DOCX_DIR = "docx"
DATA_DIR = "data"  # the tables the reports show, copied for download (`site.write_site`)
LOGS_DIR = "logs"
FIGURES_DIR = "figures"  # the charts the notebooks save, for slides (`analysis.report.charts`)
STATE_DIR = ".build"
# The last good HTML, PDF and charts of a job whose latest build failed, moved out of html/,
# pdf/ and figures/ so that no stale report sits among the current ones.
FAILED_DIR = "failed"
# Every temporary file the build writes into a reports folder starts with this, and the
# start-of-build sweep removes only such names: nothing a person or another program made.
TMP_PREFIX = ".analysis-tmp-"
LOCK_FILE = f"{STATE_DIR}/lock"  # held (fcntl) by the one build writing into the folder

_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Job:
    """One notebook run: which report, which parameters, and where its outputs go."""

    report: ReportSpec
    params: dict[str, Any]
    job_id: str

    @property
    def lang(self) -> str:
        """The job's language ("zh" or "en"; "" when the notebook has no lang parameter)."""
        if LANG in self.params:
            return str(self.params[LANG])
        declared = self.report.notebook_info.params.get(LANG)
        return str(declared.default) if declared and declared.default is not None else ""

    def outputs(self) -> dict[str, str]:
        """Output kind -> path relative to the reports directory (POSIX form)."""
        out = {"ipynb": f"{NOTEBOOKS_DIR}/{self.job_id}.ipynb"}
        if "html" in self.report.formats:
            out["html"] = f"{HTML_DIR}/{self.job_id}.html"
        if "pdf" in self.report.formats:
            out["pdf"] = f"{PDF_DIR}/{self.job_id}.pdf"
        if "docx" in self.report.formats:
            out["docx"] = f"{DOCX_DIR}/{self.job_id}.docx"
        return out

    @property
    def log(self) -> str:
        """The job's log, relative to the reports directory."""
        return f"{LOGS_DIR}/{self.job_id}.log"

    @property
    def stamp(self) -> str:
        """The job's cache record, relative to the reports directory."""
        return f"{STATE_DIR}/{self.job_id}.json"

    def label(self, name: str) -> str:
        """The reader-facing text of parameter `name` in the job's language."""
        value = self.params[name]
        entry = self.report.grid_param(name)
        if entry is not None and entry.param_set is not None and entry.param_set.label:
            return entry.param_set.label(value, self.lang)
        return str(value)

    def title(self) -> str | None:
        """The title declared in reports.toml for this language, with {param} filled in."""
        template = self.report.title.get(self.lang) or self.report.title.get("")
        if not template:
            return None
        labels = {name: self.label(name) for name in self.params}
        try:
            return template.format(**labels)
        except (KeyError, IndexError, ValueError) as exc:
            raise SpecError(
                f"reports.toml [reports.{self.report.name}] title {template!r}: cannot fill in "
                f"{exc}; use {{name}} with a parameter name ({', '.join(self.params)})."
            ) from None


def value_slug(report: ReportSpec, name: str, value: Any) -> str:
    """The ASCII id component for one parameter value."""
    entry = report.grid_param(name)
    if entry is not None and entry.param_set is not None and entry.param_set.slug:
        return entry.param_set.slug(value)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if _SAFE.match(text):
        return text
    slug = slugify(text)
    # Non-ASCII text without a value set: a readable part plus a short hash keeps ids unique.
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{slug}_{digest}" if slug != "x" else f"u{digest}"


def job_id(report: ReportSpec, params: dict[str, Any]) -> str:
    """The stable id of a job: report name, then varying parameters (lang last)."""
    varying = [e.name for e in report.grid if e.varies and e.name in params and e.name != LANG]
    parts = [report.name] + [value_slug(report, name, params[name]) for name in varying]
    # Values set on the command line that the grid does not vary are spelled name-value, so that
    # such a variant never overwrites the declared report.
    fixed = {e.name: e.values[0] for e in report.grid if not e.varies}
    extra = sorted(
        name
        for name in params
        if report.grid_param(name) is None or (name in fixed and params[name] != fixed[name])
    )
    parts += [f"{name}-{value_slug(report, name, params[name])}" for name in extra]
    lang = report.grid_param(LANG)
    if lang is not None and lang.varies and LANG in params:
        parts.append(value_slug(report, LANG, params[LANG]))
    return ".".join(parts)


def make_jobs(selection: Sequence[tuple[ReportSpec, dict[str, Any]]]) -> list[Job]:
    """Turn (report, parameters) pairs into jobs; two jobs with the same id are an error."""
    jobs: list[Job] = []
    seen: dict[str, dict[str, Any]] = {}
    for report, params in selection:
        identifier = job_id(report, params)
        if identifier in seen and seen[identifier] != params:
            raise SpecError(
                f"reports.toml [reports.{report.name}]: parameters {seen[identifier]} and "
                f"{params} give the same job id {identifier!r}; make the values distinct."
            )
        if identifier not in seen:
            seen[identifier] = params
            jobs.append(Job(report, params, identifier))
    return jobs
