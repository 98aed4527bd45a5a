"""Every path the project uses. Other modules import these names instead of building paths."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
RAW = DATA / "raw"
PROCESSED = DATA / "processed"
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"
FIGURES = REPORTS / "figures"

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
