"""Check that report notebooks have the structure tools/make_notebooks.py gives them.

The pre-commit hook (and anyone by hand) runs it before a commit, so that a notebook edited in
JupyterLab cannot drift from its generator unnoticed: the project kernel (`analysis`), the
`parameters` tag on the first cell, the stable cell ids, and the same cell sources. Outputs are
not looked at (nbval and `analysis build --update-notebooks --check` compare those).

    .venv/bin/python tools/check_notebooks.py                # every notebook in notebooks/
    .venv/bin/python tools/check_notebooks.py notebooks/x.ipynb

Exit status 0 when every notebook conforms, 1 with one line per problem otherwise (a notebook
the generator does not know is one), 2 for a path that is not a file.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_notebooks", ROOT / "tools" / "make_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _extra_notebooks() -> set[Path]:
    """reports.toml `[notebooks] extra`: committed notebooks that are edited by hand, not
    written by the generator (the start-here notebook)."""
    spec = tomllib.loads((ROOT / "reports.toml").read_text(encoding="utf-8"))
    return {(ROOT / name).resolve() for name in spec.get("notebooks", {}).get("extra", [])}


def _extra_problems(path: Path, nb, generator) -> list[str]:
    """A hand-edited notebook: the project kernel, a `parameters` cell, readable unique ids."""
    found = []
    if nb.metadata.get("kernelspec") != generator.KERNELSPEC:
        found.append(f"{path}: kernelspec is {dict(nb.metadata.get('kernelspec') or {})}")
    if not any("parameters" in c.metadata.get("tags", []) for c in nb.cells):
        found.append(f"{path}: no cell is tagged `parameters`")
    ids = [cell.get("id") or "" for cell in nb.cells]
    bad = [i for i in ids if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", i)]
    if bad or len(set(ids)) != len(ids):
        found.append(f"{path}: cell ids {bad or ids} are not unique readable ids ([a-z0-9-])")
    return found


def problems(path: Path, generator) -> list[str]:
    """What differs between the notebook at `path` and what the generator writes for it."""
    stem = path.stem
    if path.resolve() in _extra_notebooks():
        try:
            return _extra_problems(path, nbformat.read(path, as_version=4), generator)
        except Exception as exc:  # nbformat raises several kinds; the message is what matters
            return [f"{path}: not a valid notebook ({exc})"]
    if stem not in generator.NOTEBOOKS_CELLS:
        known = ", ".join(sorted(generator.NOTEBOOKS_CELLS))
        return [f"{path}: not a notebook tools/make_notebooks.py writes (known: {known})"]
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds; the message is what matters
        return [f"{path}: not a valid notebook ({exc})"]
    want = generator.notebook(stem, generator.NOTEBOOKS_CELLS[stem])
    found: list[str] = []
    if nb.metadata.get("kernelspec") != want.metadata["kernelspec"]:
        found.append(
            f"{path}: kernelspec is {dict(nb.metadata.get('kernelspec') or {})}, "
            f"not {dict(want.metadata['kernelspec'])}"
        )
    if not nb.cells or "parameters" not in nb.cells[0].metadata.get("tags", []):
        found.append(f"{path}: the first cell is not tagged `parameters`")
    ids = [cell.get("id") for cell in nb.cells]
    want_ids = [cell.id for cell in want.cells]
    if ids != want_ids:
        found.append(f"{path}: cell ids {ids} are not the stable ids {want_ids}")
    if [c.cell_type for c in nb.cells] != [c.cell_type for c in want.cells] or [
        c.source for c in nb.cells
    ] != [c.source for c in want.cells]:
        found.append(f"{path}: the cells differ from tools/make_notebooks.py")
    return found


def main(argv: list[str]) -> int:
    """Check the notebooks named (default: every notebook in notebooks/)."""
    generator = _generator()
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    found: list[str] = []
    for path in paths:
        if not path.is_file():
            print(f"{path}: no such notebook", file=sys.stderr)
            return 2
        found += problems(path, generator)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            "fix the notebook, or run `.venv/bin/python tools/make_notebooks.py` and "
            "`.venv/bin/analysis build --update-notebooks`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
