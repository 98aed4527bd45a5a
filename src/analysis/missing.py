"""One test of a missing value, for the fact tables, the citations and the report layer.

A value read from the fact tables is missing when it is None, an empty string (the CSV form
of a missing value), a float NaN, or pandas' NA or NaT. `pd.NA` needs care: `pd.NA != pd.NA`
is itself NA and `bool(pd.NA)` raises, so the comparison trick that finds NaN cannot decide
it; a value whose self-comparison cannot be turned into a bool is missing. pandas is not
imported, so the facts layer and the report layer can both use this cheaply.
"""

from __future__ import annotations

import math
from typing import Any


def is_missing(value: Any) -> bool:
    """True for None, "", NaN, pd.NA and pd.NaT; False for every other value (0 included)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(value != value)  # NaN-like numpy scalars, NaT
    except (TypeError, ValueError):  # pd.NA: its comparison is NA, which has no truth value
        return True
