"""No import cycle anywhere in `analysis` (tools/import_graph.py), and each facts module imports
on its own in a fresh interpreter.

The graph counts imports inside functions as well as at the top of a module (a lazy import
hides a cycle from the interpreter, not from the reader), and leaves out `if TYPE_CHECKING:`
blocks, which never run; tools/import_graph.py says why.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.paths import ROOT

spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
import_graph = importlib.util.module_from_spec(spec)
spec.loader.exec_module(import_graph)

FILES = import_graph.module_files()
GRAPH = import_graph.edges(FILES)


def test_no_module_of_analysis_is_in_an_import_cycle():
    found = import_graph.cycles(GRAPH)
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_graph_covers_every_module_of_the_package():
    source = ROOT / "src" / "analysis"
    assert len(FILES) == len(list(source.rglob("*.py")))
    assert {"analysis", "analysis.facts.schemas", "analysis.publish.engine"} <= set(GRAPH)
    # What the facts cycle was: validation may use schemas (lazily), never the other way.
    assert "analysis.facts.schemas" in GRAPH["analysis.facts.validation"]
    assert "analysis.facts.validation" not in GRAPH["analysis.facts.schemas"]
    assert "analysis.errors" in GRAPH["analysis.facts.schemas"]


def _package(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_graph.module_files(root, "pkg")


def test_the_graph_reads_each_form_of_import_and_finds_a_lazy_cycle(tmp_path):
    files = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from .b import helper\n",
            "pkg/b.py": "def helper():\n    from . import a\n    return a\n",
            "pkg/c.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .a import A\nelse:\n    from . import d\n"
            ),
            "pkg/d.py": "import json\nimport pkg.sub.e\n",
            "pkg/sub/__init__.py": "from .e import value\n",
            "pkg/sub/e.py": "from .. import c\nfrom ..sub import f\nvalue = 1\n",
            "pkg/sub/f.py": "from pkg import sub\n",
        },
    )
    graph = import_graph.edges(files)
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.a"},
        "pkg.c": {"pkg.d"},  # the TYPE_CHECKING import of pkg.a does not count
        "pkg.d": {"pkg.sub.e"},
        "pkg.sub": {"pkg.sub.e"},
        "pkg.sub.e": {"pkg.c", "pkg.sub.f"},
        "pkg.sub.f": {"pkg.sub"},
    }
    assert import_graph.cycles(graph) == [
        ["pkg.a", "pkg.b"],
        ["pkg.c", "pkg.d", "pkg.sub", "pkg.sub.e", "pkg.sub.f"],
    ]
    assert import_graph.cycles({"x": {"y"}, "y": set()}) == []


FACTS = sorted(m for m in FILES if m.startswith("analysis.facts."))


@pytest.mark.parametrize("module", FACTS)
def test_each_facts_module_imports_first_in_a_fresh_interpreter(module):
    """Imported before anything else of the package, so no other module has prepared it."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
