"""The committed notebooks and the real reports (skipped until reports.toml exists at the root).

- nbval in strict mode: every cell of every committed notebook is run and its text, HTML and
  SVG outputs must equal the committed ones (sanitized: memory addresses, checkout paths).
- The committed notebooks are what the current code produces, byte for byte after the
  build's normalisation: refresh them with `analysis build --update-notebooks`.
- Determinism on a subset: one real job built twice gives the same bytes, its charts and
  manifest included.

None of them writes into the repository's reports/: builds and logs go to temporary folders,
and so do the charts (`$ANALYSIS_FIGURES_DIR`), which each test checks.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.paths import FIGURES_ENV, ROOT
from analysis.publish.engine import BuildOptions, build, update_notebooks
from analysis.publish.progress import QUIET
from analysis.publish.spec import load_spec

REPORTS_FILE = ROOT / "reports.toml"
pytestmark = pytest.mark.skipif(not REPORTS_FILE.exists(), reason="no reports.toml yet")

SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


@pytest.fixture
def repository_reports_untouched():
    """Fail the test if it created, changed or removed anything under the repository's reports/
    (where the charts of every build and test used to go)."""

    def snapshot() -> dict[str, tuple[int, int]]:
        folder = ROOT / "reports"
        return {
            p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    before = snapshot()
    yield
    assert snapshot() == before


def committed_notebooks() -> list[Path]:
    """The reports' notebooks and the other committed ones ([notebooks] extra: explore.ipynb)."""
    spec = load_spec(REPORTS_FILE)
    notebooks = [*spec.reports.values(), *spec.extra]
    return sorted({report.notebook.resolve() for report in notebooks})


def test_every_committed_notebook_is_run_and_checked() -> None:
    """A notebook in notebooks/ that reports.toml does not name would be committed with
    outputs that nothing runs or compares."""
    assert committed_notebooks() == sorted(
        p.resolve() for p in (ROOT / "notebooks").glob("*.ipynb")
    )
    assert ROOT / "notebooks" / "explore.ipynb" in committed_notebooks()


def test_committed_notebooks_pass_nbval_strict(tmp_path, repository_reports_untouched) -> None:
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
    # nbval's kernels are started by jupyter_client with this environment.
    figures = tmp_path / "figures"
    env = {**os.environ, FIGURES_ENV: str(figures)}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert sorted(figures.glob("*.png")) and sorted(figures.glob("*.svg"))


def test_committed_notebooks_are_what_the_code_produces(
    tmp_path, repository_reports_untouched
) -> None:
    stream = io.StringIO()
    options = BuildOptions(
        reports_file=REPORTS_FILE, reports_dir=tmp_path, verbosity=QUIET, stream=stream
    )
    status = update_notebooks(options, check=True)
    assert status == 0, stream.getvalue()
    # --check writes nothing at all: no logs, no charts, not even the reports folder's parts.
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_real_job_built_twice_gives_the_same_bytes(
    tmp_path: Path, repository_reports_untouched
) -> None:
    spec = load_spec(REPORTS_FILE)
    # The last declared report that draws charts and varies only by language, in English.
    charted = [
        report
        for report in spec.reports.values()
        if "analysis.report.charts" in report.notebook_info.imports
        and all(entry.name == "lang" or not entry.varies for entry in report.grid)
    ]
    report = charted[-1]
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
    # The charts are in the build's own figures/, each listed under the job with its sha256.
    saved = sorted(name for name in trees[0] if name.startswith("figures/"))
    assert (
        saved and any(n.endswith(".png") for n in saved) and any(n.endswith(".svg") for n in saved)
    )
    (job,) = json.loads(trees[0]["manifest.json"])["jobs"].values()
    assert sorted(job["figures"]) == saved
    for name in saved:
        assert job["figures"][name]["sha256"] == hashlib.sha256(trees[0][name]).hexdigest()
