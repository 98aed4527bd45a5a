"""Which module of `analysis` imports which, read from the source with `ast`, and its cycles.

An import cycle makes two modules one in all but name: neither can be read, tested or moved
without the other, and at import time one of them sees the other half-initialised. The
package has none, and `tests/test_import_graph.py` keeps it so over every module of
src/analysis, subpackages included.

What counts as an edge:

- `import analysis.x`, `from analysis.x import y`, `from .x import y`, `from . import x` and
  `from .. import x` (a name that is a submodule is an edge to that submodule; otherwise to the
  module or package named), anywhere in the module;
- imports inside functions too. A lazy import avoids the half-initialised module, but not the
  dependency: `facts.validation` imported `facts.schemas` inside a function while
  `facts.schemas` imported `facts.validation` at the top, which is the cycle this check was
  written for. A cycle is broken by moving what both need, not by hiding one side in a
  function;
- not imports under `if TYPE_CHECKING:`, which never run (they give annotations their names);
- not the implicit import of a module's parent packages (importing `analysis.facts.api` runs
  `analysis/__init__.py`, which imports it back: the language's own arrangement, not a design
  choice), nor `importlib.import_module` with a computed name.

    .venv/bin/python tools/import_graph.py                   # the whole package, then its cycles
    .venv/bin/python tools/import_graph.py analysis.facts    # the modules under one prefix

Exit status 0 when there is no cycle, 1 when there is (each printed on a line).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"


def module_files(source: Path = SOURCE, package: str = "analysis") -> dict[str, Path]:
    """Dotted module name -> file, for every module of `package` under `source`."""
    found = {}
    for path in sorted((source / package).rglob("*.py")):
        parts = list(path.relative_to(source).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(module: str, is_package: bool, node: ast.stmt, known: set[str]) -> list[str]:
    """The modules of `known` that one import statement in `module` names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in known]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, *([node.module] if node.module else [])])
    else:
        target = node.module or ""
    submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
    named = [target] if target in known and len(submodules) < len(node.names) else []
    return named + submodules


def edges(files: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules it imports (see the module docstring for what counts)."""
    known = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        stack: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"), str(path))]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.If) and _is_type_checking(node):
                stack.extend(node.orelse)
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                targets.update(_imported(module, is_package, node, known))
            stack.extend(ast.iter_child_nodes(node))
        targets.discard(module)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each set of modules that import one another in a circle (Tarjan's strongly connected
    components of more than one module), sorted; empty when the graph has no cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        # Iterative depth-first search: (node, the neighbours still to visit).
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, todo = work[-1]
            step = next(todo, None)
            if step is not None:
                if step not in graph:
                    continue
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def main(argv: list[str]) -> int:
    """Print the graph (of the modules under a prefix, if given), then any cycle."""
    prefix = argv[0] if argv else "analysis"
    graph = edges(module_files())
    for module in sorted(graph):
        if module == prefix or module.startswith(prefix + "."):
            print(f"{module} -> {', '.join(sorted(graph[module])) or '(nothing in analysis)'}")
    found = cycles(graph)
    for component in found:
        print("cycle: " + " <-> ".join(component), file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
