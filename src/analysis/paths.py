"""Every path the project uses. Other modules import these names instead of building paths."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
RAW = DATA / "raw"
PROCESSED = DATA / "processed"
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"
FIGURES = REPORTS / "figures"
# Where the running process saves its charts instead of FIGURES (see `figures_dir`).
FIGURES_ENV = "ANALYSIS_FIGURES_DIR"
# In that folder, the chart formats the build asks for (reports.toml `figures`), comma-separated.
FIGURE_FORMATS_FILE = ".analysis-figure-formats"

# Curated, reviewed inputs in data/raw/.
SOURCES_ORIGIN = RAW / "sources.toml"
PROVINCES = RAW / "provinces.csv"
GEOMETRY = RAW / "china_provinces.geojson"
GEOMETRY_ORIGIN = RAW / "china_provinces.origin.toml"


def relative(path: Path) -> str:
    """Return `path` relative to the repository root (POSIX form) for messages and records."""
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return Path(path).as_posix()


def figures_dir() -> Path:
    """Where charts are saved now: `$ANALYSIS_FIGURES_DIR` when set, else reports/figures/.

    Read at call time, not at import: a report kernel is forked from a template process that
    imported this module long before the kernel's environment existed. `analysis build` sets
    the variable for every kernel it starts, to a staging folder of that kernel alone; the
    worker sends what the notebook saved there back with the job's result and the engine writes
    it into `<reports-dir>/figures/` (`analysis.publish.execute`). In JupyterLab, the variable is
    normally unset and charts go to reports/figures/ of the checkout, as before.

    The value must be an absolute path: a kernel runs in the notebooks' folder, not in the
    folder of the shell that set the variable, so a relative one would be ambiguous.
    """
    value = os.environ.get(FIGURES_ENV, "")
    if not value:
        return FIGURES
    folder = Path(value)
    if not folder.is_absolute():
        raise ValueError(
            f"{FIGURES_ENV}={value!r} is not an absolute path; set it to the absolute path of "
            "the folder that should receive the charts, or unset it for reports/figures/."
        )
    return folder


def figure_formats(default: tuple[str, ...]) -> tuple[str, ...]:
    """The files a chart is saved as now: what `analysis build` asks for (the report's
    `figures` in reports.toml, written into the kernel's figures folder), else `default`
    (in JupyterLab: the chart's own, PNG and SVG)."""
    try:
        text = (figures_dir() / FIGURE_FORMATS_FILE).read_text(encoding="ascii")
    except (OSError, ValueError):
        return default
    formats = tuple(part for part in text.strip().split(",") if part)
    return formats or default
