"""Write environment.yml for conda users from requirements/lock.txt (same pins, no hashes).

Run by `make lock`; tests/test_environment.py fails when the two files disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis.environment import lock_pins, render_environment_yml  # noqa: E402


def main() -> int:
    pins = lock_pins(ROOT / "requirements" / "lock.txt")
    text = render_environment_yml(pins)
    (ROOT / "environment.yml").write_text(text, encoding="utf-8")
    print(f"environment.yml: {len(pins)} pinned packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
