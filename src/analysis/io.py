"""Atomic, deterministic file writing: write to a temporary name in the same folder, then move."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path, prefix: str = ".") -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success move it into place, else delete it.

    The temporary name is `{prefix}{target.name}.{random}.tmp`: a writer that sweeps up after
    itself (the build engine) passes a prefix of its own, so that it can tell its temporary
    files from anyone else's.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(target: Path, data: bytes, prefix: str = ".") -> None:
    """Write `data` to `target` atomically (`prefix`: see `atomic_path`)."""
    with atomic_path(target, prefix) as tmp:
        tmp.write_bytes(data)


def write_text(target: Path, text: str, prefix: str = ".") -> None:
    """Write UTF-8 text with LF line endings to `target` atomically."""
    write_bytes(target, text.encode("utf-8"), prefix)
