"""Atomic, deterministic file writing: one file at a time, or a whole output folder at once.

One file (`atomic_path`, `write_bytes`, `write_text`; the build engine uses these): write to a
temporary name in the same folder, then move it into place.

A whole folder (`StagedFolder`, `publish`; `analysis data`, `corpus` and `facts` use these for
data/processed/): readers (`load()`, the notebooks, a reviewer) must never see half of a new
set of files next to half of the old one, so every file is written into a staging folder next
to the target and the complete set is swapped in at once. The layout, for target
data/processed/ and process 1234::

    data/.processed.analysis-staging-1234/   the staging root; a name no user file has
        OWNER                                {"pid", "target"}; locked (flock) while we run
        new/                                 the complete new folder: every file of the old
                                             one (hard links), then each new output
        old/                                 only on the fallback path below

Why a folder swap rather than per-file renames under a journal: a journal needs a recovery
step before the folder is consistent again, and every reader would have to run it; a swap
never shows a mixture. The commit is one system call where the platform has one (Linux
`renameat2(RENAME_EXCHANGE)`, macOS `renamex_np(RENAME_SWAP)`): even a SIGKILL leaves the
target either all old or all new. Elsewhere, or on a filesystem that refuses the exchange, it
is two renames (target → old/, new/ → target); a SIGKILL between them leaves no target but
the complete old folder in old/, which the next run puts back. SIGTERM and SIGINT arriving
during the commit are held until it is over. A target that did not exist is created by one
rename of new/.

Every run first looks for staging roots of the same target (name pattern and OWNER file both
match) whose owner is gone (its lock can be taken): it puts old/ back if the target is
missing, then removes the root. The root of a run still going is left alone (InputError: two
runs writing one folder). Nothing else is ever removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from .errors import AnalysisError, InputError

try:  # POSIX: the owner of a staging root holds a lock on its OWNER file while it runs
    import fcntl
except ImportError:  # pragma: no cover - Windows: fall back to "is the pid running"
    fcntl = None  # type: ignore[assignment]


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


# --- a whole folder at once --------------------------------------------------------------------

STAGING_TAG = "analysis-staging"
OWNER_FILE = "OWNER"
_SIGNALS = tuple(
    s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s
)


def _display(path: Path) -> str:
    from .paths import relative

    return relative(path)


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT while `interrupts_as_exceptions` is active (`with` blocks unwind)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def interrupts_as_exceptions() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into `Interrupted`, so that staging folders are cleaned up."""
    if not _in_main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    old = {s: signal.signal(s, handler) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGTERM and SIGINT until the block is over, then deliver the first one."""
    if not _in_main_thread():
        yield
        return
    pending: list[int] = []
    old = {s: signal.signal(s, lambda n, _f: pending.append(n)) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if pending:
            signal.raise_signal(pending[0])


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one system call; False where the platform or filesystem cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover
        return False
    src, dst = os.fsencode(a), os.fsencode(b)
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        result = libc.renameat2(at_fdcwd, src, at_fdcwd, dst, rename_exchange)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):  # pragma: no cover
        rename_swap = 2
        result = libc.renamex_np(src, dst, rename_swap)
    else:  # pragma: no cover
        return False
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _staging_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(target.name)}\.{STAGING_TAG}-(\d+)$")


def _owner_alive(root: Path, pid: int) -> bool:
    """Whether the process that made `root` still runs (its lock on OWNER is held)."""
    if pid == os.getpid():
        return False  # a root with our own pid is from an earlier process (pids are reused)
    if fcntl is not None:
        try:
            fd = os.open(root / OWNER_FILE, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
    try:  # pragma: no cover - no fcntl
        os.kill(pid, 0)
    except ProcessLookupError:  # pragma: no cover
        return False
    return True  # pragma: no cover


def recover_leftovers(target: Path) -> list[str]:
    """Clean up after runs that were killed while writing `target`; return what was done.

    Only staging roots of `target` (the name pattern and an OWNER file naming `target`) whose
    owner is gone are touched. InputError if another run is writing `target` right now.
    """
    target = Path(os.path.abspath(target))
    parent = target.parent
    if not parent.is_dir():
        return []
    pattern = _staging_pattern(target)
    notes = []
    for root in sorted(parent.iterdir()):
        match = pattern.match(root.name)
        if match is None or not root.is_dir() or root.is_symlink():
            continue
        try:
            owner = json.loads((root / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not ours after all: leave it
        if not isinstance(owner, dict) or owner.get("target") != target.name:
            continue
        if _owner_alive(root, int(match.group(1))):
            raise InputError(
                f"another `analysis` run (process {match.group(1)}) is writing "
                f"{_display(target)}/ (its staging folder is {_display(root)}); wait for it "
                "to finish and run again."
            )
        old = root / "old"
        if not target.exists() and old.is_dir():
            os.rename(old, target)
            notes.append(
                f"put back {_display(target)}/ as it was before an interrupted run "
                f"(from {_display(root)})"
            )
        shutil.rmtree(root)
        notes.append(f"removed {_display(root)}, left by an interrupted run")
    return notes


def check_output_dir(target: Path) -> None:
    """InputError unless `target` is a folder (or can be made) that this process can replace."""
    target = Path(target)
    shown = _display(target)
    if target.exists() and not target.is_dir():
        raise InputError(f"{shown} is not a folder: give a folder to write the outputs into.")
    if target.is_dir() and not os.access(target, os.W_OK | os.X_OK):
        raise InputError(f"{shown}/ is not writable: cannot write the outputs there.")
    ancestor = Path(os.path.abspath(target)).parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"{shown}: {_display(ancestor)} is not a folder.")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(
            f"{shown}: {_display(ancestor)}/ is not writable (the outputs are staged next to "
            f"{shown}/ and swapped in)."
        )


def prepare_output_dir(target: Path) -> None:
    """Check `target` and clean up after killed runs, printing what was cleaned (stderr)."""
    check_output_dir(target)
    for note in recover_leftovers(target):
        print(f"note: {note}", file=sys.stderr)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class StagedFolder:
    """A new version of the folder `target`, built beside it and swapped in by `commit`.

    Use as a context manager: on entry, leftovers of killed runs are cleaned and `path` (the
    new folder) starts as a copy of the current target (hard links); `write` adds or replaces
    files in it; `commit` swaps it in. On exit the staging root is removed, whether or not
    `commit` was called: without it, the target is exactly as it was.
    """

    commits = 0  # folders swapped in by this process (the CLI's message on a signal)

    def __init__(self, target: Path) -> None:
        self.target = Path(os.path.realpath(target))
        self.shown = _display(Path(target))
        self.root = self.target.parent / f".{self.target.name}.{STAGING_TAG}-{os.getpid()}"
        self.path = self.root / "new"
        self.committed = False
        self._written: list[str] = []
        self._lock_fd: int | None = None

    def __enter__(self) -> StagedFolder:
        prepare_output_dir(self.target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.root.mkdir()
        try:
            fd = os.open(self.root / OWNER_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            self._lock_fd = fd
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            owner = {"pid": os.getpid(), "target": self.target.name}
            os.write(fd, (json.dumps(owner) + "\n").encode("utf-8"))
            if self.target.is_dir():
                shutil.copytree(self.target, self.path, symlinks=True, copy_function=_link_or_copy)
                shutil.copymode(self.target, self.path)
            else:
                self.path.mkdir()
        except BaseException:
            self._cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def write(self, name: str, data: bytes) -> None:
        """Add (or replace) the file `name` of the new folder."""
        if self.committed:
            raise RuntimeError("StagedFolder.write after commit")
        path = self.path / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink() or path.exists():
                path.unlink()  # a hard link to the old folder's file: never write through it
            path.write_bytes(data)
            os.chmod(path, 0o644)
            _fsync(path)
        except OSError as exc:
            raise AnalysisError(
                f"could not write {name} for {self.shown}/ ({exc.strerror or exc}); "
                f"{self.shown}/ is left as it was."
            ) from None
        if name not in self._written:
            self._written.append(name)

    def read(self, name: str) -> bytes | None:
        """The bytes of `name` in the new folder (None if it has no such file)."""
        path = self.path / name
        return path.read_bytes() if path.is_file() else None

    def commit(self) -> list[str]:
        """Swap the new folder in; return the written files as paths under the target."""
        if self.committed:
            raise RuntimeError("StagedFolder.commit called twice")
        _fsync_dir(self.path)
        with signals_held():
            try:
                self._swap()
            except OSError as exc:
                raise AnalysisError(
                    f"could not replace {self.shown}/ ({exc.strerror}: {exc.filename}); it is "
                    "left as it was."
                ) from None
            self.committed = True
            StagedFolder.commits += 1
            _fsync_dir(self.target.parent)
            self._cleanup()
        return [f"{self.shown}/{name}" for name in self._written]

    def _swap(self) -> None:
        if not self.target.exists():
            os.rename(self.path, self.target)
            return
        if _exchange(self.path, self.target):
            return
        old = self.root / "old"
        os.rename(self.target, old)
        try:
            os.rename(self.path, self.target)
        except OSError:
            os.rename(old, self.target)
            raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - not supported for folders here
        pass
    finally:
        os.close(fd)


def publish(target: Path, files: Mapping[str, bytes]) -> list[str]:
    """Replace the files `files` (name -> bytes) of the folder `target` all at once."""
    with StagedFolder(target) as staging:
        for name, data in files.items():
            staging.write(name, data)
        return staging.commit()
