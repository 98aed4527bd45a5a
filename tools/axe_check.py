"""Run axe-core in headless Chromium over the pages of a reports folder and print a summary.

    .venv/bin/python tools/axe_check.py [REPORTS_DIR]     # default reports/; `make a11y`

Every HTML page of the folder (html/*.html, index.html, methodology.*.html) is opened from
disk in the system's Chromium (`chromium` on PATH: no browser is downloaded, and the pages load
nothing from the network), axe-core (the copy bundled by `axe-playwright-python`) runs on it,
and each violation of WCAG 2.2 A/AA or of axe's best practices is counted by rule and impact.
Exit status: 0 when no page has a "serious" or "critical" violation, 1 when one has, 2 when the
folder holds no page or Chromium is missing.

The functions are the ones the test suite uses (`tests/test_accessibility.py`), so the check a
developer runs by hand and the one CI runs are the same.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

# Chromium's own background traffic (updates, sync, metrics) off: nothing reaches the network.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
BLOCKING = ("serious", "critical")
# The rules of WCAG 2.2 levels A and AA (2.2 adds the target size, off in axe by default) and
# axe's best practices; not level AAA (its 7:1 contrast would fail the house grey, 6:1).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


def chromium() -> str | None:
    """The system's Chromium, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def browser_page() -> Iterator[object]:
    """A Playwright page in the system's headless Chromium (RuntimeError when there is none)."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    if executable is None:
        raise RuntimeError("no Chromium on PATH (install Debian's `chromium` package)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            context = browser.new_context()
            # Pages open from disk and are self-contained; anything else is refused, not fetched.
            context.route(
                "**/*",
                lambda route: (
                    route.continue_() if route.request.url.startswith("file:") else route.abort()
                ),
            )
            yield context.new_page()
        finally:
            browser.close()


def axe(page, path: Path) -> list[dict]:
    """axe-core's violations on the page at `path` (each: id, impact, help, nodes)."""
    from axe_playwright_python.sync_playwright import Axe

    page.goto(path.resolve().as_uri(), wait_until="load")
    return Axe().run(page, options=AXE_OPTIONS).response["violations"]


def pages_of(reports_dir: Path) -> list[Path]:
    """The HTML pages a reports folder serves: the reports, the index, the methodology notes."""
    pages = sorted((reports_dir / "html").glob("*.html"))
    pages += [p for p in [reports_dir / "index.html"] if p.exists()]
    pages += sorted(reports_dir.glob("methodology.*.html"))
    return pages


def check(paths: Sequence[Path]) -> dict[Path, list[dict]]:
    """Violations by page, for every page in `paths`, in one browser."""
    found: dict[Path, list[dict]] = {}
    with browser_page() as page:
        for path in paths:
            found[path] = axe(page, path)
    return found


def blocking(violations: list[dict]) -> list[dict]:
    """The violations that fail the check: impact serious or critical."""
    return [v for v in violations if v.get("impact") in BLOCKING]


def describe(violation: dict, nodes: int = 2) -> str:
    """One violation as a line: rule, impact, help, and the first elements it names."""
    targets = [", ".join(map(str, node.get("target", []))) for node in violation["nodes"]]
    shown = "; ".join(targets[:nodes]) + (" …" if len(targets) > nodes else "")
    return (
        f"{violation['id']} ({violation.get('impact')}): {violation['help']} "
        f"[{len(targets)}×: {shown}]"
    )


def summary(found: dict[Path, list[dict]], root: Path) -> str:
    """The report printed by the command: per rule, the pages and elements it fails."""
    by_rule: Counter[tuple[str, str]] = Counter()
    elements: Counter[tuple[str, str]] = Counter()
    for violations in found.values():
        for v in violations:
            key = (v["id"], v.get("impact") or "")
            by_rule[key] += 1
            elements[key] += len(v["nodes"])
    failing = [p for p, vs in found.items() if blocking(vs)]
    lines = [
        f"axe-core in headless Chromium: {len(found)} pages checked, "
        f"{sum(len(vs) for vs in found.values())} violations "
        f"({sum(len(blocking(vs)) for vs in found.values())} serious or critical) "
        f"on {sum(1 for vs in found.values() if vs)} pages"
    ]
    for (rule, impact), pages in sorted(by_rule.items(), key=lambda item: -item[1]):
        lines.append(f"  {rule} ({impact}): {pages} pages, {elements[(rule, impact)]} elements")
    for path in failing[:10]:
        lines.append(f"{path.relative_to(root)}:")
        lines.extend(f"  {describe(v)}" for v in blocking(found[path]))
    if len(failing) > 10:
        lines.append(f"… and {len(failing) - 10} more pages with serious or critical violations")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports_dir", nargs="?", default="reports", type=Path)
    args = parser.parse_args(argv)
    pages = pages_of(args.reports_dir)
    if not pages:
        print(f"{args.reports_dir}: no HTML pages (build the reports first)", file=sys.stderr)
        return 2
    try:
        found = check(pages)
    except RuntimeError as exc:
        print(f"tools/axe_check.py: {exc}", file=sys.stderr)
        return 2
    print(summary(found, args.reports_dir))
    return 1 if any(blocking(vs) for vs in found.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
