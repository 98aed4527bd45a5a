"""Content hashes of a job's inputs, and the per-job records that say what is up to date.

A job's key is the sha256 of: the engine version, the notebook file, the parameters, the parts
of its reports.toml entry that shape the output (title, formats, chart formats, kernel,
citation), every file of the `analysis` package (src/analysis), the data files matched by its
`inputs` globs and the lock file. Not the interpreter: the lock gives every supported Python the
same packages, the outputs are the same bytes on each, and the key is printed in every report
(the manifest records the interpreter that built a job). A job is up to date when its record in
reports/.build/ has the same key, finished without error, and every output and figure it lists
still exists with its size.
Records hold no timestamps, so two clean builds write the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ENGINE_VERSION
from .jobs import Job

_CHUNK = 1 << 20
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints"}


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def bytes_sha256(data: bytes) -> str:
    """The hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and readable Unicode: the form that is hashed and written."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def tree_digest(directory: Path) -> tuple[str, int]:
    """One sha256 over every file under `directory` (relative path and content) and the count."""
    digest = hashlib.sha256()
    count = 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory)
        if _SKIP_DIRS.intersection(rel.parts) or path.suffix in (".pyc", ".pyo"):
            continue
        digest.update(rel.as_posix().encode() + b"\0" + file_sha256(path).encode() + b"\n")
        count += 1
    return digest.hexdigest(), count


class InputHasher:
    """Hashes shared by every job of one build, each file read once."""

    def __init__(self, root: Path, package_dir: Path, lock: Path | None) -> None:
        self.root = root
        self.package_dir = package_dir
        self.lock = lock
        self._files: dict[Path, str] = {}
        self._globs: dict[tuple[str, ...], dict[str, str]] = {}
        self._package: tuple[str, int] | None = None

    def file(self, path: Path) -> str:
        """The sha256 of one file (memoised)."""
        if path not in self._files:
            self._files[path] = file_sha256(path)
        return self._files[path]

    def package(self) -> str:
        """The digest of the `analysis` package source tree."""
        if self._package is None:
            self._package = tree_digest(self.package_dir)
        return self._package[0]

    def data(self, patterns: Iterable[str]) -> dict[str, str]:
        """Relative path -> sha256 for every file matched by the glob patterns (sorted)."""
        key = tuple(patterns)
        if key not in self._globs:
            found: dict[str, str] = {}
            for pattern in key:
                # "dir/**" means every file below dir (Path.glob would list only folders).
                if pattern.endswith("**"):
                    pattern += "/*"
                for path in self.root.glob(pattern):
                    if path.is_file() and not _SKIP_DIRS.intersection(path.parts):
                        found[path.relative_to(self.root).as_posix()] = self.file(path)
            self._globs[key] = dict(sorted(found.items()))
        return self._globs[key]

    def rel(self, path: Path) -> str:
        """A path relative to the build root when it is inside it."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def job_inputs(self, job: Job) -> dict[str, str]:
        """Every input of a job: relative path (or a pseudo-path) -> sha256."""
        report = job.report
        inputs = {self.rel(report.notebook): self.file(report.notebook)}
        inputs.update(self.data(report.inputs))
        inputs["src/analysis/**"] = self.package()
        if self.lock is not None and self.lock.is_file():
            inputs[self.rel(self.lock)] = self.file(self.lock)
        return dict(sorted(inputs.items()))

    def job_key(self, job: Job, inputs: Mapping[str, str]) -> str:
        """The cache key of a job."""
        report = job.report
        shaping = {
            "engine": ENGINE_VERSION,
            "params": job.params,
            "formats": list(report.formats),
            "figures": list(report.figures),
            "kernel": report.kernel,
            "title": report.title,
            "source": report.source,
            "inputs": dict(inputs),
        }
        return bytes_sha256(canonical_json(shaping).encode("utf-8"))


@dataclass(frozen=True)
class Record:
    """What reports/.build/<job>.json says about the job's last build."""

    data: dict[str, Any]

    @property
    def key(self) -> str | None:
        """The key the outputs were built from."""
        return self.data.get("key")

    @property
    def ok(self) -> bool:
        """Whether that build finished without error."""
        return self.data.get("status") == "ok"


def read_record(reports_dir: Path, job: Job) -> Record | None:
    """The job's record, or None when there is none (or it is unreadable)."""
    path = reports_dir / job.stamp
    try:
        return Record(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def is_up_to_date(
    reports_dir: Path, job: Job, key: str, wanted: Iterable[str] | None = None
) -> bool:
    """True when the job's last build used `key`, succeeded, wrote each of the `wanted`
    outputs (default: all of the job's; a preview of HTML alone wrote no PDF), and every file
    its record lists is present with its size."""
    record = read_record(reports_dir, job)
    if record is None or not record.ok or record.key != key:
        return False
    outputs = record.data.get("outputs", {})
    if any(rel not in outputs for rel in (job.outputs().values() if wanted is None else wanted)):
        return False
    listed = {**outputs, **record.data.get("figures", {})}
    for rel, info in listed.items():
        path = reports_dir / rel
        try:
            if path.stat().st_size != info.get("size"):
                return False
        except OSError:
            return False
    return True


def git_state(root: Path) -> dict[str, Any]:
    """The commit checked out at `root` and whether tracked files differ from it (or nulls)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}
