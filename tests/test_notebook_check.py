"""tools/check_notebooks.py: the committed notebooks keep its rules, and each rule can fail.

The notebooks are the source and nothing rewrites them; this check is what is left of the old
generator's guarantees. Each broken notebook below breaks one rule of a committed notebook and
must give exactly one problem, which names it.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest

from analysis.paths import NOTEBOOKS, ROOT

spec = importlib.util.spec_from_file_location(
    "check_notebooks", ROOT / "tools" / "check_notebooks.py"
)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

COMMITTED = sorted(NOTEBOOKS.glob("*.ipynb"))
BASE = NOTEBOOKS / "cluster_policy.ipynb"


def test_the_committed_notebooks_conform_and_are_not_written():
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in COMMITTED}
    reports = check.report_notebook_names()
    assert {p.name for p in COMMITTED} >= reports, "a report's notebook is missing"
    for path in COMMITTED:
        assert check.problems(path, report=path.name in reports) == [], path.name
    assert check.main([]) == 0
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in COMMITTED} == before


def test_every_report_notebook_is_known_as_one():
    assert check.report_notebook_names() == {
        "cluster_policy.ipynb",
        "amoled_industry.ipynb",
        "province_profile.ipynb",
        "source_audit.ipynb",
    }


def _base() -> dict:
    return json.loads(BASE.read_text(encoding="utf-8"))


def _markdown(cell_id: str, text: str = "## What this part does") -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


def _problems(tmp_path: Path, nb: dict, *, report: bool = True) -> list[str]:
    path = tmp_path / BASE.name
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    return check.problems(path, report=report)


def test_an_unchanged_copy_and_what_a_researcher_may_add_conform(tmp_path):
    nb = _base()
    assert _problems(tmp_path, nb) == []
    # A title above the parameters cell, explanations between, the publishing and nbval tags.
    nb["cells"].insert(0, _markdown("title", "# Cluster policy"))
    nb["cells"].insert(3, _markdown("about-the-views"))
    for cell, tag in zip(nb["cells"][4:8], check.ALLOWED_TAGS[1:], strict=True):
        cell["metadata"]["tags"] = [tag]
    nb["cells"][4]["id"] = "load-winners"
    assert _problems(tmp_path, nb) == []
    # A notebook that no report runs needs no parameters cell.
    nb["cells"][1]["metadata"] = {}
    assert _problems(tmp_path, nb, report=False) == []


def _kernel_name(nb):
    nb["metadata"]["kernelspec"]["name"] = "python3"


def _kernel_display(nb):
    nb["metadata"]["kernelspec"]["display_name"] = "Python 3 (ipykernel)"


def _no_parameters(nb):
    nb["cells"][0]["metadata"] = {}


def _parameters_not_first(nb):
    nb["cells"][0]["metadata"] = {}
    nb["cells"][1]["metadata"]["tags"] = ["parameters"]


def _two_parameters(nb):
    nb["cells"][1]["metadata"]["tags"] = ["parameters"]


def _id_pattern(nb):
    nb["cells"][2]["id"] = "Load_Winners"


def _random_id(nb):
    nb["cells"][2]["id"] = "3f9a1c2e"


def _uuid_id(nb):
    nb["cells"][2]["id"] = "5d0c3b1e-8f2a-4c6d-9e7b-1a2b3c4d5e6f"


def _duplicate_id(nb):
    nb["cells"][2]["id"] = nb["cells"][1]["id"]


def _markdown_outputs(nb):
    cell = _markdown("about-the-views")
    cell["outputs"] = []
    nb["cells"].insert(2, cell)


def _code_cells(nb) -> list[int]:
    """The positions of the code cells (the notebook mixes them with markdown cells)."""
    return [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"]


def _counts_out_of_order(nb):
    first, second = _code_cells(nb)[1:3]
    nb["cells"][first]["execution_count"], nb["cells"][second]["execution_count"] = 3, 2


def _not_run(nb):
    nb["cells"][5]["execution_count"] = None


def _old_format(nb):
    nb["nbformat_minor"] = 4


def _papermill(nb):
    nb["metadata"]["papermill"] = {"duration": 1.5}


def _widgets(nb):
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}


def _cell_timing(nb):
    nb["cells"][3]["metadata"]["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}


def _unknown_tag(nb):
    nb["cells"][3]["metadata"]["tags"] = ["hide-input"]


def _nbval_skip(nb):
    nb["cells"][3]["metadata"]["tags"] = ["nbval-skip"]


def _schema(nb):
    del nb["cells"][_code_cells(nb)[1]]["outputs"]


BROKEN = {
    "kernel name": (_kernel_name, "kernelspec"),
    "kernel display name": (_kernel_display, "kernelspec"),
    "no parameters cell": (_no_parameters, "no cell is tagged `parameters`"),
    "parameters not the first code cell": (_parameters_not_first, "not the first code cell"),
    "two parameters cells": (_two_parameters, "exactly one may be"),
    "id pattern": (_id_pattern, "'Load_Winners' does not match"),
    "random id (nbformat)": (_random_id, "'3f9a1c2e' is a random id"),
    "random id (JupyterLab)": (_uuid_id, "is a random id"),
    "duplicate id": (_duplicate_id, "ids must be unique"),
    "markdown outputs": (_markdown_outputs, "is markdown but has ['outputs']"),
    "counts out of order": (_counts_out_of_order, "execution counts are not 1.."),
    "cell not run": (_not_run, "(cell, count: [(5, None)])"),
    "nbformat version": (_old_format, "nbformat is 4.4, not 4.5"),
    "papermill metadata": (_papermill, "notebook metadata has `papermill`"),
    "widgets metadata": (_widgets, "notebook metadata has `widgets`"),
    "cell timing metadata": (_cell_timing, "has run metadata ['execution']"),
    "unknown tag": (_unknown_tag, "has tags ['hide-input']"),
    "nbval-skip": (_nbval_skip, "has tags ['nbval-skip']"),
    "schema": (_schema, "not a valid notebook"),
}


@pytest.mark.parametrize("rule", list(BROKEN))
def test_a_notebook_that_breaks_one_rule_fails_with_one_line_naming_it(tmp_path, rule):
    breaks, words = BROKEN[rule]
    nb = copy.deepcopy(_base())
    breaks(nb)
    found = _problems(tmp_path, nb)
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / BASE.name}: ")
    assert words in found[0], found[0]
    assert check.main([str(tmp_path / BASE.name)]) == 1


def test_a_missing_id_and_a_file_that_is_not_a_notebook(tmp_path):
    nb = _base()
    del nb["cells"][2]["id"]
    assert any("has no cell id" in line for line in _problems(tmp_path, nb))
    text = tmp_path / "text.ipynb"
    text.write_text("not json", encoding="utf-8")
    assert "not a notebook" in check.problems(text, report=False)[0]
    assert check.main([str(tmp_path / "absent.ipynb")]) == 2
