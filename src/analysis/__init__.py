"""Chinese industrial policy from CCID think-tank articles: corpus, facts, charts and reports.

Heavy libraries (pandas, matplotlib, geopandas) are imported lazily, so `import analysis`
stays cheap; `from analysis import load` pulls in pandas only when a table is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from .facts.api import cite, list_tables, load  # noqa: F401

_LAZY = {
    "load": ("analysis.facts.api", "load"),
    "list_tables": ("analysis.facts.api", "list_tables"),
    "cite": ("analysis.facts.api", "cite"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


__all__ = ["__version__", "cite", "list_tables", "load"]
