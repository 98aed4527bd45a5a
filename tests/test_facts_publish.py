"""`analysis data` writes all of its output folder or none of it (analysis.io.StagedFolder).

The folder a run replaces starts as a copy of data/processed/ with every file changed
("stale"), so that any file of the new run that leaks into it shows.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import io
from analysis.cli import main
from analysis.paths import PROCESSED, ROOT


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def stale(tmp_path: Path) -> Path:
    """data/processed/ copied into tmp_path/out with a line added to every file."""
    out = tmp_path / "out"
    out.mkdir()
    for p in PROCESSED.iterdir():
        (out / p.name).write_bytes(p.read_bytes() + b"stale\n")
    return out


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if io.STAGING_TAG in p.name)


def fail_on_write(monkeypatch, n: int, exc: BaseException) -> None:
    """Make the n-th Path.write_bytes of the run raise `exc` (the first n-1 succeed)."""
    real = pathlib.Path.write_bytes
    calls = [0]

    def write_bytes(self, data):
        calls[0] += 1
        if calls[0] == n:
            raise exc
        return real(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)


def test_data_replaces_the_folder_in_full(stale, capsys):
    assert main(["data", "--strict", "--out", str(stale)]) == 0
    assert snapshot(stale) == snapshot(PROCESSED)
    assert "wrote 25 files" in capsys.readouterr().out
    assert leftovers(stale.parent) == []


def test_a_full_disk_mid_write_leaves_the_folder_as_it_was(stale, monkeypatch, capsys):
    before = snapshot(stale)
    fail_on_write(monkeypatch, 6, OSError(errno.ENOSPC, "No space left on device"))
    assert main(["data", "--strict", "--out", str(stale)]) == 2
    assert snapshot(stale) == before
    err = capsys.readouterr().err
    assert "No space left on device" in err and "left as it was" in err
    assert leftovers(stale.parent) == []


def test_a_signal_mid_write_leaves_the_folder_as_it_was(stale, monkeypatch, capsys):
    before = snapshot(stale)
    fail_on_write(monkeypatch, 6, io.Interrupted(signal.SIGTERM))
    assert main(["data", "--strict", "--out", str(stale)]) == 143
    assert snapshot(stale) == before
    assert "interrupted (SIGTERM); " in capsys.readouterr().err
    assert leftovers(stale.parent) == []


def test_a_signal_during_the_swap_is_held_until_the_swap_is_done(stale, monkeypatch, capsys):
    real = io.StagedFolder._swap

    def swap(self):
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the folder is being swapped
        real(self)

    monkeypatch.setattr(io.StagedFolder, "_swap", swap)
    assert main(["data", "--strict", "--out", str(stale)]) == 143
    assert snapshot(stale) == snapshot(PROCESSED)
    assert "had already been replaced in full" in capsys.readouterr().err
    assert leftovers(stale.parent) == []


_KILL_MID_WRITE = """
import os, pathlib, signal, sys
real, calls = pathlib.Path.write_bytes, [0]
def write_bytes(self, data):
    calls[0] += 1
    result = real(self, data)
    if calls[0] == 6:
        os.kill(os.getpid(), signal.SIGTERM)
    return result
pathlib.Path.write_bytes = write_bytes
from analysis.cli import main
sys.exit(main(["data", "--strict", "--out", sys.argv[1]]))
"""


def test_sigterm_of_a_real_run_leaves_the_folder_as_it_was(stale):
    before = snapshot(stale)
    env = {**os.environ, "ANALYSIS_VALIDATION_HELPER": "0"}
    done = subprocess.run(
        [sys.executable, "-c", _KILL_MID_WRITE, str(stale)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 143, done.stderr
    assert "interrupted (SIGTERM); " in done.stderr and "left as it was" in done.stderr
    assert snapshot(stale) == before
    assert leftovers(stale.parent) == []


def test_corpus_passing_and_facts_failing_writes_nothing(
    stale, monkeypatch, capsys, tmp_path, modified_source
):
    """The old code rewrote the corpus CSVs here and still said "outputs left untouched"."""
    from analysis.corpus import pipeline as corpus

    modified_source(tmp_path / "in", "国务院高度重视", "国务院7次强调")
    raw = tmp_path / "in" / "raw"
    real = corpus.render
    monkeypatch.setattr(
        corpus, "render", lambda strict=False, raw_dir=None: real(strict, raw_dir=raw)
    )
    capsys.readouterr()
    before = snapshot(stale)
    assert main(["data", "--strict", "--out", str(stale)]) == 1
    out = capsys.readouterr().out
    assert snapshot(stale) == before
    assert "7次" in out and "outputs left untouched" in out and "wrote" not in out
    assert leftovers(stale.parent) == []


def _leftover(parent: Path, pid: int, target: str, old: bool = False) -> Path:
    root = parent / f".{target}.{io.STAGING_TAG}-{pid}"
    (root / "new").mkdir(parents=True)
    (root / "new" / "half.csv").write_text("half\n", encoding="utf-8")
    (root / io.OWNER_FILE).write_text(json.dumps({"pid": pid, "target": target}))
    if old:
        (root / "old").mkdir()
        (root / "old" / "kept.csv").write_text("old\n", encoding="utf-8")
    return root


def test_a_killed_runs_staging_folder_is_removed_and_nothing_else(stale, capsys):
    parent = stale.parent
    _leftover(parent, 999_999_999, "out")
    other = _leftover(parent, 999_999_998, "elsewhere")  # another target's: not ours to touch
    mine = parent / f".out.{io.STAGING_TAG}-12x"  # not the pattern
    mine.mkdir()
    user = parent / f".out.{io.STAGING_TAG}-77"  # the pattern, but no OWNER file
    user.mkdir()
    assert main(["data", "--strict", "--out", str(stale)]) == 0
    assert f"removed {parent / f'.out.{io.STAGING_TAG}-999999999'}" in capsys.readouterr().err
    assert leftovers(parent) == sorted([other.name, mine.name, user.name])


def test_a_run_killed_between_the_two_renames_is_put_back(tmp_path, capsys):
    out = tmp_path / "out"
    _leftover(tmp_path, 999_999_999, "out", old=True)  # out was moved to old/, then SIGKILL
    io.prepare_output_dir(out)
    assert (out / "kept.csv").read_text(encoding="utf-8") == "old\n"
    assert "put back" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_the_fallback_swap_without_an_exchange_call(stale, monkeypatch):
    monkeypatch.setattr(io, "_exchange", lambda a, b: False)
    io.publish(stale, {"new.csv": b"new\n", "policy_events.csv": b"x\n"})
    assert (stale / "new.csv").read_bytes() == b"new\n"
    assert (stale / "policy_events.csv").read_bytes() == b"x\n"
    assert (stale / "amoled_indicators.csv").read_bytes().endswith(b"stale\n")  # kept
    assert leftovers(stale.parent) == []


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    path = tmp_path / "file"
    path.write_text("mine\n", encoding="utf-8")
    for command in ("data", "corpus", "facts"):
        assert main([command, "--out", str(path)]) == 2
        assert "is not a folder" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "mine\n"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_out_that_is_read_only_is_refused_before_any_work(tmp_path, capsys):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        assert main(["data", "--out", str(parent / "out")]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        parent.chmod(0o755)
