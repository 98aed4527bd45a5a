"""Check the structure of the notebooks in notebooks/, reading them and never writing.

The notebooks are the source: a researcher edits them in JupyterLab and nothing regenerates or
rewrites them. What used to be enforced by regenerating them is now a set of rules that this
check reads off each file; the pre-commit hook and `tests/test_notebook_check.py` run it. The
outputs themselves are not judged here (nbval and `analysis build --update-notebooks --check`
compare those with a fresh run); these rules are the ones a run cannot repair:

- kernel: `kernelspec` is the project kernel (`analysis`, "Python (analysis)", registered by
  tools/bootstrap.sh), so JupyterLab, nbval and the build run the same interpreter;
- parameters: a report notebook (one whose file name a report in reports.toml names; by name, so
  a copy elsewhere is checked as the notebook it copies) has exactly one cell tagged
  `parameters` and it is the first code cell, where papermill injects the job's values after it;
  another notebook has at most one, under the same rule;
- cell ids: unique, 1 to 64 characters matching `^[a-z0-9][a-z0-9-]*$`, and not a random id
  (eight hex digits as nbformat draws them, or a UUID as JupyterLab gives a new cell). An id is
  the one address of a cell that survives moving cells about: the tests that change a view cell
  and rerun the notebook find it by id, and a reviewer reading a notebook's diff sees which cell
  changed ("load-winners", not "3f9a1c2e"). A new cell from JupyterLab keeps its random id until
  its author names it in the .ipynb file (`"id": "..."`; JupyterLab keeps the new name);
- outputs: a markdown or raw cell has none (nor an execution count); code cells are numbered
  1..n in cell order, as a top-to-bottom run numbers them (an empty code cell is not run and has
  no number), so no output is left over from an earlier or out-of-order run;
- format: nbformat 4.5 (the version with cell ids, which the locked nbformat and JupyterLab
  write), valid against its schema;
- metadata: no `papermill` or `widgets` metadata on the notebook, no `papermill` or `execution`
  (timings) on a cell: they record one run, not the analysis;
- tags: only `parameters`, the publishing tags `remove-cell`, `remove-input` and `remove-output`
  (Jupyter Book / nbconvert), and nbval's `nbval-ignore-output`. `nbval-skip` and
  `raises-exception` are refused: they would exempt a cell from the strict comparison of the
  committed outputs, or commit a cell that fails.

    .venv/bin/python tools/check_notebooks.py                # every notebook in notebooks/
    .venv/bin/python tools/check_notebooks.py notebooks/x.ipynb

Exit status 0 when every notebook conforms, 1 with one line per problem otherwise (each line
starts with the notebook's path), 2 for a path that is not a file.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPORTS_FILE = ROOT / "reports.toml"

KERNELSPEC = {"name": "analysis", "display_name": "Python (analysis)", "language": "python"}
NBFORMAT = (4, 5)
CELL_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
RANDOM_ID = re.compile(
    r"^(?:[0-9a-f]{8}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
ALLOWED_TAGS = ("parameters", "remove-cell", "remove-input", "remove-output", "nbval-ignore-output")
RUN_METADATA = {"notebook": ("papermill", "widgets"), "cell": ("papermill", "execution")}


def report_notebook_names(reports_file: Path = REPORTS_FILE) -> set[str]:
    """The file names of the notebooks that reports.toml runs."""
    with reports_file.open("rb") as f:
        reports = tomllib.load(f).get("reports", {})
    return {Path(r["notebook"]).name for r in reports.values() if "notebook" in r}


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _label(index: int, cell: dict[str, Any]) -> str:
    """How a message names a cell: its position, id and first line."""
    first = _source(cell).strip().splitlines()[:1]
    start = f": {first[0][:40]!r}" if first else ""
    return f"cell {index} ({cell.get('id', 'no id')}{start})"


def _kernel(nb: dict[str, Any]) -> list[str]:
    kernelspec = nb.get("metadata", {}).get("kernelspec")
    if kernelspec != KERNELSPEC:
        return [f"kernelspec is {kernelspec}, not {KERNELSPEC} (select the kernel `analysis`)"]
    return []


def _parameters(cells: list[dict[str, Any]], report: bool) -> list[str]:
    tagged = [i for i, c in enumerate(cells) if "parameters" in _tags(c)]
    codes = [i for i, c in enumerate(cells) if c.get("cell_type") == "code"]
    if report and not tagged:
        return ["no cell is tagged `parameters` (a report notebook needs one: the first code cell)"]
    if len(tagged) > 1:
        return [f"cells {tagged} are tagged `parameters`; exactly one may be"]
    if tagged and (not codes or tagged[0] != codes[0]):
        return [
            f"{_label(tagged[0], cells[tagged[0]])} is tagged `parameters` but is not the first "
            "code cell (papermill injects the values after it, before any other code runs)"
        ]
    return []


def _ids(cells: list[dict[str, Any]]) -> list[str]:
    found = []
    counts = Counter(c.get("id") for c in cells)
    for i, cell in enumerate(cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str):
            found.append(f"{_label(i, cell)} has no cell id")
        elif not CELL_ID.match(cell_id):
            found.append(
                f"{_label(i, cell)}: cell id {cell_id!r} does not match {CELL_ID.pattern} "
                "(lower-case letters, digits and hyphens)"
            )
        elif RANDOM_ID.match(cell_id):
            found.append(
                f"{_label(i, cell)}: cell id {cell_id!r} is a random id; name the cell by what it "
                'does (edit `"id"` in the .ipynb, e.g. "load-winners")'
            )
    for cell_id, n in counts.items():
        if cell_id is not None and n > 1:
            found.append(f"cell id {cell_id!r} is used by {n} cells; ids must be unique")
    return found


def _outputs(cells: list[dict[str, Any]]) -> list[str]:
    found = []
    numbers = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            stray = [key for key in ("outputs", "execution_count") if key in cell]
            if stray:
                found.append(f"{_label(i, cell)} is {cell.get('cell_type')} but has {stray}")
            continue
        count = cell.get("execution_count")
        if _source(cell).strip() or count is not None:
            numbers.append((i, count))
    expected = list(range(1, len(numbers) + 1))
    if [count for _, count in numbers] != expected:
        wrong = [
            (i, count) for (i, count), want in zip(numbers, expected, strict=True) if count != want
        ]
        found.append(
            f"execution counts are not 1..{len(numbers)} in cell order (cell, count: {wrong}); "
            "run the notebook from the top (a report notebook: "
            "`.venv/bin/analysis build --update-notebooks`)"
        )
    return found


def _format(nb: dict[str, Any]) -> list[str]:
    version = (nb.get("nbformat"), nb.get("nbformat_minor"))
    if version != NBFORMAT:
        return [f"nbformat is {version[0]}.{version[1]}, not {NBFORMAT[0]}.{NBFORMAT[1]}"]
    return []


def _metadata(nb: dict[str, Any], cells: list[dict[str, Any]]) -> list[str]:
    found = [
        f"notebook metadata has `{key}` (it records one run, not the analysis)"
        for key in RUN_METADATA["notebook"]
        if key in nb.get("metadata", {})
    ]
    for i, cell in enumerate(cells):
        keys = [key for key in RUN_METADATA["cell"] if key in cell.get("metadata", {})]
        if keys:
            found.append(f"{_label(i, cell)} has run metadata {keys}")
    return found


def _tags(cell: dict[str, Any]) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return tags if isinstance(tags, list) else [tags]


def _allowed_tags(cells: list[dict[str, Any]]) -> list[str]:
    found = []
    for i, cell in enumerate(cells):
        unknown = [tag for tag in _tags(cell) if tag not in ALLOWED_TAGS]
        if unknown:
            found.append(
                f"{_label(i, cell)} has tags {unknown}; allowed: {', '.join(ALLOWED_TAGS)}"
            )
    return found


def _schema(nb: dict[str, Any]) -> list[str]:
    import nbformat

    try:
        nbformat.validate(nbformat.from_dict(nb))
    except nbformat.ValidationError as exc:
        return [f"not a valid notebook ({exc.message})"]
    return []


def problems(path: Path, *, report: bool) -> list[str]:
    """Every rule the notebook at `path` breaks, one line each (empty: it conforms).

    `report` says whether reports.toml runs it (then it must have a parameters cell).
    """
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"{path}: not a notebook ({exc})"]
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return [f"{path}: not a notebook (no list of cells)"]
    cells = [c if isinstance(c, dict) else {} for c in nb["cells"]]
    found = [
        *_format(nb),
        *_kernel(nb),
        *_parameters(cells, report),
        *_ids(cells),
        *_outputs(cells),
        *_metadata(nb, cells),
        *_allowed_tags(cells),
    ]
    if not found:
        found = _schema(nb)  # what the rules above do not name; their lines say it better
    return [f"{path}: {line}" for line in found]


def main(argv: list[str]) -> int:
    """Check the notebooks named (default: every notebook in notebooks/)."""
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    reports = report_notebook_names()
    found: list[str] = []
    for path in paths:
        if not path.is_file():
            print(f"{path}: no such notebook", file=sys.stderr)
            return 2
        found += problems(path, report=path.name in reports)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            f"{len(found)} problem(s): fix the notebook in JupyterLab or its .ipynb file "
            "(nothing rewrites it); the rules are in tools/check_notebooks.py",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
