"""The committed notebooks and the real reports (skipped until reports.toml exists at the root).

- nbval in strict mode: every cell of every committed notebook is run and its text, HTML and
  SVG outputs must equal the committed ones (sanitized: memory addresses, checkout paths).
- The committed notebooks are what the current code produces, byte for byte after the
  build's normalisation: refresh them with `analysis build --update-notebooks`.
- Determinism on a subset: one real job built twice gives the same bytes.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.build.engine import BuildOptions, build, update_notebooks
from analysis.build.progress import QUIET
from analysis.build.spec import load_spec
from analysis.paths import ROOT

REPORTS_FILE = ROOT / "reports.toml"
pytestmark = pytest.mark.skipif(not REPORTS_FILE.exists(), reason="no reports.toml yet")

SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


def committed_notebooks() -> list[Path]:
    spec = load_spec(REPORTS_FILE)
    return sorted({report.notebook.resolve() for report in spec.reports.values()})


def test_committed_notebooks_pass_nbval_strict() -> None:
    sanitize = SANITIZE
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval",
        "--nbval-sanitize-with",
        str(sanitize),
        "--nbval-kernel-name",
        "analysis",
        "-p",
        "no:cacheprovider",
        "-q",
        *map(str, committed_notebooks()),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_committed_notebooks_are_what_the_code_produces() -> None:
    stream = io.StringIO()
    options = BuildOptions(reports_file=REPORTS_FILE, verbosity=QUIET, stream=stream)
    status = update_notebooks(options, check=True)
    assert status == 0, stream.getvalue()


def test_a_real_job_built_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    spec = load_spec(REPORTS_FILE)
    report = list(spec.reports.values())[-1]  # the last declared report, in English
    params = {"lang": "en"} if report.grid_param("lang") else {}
    trees = []
    for name in ("first", "second"):
        options = BuildOptions(
            reports_file=REPORTS_FILE,
            reports_dir=tmp_path / name,
            only=(report.name,),
            params=params,
            force=True,
            verbosity=QUIET,
            stream=io.StringIO(),
        )
        summary = build(options)
        assert summary.exit_code == 0, options.stream.getvalue()
        root = tmp_path / name
        trees.append(
            {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        )
    assert sorted(trees[0]) == sorted(trees[1])
    assert [name for name in trees[0] if trees[0][name] != trees[1][name]] == []
