"""Write the report notebooks in notebooks/ from the cell lists below (sources only, no outputs).

The .ipynb files are the source of truth that reviewers read and that `analysis build` runs;
this script only keeps their structure tidy and uniform (kernel, parameters tag, stable cell
ids). After changing a notebook here, run it and commit the outputs:

    .venv/bin/python tools/make_notebooks.py
    .venv/bin/analysis build --update-notebooks

Every visible word comes from templates (src/analysis/templates/), every number from the fact
tables: the cells below only call `analysis` functions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

KERNELSPEC = {"name": "analysis", "display_name": "Python (analysis)", "language": "python"}

LANG_PARAMETER = 'from typing import Literal\n\nlang: Literal["zh", "en"] = "zh"'

IMPORTS = """\
import matplotlib.pyplot as plt

from analysis import figures
from analysis import narrative as nv
from analysis import report_data as data
from analysis import report_tables as tables"""


def chart(name: str, *args: str) -> str:
    """A plotting cell: draw (and save) one chart, then show it."""
    arguments = ", ".join([*args, "lang"])
    return f"figures.{name}({arguments})\nplt.show()"


CLUSTER_POLICY = [
    LANG_PARAMETER,
    IMPORTS + "\n\nnv.setup_notebook(lang)\nctx = data.cluster_context()",
    'nv.show_title("cluster_policy", lang)',
    'nv.show_section("cluster_policy.summary", lang, **ctx)',
    'nv.show_section("cluster_policy.timeline", lang, **ctx)',
    chart("policy_timeline"),
    'nv.show_section("cluster_policy.industry", lang, **ctx)',
    chart("winners_by_industry"),
    'nv.show_section("cluster_policy.province", lang, **ctx)',
    chart("winners_by_province"),
    chart("winners_map"),
    'nv.show_section("cluster_policy.terms", lang, **ctx)',
    chart("cluster_terms_map"),
    "nv.show_table(**tables.terms(lang))",
    'nv.show_section("cluster_policy.regions", lang, **ctx)',
    chart("region_split"),
    'nv.show_section("cluster_policy.strategies", lang, **ctx)',
    chart("strategy_comparison"),
    "nv.show_table(**tables.strategies(lang))",
    'nv.show_section("cluster_policy.toolbox", lang, **ctx)',
    'nv.show_section("cluster_policy.closing", lang, **ctx)',
]

AMOLED_INDUSTRY = [
    LANG_PARAMETER,
    IMPORTS + "\n\nnv.setup_notebook(lang)\nctx = data.amoled_context()",
    'nv.show_title("amoled_industry", lang)',
    'nv.show_section("amoled_industry.summary", lang, **ctx)',
    'nv.show_section("amoled_industry.scale", lang, **ctx)',
    chart("amoled_indicators"),
    "nv.show_table(**tables.amoled_indicators(lang))",
    'nv.show_section("amoled_industry.localisation", lang, **ctx)',
    chart("localisation_gap"),
    'nv.show_section("amoled_industry.equipment", lang, **ctx)',
    chart("equipment_concentration"),
    'nv.show_section("amoled_industry.materials", lang, **ctx)',
    "nv.show_table(**tables.materials(lang))",
    'nv.show_section("amoled_industry.companies", lang, **ctx)',
    "nv.show_table(**tables.companies(lang))",
    "nv.show_table(**tables.technologies(lang))",
    'nv.show_section("amoled_industry.requirements", lang, **ctx)',
    'nv.show_section("amoled_industry.closing", lang, **ctx)',
]

PROVINCE_PROFILE = [
    LANG_PARAMETER + '\nprovince = "江苏"  # any name or alias in data/raw/provinces.csv',
    IMPORTS
    + "\n\nnv.setup_notebook(lang)\nctx = data.province_context(province)\n"
    + "name = nv.province_name(province, lang)",
    'nv.show_title("province_profile", lang, name=name)',
    '# What the text says depends on the province: a strategy of its own ("full"), a place in\n'
    '# the lists ("listed"), or nothing at all ("absent"), which gives an honest short profile.\n'
    'nv.show_section("province_profile.summary", lang, variant=ctx["depth"], name=name, **ctx)',
    chart("province_locator", "province"),
    'variant = "winner" if ctx["winners"] else "none"\n'
    'nv.show_section("province_profile.competition", lang, variant=variant, name=name, **ctx)',
    'variant = "named" if ctx["term"] else "unnamed"\n'
    'nv.show_section("province_profile.terms", lang, variant=variant, name=name, **ctx)',
    'if ctx["strategy"]:\n'
    '    nv.show_section("province_profile.strategy", lang, name=name, **ctx)\n'
    "    nv.show_table(**tables.province_strategy(province, lang))",
    'if ctx["sentences"]:\n'
    '    nv.show_section("province_profile.sentences", lang, name=name, **ctx)\n'
    "    nv.show_table(**tables.province_sentences(province, lang))\n"
    "else:\n"
    '    nv.show_section("province_profile.sentences", lang, variant="empty", name=name, **ctx)',
]

SOURCE_AUDIT = [
    LANG_PARAMETER,
    IMPORTS.replace("from analysis import figures\n", "")
    + "\n\nnv.setup_notebook(lang)\nctx = data.audit_context()",
    'nv.show_title("source_audit", lang)',
    'nv.show_section("source_audit.origin", lang, **ctx)',
    'nv.show_section("source_audit.structure", lang, **ctx)',
    "nv.show_table(**tables.structure(lang))",
    'nv.show_section("source_audit.repairs", lang, **ctx)',
    "nv.show_table(**tables.repairs(lang))",
    "nv.show_table(**tables.punctuation(lang))",
    'nv.show_section("source_audit.mentions", lang, **ctx)',
    "nv.show_table(**tables.coverage(lang))",
    "nv.show_table(**tables.not_a_fact(lang))",
    'nv.show_section("source_audit.checks", lang, **ctx)',
    "nv.show_table(**tables.checks(lang))",
    'nv.show_section("source_audit.tables", lang, **ctx)',
    "nv.show_table(**tables.fact_tables(lang))",
    'nv.show_section("source_audit.closing", lang, **ctx)',
]

NOTEBOOKS_CELLS = {
    "cluster_policy": CLUSTER_POLICY,
    "amoled_industry": AMOLED_INDUSTRY,
    "province_profile": PROVINCE_PROFILE,
    "source_audit": SOURCE_AUDIT,
}


def notebook(stem: str, cells: list[str]) -> nbformat.NotebookNode:
    """A notebook of code cells; the first is tagged `parameters`; ids are stable."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    for i, source in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source)
        cell.id = f"{stem.replace('_', '-')}-{i:02d}"
        if i == 0:
            cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def main(argv: list[str]) -> int:
    """Write every notebook (or those named on the command line)."""
    wanted = argv or list(NOTEBOOKS_CELLS)
    unknown = [name for name in wanted if name not in NOTEBOOKS_CELLS]
    if unknown:
        print(f"unknown notebook(s) {unknown}; known: {list(NOTEBOOKS_CELLS)}", file=sys.stderr)
        return 2
    NOTEBOOKS.mkdir(exist_ok=True)
    for name in wanted:
        path = NOTEBOOKS / f"{name}.ipynb"
        text = nbformat.writes(notebook(name, NOTEBOOKS_CELLS[name])) + "\n"
        tmp = path.with_suffix(".ipynb.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
