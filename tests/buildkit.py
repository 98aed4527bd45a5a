"""Small projects for the build-engine tests, and one way to build them quietly.

The tests of `analysis build` run the engine on projects they write into a temporary folder:
a `reports.toml`, a few notebooks, and a `package/` folder that stands in for src/analysis
(the code whose change rebuilds everything), so that edits to the real package while the
tests run change nothing. Imported by the test modules (pytest puts tests/ on the path).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import nbformat

from analysis.publish.engine import BuildOptions, build
from analysis.publish.progress import QUIET, Summary

KERNELSPEC = {"display_name": "Python (analysis)", "language": "python", "name": "analysis"}


def add_package(project: Path) -> Path:
    """The stand-in for src/analysis in `project`; returns `project`."""
    (project / "package").mkdir(parents=True, exist_ok=True)
    (project / "package" / "module.py").write_text("VALUE = 1\n", encoding="utf-8")
    return project


def write_notebook(path: Path, sources: Sequence[str], prefix: str) -> None:
    """A notebook of code cells with ids `<prefix>-<n>`, the first tagged `parameters`."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for index, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        cell.id = f"{prefix}-{index}"
        if index == 0:
            cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def options(project: Path, **kwargs) -> BuildOptions:
    """Options for a quiet build of `project` (two workers unless `jobs=` says otherwise)."""
    result = BuildOptions(
        reports_file=project / "reports.toml",
        verbosity=QUIET,
        stream=io.StringIO(),
        jobs=2,
        package_dir=project / "package",
    )
    for key, value in kwargs.items():
        setattr(result, key, value)
    return result


def run(project: Path, **kwargs) -> tuple[Summary, str]:
    """Build `project`; return the summary and what the build printed."""
    opts = options(project, **kwargs)
    summary = build(opts)
    return summary, opts.stream.getvalue()
