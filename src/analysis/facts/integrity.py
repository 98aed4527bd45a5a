"""Do the files of data/processed/ match the sha256 that `analysis data` recorded for them?

datapackage.json records a hash ("sha256:<hex>") for each table CSV (the resources' Data
Package `hash` field) and for the corpus CSVs and the workbook (its custom "files" list; see
facts/export.py). A file edited by hand, restored from another commit or half written by some
other tool no longer matches, and the tables built from it would be silently wrong.

- `check_processed(folder)`: every problem of the folder, as sentences (what `analysis verify`
  prints); an empty list when every file matches.
- `verify_file(path)`: IntegrityError unless this one file matches (what `load()` calls). It
  hashes only that file and reads datapackage.json, both cached by (path, mtime_ns, size), so
  loading a table stays cheap.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import AnalysisError
from ..paths import PROCESSED, relative

DATAPACKAGE = "datapackage.json"
REBUILD = "rebuild it with `make data` (`analysis data --strict`)"

_HASHES: dict[tuple[str, int, int, int], str] = {}
_RECORDS: dict[tuple[str, int, int, int], dict[str, str] | str] = {}


class IntegrityError(AnalysisError):
    """A file of the processed data that does not match its recorded sha256."""


def _key(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino)


def _sha256(path: Path) -> str:
    key = _key(path)
    digest = _HASHES.get(key)
    if digest is None:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = _HASHES[key] = f"sha256:{h.hexdigest()}"
    return digest


def _parse(path: Path) -> dict[str, str] | str:
    """File name -> recorded hash, or a sentence saying why datapackage.json is unusable."""
    shown = relative(path)
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return f"{shown} is not UTF-8 text"
    except ValueError as exc:
        return f"{shown} is not valid JSON ({exc})"
    if not isinstance(package, dict):
        return f"{shown} is not a JSON object"
    entries = []
    for field in ("resources", "files"):
        value = package.get(field, [])
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            return f"{shown}: “{field}” is not a list of objects"
        entries.extend(value)
    recorded: dict[str, str] = {}
    for entry in entries:
        name, digest = entry.get("path"), entry.get("hash")
        if (
            not isinstance(name, str)
            or not name
            or "/" in name
            or "\\" in name
            or name
            in {
                ".",
                "..",
            }
        ):
            return f"{shown}: the path {name!r} is not the name of a file in the folder"
        if not isinstance(digest, str) or not digest.startswith("sha256:"):
            return f"{shown}: {name} has no sha256 hash (“hash”: “sha256:<hex>”)"
        recorded[name] = digest
    return recorded


def _recorded(folder: Path) -> dict[str, str] | str:
    path = folder / DATAPACKAGE
    try:
        key = _key(path)
    except FileNotFoundError:
        return f"{relative(path)} is missing"
    except OSError as exc:
        return f"{relative(path)} cannot be read ({exc.strerror})"
    result = _RECORDS.get(key)
    if result is None:
        try:
            result = _parse(path)
        except OSError as exc:
            result = f"{relative(path)} cannot be read ({exc.strerror})"
        _RECORDS[key] = result
    return result


def expected_files() -> list[str]:
    """The files `analysis data` writes besides datapackage.json, each with a recorded hash."""
    from .pipeline import CORPUS_FILES, WORKBOOK_FILE
    from .tables import ALL_TABLES

    return [*(f"{t.name}.csv" for t in ALL_TABLES), *CORPUS_FILES, WORKBOOK_FILE]


def _mismatch(path: Path, recorded: str, actual: str) -> str:
    return (
        f"{relative(path)} does not match the sha256 recorded in datapackage.json (recorded "
        f"{recorded[7:19]}…, found {actual[7:19]}…): it was changed after `analysis data` wrote it"
    )


def check_processed(folder: Path | None = None) -> list[str]:
    """Every file of `folder` (default data/processed/) that does not match its recorded
    sha256, is missing, or has none recorded; an unusable datapackage.json. [] when all match."""
    folder = Path(PROCESSED if folder is None else folder)
    recorded = _recorded(folder)
    if isinstance(recorded, str):
        return [f"{recorded}; {REBUILD}"]
    problems = []
    for name in expected_files():
        if name not in recorded:
            problems.append(
                f"{relative(folder / name)}: datapackage.json records no sha256 for it; {REBUILD}"
            )
    for name, digest in recorded.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{relative(path)} is missing; {REBUILD}")
            continue
        actual = _sha256(path)
        if actual != digest:
            problems.append(f"{_mismatch(path, digest, actual)}; {REBUILD}")
    return problems


def verify_file(path: Path) -> None:
    """IntegrityError naming `path` unless it matches the sha256 that the datapackage.json of
    its folder records for it."""
    path = Path(path)
    recorded = _recorded(path.parent)
    if isinstance(recorded, str):
        raise IntegrityError(
            f"cannot check {relative(path)}: {recorded}; {REBUILD} (or pass verify=False)."
        )
    digest = recorded.get(path.name)
    if digest is None:
        raise IntegrityError(
            f"{relative(path)}: datapackage.json records no sha256 for it; {REBUILD}."
        )
    actual = _sha256(path)
    if actual != digest:
        raise IntegrityError(
            f"{_mismatch(path, digest, actual)}. Refusing to load it: {REBUILD}, or restore "
            "the committed file from git."
        )


def clear_cache() -> None:
    """Forget the cached hashes (tests)."""
    _HASHES.clear()
    _RECORDS.clear()


__all__ = ["IntegrityError", "check_processed", "clear_cache", "expected_files", "verify_file"]
