"""Read the pinned lock and keep environment.yml (conda) in step with it."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import InputError

_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
    r"\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)

CONDA_PYTHON = "3.11"


def lock_pins(lock: Path) -> list[str]:
    """Return the lock's requirements as `name==version[ ; marker]` lines, in file order."""
    if not lock.exists():
        raise InputError(f"{lock} is missing: restore it from git or run `make lock`.")
    pins = []
    for lineno, line in enumerate(lock.read_text(encoding="utf-8").splitlines(), start=1):
        if not line or line[0] in " #-":
            continue
        match = _PIN.match(line)
        if not match:
            raise InputError(f"{lock}:{lineno}: not an exact pin (name==version): {line!r}")
        pin = f"{match['name']}=={match['version']}"
        if match["marker"]:
            pin += f" ; {match['marker'].strip()}"
        pins.append(pin)
    return pins


def render_environment_yml(pins: list[str]) -> str:
    """Render environment.yml: conda provides Python and pip, pip installs the locked set."""
    lines = [
        "# Generated from requirements/lock.txt by `make lock`; do not edit by hand.",
        "# conda env create -f environment.yml && conda activate analysis",
        "# then: pip install --no-deps -e .",
        "#       python -m ipykernel install --sys-prefix --name analysis",
        "name: analysis",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={CONDA_PYTHON}",
        "  - pip",
        "  - pip:",
    ]
    lines += [f'      - "{pin}"' for pin in pins]
    return "\n".join(lines) + "\n"


def environment_yml_pins(path: Path) -> list[str]:
    """Return the pip pins listed in an environment.yml written by render_environment_yml."""
    pins = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith('- "') and stripped.endswith('"'):
            pins.append(stripped[3:-1])
    return pins
